//! Golden frames: every SVGA file of `../shared/reference/svga/` (bitmaps, vector shapes, clip
//! paths, alpha mattes; 1.x and 2.x) matches the frames the reference players drew at a PSNR
//! of at least 30 dB over mid-grey on the whole frame, and at least 35 dB over the content (the
//! pixels where either image has alpha) except the files `docs/fidelity.md` names, which are
//! held at what they score; on the wgpu renderer (lavapipe in CI).

#![cfg(feature = "gpu")]
#![expect(
    clippy::unwrap_used,
    reason = "fixture helpers outside #[test] functions panic on a broken test setup"
)]

mod common;

use std::path::Path;

use giftqa::format::DecodeLimits;
use giftqa::model::{Affine, load::svga_animation};
use giftqa::playback::fidelity::compare;
use giftqa::render::{paint::render_frame, unpremultiply};

fn goldens(dir: &Path) -> Vec<(u32, std::path::PathBuf)> {
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter_map(|p| {
            let idx = p
                .file_stem()?
                .to_str()?
                .strip_prefix("frame_")?
                .parse()
                .ok()?;
            Some((idx, p))
        })
        .collect();
    v.sort();
    v
}

/// Files below 35 dB on the content measure, with the floor each is held at (dB); see
/// `docs/fidelity.md`.
const CONTENT_HELD: [(&str, f64); 1] = [("SVGAPlayer-Web/Walkthrough", 22.5)];

#[test]
fn every_svga_matches_its_golden_frames() {
    let shared = shared_or_skip!();
    let Some(ctx) = common::gpu() else { return };
    let reference = shared.join("../reference/svga");
    let mut compared = 0;
    let mut files = 0;
    let mut worst = (f64::INFINITY, String::new());
    for repo in ["SVGAPlayer-Android", "SVGAPlayer-Web"] {
        for entry in std::fs::read_dir(reference.join(repo)).unwrap() {
            let entry = entry.unwrap();
            if !entry.file_type().unwrap().is_dir() {
                continue;
            }
            let stem = entry.file_name().to_string_lossy().into_owned();
            let bytes =
                std::fs::read(shared.join("svga").join(repo).join(format!("{stem}.svga"))).unwrap();
            let anim = svga_animation(&bytes, &DecodeLimits::default()).unwrap();
            let u = anim.unsupported();
            assert!(u.drawn_whole(), "{repo}/{stem}: {:?}", u.describe());
            files += 1;
            for (idx, path) in goldens(&reference.join(repo).join(&stem)) {
                let golden = image::open(&path).unwrap().into_rgba8();
                let mut ours = render_frame(
                    &ctx,
                    &anim,
                    idx,
                    [golden.width(), golden.height()],
                    Affine::IDENTITY,
                    8192,
                )
                .unwrap();
                unpremultiply(&mut ours);
                let score = compare(&ours, &golden).unwrap();
                let psnr = score.whole_db;
                assert!(psnr >= 30.0, "{repo}/{stem} frame {idx}: {psnr:.1} dB");
                let name = format!("{repo}/{stem}");
                let floor = CONTENT_HELD
                    .iter()
                    .find(|(n, _)| name == *n || name == format!("{n}_1.x"))
                    .map_or(35.0, |(_, f)| *f);
                assert!(
                    score.content_db >= floor,
                    "{name} frame {idx}: {score:?} (content floor {floor} dB)"
                );
                if psnr < worst.0 {
                    worst = (psnr, format!("{repo}/{stem} frame {idx}"));
                }
                compared += 1;
            }
        }
    }
    eprintln!(
        "{files} files, {compared} golden frames; lowest {:.1} dB ({})",
        worst.0, worst.1
    );
    assert_eq!(files, 27, "every SVGA file with golden frames");
    assert_eq!(compared, 131);
}

/// Vector shapes get the exact share of each pixel they cover and are composited whole, as
/// Skia's analytic anti-aliasing draws paths: an edge at x = 10.7 leaves pixel 10 covered 0.3
/// (4× multisampling would give a quarter), and a red shape drawn over a green one of the same
/// outline lets the green through at that edge (`1 − 0.3` of the red's coverage), where
/// per-sample coverage would hide it.
#[test]
fn vector_edges_get_their_exact_coverage_and_shapes_composite_whole() {
    use giftqa::render::DrawItem;
    let Some(ctx) = common::gpu() else { return };
    let rect = |x0: f32, y0: f32, x1: f32, y1: f32| {
        vec![[x0, y0], [x1, y0], [x1, y1], [x0, y0], [x1, y1], [x0, y1]]
    };
    let edge = rect(10.7, 4.0, 25.0, 28.0);
    let target = ctx.target(32, 32);
    ctx.draw(
        &target,
        [0.0; 4],
        &[DrawItem::Triangles(&edge, [1.0, 1.0, 1.0, 1.0])],
    )
    .unwrap();
    let px = ctx.read_pixels(&target).unwrap();
    assert_eq!(px.get_pixel(9, 16)[3], 0);
    let a = px.get_pixel(10, 16)[3];
    assert!(a.abs_diff(77) <= 1, "coverage 0.3 is alpha 77, got {a}");
    assert_eq!(px.get_pixel(11, 16)[3], 255);
    assert_eq!(px.get_pixel(24, 16)[3], 255);
    assert_eq!(px.get_pixel(25, 16)[3], 0);
    // A shape split into many triangles covers as one: a fan of 16 slivers around (16, 16).
    let mut fan = Vec::new();
    for i in 0..16 {
        let angle = |k: f32| k * std::f32::consts::TAU / 16.0;
        let (a0, a1) = (angle(i as f32), angle(i as f32 + 1.0));
        fan.extend([
            [16.0, 16.0],
            [16.0 + 9.5 * a0.cos(), 16.0 + 9.5 * a0.sin()],
            [16.0 + 9.5 * a1.cos(), 16.0 + 9.5 * a1.sin()],
        ]);
    }
    ctx.draw(&target, [0.0; 4], &[DrawItem::Triangles(&fan, [1.0; 4])])
        .unwrap();
    let px = ctx.read_pixels(&target).unwrap();
    assert_eq!(
        px.get_pixel(16, 16)[3],
        255,
        "no seam where the slivers meet"
    );
    assert_eq!(px.get_pixel(20, 14)[3], 255);
    let ink: f64 = px.pixels().map(|p| f64::from(p[3]) / 255.0).sum();
    let area = 0.5 * 16.0 * 9.5f64.powi(2) * (std::f64::consts::TAU / 16.0).sin();
    assert!(
        (ink - area).abs() < 1.0,
        "ink {ink:.2} px², polygon {area:.2} px²"
    );
    // Coincident edges: green, then red over it.
    ctx.draw(
        &target,
        [0.0; 4],
        &[
            DrawItem::Triangles(&edge, [0.0, 1.0, 0.0, 1.0]),
            DrawItem::Triangles(&edge, [1.0, 0.0, 0.0, 1.0]),
        ],
    )
    .unwrap();
    let p = ctx.read_pixels(&target).unwrap().get_pixel(10, 16).0;
    // Red 0.3, green 0.3 × 0.7 = 0.21, alpha 1 − 0.7² = 0.51 (premultiplied).
    assert!(
        p[0].abs_diff(77) <= 1 && p[1].abs_diff(54) <= 1 && p[3].abs_diff(130) <= 1,
        "{p:?}"
    );
}
