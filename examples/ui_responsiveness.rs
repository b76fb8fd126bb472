//! UI responsiveness while a large bundle loads (docs/performance.md): builds a bundle of
//! 512 files of 1 MiB (audio resources, so every byte is hashed), opens it in the app under
//! `egui_kittest` on the wgpu renderer, and times every UI frame until loading is done.
//! Run: `cargo run --release --example ui_responsiveness`.

#![expect(clippy::print_stdout, reason = "the example prints its figures")]

use std::io::Write as _;
use std::time::{Duration, Instant};

use giftqa::app::GiftqaApp;
use giftqa::app::load::ViewOptions;
use giftqa::playback::stats::summarize;

fn main() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let mut assets = Vec::new();
    let mut chunk = vec![0u8; 1 << 20];
    for i in 0..512u32 {
        chunk[..3].copy_from_slice(b"ID3");
        chunk[3..7].copy_from_slice(&i.to_le_bytes());
        let name = format!("sounds/s{i:03}.mp3");
        std::fs::create_dir_all(dir.path().join("sounds"))?;
        std::fs::File::create(dir.path().join(&name))?.write_all(&chunk)?;
        assets.push(serde_json::json!({"id": format!("s{i:03}"), "kind": "resource", "format": "audio", "files": [{"path": name}]}));
    }
    let manifest = serde_json::json!({"format": "giftbundle/1", "bundle_id": "large", "version": "1.0.0", "created": "2026-01-01T00:00:00Z", "expires": "2036-01-01T00:00:00Z", "min_client": "1.0.0", "assets": assets});
    std::fs::write(
        dir.path().join("manifest.json"),
        serde_json::to_vec_pretty(&manifest)?,
    )?;
    giftqa::bundle::pack::pack(dir.path())?;
    // Drop the page cache's advantage as far as we can: the first read happens during loading.
    let app = GiftqaApp::new(
        ViewOptions {
            bundle: dir.path().to_owned(),
            ..ViewOptions::default()
        },
        None,
    );
    let mut h = egui_kittest::Harness::builder()
        .with_size(egui::vec2(1400.0, 900.0))
        .wgpu()
        .build_ui_state(|ui, app: &mut GiftqaApp| app.ui(ui), app);
    let start = Instant::now();
    let mut frames = Vec::new();
    while h.state().is_loading() && start.elapsed() < Duration::from_mins(2) {
        let t = Instant::now();
        h.step();
        frames.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let load_ms = start.elapsed().as_secs_f64() * 1000.0;
    let s = summarize(&frames);
    println!("bundle: 512 files, 512 MiB; load (hash + check) took {load_ms:.0} ms");
    println!(
        "UI frames while loading: {} frames, p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        s.count, s.p50, s.p95, s.p99, s.max
    );
    println!(
        "frames over 50 ms: {}",
        frames.iter().filter(|f| **f > 50.0).count()
    );
    Ok(())
}
