//! VAP end to end on the real files of `../shared/assets/vap`: every file checks with the frame
//! count it states and matches golden frames made by an independent decoder.
//!
//! The goldens: `ffmpeg` (FFmpeg's own H.264 decoder, the Debian package) decodes each
//! chosen frame to RGB with the players' conversion (BT.601 full range, chroma interpolated),
//! and this file merges colour and alpha itself from the config in
//! `_extracted_vapc/*.vapc.json` (read with `serde_json`, not giftqa's parser): colour from
//! `rgbFrame`, alpha from the red channel of `aFrame`, each sampled bilinearly at pixel
//! centres as a GL linear sampler does. `docs/fidelity.md` says the same.
//!
//! Without `ffmpeg` these tests skip with a message, unless `CI` is set (`.ci/run` installs
//! it).

#![expect(
    clippy::unwrap_used,
    reason = "fixture helpers outside #[test] functions panic on a broken test setup"
)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use giftqa::format::{DecodeLimits, vap};
use giftqa::model::load::FrameDecoder;
use giftqa::model::vap::vap_animation;
use giftqa::playback::fidelity::psnr_over_grey;
use image::RgbaImage;
use serde_json::Value;

/// The shared VAP files: path under `vap/`, its extracted config (if any), and the layout a
/// version-1 file is played with.
const FILES: [(&str, Option<&str>, Option<vap::Layout>); 6] = [
    ("Android/demo.mp4", Some("Android_demo.mp4.vapc.json"), None),
    (
        "Android/mask_blur_demo.mp4",
        Some("Android_mask_blur_demo.mp4.vapc.json"),
        None,
    ),
    (
        "Android/mask_trunk_demo.mp4",
        Some("Android_mask_trunk_demo.mp4.vapc.json"),
        None,
    ),
    // Version 1: AnimSpecialSizeDemoActivity plays it with VIDEO_MODE_SPLIT_HORIZONTAL_REVERSE.
    (
        "Android/special_size_750.mp4",
        None,
        Some(vap::Layout::AlphaRight),
    ),
    ("Android/vapx.mp4", Some("Android_vapx.mp4.vapc.json"), None),
    ("web/demo.mp4", Some("web_demo.mp4.vapc.json"), None),
];

fn ffmpeg() -> bool {
    let ok = Command::new("ffmpeg")
        .arg("-version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok || std::env::var_os("CI").is_none(),
        "ffmpeg is missing, and CI is set: the VAP goldens cannot be skipped"
    );
    if !ok {
        eprintln!("skipping: ffmpeg is not installed");
    }
    ok
}

/// FFmpeg's frame count for the video stream (packets counted).
fn ffprobe_frames(file: &Path) -> u64 {
    let out = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-select_streams",
            "v:0",
            "-count_packets",
            "-show_entries",
            "stream=nb_read_packets,width,height",
            "-of",
            "json",
        ])
        .arg(file)
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    v["streams"][0]["nb_read_packets"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap()
}

/// Frames `wanted` (presentation order) of the video, decoded by ffmpeg to RGB24 at the
/// video's size, with the players' conversion.
fn ffmpeg_rgb(file: &Path, wanted: &[u32], w: u32, h: u32) -> Vec<Vec<u8>> {
    let select = wanted
        .iter()
        .map(|n| format!("eq(n\\,{n})"))
        .collect::<Vec<_>>()
        .join("+");
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-threads", "1", "-i"])
        .arg(file)
        .args([
            "-an",
            "-vf",
            &format!(
                "select='{select}',scale=in_range=full:out_range=full:in_color_matrix=bt601:out_color_matrix=bt601:flags=bilinear+full_chroma_int+full_chroma_inp+accurate_rnd,format=rgb24"
            ),
            "-fps_mode",
            "passthrough",
            "-f",
            "rawvideo",
            "pipe:1",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let size = (w * h * 3) as usize;
    assert_eq!(
        out.stdout.len(),
        size * wanted.len(),
        "ffmpeg gave every frame"
    );
    out.stdout.chunks(size).map(<[u8]>::to_vec).collect()
}

/// The independent alpha merge: bilinear samples at pixel centres (texel centres at i + 0.5).
fn merge(rgb: &[u8], vw: u32, vh: u32, canvas: (u32, u32), c: [f32; 4], a: [f32; 4]) -> RgbaImage {
    let sample = |x: f32, y: f32, ch: usize| -> f32 {
        let fx = (x - 0.5).clamp(0.0, (vw - 1) as f32);
        let fy = (y - 0.5).clamp(0.0, (vh - 1) as f32);
        let (x0, y0) = (fx.floor() as u32, fy.floor() as u32);
        let (x1, y1) = ((x0 + 1).min(vw - 1), (y0 + 1).min(vh - 1));
        let (tx, ty) = (fx - x0 as f32, fy - y0 as f32);
        let p = |x: u32, y: u32| f32::from(rgb[((y * vw + x) * 3) as usize + ch]);
        let top = p(x0, y0) * (1.0 - tx) + p(x1, y0) * tx;
        let bot = p(x0, y1) * (1.0 - tx) + p(x1, y1) * tx;
        top * (1.0 - ty) + bot * ty
    };
    let (w, h) = canvas;
    RgbaImage::from_fn(w, h, |x, y| {
        let u = (x as f32 + 0.5) / w as f32;
        let v = (y as f32 + 0.5) / h as f32;
        let (cx, cy) = (c[0] + u * c[2], c[1] + v * c[3]);
        let (ax, ay) = (a[0] + u * a[2], a[1] + v * a[3]);
        let q = |f: f32| f.round().clamp(0.0, 255.0) as u8;
        image::Rgba([
            q(sample(cx, cy, 0)),
            q(sample(cx, cy, 1)),
            q(sample(cx, cy, 2)),
            q(sample(ax, ay, 0)),
        ])
    })
}

/// Canvas, video size, colour and alpha regions of a file, from its extracted config or
/// (version 1) from halves of the video.
fn layout(shared: &Path, cfg: Option<&str>, vw: u32, vh: u32) -> ((u32, u32), [f32; 4], [f32; 4]) {
    if let Some(cfg) = cfg {
        let v: Value = serde_json::from_slice(
            &std::fs::read(shared.join("vap/_extracted_vapc").join(cfg)).unwrap(),
        )
        .unwrap();
        let i = &v["info"];
        let rect = |k: &str| -> [f32; 4] {
            let a = i[k].as_array().unwrap();
            [0, 1, 2, 3].map(|n| a[n].as_f64().unwrap() as f32)
        };
        (
            (
                i["w"].as_u64().unwrap() as u32,
                i["h"].as_u64().unwrap() as u32,
            ),
            rect("rgbFrame"),
            rect("aFrame"),
        )
    } else {
        let half = (vw / 2) as f32;
        (
            (vw / 2, vh),
            [0.0, 0.0, half, vh as f32],
            [half, 0.0, half, vh as f32],
        )
    }
}

fn open(shared: &Path, rel: &str, layout: Option<vap::Layout>) -> Arc<vap::VapMovie> {
    let bytes = std::fs::read(shared.join("vap").join(rel)).unwrap();
    Arc::new(vap::open(Arc::from(bytes), layout, &DecodeLimits::default()).unwrap())
}

#[test]
fn every_vap_file_checks_with_the_frame_count_it_states() {
    let shared = shared_or_skip!();
    let ff = ffmpeg();
    for (rel, cfg, layout) in FILES {
        let path = shared.join("vap").join(rel);
        let bytes = std::fs::read(&path).unwrap();
        let info = vap::decode(&bytes, layout, &DecodeLimits::default())
            .unwrap_or_else(|e| panic!("{rel}: {e}"));
        let movie = open(&shared, rel, layout);
        if let Some(cfg) = cfg {
            let v: Value = serde_json::from_slice(
                &std::fs::read(shared.join("vap/_extracted_vapc").join(cfg)).unwrap(),
            )
            .unwrap();
            assert_eq!(
                info.frame_count,
                v["info"]["f"].as_u64().unwrap(),
                "{rel}: vapc's f"
            );
            assert_eq!(u64::from(info.width_px), v["info"]["w"].as_u64().unwrap());
        }
        if ff {
            assert_eq!(
                movie.track.samples.len() as u64,
                ffprobe_frames(&path),
                "{rel}: the track's samples, as FFmpeg counts them"
            );
        }
        let no_mismatch = !info
            .advice
            .iter()
            .any(|a| a.code == giftqa::finding::Code::VideoConfigMismatch);
        assert!(no_mismatch, "{rel}: {:?}", info.advice);
    }
}

#[test]
fn every_vap_file_matches_ffmpeg_goldens() {
    let shared = shared_or_skip!();
    if !ffmpeg() {
        return;
    }
    let limits = DecodeLimits::default();
    let mut worst = (f64::INFINITY, String::new());
    for (rel, cfg, lay) in FILES {
        let movie = open(&shared, rel, lay);
        let anim = vap_animation(Arc::clone(&movie));
        let n = anim.frame_count;
        let wanted = [0, n / 4, n / 2, 3 * n / 4, n - 1];
        let (vw, vh) = (movie.track.width_px, movie.track.height_px);
        let goldens = ffmpeg_rgb(&shared.join("vap").join(rel), &wanted, vw, vh);
        let (canvas, c, a) = layout(&shared, cfg, vw, vh);
        let mut dec = FrameDecoder::new();
        for (k, &f) in wanted.iter().enumerate() {
            let golden = merge(&goldens[k], vw, vh, canvas, c, a);
            let ours = dec.decode(&anim.images[f as usize], &limits).unwrap();
            assert_eq!(ours.dimensions(), golden.dimensions(), "{rel} frame {f}");
            let db = psnr_over_grey(&ours, &golden).unwrap_or(f64::INFINITY);
            eprintln!("{rel} frame {f}: {db:.1} dB");
            if db < worst.0 {
                worst = (db, format!("{rel} frame {f}"));
            }
        }
    }
    assert!(worst.0 >= 40.0, "worst {:.1} dB at {}", worst.0, worst.1);
}

#[expect(dead_code, reason = "kept for the snapshot tests")]
fn shared_vap(shared: &Path, rel: &str) -> PathBuf {
    shared.join("vap").join(rel)
}
