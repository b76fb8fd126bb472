//! Renders every SVGA file of `../shared/reference/svga/` at its golden frames and prints the
//! PSNR over mid-grey per frame and file, with what the model leaves out (the table of
//! `docs/fidelity.md`). Run: `cargo run --release --example fidelity`.

#![expect(
    clippy::print_stdout,
    reason = "the example prints its table on stdout"
)]

use std::path::Path;

use giftqa::format::DecodeLimits;
use giftqa::model::{Affine, load::svga_animation};
use giftqa::playback::fidelity::compare;
use giftqa::render::{RenderContext, paint::render_frame, unpremultiply};

fn main() -> anyhow::Result<()> {
    let reference = Path::new("../shared/reference/svga");
    let assets = Path::new("../shared/assets/svga");
    let ctx = RenderContext::headless()?;
    eprintln!("adapter: {} ({})", ctx.adapter.name, ctx.adapter.backend);
    println!(
        "| file | frames compared | content PSNR min (dB) | whole-frame PSNR min (dB) | whole-frame PSNR mean (dB) | not drawn |"
    );
    println!("|---|---|---|---|---|---|");
    for repo in ["SVGAPlayer-Android", "SVGAPlayer-Web"] {
        let mut files: Vec<_> = std::fs::read_dir(reference.join(repo))?
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        files.sort();
        for stem in files {
            let bytes = std::fs::read(assets.join(repo).join(format!("{stem}.svga")))?;
            let anim =
                svga_animation(&bytes, &DecodeLimits::default()).map_err(anyhow::Error::msg)?;
            let mut goldens: Vec<_> = std::fs::read_dir(reference.join(repo).join(&stem))?
                .filter_map(Result::ok)
                .map(|e| e.path())
                .collect();
            goldens.sort();
            let mut scores = Vec::new();
            for g in &goldens {
                let idx: u32 = g
                    .file_stem()
                    .and_then(|s| s.to_str())
                    .and_then(|s| s.strip_prefix("frame_"))
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(0);
                let golden = image::open(g)?.into_rgba8();
                let mut ours = render_frame(
                    &ctx,
                    &anim,
                    idx,
                    [golden.width(), golden.height()],
                    Affine::IDENTITY,
                    8192,
                )?;
                unpremultiply(&mut ours);
                let s = compare(&ours, &golden);
                scores.push(s.map_or((0.0, 0.0), |s| (s.content_db, s.whole_db)));
            }
            let content = scores.iter().map(|s| s.0).fold(f64::INFINITY, f64::min);
            let min = scores.iter().map(|s| s.1).fold(f64::INFINITY, f64::min);
            let mean =
                scores.iter().map(|s| s.1.min(99.0)).sum::<f64>() / scores.len().max(1) as f64;
            let u = anim.unsupported();
            let mut gaps = Vec::new();
            for (n, what) in [
                (u.vector_sprites.len(), "untessellated vector"),
                (u.matted_sprites.len(), "missing-matte"),
                (u.clipped_sprites.len(), "broken clip-path"),
                (u.slot_sprites.len(), "empty slot"),
            ] {
                if n > 0 {
                    gaps.push(format!("{n} {what} sprite(s)"));
                }
            }
            println!(
                "| {repo}/{stem}.svga | {} | {content:.1} | {min:.1} | {mean:.1} | {} |",
                scores.len(),
                if gaps.is_empty() {
                    "—".to_owned()
                } else {
                    gaps.join(", ")
                }
            );
        }
    }
    Ok(())
}
