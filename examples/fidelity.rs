//! Renders every SVGA file of `../shared/reference/svga/` at its golden frames and prints the
//! PSNR over mid-grey per frame and file, with what the model leaves out (the table of
//! `docs/fidelity.md`). Run: `cargo run --release --example fidelity`. `FIDELITY_ONLY=substring`
//! keeps the files whose name holds it; `FIDELITY_DUMP=folder` also writes each golden frame
//! beside giftqa's (golden left), both over mid-grey, with the per-frame figures on stderr.

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
        let only = std::env::var("FIDELITY_ONLY").ok();
        let dump = std::env::var_os("FIDELITY_DUMP").map(std::path::PathBuf::from);
        for stem in files {
            if only
                .as_deref()
                .is_some_and(|o| !format!("{repo}/{stem}").contains(o))
            {
                continue;
            }
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
                let shift: (f32, f32) = std::env::var("FIDELITY_SHIFT")
                    .ok()
                    .and_then(|v| {
                        let (a, b) = v.split_once(',')?;
                        Some((a.parse().ok()?, b.parse().ok()?))
                    })
                    .unwrap_or((0.0, 0.0));
                let ss: u32 = std::env::var("FIDELITY_SS")
                    .ok()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(1);
                let offset: i64 = std::env::var("FIDELITY_FRAME_OFFSET")
                    .ok()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0);
                let mut ours = render_frame(
                    &ctx,
                    &anim,
                    u32::try_from(i64::from(idx) + offset).unwrap_or(idx),
                    [golden.width() * ss, golden.height() * ss],
                    Affine::scale(ss as f32, ss as f32)
                        .then_after(Affine::translate(shift.0, shift.1)),
                    8192,
                )?;
                if ss > 1 {
                    // A box filter: each pixel the mean of its ss × ss samples.
                    let big = ours;
                    ours = image::RgbaImage::from_fn(golden.width(), golden.height(), |x, y| {
                        let mut acc = [0u32; 4];
                        for dy in 0..ss {
                            for dx in 0..ss {
                                let p = big.get_pixel(x * ss + dx, y * ss + dy).0;
                                for c in 0..4 {
                                    acc[c] += u32::from(p[c]);
                                }
                            }
                        }
                        let n = ss * ss;
                        image::Rgba(acc.map(|a| ((a + n / 2) / n) as u8))
                    });
                }
                if let Some(dir) = &dump {
                    std::fs::create_dir_all(dir)?;
                    giftqa::render::paint::beside_golden(&golden, &ours, [128; 3])
                        .save(dir.join(format!("{repo}_{stem}_f{idx:04}.png")))?;
                }
                unpremultiply(&mut ours);
                let s = compare(&ours, &golden);
                if dump.is_some() {
                    eprintln!("{repo}/{stem} frame {idx}: {s:?}");
                }
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
