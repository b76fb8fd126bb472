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
const CONTENT_HELD: [(&str, f64); 5] = [
    ("SVGAPlayer-Android/EmptyState", 30.5),
    ("SVGAPlayer-Web/EmptyState", 30.5),
    ("SVGAPlayer-Web/PinJump", 30.0),
    ("SVGAPlayer-Web/TwitterHeart", 32.5),
    ("SVGAPlayer-Web/Walkthrough", 22.0),
];

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
