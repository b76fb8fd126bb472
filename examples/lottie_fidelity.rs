//! Renders every Lottie animation of `../shared/reference/lottie/` at its golden frames (made by
//! lottie-web's canvas renderer) and prints the PSNR over mid-grey per file, with what velato
//! leaves out (the Lottie table of `docs/fidelity.md`). Run:
//! `cargo run --release --example lottie_fidelity`. `FIDELITY_ONLY=substring` keeps the
//! animations whose name holds it; `FIDELITY_DUMP=folder` also writes giftqa's frame beside
//! the golden one (`NAME_fNNNN.png`, golden left, giftqa right, over mid-grey).

#![expect(
    clippy::print_stdout,
    reason = "the example prints its table on stdout"
)]

use std::path::Path;

use giftqa::format::DecodeLimits;
use giftqa::model::load::lottie_file_animation;
use giftqa::playback::fidelity::golden_sets;
use giftqa::render::{RenderContext, paint::golden_psnr};

fn main() -> anyhow::Result<()> {
    let ctx = RenderContext::headless()?;
    eprintln!("adapter: {} ({})", ctx.adapter.name, ctx.adapter.backend);
    let sets = golden_sets(
        Path::new("../shared/reference/lottie"),
        Path::new("../shared/assets/lottie"),
    )
    .map_err(anyhow::Error::msg)?;
    println!(
        "| animation | frames | content PSNR min (dB) | whole-frame PSNR min (dB) | whole-frame PSNR mean (dB) | not drawn |"
    );
    println!("|---|---|---|---|---|---|");
    let only = std::env::var("FIDELITY_ONLY").ok();
    let dump = std::env::var_os("FIDELITY_DUMP").map(std::path::PathBuf::from);
    for set in sets {
        if only.as_deref().is_some_and(|o| !set.name.contains(o)) {
            continue;
        }
        let anim = match lottie_file_animation(
            &set.source,
            set.animation.as_deref(),
            &DecodeLimits::default(),
        ) {
            Ok(a) => a,
            Err(e) => {
                println!("| {} | 0 | – | – | decode-failed: {e} |", set.name);
                continue;
            }
        };
        let scores = golden_psnr(&ctx, &anim, &set.frames)?;
        if let Some(dir) = &dump {
            side_by_side(&ctx, &anim, &set.name, &set.frames, dir)?;
            for (idx, s) in &scores {
                eprintln!("{} frame {idx}: {s:?}", set.name);
            }
        }
        if scores.is_empty() {
            println!(
                "| {} | 0 | – | – | – | every golden frame is blank |",
                set.name
            );
            continue;
        }
        let content = scores
            .iter()
            .map(|s| s.1.content_db)
            .fold(f64::INFINITY, f64::min);
        let min = scores
            .iter()
            .map(|s| s.1.whole_db)
            .fold(f64::INFINITY, f64::min);
        let mean =
            scores.iter().map(|s| s.1.whole_db.min(99.0)).sum::<f64>() / scores.len().max(1) as f64;
        let gaps = anim.unsupported().describe();
        println!(
            "| {} | {} | {content:.1} | {min:.1} | {mean:.1} | {} |",
            set.name,
            scores.len(),
            if gaps.is_empty() {
                "—".to_owned()
            } else {
                gaps.join("; ")
            }
        );
    }
    Ok(())
}

/// Writes golden and giftqa frames side by side over mid-grey.
fn side_by_side(
    ctx: &RenderContext,
    anim: &giftqa::model::Animation,
    name: &str,
    frames: &[(u32, std::path::PathBuf)],
    dir: &Path,
) -> anyhow::Result<()> {
    use giftqa::render::paint::{beside_golden, render_frame};
    std::fs::create_dir_all(dir)?;
    for (idx, path) in frames {
        let golden = image::open(path)?.into_rgba8();
        let (w, h) = golden.dimensions();
        let ours = render_frame(
            ctx,
            anim,
            *idx,
            [w, h],
            giftqa::model::Affine::IDENTITY,
            8192,
        )?;
        let out = beside_golden(&golden, &ours, [128, 128, 128]);
        out.save(dir.join(format!("{}_f{idx:04}.png", name.replace('/', "_"))))?;
    }
    Ok(())
}
