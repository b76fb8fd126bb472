//! Cost of Lottie text animators: dotlottie-rs's `text.json` with its text replaced by N
//! letters under A animators (an opacity typewriter keyframed over the file's 120 frames, the
//! others moving, turning and colouring a range), timed for what loading does (the JSON read,
//! velato's model, every letter's samples: `lottie_composition` and `lottie_animation`) and for
//! one frame's display list (`frame_at`, velato evaluating every letter group). Run (release,
//! on an idle machine): `cargo run --release --example text_animators [RUNS]`; the table is in
//! `docs/performance.md`. Each figure is the median of RUNS runs (default 11) after a warm-up.

#![expect(
    clippy::print_stdout,
    reason = "the example prints its table on stdout"
)]

use giftqa::format::DecodeLimits;
use giftqa::model::frame_at;
use giftqa::playback::bench::median_ms;
use serde_json::{Value, json};

/// `text.json` with `letters` letters under `animators` animators.
fn gift(base: &Value, letters: usize, animators: usize) -> Vec<u8> {
    let mut g = base.clone();
    let text: String = "Ann送出了超级火箭".chars().cycle().take(letters).collect();
    g["layers"][0]["t"]["d"]["k"][0]["s"]["t"] = json!(text);
    g["layers"][0]["t"]["d"]["k"][0]["s"]["s"] = json!(24);
    let typewriter = json!({"a": {"o": {"a": 0, "k": 0}}, "s": {"r": 1, "b": 1, "sh": 1,
        "s": {"a": 1, "k": [{"t": 0, "s": [0], "o": {"x": [0.3], "y": [0]}, "i": {"x": [0.7], "y": [1]}},
                            {"t": 120, "s": [100]}]}}});
    let moving = json!({"a": {"p": {"a": 0, "k": [0, -20]}, "r": {"a": 0, "k": 15}, "fc": {"a": 0, "k": [0, 0, 1]}},
        "s": {"r": 1, "sh": 4, "s": {"a": 0, "k": 20}, "e": {"a": 0, "k": 60}}});
    let list: Vec<Value> = (0..animators)
        .map(|i| {
            if i == 0 {
                typewriter.clone()
            } else {
                moving.clone()
            }
        })
        .collect();
    g["layers"][0]["t"]["a"] = json!(list);
    serde_json::to_vec(&g).unwrap_or_default()
}

fn main() -> anyhow::Result<()> {
    let runs = giftqa::playback::bench::runs_from_args(11)?;
    let base: Value = serde_json::from_slice(&std::fs::read(
        "../shared/assets/lottie/dotlottie-rs/assets/animations/lottie/text.json",
    )?)?;
    let limits = DecodeLimits::default();
    println!("| letters | animators | load ms | frame ms |");
    println!("|---|---|---|---|");
    for (letters, animators) in [(20, 0), (20, 1), (20, 4), (200, 4), (4096, 32)] {
        let bytes = gift(&base, letters, animators);
        let load = || -> anyhow::Result<giftqa::model::Animation> {
            let model = giftqa::format::lottie::lottie_composition(&bytes, &limits, &mut |_| None)
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            Ok(giftqa::model::load::lottie_animation(model))
        };
        let anim = load()?;
        let load_ms = median_ms(runs, || {
            let _ = load();
        });
        let mut f = 0;
        let frame_ms = median_ms(runs, || {
            let _ = frame_at(&anim, f);
            f = (f + 7) % anim.frame_count.max(1);
        });
        println!("| {letters} | {animators} | {load_ms:.2} | {frame_ms:.2} |");
    }
    Ok(())
}
