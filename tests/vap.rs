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

use std::path::Path;
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
        let info = vap::decode(&bytes, None, &DecodeLimits::default())
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
        let mismatch: Vec<&str> = info
            .advice
            .iter()
            .filter(|a| a.code == giftqa::finding::Code::VideoConfigMismatch)
            .map(|a| a.message.as_str())
            .collect();
        if layout.is_some() {
            // Version 1: the layout is read off the pixels, and the app is told what to set.
            let detected = open(&shared, rel, None);
            assert_eq!(detected.detected, layout, "{rel}");
            assert!(
                mismatch.len() == 1 && mismatch[0].contains("VIDEO_MODE_SPLIT_HORIZONTAL_REVERSE"),
                "{rel}: {mismatch:?}"
            );
        } else {
            assert!(mismatch.is_empty(), "{rel}: {mismatch:?}");
        }
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

/// Asset ids of [`FILES`] in the bundle [`common::Fixture::vap`] builds.
const IDS: [&str; 6] = [
    "demo",
    "mask-blur",
    "mask-trunk",
    "special-750",
    "vapx",
    "web-demo",
];

/// A bundle of the six shared VAP files, the slots of `vapx.mp4` declared.
fn vap_bundle(shared: &Path) -> common::Fixture {
    let files: Vec<(&str, &str)> = FILES.iter().zip(IDS).map(|(f, id)| (f.0, id)).collect();
    common::Fixture::vap(shared, &files)
}

/// `giftqa render` of one asset's frames into `out`, with extra arguments.
fn render(
    f: &common::Fixture,
    id: &str,
    frames: &[u32],
    out: &Path,
    extra: &[&str],
) -> (i32, String) {
    let frames = frames
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(",");
    let (code, stdout, stderr) = common::render(f.dir(), id, &frames, out, extra);
    (code, format!("{stdout}{stderr}"))
}

/// `giftqa render` draws every file on wgpu (lavapipe in CI) within 40 dB of the goldens.
#[cfg(feature = "gpu")]
#[test]
fn giftqa_render_matches_ffmpeg_goldens() {
    let shared = shared_or_skip!();
    if !ffmpeg() || common::gpu().is_none() {
        return;
    }
    let f = vap_bundle(&shared);
    let t = tempfile::tempdir().unwrap();
    let mut worst = (f64::INFINITY, String::new());
    for (k, (rel, cfg, lay)) in FILES.iter().enumerate() {
        let id = IDS[k];
        let movie = open(&shared, rel, *lay);
        let n = movie.frame_count();
        let wanted = [0, n / 4, n / 2, 3 * n / 4, n - 1];
        let (code, out) = render(&f, id, &wanted, t.path(), &[]);
        assert_eq!(code, 0, "{id}: {out}");
        let (vw, vh) = (movie.track.width_px, movie.track.height_px);
        let goldens = ffmpeg_rgb(&shared.join("vap").join(rel), &wanted, vw, vh);
        let (canvas, c, a) = layout(&shared, *cfg, vw, vh);
        for (j, &frame) in wanted.iter().enumerate() {
            let golden = merge(&goldens[j], vw, vh, canvas, c, a);
            let ours = image::open(t.path().join(format!("{id}_{frame:04}.png")))
                .unwrap()
                .into_rgba8();
            let db = psnr_over_grey(&ours, &golden).unwrap_or(f64::INFINITY);
            if db < worst.0 {
                worst = (db, format!("{id} frame {frame}"));
            }
        }
    }
    assert!(worst.0 >= 40.0, "worst {:.1} dB at {}", worst.0, worst.1);
}

/// A 20-character CJK sender name.
const NAME: &str = "来自远方的超级土豪大哥送出了一个超级火箭";

/// `vapx.mp4` with the sender's avatar and a 20-character CJK name in its fusion slots,
/// rendered by `giftqa render` and guarded by an image snapshot.
#[cfg(feature = "gpu")]
#[test]
fn vapx_renders_avatar_and_cjk_name_in_its_slots() {
    let shared = shared_or_skip!();
    if common::gpu().is_none() {
        return;
    }
    assert_eq!(NAME.chars().count(), 20);
    let f = vap_bundle(&shared);
    // A 278 × 278 JPEG portrait from lottie-web's test footage stands in for a user's avatar
    // (avatars come from CDNs as JPEG).
    let avatar = shared.join("lottie/lottie-web/test/animations/footage/images/img_0.jpg");
    let t = tempfile::tempdir().unwrap();
    let plain = tempfile::tempdir().unwrap();
    // Frame 200 places both sources (vapc frame[].i).
    let (code, out) = render(
        &f,
        "vapx",
        &[200],
        t.path(),
        &[
            "--slot",
            &format!("sImg1={}", avatar.display()),
            "--slot",
            &format!("sTxt1={NAME}"),
        ],
    );
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("slot sImg1 (image"), "{out}");
    assert!(out.contains("slot sTxt1 (text"), "{out}");
    let (code, out) = render(&f, "vapx", &[200], plain.path(), &[]);
    assert_eq!(code, 0, "{out}");
    let ours = image::open(t.path().join("vapx_0200.png"))
        .unwrap()
        .into_rgba8();
    let bare = image::open(plain.path().join("vapx_0200.png"))
        .unwrap()
        .into_rgba8();
    // Only the placements change: the name at [157, 311, 335, 44], the avatar at
    // [292, 213, 65, 66].
    let inside =
        |x: u32, y: u32, r: [u32; 4]| x >= r[0] && x < r[0] + r[2] && y >= r[1] && y < r[1] + r[3];
    let (mut in_name, mut in_avatar, mut outside) = (0, 0, 0);
    for (x, y, p) in ours.enumerate_pixels() {
        if p == bare.get_pixel(x, y) {
            continue;
        }
        if inside(x, y, [157, 311, 335, 44]) {
            in_name += 1;
        } else if inside(x, y, [292, 213, 65, 66]) {
            in_avatar += 1;
        } else {
            outside += 1;
        }
    }
    assert!(in_name > 1_000, "the name is drawn ({in_name} px)");
    assert!(in_avatar > 1_000, "the avatar is drawn ({in_avatar} px)");
    assert_eq!(outside, 0, "nothing changes outside the placements");
    // The straight-alpha PNG over a dark grey, as a room's background shows it, cut to the
    // part around the placements.
    let (ox, oy) = (100, 150);
    let shown = RgbaImage::from_fn(460, 270, |x, y| {
        common::on_room(*ours.get_pixel(x + ox, y + oy))
    });
    egui_kittest::image_snapshot_options(
        &shown,
        "vap_vapx_avatar_cjk",
        &egui_kittest::SnapshotOptions::new().max_failed_pixels(500),
    );
    // A tag the file does not have is an error naming the tags it has.
    let (code, out) = render(&f, "vapx", &[200], t.path(), &["--slot", "avatar=Ann"]);
    assert_ne!(code, 0);
    assert!(
        out.contains("no fusion source has the tag \"avatar\""),
        "{out}"
    );
}

/// A bundle of one VAP effect made of `bytes`.
fn one_effect(shared: &Path, bytes: &[u8]) -> common::Fixture {
    let mut f = common::Fixture::shared(shared);
    for old in f.manifest["assets"].as_array().unwrap() {
        let path = old["files"][0]["path"].as_str().unwrap().to_owned();
        std::fs::remove_file(f.path(&path)).unwrap();
    }
    std::fs::write(f.path("effects/gift.mp4"), bytes).unwrap();
    f.manifest["assets"] = serde_json::json!([{
        "id": "gift", "kind": "effect", "format": "vap",
        "files": [{"path": "effects/gift.mp4"}], "fallback": "builtin:gift"
    }]);
    f.seal();
    f
}

/// `giftqa check --format json` under a 60 s timeout and GNU time: exit code, the JSON report
/// and the peak resident set in KiB.
fn check_measured(f: &common::Fixture) -> (i32, Value, u64) {
    let t = tempfile::tempdir().unwrap();
    let rss = t.path().join("rss");
    let keys = common::keys();
    let out = Command::new("timeout")
        .arg("60")
        .arg("/usr/bin/time")
        .arg("-f")
        .arg("%M")
        .arg("-o")
        .arg(&rss)
        .arg(env!("CARGO_BIN_EXE_giftqa"))
        .args([
            "check",
            f.dir().to_str().unwrap(),
            "--no-cache",
            "--format",
            "json",
            "--keys",
        ])
        .arg(&keys)
        .args(["--now", "2026-12-01T00:00:00Z"])
        .output()
        .unwrap();
    let code = out.status.code().unwrap_or(-1);
    assert_ne!(code, 124, "check ran past 60 s");
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    let kib = std::fs::read_to_string(&rss)
        .unwrap()
        .lines()
        .last()
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    (code, report, kib)
}

fn find(b: &[u8], what: &[u8]) -> usize {
    b.windows(what.len()).position(|w| w == what).unwrap()
}

/// Hostile VAP files: each is one finding on the asset naming the file, never a panic, within
/// 60 s and 300 MiB.
#[test]
fn hostile_vap_files_are_findings() {
    let shared = shared_or_skip!();
    if !Path::new("/usr/bin/time").is_file() {
        assert!(
            std::env::var_os("CI").is_none(),
            "GNU time is missing, and CI is set"
        );
        eprintln!("skipping: /usr/bin/time is missing");
        return;
    }
    let demo = std::fs::read(shared.join("vap/Android/demo.mp4")).unwrap();
    let vapx = std::fs::read(shared.join("vap/Android/vapx.mp4")).unwrap();
    let mut cases: Vec<(&str, Vec<u8>, &str, &str)> = Vec::new();
    // A download cut at 60 %: the frames whose samples are gone fail by name.
    cases.push((
        "truncated",
        demo[..demo.len() * 6 / 10].to_vec(),
        "decode-failed",
        "lies past the end",
    ));
    // No moov: the sample table is gone.
    let mut b = demo.clone();
    let at = find(&b, b"moov");
    b[at..at + 4].copy_from_slice(b"free");
    cases.push(("missing moov", b, "decode-failed", "no moov box"));
    // A canvas of 100 000 px, in the same number of characters.
    let mut b = vapx.clone();
    let at = find(&b, b"\"w\":672");
    b[at..at + 7].copy_from_slice(b"\"w\":1e5");
    cases.push(("100000 px", b, "decode-failed", "100000"));
    // Sample 3 claims 2 GiB.
    let mut b = demo.clone();
    let at = find(&b, b"stsz") + 16 + 4 * 3;
    b[at..at + 4].copy_from_slice(&0x7fff_ffffu32.to_be_bytes());
    cases.push(("lying sample size", b, "decode-failed", "frame 3"));
    // An empty sample-to-chunk table (fuzzing found re_mp4 indexing it; now refused first).
    let mut b = demo.clone();
    let at = find(&b, b"stsc") + 8;
    b[at..at + 4].copy_from_slice(&0u32.to_be_bytes());
    cases.push(("empty stsc", b, "decode-failed", "stsc"));
    // A box of size 0 inside `mdia` (the mutation benchmark found re_mp4 0.5 looping on it).
    let mut b = demo.clone();
    let at = find(&b, b"mdhd") - 4;
    b[at..at + 4].copy_from_slice(&0u32.to_be_bytes());
    cases.push(("size-0 box in mdia", b, "decode-failed", "size 0"));
    // The same samples declared as HEVC.
    let mut b = demo.clone();
    let stsd = find(&b, b"stsd");
    let at = stsd + find(&b[stsd..], b"avc1");
    b[at..at + 4].copy_from_slice(b"hvc1");
    cases.push(("hevc", b, "codec-unsupported", "HEVC"));
    for (name, bytes, code, words) in cases {
        let f = one_effect(&shared, &bytes);
        let (exit, report, kib) = check_measured(&f);
        assert_eq!(exit, 1, "{name}: {report}");
        let hit = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["code"] == code)
            .unwrap_or_else(|| panic!("{name}: no {code} in {report}"));
        assert_eq!(hit["asset"], "gift", "{name}");
        assert_eq!(hit["path"], "effects/gift.mp4", "{name}");
        let msg = hit["message"].as_str().unwrap();
        assert!(msg.contains(words), "{name}: {msg}");
        assert!(kib < 300 * 1024, "{name}: {kib} KiB resident");
        eprintln!("{name}: {code}, {} MiB: {msg}", kib / 1024);
    }
}

/// Frames decode in order; a seek back, or far ahead, restarts at the sync sample before the
/// frame and gives the same pixels as decoding from the start.
#[test]
fn seeks_restart_at_the_previous_sync_sample() {
    let shared = shared_or_skip!();
    let movie = open(&shared, "Android/vapx.mp4", None);
    let syncs = movie.track.samples.iter().filter(|s| s.sync).count();
    assert!(syncs > 2, "vapx.mp4 has {syncs} sync samples");
    let limits = DecodeLimits::default();
    let mut straight = vap::h264::H264Stream::new(&movie.track).unwrap();
    let mut want = Vec::new();
    for i in 0..=200 {
        let p = straight
            .frame(&movie.bytes, &movie.track, i, &limits)
            .unwrap();
        if [10, 60, 61, 200].contains(&i) {
            want.push((i, p.clone()));
        }
    }
    let mut seeking = vap::h264::H264Stream::new(&movie.track).unwrap();
    for &i in &[200usize, 60, 10, 61] {
        let p = seeking
            .frame(&movie.bytes, &movie.track, i, &limits)
            .unwrap();
        let w = &want.iter().find(|(k, _)| *k == i).unwrap().1;
        assert!(p == w, "frame {i} after a seek");
    }
}

/// A zipped bundle reads its VAP entries through the same source, under the same limits.
#[test]
fn vap_in_a_zipped_bundle_checks() {
    let shared = shared_or_skip!();
    let f = common::Fixture::vap(&shared, &[("Android/vapx.mp4", "vapx")]);
    let (_keep, zip) = f.zip("gift.zip");
    let keys = common::keys();
    let (code, stdout, stderr) = common::giftqa(&[
        "check",
        zip.to_str().unwrap(),
        "--no-cache",
        "--format",
        "json",
        "--keys",
        keys.to_str().unwrap(),
        "--now",
        "2026-12-01T00:00:00Z",
    ]);
    let report: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stderr}"));
    assert_eq!(code, 0, "{report}");
    let asset = &report["assets"][0];
    assert_eq!(asset["info"]["frame_count"], 240);
    assert_eq!(
        asset["info"]["slot_keys"],
        serde_json::json!(["sImg1", "sTxt1"])
    );
    let codes: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|x| x["code"].as_str())
        .collect();
    assert!(codes.contains(&"video-audio-track"), "{codes:?}");
}
