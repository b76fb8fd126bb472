//! Lottie golden frames (`../shared/reference/lottie/`, drawn by lottie-web's canvas renderer):
//! the animations giftqa draws through velato match them at a PSNR of at least 30 dB over
//! mid-grey on the wgpu renderer (lavapipe in CI). `docs/fidelity.md` names the others, the
//! feature that keeps each below and its figure. The rlottie crash reproducers give findings
//! or draw, never panic.

#![cfg(feature = "gpu")]

mod common;

use giftqa::format::DecodeLimits;
use giftqa::model::load::lottie_file_animation;
use giftqa::model::{Content, frame_at};
use giftqa::playback::fidelity::golden_sets;
use giftqa::render::paint::golden_psnr;

/// The golden sets at or above 30 dB on every frame (see `docs/fidelity.md`).
const PASSING: [&str; 24] = [
    "dotlottie-rs/assets/animations/dotlottie/v1/star_rating.lottie/251e9c3e-3cd5-4c75-b935-199dafd8ac4f",
    "dotlottie-rs/assets/animations/dotlottie/v2/happy_birthday_audio.lottie/Main_Scene",
    "dotlottie-rs/assets/animations/dotlottie/v2/multi_anim_theme.lottie/circle",
    "dotlottie-rs/assets/animations/dotlottie/v2/multi_anim_theme.lottie/rect",
    "dotlottie-rs/assets/animations/dotlottie/v2/pigeon.lottie/pigeon",
    "dotlottie-rs/assets/animations/dotlottie/v2/test.lottie/animation",
    "dotlottie-rs/assets/animations/dotlottie/v2/themed.lottie/Main_Scene",
    "dotlottie-rs/assets/animations/lottie/bouncy_ball",
    "dotlottie-rs/assets/animations/lottie/gradient",
    "dotlottie-rs/assets/animations/lottie/test",
    "lottie-web/demo/gatin/data",
    "rlottie/example/resource/1643-exploding-star",
    "rlottie/example/resource/1667-firework",
    "rlottie/example/resource/27746-joypixels-partying-face-emoji-animation",
    "rlottie/example/resource/4479-fireworks",
    "rlottie/example/resource/5317-fireworkds",
    "rlottie/example/resource/confetti",
    "rlottie/example/resource/dynamic_property",
    "rlottie/example/resource/heart",
    "rlottie/example/resource/like",
    "rlottie/example/resource/mask",
    "rlottie/example/resource/matte_two_item_with_lowerlayer",
    "velato/examples/assets/PolyStarTest",
    "velato/examples/assets/google_fonts/Tiger",
];

#[test]
fn lottie_goldens_at_or_above_30_db() {
    let shared = shared_or_skip!();
    let Some(ctx) = common::gpu() else { return };
    let sets = golden_sets(&shared.join("../reference/lottie"), &shared.join("lottie")).unwrap();
    assert!(sets.len() >= 30, "{} golden sets", sets.len());
    let mut checked = 0;
    for set in sets.iter().filter(|s| PASSING.contains(&s.name.as_str())) {
        let anim = lottie_file_animation(
            &set.source,
            set.animation.as_deref(),
            &DecodeLimits::default(),
        )
        .unwrap();
        assert!(matches!(anim.content, Content::Lottie(..)));
        let scores = golden_psnr(&ctx, &anim, &set.frames).unwrap();
        assert!(
            !scores.is_empty(),
            "{}: every golden frame is blank",
            set.name
        );
        for (idx, score) in scores {
            let psnr = score.whole_db;
            assert!(psnr >= 30.0, "{} frame {idx}: {psnr:.1} dB", set.name);
        }
        checked += 1;
    }
    assert_eq!(checked, PASSING.len(), "every passing set was found");
}

#[test]
fn crash_reproducers_give_findings_or_draw_without_panicking() {
    let shared = shared_or_skip!();
    let dir = shared.join("lottie/rlottie/example/resource/test");
    // The duration bomb, the keyframe list mixed with numbers and the runaway repeater are
    // refused; the other two are well-formed for the Lottie model (their crashes live in
    // rlottie's parser) and draw.
    for (name, refused) in [
        ("repro_infinite_loop.json", true),
        ("repro_propertyhelper_type_confusion1.json", false),
        ("repro_propertyhelper_type_confusion2.json", true),
        ("repro_sbof.json", true),
        ("repro_shapeproperty_type_confusion1.json", false),
    ] {
        match lottie_file_animation(&dir.join(name), None, &DecodeLimits::default()) {
            Err(why) => {
                assert!(refused, "{name} should draw: {why}");
                assert!(
                    why.to_string().contains(name),
                    "the message names the file: {why}"
                );
            }
            Ok(anim) => {
                assert!(!refused, "{name} should be refused");
                for f in [0, anim.frame_count / 2, anim.frame_count.saturating_sub(1)] {
                    let _ = frame_at(&anim, f);
                }
            }
        }
    }
}
