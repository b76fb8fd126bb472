//! Lottie text that moves: text animators (`t.a`) move, turn, colour and fade each character
//! as lottie-web does, and later document keyframes change the text over time; on the real
//! `text.json` of dotlottie-rs ("Test1", 200 px, red, baseline at (30, 200)) with animators
//! or keyframes added. GPU-free: the display list of each frame is read.

#![expect(
    clippy::unwrap_used,
    reason = "fixture helpers outside #[test] functions panic on a broken test setup"
)]

mod common;

use giftqa::format::DecodeLimits;
use giftqa::model::{DrawCmd, frame_at};
use serde_json::{Value, json};

fn text_json(shared: &std::path::Path) -> Value {
    serde_json::from_slice(
        &std::fs::read(shared.join("lottie/dotlottie-rs/assets/animations/lottie/text.json"))
            .unwrap(),
    )
    .unwrap()
}

/// The animation of `text.json` with `animators` on its text layer, and its decoder notes.
fn animated(shared: &std::path::Path, animators: Value) -> (giftqa::model::Animation, Vec<String>) {
    let mut gift = text_json(shared);
    gift["layers"][0]["t"]["a"] = animators;
    decoded(&gift)
}

/// The animation of a Lottie file, and its decoder notes.
fn decoded(gift: &Value) -> (giftqa::model::Animation, Vec<String>) {
    let model = giftqa::format::lottie::lottie_composition(
        &serde_json::to_vec(gift).unwrap(),
        &DecodeLimits::default(),
        &mut |_| None,
    )
    .unwrap();
    let notes = model.info.notes.clone();
    (giftqa::model::load::lottie_animation(model), notes)
}

/// Each drawn mesh of a frame: its canvas bounding box (x0, y0, x1, y1) and colour.
fn letters(anim: &giftqa::model::Animation, frame: u32) -> Vec<([f32; 4], [f32; 4])> {
    let mut out: Vec<([f32; 4], [f32; 4])> = frame_at(anim, frame)
        .cmds
        .iter()
        .filter_map(|c| match c {
            DrawCmd::Mesh {
                mesh,
                transform,
                color,
                ..
            } => {
                let mut b = [f32::MAX, f32::MAX, f32::MIN, f32::MIN];
                for v in &mesh.vertices {
                    let (x, y) = transform.apply(v[0], v[1]);
                    b = [b[0].min(x), b[1].min(y), b[2].max(x), b[3].max(y)];
                }
                Some((b, *color))
            }
            _ => None,
        })
        .collect();
    out.sort_by(|a, b| a.0[0].total_cmp(&b.0[0]));
    out
}

/// A range selector over the characters `from..to` (index units).
fn chars(from: f64, to: f64, amount: f64) -> Value {
    json!({"t": 0, "r": 2, "b": 1, "sh": 1,
        "s": {"a": 0, "k": from}, "e": {"a": 0, "k": to}, "o": {"a": 0, "k": 0}, "a": {"a": 0, "k": amount}})
}

/// A typewriter: an opacity-0 animator whose selector's start runs 0 → 100 % over frames
/// 0–50. Frame 0 shows no letter, frame 20 (start at 40 %) the first two, frame 50 all five;
/// the letters shown are the leftmost, where the whole text draws them.
#[test]
fn a_typewriter_reveals_the_letters_left_to_right() {
    let shared = shared_or_skip!();
    let (anim, _) = animated(
        &shared,
        json!([{"a": {"o": {"a": 0, "k": 0}}, "s": {"t": 0, "r": 1, "b": 1, "sh": 1,
            "s": {"a": 1, "k": [
                {"t": 0, "s": [0], "o": {"x": [0], "y": [0]}, "i": {"x": [1], "y": [1]}},
                {"t": 50, "s": [100]}]},
            "e": {"a": 0, "k": 100}, "o": {"a": 0, "k": 0}, "a": {"a": 0, "k": 100}}}]),
    );
    assert!(letters(&anim, 0).is_empty(), "{:?}", letters(&anim, 0));
    let all = letters(&anim, 50);
    assert_eq!(all.len(), 5, "five letters: {all:?}");
    let two = letters(&anim, 20);
    assert_eq!(two.len(), 2, "{two:?}");
    for (shown, whole) in two.iter().zip(&all) {
        for k in 0..4 {
            assert!(
                (shown.0[k] - whole.0[k]).abs() < 0.01,
                "{shown:?} {whole:?}"
            );
        }
        assert!(shown.1[0] > 0.99 && shown.1[1] < 0.01, "red: {:?}", shown.1);
    }
    // The letters are laid out as the file without animators lays them: same ink extent.
    let plain = giftqa::model::load::lottie_animation(
        giftqa::format::lottie::lottie_composition(
            &serde_json::to_vec(&text_json(&shared)).unwrap(),
            &DecodeLimits::default(),
            &mut |_| None,
        )
        .unwrap(),
    );
    let whole = letters(&plain, 50);
    assert_eq!(whole.len(), 1, "one mesh for the static text");
    let (x0, x1) = (all[0].0[0], all[4].0[2]);
    assert!(
        (x0 - whole[0].0[0]).abs() < 0.05 && (x1 - whole[0].0[2]).abs() < 0.05,
        "{x0}–{x1} against {:?}",
        whole[0].0
    );
}

/// An animator that moves the third letter 100 px up, turns it 90° clockwise about its
/// centre on the baseline and paints it blue: the other letters stay where an amount of 0
/// leaves them, red; the third's box turns (width and height swap) and rises.
#[test]
fn position_rotation_and_fill_apply_to_the_selected_letter_only() {
    let shared = shared_or_skip!();
    let props = json!({"p": {"a": 0, "k": [0, -100]}, "r": {"a": 0, "k": 90}, "fc": {"a": 0, "k": [0, 0, 1]}});
    let (still, _) = animated(&shared, json!([{"a": props, "s": chars(2.0, 3.0, 0.0)}]));
    let (moved, _) = animated(&shared, json!([{"a": props, "s": chars(2.0, 3.0, 100.0)}]));
    let before = letters(&still, 0);
    let mut after = letters(&moved, 0);
    assert_eq!((before.len(), after.len()), (5, 5));
    // The turned letter is the blue one.
    let blue = after
        .iter()
        .position(|l| l.1[2] > 0.5)
        .expect("a blue letter");
    let turned = after.remove(blue);
    let others = after;
    let kept: Vec<_> = before
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != 2)
        .map(|(_, l)| *l)
        .collect();
    for (a, b) in others.iter().zip(&kept) {
        for k in 0..4 {
            assert!((a.0[k] - b.0[k]).abs() < 0.01, "{a:?} moved from {b:?}");
        }
        assert!(a.1[0] > 0.99 && a.1[2] < 0.01, "still red: {:?}", a.1);
    }
    assert!(
        turned.1[2] > 0.99 && turned.1[0] < 0.01,
        "blue: {:?}",
        turned.1
    );
    let s = before[2].0;
    let t = turned.0;
    let (w, h) = (s[2] - s[0], s[3] - s[1]);
    assert!(
        ((t[2] - t[0]) - h).abs() < 0.5 && ((t[3] - t[1]) - w).abs() < 0.5,
        "turned a quarter: {s:?} → {t:?}"
    );
    // About the letter's foot on the baseline (y 200): its middle, once turned, lies as far
    // right of the pivot as the glyph's middle lay above the baseline, 100 px higher.
    let (cx, cy) = (f32::midpoint(s[0], s[2]), f32::midpoint(s[1], s[3]));
    let (tx, ty) = (f32::midpoint(t[0], t[2]), f32::midpoint(t[1], t[3]));
    assert!(
        (tx - (cx + (200.0 - cy))).abs() < 20.0 && (ty - 100.0).abs() < 20.0,
        "{s:?} → {t:?}"
    );
}

/// Scale multiplies about the letter's anchor and tracking widens the gaps: with every letter
/// at 50 % and 20 px more tracking, each letter's box is half as wide, and the text runs
/// 4 × 20 px further less half its letters' width. What is not applied (skew) is named.
#[test]
fn scale_and_tracking_animators_and_what_is_left_named() {
    let shared = shared_or_skip!();
    let (plain, _) = animated(
        &shared,
        json!([{"a": {"s": {"a": 0, "k": [100, 100]}}, "s": chars(0.0, 5.0, 100.0)}]),
    );
    let (scaled, notes) = animated(
        &shared,
        json!([{"a": {"s": {"a": 0, "k": [50, 50]}, "t": {"a": 0, "k": 20}, "sk": {"a": 0, "k": 10}},
            "s": chars(0.0, 5.0, 100.0)}]),
    );
    assert!(
        notes.iter().any(|n| n.contains("text animator skew")),
        "{notes:?}"
    );
    let (a, b) = (letters(&plain, 0), letters(&scaled, 0));
    assert_eq!((a.len(), b.len()), (5, 5));
    for (i, (x, y)) in a.iter().zip(&b).enumerate() {
        let (wx, wy) = (x.0[2] - x.0[0], y.0[2] - y.0[0]);
        assert!((wy - wx / 2.0).abs() < 0.5, "letter {i}: {wx} → {wy}");
        // Halved about its bottom-centre pivot: the baseline stays put.
        assert!(
            (y.0[3] - 200.0).abs() < (x.0[3] - 200.0).abs() / 2.0 + 0.5,
            "{x:?} {y:?}"
        );
    }
    // Each letter's centre moves by the tracking of the letters before it (20 px each) and
    // no more: scale turns about the centre of its own advance.
    for i in 1..5 {
        let centre = |l: &([f32; 4], [f32; 4])| f32::midpoint(l.0[0], l.0[2]);
        let d = centre(&b[i]) - centre(&a[i]);
        assert!((d - 20.0 * i as f32).abs() < 8.0, "letter {i} moved {d}");
    }
}

/// A text that changes over time (three document keyframes: "Test1" at 0, "Hi" at 30, a blue
/// "Bye now" at 60) shows each from its keyframe on, held, as lottie-web picks the keyframe at
/// or before the frame; a slot's text replaces each in its own style.
#[test]
fn later_document_keyframes_change_the_text_over_time() {
    let shared = shared_or_skip!();
    let mut gift = text_json(&shared);
    let first = gift["layers"][0]["t"]["d"]["k"][0]["s"].clone();
    let doc = |text: &str, fill: Value| {
        let mut d = first.clone();
        d["t"] = json!(text);
        d["fc"] = fill;
        d
    };
    gift["layers"][0]["t"]["d"]["k"] = json!([
        {"t": 0, "s": first},
        {"t": 30, "s": doc("Hi", json!([1, 0, 0]))},
        {"t": 60, "s": doc("Bye now", json!([0, 0, 1]))}
    ]);
    let (anim, notes) = decoded(&gift);
    assert!(
        !notes.iter().any(|n| n.contains("keyframe")),
        "later keyframes are drawn, not named: {notes:?}"
    );
    let width = |f: u32| {
        let l = letters(&anim, f);
        assert_eq!(l.len(), 1, "frame {f}: one text shown: {l:?}");
        (l[0].0[2] - l[0].0[0], l[0].1)
    };
    let (test1, red) = width(0);
    let (held, _) = width(29);
    let (hi, _) = width(30);
    let (bye, blue) = width(60);
    let (last, _) = width(119);
    assert!((held - test1).abs() < 0.01, "held until the next keyframe");
    assert!(hi < test1 / 2.0, "\"Hi\" is narrower: {hi} against {test1}");
    assert!(bye > test1, "\"Bye now\" is wider: {bye} against {test1}");
    assert!((last - bye).abs() < 0.01, "the last document holds");
    assert!(
        red[0] > 0.99 && blue[2] > 0.99 && blue[0] < 0.01,
        "{red:?} {blue:?}"
    );
    // A slot's name replaces the text of every document, each keeping its colour.
    let model = giftqa::format::lottie::lottie_composition(
        &serde_json::to_vec(&gift).unwrap(),
        &DecodeLimits::default(),
        &mut |_| None,
    )
    .unwrap();
    let mut comp = model.comp.clone();
    let drawn = giftqa::model::lottie_text::fill_text_layers(&mut comp, &model.texts, &|k| {
        (k == "my_text").then(|| "Ann".to_owned())
    });
    assert_eq!(drawn.len(), 1);
    let mut named = giftqa::model::load::lottie_animation(model);
    let giftqa::model::Content::Lottie(_, gaps, texts, effects) = &named.content else {
        panic!("a Lottie composition")
    };
    named.content = giftqa::model::Content::Lottie(
        std::sync::Arc::new(comp),
        gaps.clone(),
        std::sync::Arc::clone(texts),
        std::sync::Arc::clone(effects),
    );
    let at = |f: u32| letters(&named, f);
    let (a0, a60) = (at(0), at(60));
    assert_eq!((a0.len(), a60.len()), (1, 1));
    let w = |l: &([f32; 4], [f32; 4])| l.0[2] - l.0[0];
    assert!(
        (w(&a0[0]) - w(&a60[0])).abs() < 0.01,
        "the same name in both"
    );
    assert!(
        a0[0].1[0] > 0.99 && a60[0].1[2] > 0.99,
        "each in its document's colour"
    );
}

/// Hostile animators stay bounded: 4 096 letters under 40 animators keyframed over a billion
/// frames, with scales, rotations and positions near the largest doubles, decode and draw
/// without a panic, each letter sampled at a bounded number of frames.
#[test]
fn hostile_text_animators_are_bounded() {
    let shared = shared_or_skip!();
    let mut gift = text_json(&shared);
    gift["layers"][0]["t"]["d"]["k"][0]["s"]["t"] = json!("W".repeat(4096));
    let huge = |v: f64| json!({"a": 1, "k": [{"t": -1e9, "s": [v, v]}, {"t": 1e9, "s": [-v, v]}]});
    let animator = json!({"a": {"s": huge(1e308), "r": huge(1e308), "p": huge(1e308), "t": huge(1e308),
            "o": huge(-1e308), "fc": huge(1e308), "sw": huge(1e308)},
        "s": {"s": huge(-1e308), "e": huge(1e308), "o": huge(1e308), "a": huge(1e308), "sh": 5,
            "ne": huge(1e308), "xe": huge(-1e308)}});
    gift["layers"][0]["t"]["a"] = json!(vec![animator; 40]);
    let (anim, notes) = decoded(&gift);
    assert!(
        notes
            .iter()
            .any(|n| n.contains("8 animator(s) past the first 32")),
        "{notes:?}"
    );
    let giftqa::model::Content::Lottie(comp, ..) = &anim.content else {
        panic!("a Lottie composition")
    };
    let velato::model::Content::Shape(groups) = &comp.layers[0].content else {
        panic!("the text layer's shapes")
    };
    assert!(groups.len() <= 4096, "{} groups", groups.len());
    for g in groups {
        let velato::model::Shape::Group(_, Some(t)) = g else {
            panic!("a letter group")
        };
        if let velato::model::Value::Animated(a) = &t.opacity {
            assert!(a.times.len() <= 20, "{} samples a letter", a.times.len());
        }
    }
    for f in [0, 60, 119] {
        let _ = frame_at(&anim, f);
    }
}
