//! `giftqa smoke` and `giftqa render` on lavapipe (CI) or any adapter: the report is written
//! and measured, the texture budget holds under spam-100, hostile animations yield findings.

#![cfg(feature = "gpu")]
#![expect(
    clippy::unwrap_used,
    reason = "fixture helpers outside #[test] functions panic on a broken test setup"
)]

mod common;

use common::giftqa;

use std::path::Path;

use common::Fixture;
use serde_json::{Value, json};

/// The clock the tests pin (the shared fixtures' manifests expire on 2027-01-31).
const NOW: &str = "2026-12-01T00:00:00Z";

fn write_json(dir: &Path, name: &str, v: &Value) -> String {
    let p = dir.join(name);
    std::fs::write(&p, serde_json::to_vec_pretty(v).unwrap()).unwrap();
    p.to_str().unwrap().to_owned()
}

#[test]
fn smoke_demo_bundle_all_tiers_single_and_storm_writes_a_measured_report() {
    if common::gpu().is_none() {
        return;
    }
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().to_str().unwrap();
    let (code, stdout, stderr) = giftqa(&[
        "smoke",
        "assets/demo-bundle",
        "--tier",
        "all",
        "--scenario",
        "single",
        "--scenario",
        "storm",
        "--no-gpu",
        "--out",
        dir,
    ]);
    assert_eq!(code, 0, "warnings only: {stdout}{stderr}");
    let report: Value =
        serde_json::from_slice(&std::fs::read(out.path().join("report.json")).unwrap()).unwrap();
    let runs = report["runs"].as_array().unwrap();
    let pairs: Vec<(String, String)> = runs
        .iter()
        .map(|r| {
            (
                r["tier"].as_str().unwrap().to_owned(),
                r["scenario"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(pairs.len(), 6, "{pairs:?}");
    for r in runs {
        let st = &r["stats"];
        assert!(st["frames"].as_u64().unwrap() > 10, "{st}");
        assert!(st["fps"].as_f64().unwrap() > 1.0);
        assert!(st["frame_main_ms"]["p50"].as_f64().unwrap() > 0.0);
        assert!(
            st["frame_main_ms"]["p99"].as_f64().unwrap()
                >= st["frame_main_ms"]["p50"].as_f64().unwrap()
        );
        assert!(
            st["decode_ms"]["count"].as_u64().unwrap() > 0,
            "images were decoded on the workers"
        );
        assert!(st["first_frame_ms"]["count"].as_u64().unwrap() > 0);
        assert!(st["peak_texture_bytes"].as_u64().unwrap() > 0);
        assert!(
            st["peak_texture_bytes"].as_u64().unwrap()
                <= st["texture_budget_bytes"].as_u64().unwrap()
        );
        assert!(st["peak_overdraw"].as_f64().unwrap() > 0.0);
        assert_eq!(
            r["frame_main_series_ms"].as_array().unwrap().len() as u64,
            st["frames"].as_u64().unwrap()
        );
    }
    let single_low = runs
        .iter()
        .find(|r| r["tier"] == "low" && r["scenario"] == "single")
        .unwrap();
    assert_eq!(single_low["stats"]["sends"], 9, "each effect once");
    // On low, confetti-gif is not delivered and falls back to the client's builtin:confetti
    // (not measured); every other effect, heartbeat through its fallback, plays to its end.
    assert_eq!(
        single_low["stats"]["completed"], 8,
        "each delivered effect played to its end"
    );
    let sends = single_low["sends"].as_array().unwrap();
    let builtin = sends.iter().find(|s| s["asset"] == "confetti-gif").unwrap();
    assert_eq!(builtin["plays"]["plays"], "builtin");
    let heartbeat = sends.iter().find(|s| s["asset"] == "heartbeat").unwrap();
    assert_eq!(heartbeat["plays"]["via"], "ball-apng");
    assert_eq!(heartbeat["completed"], true);
    let storm = runs
        .iter()
        .find(|r| r["tier"] == "mid" && r["scenario"] == "storm")
        .unwrap();
    assert_eq!(storm["stats"]["sends"], 27, "every effect three times");
    assert!(report["host"]["adapter"].is_null(), "nothing drawn");
    let html = std::fs::read_to_string(out.path().join("report.html")).unwrap();
    assert_eq!(
        html.matches("<svg").count(),
        6,
        "one chart per tier and scenario"
    );
    assert!(
        !html.contains("http://")
            || html.matches("http://").count()
                == html.matches("xmlns=\"http://www.w3.org/2000/svg\"").count(),
        "no network references"
    );
    assert!(stdout.contains("low    storm"), "{stdout}");
    // Drawn on the adapter: the host's figures and a thumbnail per effect at its worst frame.
    let drawn = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = giftqa(&[
        "smoke",
        "assets/demo-bundle",
        "--tier",
        "low",
        "--scenario",
        "storm",
        "--out",
        drawn.path().to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let report: Value =
        serde_json::from_slice(&std::fs::read(drawn.path().join("report.json")).unwrap()).unwrap();
    let host = &report["host"];
    assert!(
        host["adapter"]["name"]
            .as_str()
            .is_some_and(|n| !n.is_empty())
    );
    assert_eq!(
        host["runs"][0]["frames"], report["runs"][0]["stats"]["frames"],
        "the host draws every simulated frame"
    );
    let html = std::fs::read_to_string(drawn.path().join("report.html")).unwrap();
    assert!(
        html.matches("data:image/png;base64,").count() >= 5,
        "thumbnails of the effects played"
    );
}

#[test]
fn spam_100_streams_within_a_small_texture_budget() {
    if common::gpu().is_none() {
        return;
    }
    let t = tempfile::tempdir().unwrap();
    // A tier whose budget holds 8 of ball-sequence's 20 frames (100 × 100 px, 40 000 bytes)
    // beside its 270 × 480 target and 4× MSAA buffer (2 592 000 bytes).
    let tiers = write_json(
        t.path(),
        "tiers.json",
        &json!({"tiers": [{"name": "tiny", "viewport_px": [270, 480], "max_texture_px": 1024, "texture_budget_bytes": 2_912_000, "target_fps": 30, "decode_threads": 1, "cpu_slowdown": 1.0, "first_frame_budget_ms": 1000}]}),
    );
    let scenario = write_json(
        t.path(),
        "spam.json",
        &json!({"name": "spam-100", "duration_ms": 4000, "max_concurrent": 1, "queue_limit": 20, "events": [{"at_ms": 0, "asset": "ball-sequence", "repeat": 100, "every_ms": 20}]}),
    );
    let (code, stdout, stderr) = giftqa(&[
        "smoke",
        "assets/demo-bundle",
        "--tiers",
        &tiers,
        "--tier",
        "tiny",
        "--scenario",
        &scenario,
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    let st = &report["runs"][0]["stats"];
    assert!(
        st["peak_texture_bytes"].as_u64().unwrap() <= 320_000,
        "{st}"
    );
    assert!(
        st["completed"].as_u64().unwrap() >= 1,
        "a 1 s sequence plays through while streaming: {st}"
    );
    // 1 playing and 20 queued at most, so at least 79 of 100 are dropped unless an effect
    // ends (freeing a place) before the 2 s burst is over.
    let dropped = st["dropped"].as_u64().unwrap();
    assert!((70..=79).contains(&dropped), "{st}");
    assert!(
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["code"] == "burst-dropped")
    );
}

#[test]
fn hostile_animations_yield_findings_in_smoke_and_render() {
    let Some(shared) = common::shared_assets() else {
        return;
    };
    if common::gpu().is_none() {
        return;
    }
    let mut f = Fixture::shared(&shared);
    // A frame wider than the low tier's 2048 px texture limit.
    image::RgbaImage::from_pixel(2100, 64, image::Rgba([255, 0, 0, 255]))
        .save(f.path("effects/wide.png"))
        .unwrap();
    // A truncated SVGA.
    let bytes = std::fs::read(f.path("effects/heartbeat.svga")).unwrap();
    std::fs::write(f.path("effects/cut.svga"), &bytes[..bytes.len() / 3]).unwrap();
    // A sprite atlas declaring 4096 frames at 1 fps: past the 600 s duration limit.
    std::fs::copy(
        common::root().join("assets/demo-bundle/effects/ball-atlas.png"),
        f.path("effects/atlas.png"),
    )
    .unwrap();
    let assets = f.manifest["assets"].as_array_mut().unwrap();
    assets.push(json!({"id": "wide", "kind": "effect", "format": "png-sequence", "params": {"fps": 10}, "files": [{"path": "effects/wide.png"}], "fallback": "builtin:x"}));
    assets.push(json!({"id": "cut", "kind": "effect", "format": "svga", "files": [{"path": "effects/cut.svga"}], "fallback": "builtin:x"}));
    assets.push(json!({"id": "long", "kind": "effect", "format": "sprite-atlas", "params": {"columns": 64, "rows": 64, "frame_count": 4096, "fps": 1}, "files": [{"path": "effects/atlas.png"}], "fallback": "builtin:x"}));
    f.seal();
    let t = tempfile::tempdir().unwrap();
    let scenario = write_json(
        t.path(),
        "s.json",
        &json!({"name": "all-once", "duration_ms": 1500, "max_concurrent": 10, "queue_limit": 10, "events": [{"at_ms": 0, "asset": "*"}]}),
    );
    let dir = f.dir().to_str().unwrap().to_owned();
    let (code, stdout, stderr) = giftqa(&[
        "smoke",
        &dir,
        "--tier",
        "low",
        "--scenario",
        &scenario,
        "--format",
        "json",
        "--now",
        NOW,
    ]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    let codes: Vec<(String, String)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["code"].as_str().unwrap().to_owned(),
                f["asset"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    for want in [
        ("frame-too-large", "wide"),
        ("decode-failed", "cut"),
        ("decode-failed", "long"),
    ] {
        assert!(
            codes.contains(&(want.0.to_owned(), want.1.to_owned())),
            "{want:?} in {codes:?}"
        );
    }
    let out = t.path().join("frames");
    let out = out.to_str().unwrap();
    let (code, stdout, _) = giftqa(&[
        "render", &dir, "--asset", "wide", "--tier", "low", "--out", out, "--now", NOW,
    ]);
    assert_eq!(code, 1);
    assert!(stdout.contains("error[frame-too-large]"), "{stdout}");
    let (code, stdout, _) = giftqa(&["render", &dir, "--asset", "cut", "--out", out, "--now", NOW]);
    assert_eq!(code, 1);
    assert!(stdout.contains("error[decode-failed]"), "{stdout}");
    let (code, stdout, _) = giftqa(&[
        "render", &dir, "--asset", "long", "--out", out, "--now", NOW,
    ]);
    assert_eq!(code, 1);
    assert!(
        stdout.contains("error[decode-failed]") && stdout.contains("600 s"),
        "{stdout}"
    );
    // Without --tier the wide frame renders at its own size.
    let (code, _, stderr) = giftqa(&[
        "render", &dir, "--asset", "wide", "--out", out, "--now", NOW,
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        image::image_dimensions(t.path().join("frames/wide_0000.png")).unwrap(),
        (2100, 64)
    );
}

#[test]
fn render_writes_transparent_frames_at_canvas_size_and_tier_viewport() {
    if common::gpu().is_none() {
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let out = t.path().to_str().unwrap();
    let (code, stdout, stderr) = giftqa(&[
        "render",
        "assets/demo-bundle",
        "--asset",
        "heartbeat",
        "--frames",
        "0,120",
        "--out",
        out,
    ]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let f = image::open(t.path().join("heartbeat_0120.png"))
        .unwrap()
        .into_rgba8();
    assert_eq!(f.dimensions(), (500, 500));
    assert_eq!(f.get_pixel(0, 0)[3], 0, "transparent background");
    assert!(f.pixels().any(|p| p[3] == 255), "the hearts are drawn");
    let tier_dir = t.path().join("low");
    let (code, _, _) = giftqa(&[
        "render",
        "assets/demo-bundle",
        "--asset",
        "heartbeat",
        "--tier",
        "low",
        "--frames",
        "120",
        "--background",
        "grey",
        "--out",
        tier_dir.to_str().unwrap(),
    ]);
    assert_eq!(code, 0);
    let g = image::open(tier_dir.join("heartbeat_0120.png"))
        .unwrap()
        .into_rgba8();
    assert_eq!(g.dimensions(), (540, 960));
    assert_eq!(
        g.get_pixel(0, 0).0,
        [128, 128, 128, 255],
        "composited over grey"
    );
    let (code, _, stderr) = giftqa(&[
        "render",
        "assets/demo-bundle",
        "--asset",
        "heartbeat",
        "--frames",
        "999",
        "--out",
        out,
    ]);
    assert_eq!(code, 2);
    assert!(stderr.contains("past the last frame 239"), "{stderr}");
    let (code, _, stderr) = giftqa(&[
        "render",
        "assets/demo-bundle",
        "--asset",
        "nope",
        "--out",
        out,
    ]);
    assert_eq!(code, 2);
    assert!(stderr.contains("heartbeat"), "lists the assets: {stderr}");
}

/// A wgpu validation error is kept by the uncaptured-error handler and returned by the next
/// call, instead of wgpu's default panic; the context goes on working.
#[test]
fn gpu_errors_are_returned_not_panicked() {
    let Some(ctx) = common::gpu() else { return };
    // A zero-sized texture is a validation error.
    let _bad = ctx.device.create_texture(&wgpu::TextureDescriptor {
        label: Some("invalid on purpose"),
        size: wgpu::Extent3d {
            width: 0,
            height: 0,
            depth_or_array_layers: 1,
        },
        mip_level_count: 1,
        sample_count: 1,
        dimension: wgpu::TextureDimension::D2,
        format: wgpu::TextureFormat::Rgba8Unorm,
        usage: wgpu::TextureUsages::TEXTURE_BINDING,
        view_formats: &[],
    });
    let err = ctx.take_gpu_error().unwrap_err();
    assert!(matches!(err, giftqa::render::RenderError::Gpu(_)), "{err}");
    ctx.take_gpu_error().unwrap();
    let ok = image::RgbaImage::from_pixel(4, 4, image::Rgba([255, 0, 0, 255]));
    assert!(ctx.upload(&ok, 8192).is_ok(), "the context still works");
}
