//! SVGA vector shapes, clip paths and mattes in the display list (GPU-free): every real SVGA
//! sample is drawn whole, equal shapes share one tessellation, and the cache changes nothing
//! in what is drawn.

#![expect(
    clippy::unwrap_used,
    reason = "fixture helpers outside #[test] functions panic on a broken test setup"
)]

mod common;

use std::collections::HashSet;
use std::sync::Arc;

use giftqa::format::DecodeLimits;
use giftqa::model::load::svga_animation;
use giftqa::model::{Compose, Content, DrawCmd, frame_at, frame_at_uncached};

fn load(shared: &std::path::Path, rel: &str) -> giftqa::model::Animation {
    let bytes = std::fs::read(shared.join("svga").join(rel)).unwrap();
    svga_animation(&bytes, &DecodeLimits::default()).unwrap()
}

#[test]
fn the_cache_draws_what_fresh_tessellation_draws() {
    let shared = shared_or_skip!();
    let anim = load(&shared, "SVGAPlayer-Web/EmptyState.svga");
    let Content::Sprites(sprites) = &anim.content else {
        panic!("sprites")
    };
    let mut distinct = HashSet::new();
    let mut instances = 0;
    for s in sprites {
        for v in s.shapes.iter().flat_map(|f| f.iter()) {
            distinct.insert(Arc::as_ptr(&v.def));
            instances += 1;
        }
    }
    assert!(
        distinct.len() * 50 < instances,
        "{} distinct shapes for {instances} shape instances",
        distinct.len()
    );
    let mut meshes = 0;
    for f in 0..anim.frame_count {
        let cached = frame_at(&anim, f);
        assert_eq!(cached, frame_at_uncached(&anim, f), "frame {f}");
        meshes += cached
            .cmds
            .iter()
            .filter(|c| matches!(c, DrawCmd::Mesh { .. }))
            .count();
    }
    assert!(meshes > 1000, "{meshes} meshes drawn over the file");
}

#[test]
fn clip_paths_and_mattes_become_layers() {
    let shared = shared_or_skip!();
    let clip = frame_at(&load(&shared, "SVGAPlayer-Web/clippath.svga"), 0);
    assert!(clip.cmds.iter().any(|c| matches!(
        c,
        DrawCmd::PushLayer {
            clip: Some(_),
            compose: Compose::SrcOver,
            ..
        }
    )));
    let matte = frame_at(&load(&shared, "SVGAPlayer-Web/matteBitmap.svga"), 7);
    let composes: Vec<Compose> = matte
        .cmds
        .iter()
        .filter_map(|c| match c {
            DrawCmd::PushLayer { compose, .. } => Some(*compose),
            _ => None,
        })
        .collect();
    assert_eq!(
        composes,
        [Compose::SrcOver, Compose::SrcIn],
        "one matte run"
    );
    let pops = matte
        .cmds
        .iter()
        .filter(|c| matches!(c, DrawCmd::PopLayer))
        .count();
    assert_eq!(pops, 2, "layers balanced");
    assert!(
        matte
            .cmds
            .iter()
            .any(|c| matches!(c, DrawCmd::Image { .. })),
        "the 2.x matte bitmap is found under its key without `.matte`"
    );
}

#[test]
fn every_real_svga_is_drawn_whole() {
    let shared = shared_or_skip!();
    for dir in ["SVGAPlayer-Web", "SVGAPlayer-Android"] {
        for e in std::fs::read_dir(shared.join("svga").join(dir)).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_none_or(|x| x != "svga") {
                continue;
            }
            let bytes = std::fs::read(&p).unwrap();
            let Ok(anim) = svga_animation(&bytes, &DecodeLimits::default()) else {
                continue;
            };
            let u = anim.unsupported();
            assert!(u.drawn_whole(), "{}: {:?}", p.display(), u.describe());
        }
    }
}

/// `Walkthrough.svga` strokes 211 shapes with `lineDashII` 10 and no `lineDashI`, round caps:
/// SVGAPlayer-Android dashes them (a dash of 1, raised from 0, a gap of 10), so together they
/// cover far less than solid strokes of the same outlines would.
#[test]
fn a_dash_of_zero_with_a_gap_is_dotted_as_svgaplayer_android_draws_it() {
    let shared = shared_or_skip!();
    let anim = load(&shared, "SVGAPlayer-Web/Walkthrough.svga");
    let Content::Sprites(sprites) = &anim.content else {
        panic!("sprites")
    };
    let (mut dashed, mut dots, mut solid) = (0, 0.0, 0.0);
    for v in sprites
        .iter()
        .flat_map(|s| s.shapes.iter().flat_map(|f| f.iter()))
    {
        let Some(stroke) = v.def.stroke.as_ref().filter(|s| !s.dash.is_empty()) else {
            continue;
        };
        assert!(
            stroke.dash.len() == 2
                && (stroke.dash[0] - 1.0).abs() < 1e-6
                && (stroke.dash[1] - 10.0).abs() < 1e-6
                && stroke.dash_offset.abs() < 1e-6,
            "{stroke:?}"
        );
        dashed += 1;
        dots += v.def.meshes().stroke.as_ref().map_or(0.0, |m| m.area());
        let whole = giftqa::model::vector::ShapeDef::new(
            v.def.geometry.clone(),
            None,
            Some(giftqa::model::vector::Stroke {
                dash: Vec::new(),
                ..stroke.clone()
            }),
        );
        solid += whole.meshes().stroke.as_ref().map_or(0.0, |m| m.area());
    }
    assert_eq!(dashed, 211, "every dashed stroke instance");
    assert!(
        dots > 0.0 && dots < solid * 0.7,
        "dotted {dots:.0} px² against solid {solid:.0} px²"
    );
}

#[test]
fn shapes_drawn_scaled_up_are_flattened_within_a_tenth_of_a_canvas_pixel() {
    use giftqa::model::vector::{MIN_TOLERANCE, TOLERANCE};
    let shared = shared_or_skip!();
    // 750x80.svga draws some of its shapes 1.6× up: flattened at 0.1 of their own units, their
    // curves would stray 0.16 px from the outline on the canvas.
    let anim = load(&shared, "SVGAPlayer-Android/750x80.svga");
    let Content::Sprites(sprites) = &anim.content else {
        panic!("sprites")
    };
    let mut refined = 0;
    for s in sprites {
        for (frame, shapes) in s.frames.iter().zip(&s.shapes) {
            for v in shapes.iter() {
                let scale = frame.transform.max_scale() * v.transform.max_scale();
                let tol = v.def.tolerance();
                assert!(
                    tol * scale <= TOLERANCE * 1.001 || tol == MIN_TOLERANCE,
                    "{}: tolerance {tol} at scale {scale}",
                    s.image_key
                );
                if tol < TOLERANCE {
                    refined += 1;
                }
            }
        }
    }
    assert!(refined > 0, "no shape of 750x80.svga is drawn scaled up");
}
