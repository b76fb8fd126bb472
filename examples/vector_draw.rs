//! Cost of drawing vector effects on the GPU: for each file, every 10th frame placed in a
//! 720 × 1280 viewport (the mid tier's, `fit_contain`; `VIEWPORT=WxH` for another, `VECTOR_ONLY=substring` for some files) and drawn on one kept target, waiting for
//! the GPU (`Painter::draw`); prints the median and the worst frame's time in ms and the
//! triangles drawn per frame. Run (release, on an idle machine): `cargo run --release --example
//! vector_draw [RUNS]`; each frame's figure is the median of RUNS draws (default 5). The table is
//! in `docs/performance.md`.

#![expect(
    clippy::print_stdout,
    reason = "the example prints its table on stdout"
)]

use std::path::Path;

use giftqa::format::DecodeLimits;
use giftqa::model::load::{lottie_file_animation, svga_animation};
use giftqa::playback::bench::median_ms;
use giftqa::playback::tiers::fit_contain;
use giftqa::playback::{Placed, place};
use giftqa::render::RenderContext;
use giftqa::render::paint::Painter;

fn main() -> anyhow::Result<()> {
    let runs = giftqa::playback::bench::runs_from_args(5)?;
    let assets = Path::new("../shared/assets");
    let ctx = RenderContext::headless()?;
    let limits = DecodeLimits::default();
    let viewport: [u32; 2] = std::env::var("VIEWPORT")
        .ok()
        .and_then(|v| {
            let (w, h) = v.split_once('x')?;
            Some([w.parse().ok()?, h.parse().ok()?])
        })
        .unwrap_or([720, 1280]);
    let target = ctx.target(viewport[0], viewport[1]);
    println!("adapter: {} ({})", ctx.adapter.name, ctx.adapter.backend);
    println!(
        "| file | frames drawn | shapes per frame (mean) | triangles per frame (mean) | draw ms p50 | draw ms max |"
    );
    println!("|---|---|---|---|---|---|");
    for rel in [
        "svga/SVGAPlayer-Web/EmptyState.svga",
        "svga/SVGAPlayer-Web/Walkthrough.svga",
        "lottie/rlottie/example/resource/confetti.json",
        "lottie/rlottie/example/resource/1643-exploding-star.json",
        "lottie/rlottie/example/resource/27746-joypixels-partying-face-emoji-animation.json",
        "lottie/lottie-web/demo/happy2016/data.json",
    ] {
        if std::env::var("VECTOR_ONLY").is_ok_and(|o| !rel.contains(&o)) {
            continue;
        }
        let path = assets.join(rel);
        let anim = if path.extension().is_some_and(|e| e == "svga") {
            svga_animation(&std::fs::read(&path)?, &limits).map_err(anyhow::Error::msg)?
        } else {
            lottie_file_animation(&path, None, &limits).map_err(anyhow::Error::msg)?
        };
        let fit = fit_contain(
            [anim.width_px as f32, anim.height_px as f32],
            [viewport[0] as f32, viewport[1] as f32],
        );
        let mut painter = Painter::new(&ctx, u64::MAX, ctx.max_texture_px);
        let mut decoder = giftqa::model::load::FrameDecoder::new();
        let mut times = Vec::new();
        let mut triangles = 0usize;
        let mut shapes = 0usize;
        for frame in (0..anim.frame_count).step_by(10) {
            let placed = place(&giftqa::model::frame_at(&anim, frame), fit);
            triangles += placed
                .iter()
                .map(|p| match p {
                    Placed::Mesh(m) => m.triangles.len() / 3,
                    _ => 0,
                })
                .sum::<usize>();
            shapes += placed
                .iter()
                .filter(|p| matches!(p, Placed::Mesh(_)))
                .count();
            painter.prepare(0, "effect", &anim, &placed, &mut decoder, &limits)?;
            let mut failed = None;
            times.push(median_ms(runs, || {
                if let Err(e) = painter.draw(&target, [0.0; 4], &[(0, &placed)]) {
                    failed = Some(e);
                }
            }));
            if let Some(e) = failed {
                return Err(e.into());
            }
        }
        times.sort_by(f64::total_cmp);
        let n = times.len().max(1);
        println!(
            "| {rel} | {} | {} | {} | {:.2} | {:.2} |",
            times.len(),
            shapes / n,
            triangles / n,
            times.get(times.len() / 2).copied().unwrap_or(0.0),
            times.last().copied().unwrap_or(0.0),
        );
    }
    Ok(())
}
