//! Renders every Lottie animation of `../shared/reference/lottie/` at its golden frames (made by
//! lottie-web's canvas renderer) and prints the PSNR over mid-grey per file, with what velato
//! leaves out (the Lottie table of `docs/fidelity.md`). Run:
//! `cargo run --release --example lottie_fidelity`.

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
    for set in sets {
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
