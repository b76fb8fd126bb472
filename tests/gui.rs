//! The desktop app driven by its labels with `egui_kittest` (rendered on lavapipe in CI): open
//! the demo bundle, select, play and step an effect, switch tier, read a matrix cell, toggle a
//! kill switch and see the cell fall back, sign-off refused on a bundle with an error and
//! granted on the demo bundle.

#![cfg(feature = "gui")]

mod common;

use std::time::{Duration, Instant};

use common::Fixture;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;
use giftqa::app::GiftqaApp;
use giftqa::app::load::ViewOptions;

/// The app and the test renderer on one wgpu device, as in the window: the preview's frames
/// reach egui as a native texture, never read back.
fn harness(opts: ViewOptions) -> Harness<'static, GiftqaApp> {
    let builder = Harness::builder().with_size(egui::vec2(1400.0, 900.0));
    if common::gpu().is_none() {
        let app = GiftqaApp::new(opts, None);
        return builder.build_ui_state(|ui, app: &mut GiftqaApp| app.ui(ui), app);
    }
    let rs = egui_kittest::wgpu::create_render_state(
        egui_kittest::wgpu::default_wgpu_setup(),
        eframe::egui_wgpu::RendererOptions::PREDICTABLE,
    );
    let info = rs.adapter.get_info();
    let render = giftqa::render::RenderContext::from_device(
        rs.device.clone(),
        rs.queue.clone(),
        giftqa::render::AdapterSummary {
            name: info.name,
            backend: format!("{:?}", info.backend),
            device_type: format!("{:?}", info.device_type),
            timestamps: false,
        },
        rs.device.limits().max_texture_dimension_2d,
    );
    let app = GiftqaApp::new(opts, Some(render)).with_egui_renderer(rs.renderer.clone());
    builder
        .renderer(egui_kittest::wgpu::WgpuTestRenderer::from_render_state(rs))
        .build_ui_state(|ui, app: &mut GiftqaApp| app.ui(ui), app)
}

/// The app on the bundle at `dir` with the demo keyring and no fleet (every tier plays each
/// effect itself), `id` selected and its first frame drawn.
fn previewing(dir: &std::path::Path, id: &str) -> Harness<'static, GiftqaApp> {
    let opts = ViewOptions {
        bundle: dir.to_owned(),
        keys: Some(common::keys()),
        fleet: None,
        history: None,
        kill: None,
        now: Some(common::now()),
    };
    let mut h = harness(opts);
    step_until(&mut h, "the bundle to load", |a| a.loaded().is_some());
    h.state_mut()
        .command(giftqa::app::Command::Select(id.into()));
    h.step();
    step_until(&mut h, "the preview", |a| {
        a.preview()
            .is_some_and(|p| p.asset == id && p.first_frame_ms.is_some())
    });
    h
}

/// Steps the UI until `done` holds (background work finishes between steps).
fn step_until(h: &mut Harness<'static, GiftqaApp>, what: &str, done: impl Fn(&GiftqaApp) -> bool) {
    let start = Instant::now();
    while !done(h.state()) {
        assert!(
            start.elapsed() < Duration::from_mins(1),
            "timed out waiting for {what}"
        );
        h.step();
        std::thread::sleep(Duration::from_millis(10));
    }
    h.step();
}

/// Steps the UI until a label containing `text` shows, calling `each` after every step.
fn wait_for_label(
    h: &mut Harness<'static, GiftqaApp>,
    text: &str,
    mut each: impl FnMut(&Harness<'static, GiftqaApp>),
) {
    let start = Instant::now();
    while h.query_by_label_contains(text).is_none() {
        assert!(
            start.elapsed() < Duration::from_mins(2),
            "timed out waiting for {text:?}"
        );
        h.step();
        each(h);
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The app on a copy of the demo bundle, heartbeat selected, drawn and paused (by its label).
fn heartbeat_paused() -> (Fixture, Harness<'static, GiftqaApp>) {
    let (f, opts) = demo_copy();
    let mut h = harness(opts);
    step_until(&mut h, "the bundle to load", |a| a.loaded().is_some());
    h.get_by_label("heartbeat").click();
    step_until(&mut h, "the heartbeat preview", |a| {
        a.preview()
            .is_some_and(|p| p.asset == "heartbeat" && p.first_frame_ms.is_some())
    });
    h.get_by_label("Pause").click();
    h.step();
    assert!(
        h.state().preview_is_native(),
        "the preview's frame reaches egui as a wgpu texture"
    );
    assert!(
        h.state().preview().is_some_and(|p| p.pixels.is_none()),
        "no frame was read back"
    );
    (f, h)
}

fn demo_copy() -> (Fixture, ViewOptions) {
    let f = Fixture::demo();
    let opts = ViewOptions {
        bundle: f.dir().to_owned(),
        keys: Some(common::keys()),
        fleet: Some(common::fleet()),
        history: None,
        kill: None,
        now: Some(common::now()),
    };
    (f, opts)
}

#[test]
fn preview_matrix_kill_switch_and_signoff() {
    if common::gpu().is_none() {
        return;
    }
    // Select an effect, pause, step.
    let (_f, mut h) = heartbeat_paused();
    let before = h.state().preview().unwrap().frame();
    h.get_by_label("Step").click();
    h.step();
    let after = h.state().preview().unwrap().frame();
    assert_eq!(after, before + 1, "Step shows the next frame");
    assert!(!h.state().preview().unwrap().playing);
    // Switch tier by its label: the preview re-runs under the low tier.
    h.get_by_label("Tier").click();
    h.step();
    h.step(); // the popup opens on the next pass
    h.get_by_label("low").click();
    h.step();
    step_until(&mut h, "the low-tier preview", |a| {
        a.preview().is_some_and(|p| p.tier.name == "low")
    });
    h.get_by_label_contains("on tier low (");
    // A burst on the low tier, watched live, ends in the report `smoke` writes.
    h.get_by_label("Bursts").click();
    h.step();
    h.get_by_label("Scenario").click();
    h.step();
    h.step();
    h.get_by_label("single").click();
    h.step();
    h.get_by_label("Run burst").click();
    let mut saw_queue = false;
    wait_for_label(&mut h, "Burst single on tier low", |h| {
        saw_queue |= h.query_by_label_contains("Queue: ").is_some();
    });
    assert!(saw_queue, "the queue is shown while the burst runs");
    assert!(
        h.query_by_label_contains("frames at").is_some(),
        "the burst's figures are shown"
    );
    // The matrix: heartbeat plays on mid and high, falls back on low.
    h.get_by_label("Matrix").click();
    h.step();
    h.get_by_label("heartbeat 5.6.0/high: primary");
    h.get_by_label("heartbeat 5.6.0/low: fallback ball-apng");
    // Kill switch: killing the spinner sends its users to the builtin.
    h.get_by_label("spinner-webp 5.6.0/high: primary");
    h.get_by_label("kill spinner-webp").click();
    h.step();
    h.step();
    h.get_by_label("spinner-webp 5.6.0/high: fallback builtin:sparkle");
    // Sign-off succeeds on the demo bundle.
    let t = tempfile::tempdir().unwrap();
    h.state_mut()
        .set_signoff_paths(&common::approver_key(), &t.path().join("history.json"));
    h.get_by_label("Sign-off").click();
    h.step();
    h.get_by_label("Sign off").click();
    step_until(&mut h, "the sign-off", |_| {
        t.path().join("history.json").exists()
    });
    step_until(&mut h, "the sign-off message", |_| true);
    h.get_by_label_contains("Signed off: wrote");
}

#[test]
fn a_bundle_with_an_error_opens_read_only_and_signoff_is_refused() {
    if common::gpu().is_none() {
        return;
    }
    let (f, opts) = demo_copy();
    std::fs::write(f.path("effects/stray.txt"), "x").unwrap();
    let mut h = harness(opts);
    step_until(&mut h, "the bundle to load", |a| a.loaded().is_some());
    assert!(
        h.state().loaded().unwrap().read_only.is_some(),
        "fail closed"
    );
    assert!(h.state().preview().is_none(), "nothing of it plays");
    h.get_by_label_contains("Read-only:");
    let t = tempfile::tempdir().unwrap();
    h.state_mut()
        .set_signoff_paths(&common::approver_key(), &t.path().join("history.json"));
    h.get_by_label("Sign-off").click();
    h.step();
    h.get_by_label("Sign-off is refused while an error stands.");
    h.get_by_label("Sign off").click();
    wait_for_label(&mut h, "Sign-off refused", |_| {});
    assert!(!t.path().join("history.json").exists() && !f.path("signoff.json").exists());
}

/// Snapshot tolerance: egui's per-pixel threshold, and up to 500 differing pixels of
/// 1400 × 900 for rasteriser noise between Mesa versions (a moved widget or changed text
/// differs in far more).
fn snapshot_options() -> egui_kittest::SnapshotOptions {
    egui_kittest::SnapshotOptions::new().max_failed_pixels(500)
}

/// Image snapshots of the main screens on the demo bundle (tests/snapshots/*.png; refresh
/// with `UPDATE_SNAPSHOTS=1` after a deliberate change of the UI and look at the diff).
#[test]
fn main_screens_match_their_snapshots() {
    if common::gpu().is_none() {
        return;
    }
    // Paused on frame 10 with the profiler folded (its timings differ run to run).
    let (_f, mut h) = heartbeat_paused();
    h.key_press(egui::Key::Home);
    h.step();
    for _ in 0..10 {
        h.key_press(egui::Key::ArrowRight);
        h.step();
    }
    step_until(&mut h, "frame 10 drawn", |a| {
        a.preview().is_some_and(|p| p.frame() == 10 && !p.busy())
    });
    assert!(!h.state().preview().unwrap().playing);
    h.get_by_label("Performance").click();
    h.step();
    h.step();
    h.snapshot_options("preview_heartbeat_mid_frame10", &snapshot_options());
    // Paths that do not depend on where the checkout lies.
    h.state_mut().set_signoff_paths(
        std::path::Path::new("keys/approver.key"),
        std::path::Path::new("giftqa-history.json"),
    );
    for (tab, name) in [
        ("Matrix", "matrix_demo"),
        ("Findings", "findings_demo"),
        ("Sign-off", "signoff_demo"),
    ] {
        h.get_by_label(tab).click();
        h.step();
        h.step();
        h.snapshot_options(name, &snapshot_options());
    }
}

/// The Diff tab compares the open bundle with another version of it, frames side by side; the
/// matrix shows a signed kill apart from the what-if kill switches.
#[test]
fn diff_tab_and_signed_kills() {
    if common::gpu().is_none() {
        return;
    }
    // OLD: the demo with ball-sequence's first two frames swapped, at version 0.9.0.
    let mut old = Fixture::demo();
    common::swap_ball_frames(&old);
    old.manifest["version"] = serde_json::json!("0.9.0");
    old.seal();
    // NEW, opened with a signed kill of spinner-webp in force.
    let (f, mut opts) = demo_copy();
    let side = tempfile::tempdir().unwrap();
    let kill = side.path().join("demo.kill.json");
    let keys = common::keys();
    let (code, out, err) = common::giftqa(&[
        "kill",
        f.dir().to_str().unwrap(),
        "--asset",
        "spinner-webp",
        "--key",
        common::publisher_key().to_str().unwrap(),
        "--keys",
        keys.to_str().unwrap(),
        "--history",
        side.path().join("history.json").to_str().unwrap(),
        "--out",
        kill.to_str().unwrap(),
        // Issued on the app's clock (`common::now`), so it is in force there.
        "--now",
        &common::now().to_string(),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    opts.kill = Some(kill);
    let mut h = harness(opts);
    step_until(&mut h, "the bundle to load", |a| a.loaded().is_some());
    h.get_by_label("Matrix").click();
    h.step();
    h.step();
    h.get_by_label_contains("signed kill · seq 1");
    h.get_by_label("spinner-webp 5.6.0/mid: fallback builtin:sparkle");
    // Diff against OLD.
    h.get_by_label("Diff").click();
    h.step();
    h.state_mut()
        .command(giftqa::app::Command::Diff(old.dir().to_owned()));
    wait_for_label(&mut h, "Diff: 0 added, 0 removed, 1 changed", |_| {});
    h.step();
    h.get_by_label_contains("ball-sequence frame 0: old | new");
}

/// A VAP effect previews on the engine like any other, and its fusion slots are fields that
/// fill it.
#[test]
fn vap_previews_and_fills_its_fusion_slots() {
    let shared = shared_or_skip!();
    let f = Fixture::vap(&shared, &[("Android/vapx.mp4", "vapx")]);
    // Without a fleet every tier plays the effect itself (the demo fleet's clients of the
    // default tier predate VAP's capability and would show its fallback).
    let mut h = previewing(f.dir(), "vapx");
    for key in ["sImg1", "sTxt1"] {
        assert!(
            h.query_all_by_label_contains(key).next().is_some(),
            "a field for the fusion source {key}"
        );
    }
    h.state_mut().command(giftqa::app::Command::Slot(
        "sTxt1".into(),
        "来自远方的超级土豪大哥".into(),
    ));
    h.step();
    step_until(&mut h, "the filled preview", |a| {
        a.preview()
            .is_some_and(|p| p.asset == "vapx" && p.first_frame_ms.is_some())
    });
    assert!(
        h.query_by_label_contains("slots not filled").is_none(),
        "the name fills the source"
    );
    if common::gpu().is_some() {
        assert!(h.state().preview_is_native());
    }
}

/// The centre of `multi_anim_theme.lottie`'s circle at frame 0, (256, 125), as the previewed
/// animation draws it; `None` without a GPU.
fn centre(h: &Harness<'static, GiftqaApp>) -> Option<[u8; 4]> {
    let ctx = common::gpu()?;
    let anim = &h.state().preview()?.anim;
    let img = giftqa::render::paint::render_frame(
        &ctx,
        anim,
        0,
        [anim.width_px, anim.height_px],
        giftqa::model::Affine::IDENTITY,
        8192,
    )
    .ok()?;
    Some(img.get_pixel(256, 125).0)
}

/// A dotLottie effect's v2 themes are offered beside the preview and applied as a player's
/// setTheme does: `multi_anim_theme.lottie`'s circle, grey by its own slot value, turns red
/// under its `red` theme, and back with the file's own values.
#[test]
fn a_dotlottie_theme_is_previewed() {
    let shared = shared_or_skip!();
    let f = Fixture::themed(&shared);
    let mut h = previewing(f.dir(), "themes");
    assert_eq!(
        h.state().loaded().unwrap().themes.get("themes"),
        Some(&vec!["red".to_owned(), "yellow".to_owned()])
    );
    assert!(
        h.query_by_label_contains("Theme:").is_some(),
        "a theme picker"
    );
    let own = centre(&h);
    h.state_mut().command(giftqa::app::Command::Theme(
        "themes".into(),
        Some("red".into()),
    ));
    h.step();
    wait_for_label(&mut h, "playing themes on tier mid with theme red", |_| {});
    if let Some(own) = own {
        assert!(own[0] < 200 && own[1] > 150, "the file's grey: {own:?}");
        assert_eq!(centre(&h), Some([255, 0, 0, 255]), "the red theme's colour");
    }
    h.state_mut()
        .command(giftqa::app::Command::Theme("themes".into(), None));
    h.step();
    step_until(&mut h, "the file's own colours", |a| {
        a.preview().is_some_and(|p| p.asset == "themes")
    });
    if let Some(own) = own {
        assert_eq!(centre(&h), Some(own), "the file's own colours again");
    }
}

/// A Lottie effect's colour, number and vector slots get fields beside the preview, filled as
/// `render --slot` fills them: `multi_anim_theme.lottie`'s circle turns green when its `color`
/// slot is given `#00ff00`, stays green under the red theme (the values typed go over the
/// theme's, as a player's `setSlots` after `setTheme`), a value that is not a colour is named
/// in the status, and an emptied field gives the slot back the theme's value.
#[test]
fn a_lottie_style_slot_is_previewed() {
    let shared = shared_or_skip!();
    let f = Fixture::themed(&shared);
    let mut h = previewing(f.dir(), "themes");
    let slots = &h.state().loaded().unwrap().style_slots["themes"];
    assert_eq!(slots.len(), 1);
    assert_eq!(
        (slots[0].id.as_str(), slots[0].kind),
        ("color", giftqa::format::lottie::PropertyKind::Color)
    );
    assert!(
        h.query_by_label_contains("Style slots:").is_some(),
        "a row of style fields"
    );
    assert!(
        h.query_by_label_contains("color (colour)").is_some(),
        "a field for the slot"
    );
    let own = centre(&h);
    let style = |h: &mut Harness<'static, GiftqaApp>, value: &str| {
        h.state_mut().command(giftqa::app::Command::Style(
            "themes".into(),
            "color".into(),
            value.into(),
        ));
        h.step();
        step_until(h, "the restyled preview", |a| {
            a.preview().is_some_and(|p| p.asset == "themes")
        });
    };
    style(&mut h, "#00ff00");
    if own.is_some() {
        assert_eq!(centre(&h), Some([0, 255, 0, 255]), "green");
    }
    h.state_mut().command(giftqa::app::Command::Theme(
        "themes".into(),
        Some("red".into()),
    ));
    h.step();
    wait_for_label(&mut h, "playing themes on tier mid with theme red", |_| {});
    if own.is_some() {
        assert_eq!(
            centre(&h),
            Some([0, 255, 0, 255]),
            "the typed value over the theme's"
        );
    }
    h.state_mut().command(giftqa::app::Command::Style(
        "themes".into(),
        "color".into(),
        "green".into(),
    ));
    h.step();
    wait_for_label(
        &mut h,
        "theme red not applied to themes: slot color",
        |_| {},
    );
    style(&mut h, "");
    if own.is_some() {
        assert_eq!(centre(&h), Some([255, 0, 0, 255]), "the theme's red again");
    }
}
