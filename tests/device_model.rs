//! Spec §9: every playback finding from the simulation, on constructed inputs, with no GPU;
//! and the same smoke verdict, byte for byte, on a busy machine as on an idle one.

#![expect(
    clippy::unwrap_used,
    reason = "test helpers: a failed unwrap is the test failing"
)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use giftqa::check::budgets::{oversized_images, run_findings};
use giftqa::model::{Animation, Content, ImageAsset, ImageSource};
use giftqa::playback::engine::{CostSink, Engine, Playlist, RunOptions, SimRun};
use giftqa::playback::scenario::{Event, Scenario};
use giftqa::playback::tiers::{Tier, builtin_tiers};
use serde_json::Value;

/// `frames` distinct `px`² PNG frames at `fps` (real PNG bytes, decoded by the engine).
fn sequence(frames: u32, px: u32, fps: f64) -> Animation {
    let mut png = Vec::new();
    image::RgbaImage::from_pixel(px, px, image::Rgba([10, 200, 90, 255]))
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    let png: Arc<[u8]> = png.into();
    Animation {
        width_px: px,
        height_px: px,
        fps,
        frame_count: frames,
        frame_start_ms: None,
        images: (0..frames)
            .map(|i| ImageAsset {
                key: format!("frame_{i:04}"),
                width_px: px,
                height_px: px,
                source: ImageSource::Encoded(Arc::clone(&png)),
            })
            .collect(),
        content: Content::Frames(
            (0..frames as usize)
                .map(|i| (i, [0.0, 0.0, 1.0, 1.0]))
                .collect(),
        ),
    }
}

fn scenario(max_concurrent: u32, queue_limit: u32, repeat: u32) -> Scenario {
    Scenario {
        name: "constructed".into(),
        duration_ms: 0,
        max_concurrent,
        queue_limit,
        events: vec![Event {
            at_ms: 0,
            asset: "gift".into(),
            repeat,
            every_ms: 0,
        }],
    }
}

fn simulate(anim: Animation, tier: &Tier, s: &Scenario) -> (SimRun, Vec<&'static str>) {
    let p = Arc::new(Playlist::new(
        [("gift".to_owned(), Arc::new(anim))].into_iter().collect(),
        vec!["gift".to_owned()],
    ));
    let run = Engine::new(p, tier, s, RunOptions::default(), false)
        .run(&mut CostSink, &|_| {})
        .unwrap();
    let codes = run_findings(&run, tier, s)
        .iter()
        .map(|f| f.code.as_str())
        .collect();
    (run, codes)
}

fn low() -> Tier {
    builtin_tiers().remove(0)
}

#[test]
fn a_small_effect_on_a_fast_tier_has_no_finding() {
    let high = builtin_tiers().remove(2);
    let (run, codes) = simulate(sequence(10, 64, 30.0), &high, &scenario(1, 0, 1));
    assert!(codes.is_empty(), "{codes:?}");
    assert_eq!(run.stats.late_frames, 0);
    assert_eq!(
        run.stats.frames, 20,
        "10 frames at 30 fps on a 60 fps display"
    );
}

#[test]
fn memory_over_budget_counts_targets_and_textures() {
    let mut tier = low();
    // 540×960 target: 2.07 MB resolve + 8.29 MB 4× MSAA; three 1024² frames: 12.6 MB.
    tier.texture_budget_bytes = 16_000_000;
    let (run, codes) = simulate(sequence(6, 1024, 10.0), &tier, &scenario(1, 0, 1));
    assert!(codes.contains(&"memory-over-budget"), "{codes:?}");
    let m = run.stats.peak_memory;
    assert_eq!((m.targets, m.msaa), (540 * 960 * 4, 540 * 960 * 16));
    assert!(m.total() > 16_000_000);
}

#[test]
fn first_frame_slow_comes_from_simulated_decode() {
    let mut tier = low();
    let mut c = tier.device();
    c.decode_png_mpx_per_s = 2.0; // 1000² px: 500 ms on the one decode thread
    tier.device = Some(c);
    let (run, codes) = simulate(sequence(2, 1000, 10.0), &tier, &scenario(1, 0, 1));
    assert!(codes.contains(&"first-frame-slow"), "{codes:?}");
    let ms = run.sends[0].start_to_first_frame_ms.unwrap();
    assert!((500.0..540.0).contains(&ms), "{ms}");
    // The same effect on the built-in low tier starts in time.
    let (_, codes) = simulate(sequence(2, 1000, 10.0), &low(), &scenario(1, 0, 1));
    assert!(!codes.contains(&"first-frame-slow"), "{codes:?}");
}

#[test]
fn overdraw_over_budget_is_a_tier_field() {
    let mut tier = low();
    tier.overdraw_budget = Some(0.5);
    // A square canvas fitted into 540×960 covers 540² of 540×960 px: 0.5625 screen fills.
    let (run, codes) = simulate(sequence(3, 100, 30.0), &tier, &scenario(1, 0, 1));
    assert!(codes.contains(&"overdraw-over-budget"), "{codes:?}");
    assert!((run.stats.peak_overdraw - 0.5625).abs() < 1e-3);
    tier.overdraw_budget = Some(0.6);
    let (_, codes) = simulate(sequence(3, 100, 30.0), &tier, &scenario(1, 0, 1));
    assert!(!codes.contains(&"overdraw-over-budget"), "{codes:?}");
}

#[test]
fn upload_over_budget_is_judged_on_p95_bytes_per_frame() {
    let mut tier = low();
    tier.upload_budget_bytes_per_frame = Some(10_000);
    // Every frame uploads a new 64² image (16 384 bytes).
    let (run, codes) = simulate(sequence(30, 64, 30.0), &tier, &scenario(1, 0, 1));
    assert!(codes.contains(&"upload-over-budget"), "{codes:?}");
    assert!(run.stats.upload_bytes_p95 >= 16_384.0);
}

#[test]
fn burst_dropped_when_the_queue_is_full() {
    let (run, codes) = simulate(sequence(3, 32, 30.0), &low(), &scenario(1, 2, 5));
    assert!(codes.contains(&"burst-dropped"), "{codes:?}");
    assert_eq!((run.stats.dropped, run.stats.completed), (2, 3));
}

#[test]
fn frame_too_large_names_the_tier_limit() {
    let f = oversized_images("gift", &sequence(1, 3000, 30.0), 2048, "low");
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].code.as_str(), "frame-too-large");
    assert!(f[0].message.contains("2048 px texture limit of tier low"));
    assert!(oversized_images("gift", &sequence(1, 2048, 30.0), 2048, "low").is_empty());
}

#[test]
fn decode_failed_names_the_effect() {
    let mut anim = sequence(2, 32, 30.0);
    anim.images[1].source = ImageSource::Encoded(Arc::from(&b"\x89PNG\r\n\x1a\nbroken"[..]));
    let (run, codes) = simulate(anim, &low(), &scenario(1, 0, 1));
    assert!(codes.contains(&"decode-failed"), "{codes:?}");
    assert!(!run.sends[0].completed);
}

/// The demo bundle's smoke JSON without its `host` section.
fn smoke_json(extra: &[&str]) -> Value {
    let mut args = vec![
        "smoke",
        "assets/demo-bundle",
        "--tier",
        "all",
        "--scenario",
        "single",
        "--scenario",
        "storm",
        "--scenario",
        "spam-100",
        "--format",
        "json",
        "--now",
        "2026-12-01T00:00:00Z",
    ];
    args.extend_from_slice(extra);
    let (code, out, err) = common::giftqa(&args);
    assert!(code == 0 || code == 1, "exit {code}: {err}");
    let mut v: Value = serde_json::from_str(&out).unwrap();
    let host = v.as_object_mut().unwrap().remove("host");
    assert!(host.is_some(), "the report has a host section");
    v
}

#[test]
fn same_bundle_same_verdict_on_a_busy_machine() {
    let idle = smoke_json(&["--no-gpu"]);
    // CPU hogs: busy threads beside the second run.
    let stop = Arc::new(AtomicBool::new(false));
    let hogs: Vec<_> = (0..4)
        .map(|_| {
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                let mut x = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                    std::hint::black_box(x);
                }
            })
        })
        .collect();
    let busy = smoke_json(&["--no-gpu"]);
    stop.store(true, Ordering::Relaxed);
    for h in hogs {
        h.join().unwrap();
    }
    assert_eq!(
        serde_json::to_string(&idle).unwrap(),
        serde_json::to_string(&busy).unwrap()
    );
    // Drawn on the GPU (lavapipe in CI), the verdict is the same again.
    if common::gpu().is_some() {
        let drawn = smoke_json(&[]);
        assert_eq!(
            serde_json::to_string(&idle).unwrap(),
            serde_json::to_string(&drawn).unwrap()
        );
    }
    assert_eq!(idle["runs"].as_array().unwrap().len(), 9);
}

#[test]
fn calibrate_writes_a_tiers_file_smoke_reads() {
    let t = tempfile::tempdir().unwrap();
    let path = t.path().join("host.json");
    let (code, out, err) =
        common::giftqa(&["calibrate", "--no-gpu", "--out", path.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("decode_png_mpx_per_s") && out.contains("measured"),
        "{out}"
    );
    let tiers = giftqa::playback::tiers::load_tiers(&path).unwrap();
    assert_eq!(tiers.len(), 1);
    assert_eq!(tiers[0].name, "host");
    let c = tiers[0].device.unwrap();
    assert!(c.decode_png_mpx_per_s > 0.0 && c.tessellate_vertices_per_ms > 0.0);
    let (code, out, err) = common::giftqa(&[
        "smoke",
        "assets/demo-bundle",
        "--tiers",
        path.to_str().unwrap(),
        "--no-gpu",
        "--now",
        "2026-12-01T00:00:00Z",
    ]);
    assert!(code == 0 || code == 1, "{err}");
    assert!(out.contains("host   single"), "{out}");
}

#[test]
fn tiers_files_are_range_checked() {
    let t = tempfile::tempdir().unwrap();
    let base = serde_json::json!({"name": "t", "viewport_px": [540, 960], "max_texture_px": 2048,
        "texture_budget_bytes": 100_000_000, "target_fps": 30, "decode_threads": 1,
        "first_frame_budget_ms": 300});
    for (i, field, value, named) in [
        ("cpu_slowdown", serde_json::json!(1e300), "cpu_slowdown"),
        ("cpu_slowdown", serde_json::json!(1e18), "cpu_slowdown"),
        (
            "decode_threads",
            serde_json::json!(100_000),
            "decode_threads",
        ),
        (
            "viewport_px",
            serde_json::json!([100_000, 100_000]),
            "viewport_px",
        ),
        (
            "overdraw_budget",
            serde_json::json!(-1.0),
            "overdraw_budget",
        ),
        ("msaa_samples", serde_json::json!(3), "msaa_samples"),
    ]
    .into_iter()
    .enumerate()
    .map(|(i, (field, value, named))| (i, field, value, named))
    {
        let mut tier = base.clone();
        tier[field] = value;
        let path = t.path().join(format!("{i}-{field}.json"));
        std::fs::write(&path, serde_json::json!({"tiers": [tier]}).to_string()).unwrap();
        let err = giftqa::playback::tiers::load_tiers(&path)
            .unwrap_err()
            .to_string();
        assert!(err.contains(named), "{field}: {err}");
        // The CLI, with pixels drawn on the GPU where there is one, within 60 s and 2 GiB.
        let (code, _, stderr) = common::giftqa_bounded(&[
            "smoke",
            "assets/demo-bundle",
            "--tiers",
            path.to_str().unwrap(),
            "--now",
            "2026-12-01T00:00:00Z",
        ]);
        assert_eq!(code, 2, "{field}: {stderr}");
        assert!(stderr.contains(named), "{field}: {stderr}");
    }
    let mut device = base.clone();
    let mut c = giftqa::playback::device::mid_constants();
    c.fill_mpx_per_ms = f64::NAN;
    device["device"] = serde_json::to_value(c).unwrap_or_default();
    // NaN serialises as null: a missing number is a schema error naming the field.
    let path = t.path().join("device.json");
    std::fs::write(&path, serde_json::json!({"tiers": [device]}).to_string()).unwrap();
    assert!(giftqa::playback::tiers::load_tiers(&path).is_err());
}

#[test]
fn smoke_plays_the_fallback_of_a_killed_effect() {
    let d = tempfile::tempdir().unwrap();
    let kill = common::signed_kill(
        d.path(),
        "demo.winter-2026",
        &["heartbeat"],
        "2026-11-30T08:00:00Z",
        "2026-12-07T08:00:00Z",
    );
    let keys = common::keys();
    let (code, out, err) = common::giftqa(&[
        "smoke",
        "assets/demo-bundle",
        "--keys",
        keys.to_str().unwrap(),
        "--kill",
        kill.to_str().unwrap(),
        "--tier",
        "high",
        "--no-gpu",
        "--format",
        "json",
        "--now",
        "2026-12-01T00:00:00Z",
    ]);
    assert_eq!(code, 0, "{err}");
    let r: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        r["substitutions"]["high"]["heartbeat"],
        serde_json::json!({"plays": "fallback", "via": "ball-apng"})
    );
    let send = r["runs"][0]["sends"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["asset"] == "heartbeat")
        .unwrap();
    assert_eq!(send["completed"], true, "the fallback played in its place");
    assert!(r["runs"][0]["worst_frames"].get("ball-apng").is_some());
}
