//! Temporary.
fn main() {
    let a: Vec<String> = std::env::args().collect();
    let anim = giftqa::model::load::lottie_file_animation(
        std::path::Path::new(&a[1]),
        a.get(3).map(String::as_str),
        &giftqa::format::DecodeLimits::default(),
    )
    .unwrap();
    let ctx = giftqa::render::RenderContext::headless().unwrap();
    let idx: u32 = a[2].parse().unwrap();
    let mut img = giftqa::render::paint::render_frame(
        &ctx,
        &anim,
        idx,
        [anim.width_px, anim.height_px],
        giftqa::model::Affine::IDENTITY,
        8192,
    )
    .unwrap();
    giftqa::render::unpremultiply(&mut img);
    img.save("/tmp/ours.png").unwrap();
    let dl = giftqa::model::frame_at(&anim, idx);
    for c in dl.cmds.iter().take(40) {
        match c {
            giftqa::model::DrawCmd::Mesh { color, mesh, .. } => {
                println!("mesh {} tris {:?}", mesh.indices.len() / 3, color)
            }
            giftqa::model::DrawCmd::PushLayer {
                alpha,
                compose,
                clip,
            } => println!(
                "push {alpha} {compose:?} clip={}",
                clip.as_ref().map_or(0, |c| c.0.indices.len() / 3)
            ),
            other => println!("{other:?}"),
        }
    }
}
