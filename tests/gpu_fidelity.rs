//! Golden frames: SVGA files drawn whole by the model (bitmap sprites only) match the frames
//! SVGAPlayer-Web drew (`../shared/reference/svga/`) at a PSNR of at least 30 dB over
//! mid-grey, on the wgpu renderer (lavapipe in CI).

#![cfg(feature = "gpu")]
#![expect(
    clippy::unwrap_used,
    reason = "fixture helpers outside #[test] functions panic on a broken test setup"
)]

mod common;

use std::path::Path;

use giftqa::format::DecodeLimits;
use giftqa::model::{Affine, load::svga_animation};
use giftqa::playback::fidelity::psnr_over_grey;
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

#[test]
fn bitmap_svga_matches_every_golden_frame() {
    let shared = shared_or_skip!();
    let Some(ctx) = common::gpu() else { return };
    let reference = shared.join("../reference/svga");
    let mut compared = 0;
    let mut files = Vec::new();
    for repo in ["SVGAPlayer-Android", "SVGAPlayer-Web"] {
        for entry in std::fs::read_dir(reference.join(repo)).unwrap() {
            let stem = entry.unwrap().file_name().to_string_lossy().into_owned();
            let bytes =
                std::fs::read(shared.join("svga").join(repo).join(format!("{stem}.svga"))).unwrap();
            let anim = svga_animation(&bytes, &DecodeLimits::default()).unwrap();
            let u = anim.unsupported();
            if !(u.drawn_whole() && u.slot_sprites.is_empty()) {
                continue;
            }
            files.push(format!("{repo}/{stem}"));
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
                let psnr = psnr_over_grey(&ours, &golden).unwrap();
                assert!(psnr >= 30.0, "{repo}/{stem} frame {idx}: {psnr:.1} dB");
                compared += 1;
            }
        }
    }
    files.sort();
    assert_eq!(
        files,
        [
            "SVGAPlayer-Android/heartbeat",
            "SVGAPlayer-Android/rose",
            "SVGAPlayer-Web/angel",
            "SVGAPlayer-Web/halloween",
            "SVGAPlayer-Web/heartbeat"
        ],
        "the bitmap-only files with golden frames"
    );
    assert_eq!(compared, 25);
}

#[test]
fn a_vector_file_is_named_not_hidden() {
    let shared = shared_or_skip!();
    let bytes = std::fs::read(shared.join("svga/SVGAPlayer-Web/TwitterHeart.svga")).unwrap();
    let anim = svga_animation(&bytes, &DecodeLimits::default()).unwrap();
    let u = anim.unsupported();
    assert_eq!(u.vector_sprites.len(), 18);
    assert!(!u.drawn_whole());
}
