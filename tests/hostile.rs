//! Hostile bundles never panic, hang or balloon: each yields its finding. The bundles are
//! made from real files of `../shared/assets` plus the one hostile part.
//!
//! Set `GIFTQA_KEEP_HOSTILE=DIR` to keep the bundles in DIR, for the peak-memory measurement
//! of `bench/hostile-memory.sh`.

#![expect(
    clippy::unwrap_used,
    reason = "fixture helpers outside #[test] functions panic on a broken test setup"
)]

mod common;

use std::io::Write as _;
use std::path::{Path, PathBuf};

use common::{Fixture, errors, expect_code};
use serde_json::json;

fn keep(name: &str, from: &Path) {
    let Some(dir) = std::env::var_os("GIFTQA_KEEP_HOSTILE") else {
        return;
    };
    let to = PathBuf::from(dir).join(name);
    if from.is_dir() {
        let _ = std::fs::remove_dir_all(&to);
        common::copy_dir(from, &to);
    } else {
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(from, &to).unwrap();
    }
}

/// Zips the fixture and adds one extra entry written by `extra`.
fn zip_with(
    f: &Fixture,
    name: &str,
    extra: impl FnOnce(&mut zip::ZipWriter<std::fs::File>),
) -> (tempfile::TempDir, PathBuf) {
    let (tmp, base) = f.zip("base.zip");
    let out = tmp.path().join(name);
    let mut src = zip::ZipArchive::new(std::fs::File::open(&base).unwrap()).unwrap();
    let mut w = zip::ZipWriter::new(std::fs::File::create(&out).unwrap());
    for i in 0..src.len() {
        w.raw_copy_file(src.by_index(i).unwrap()).unwrap();
    }
    extra(&mut w);
    w.finish().unwrap();
    (tmp, out)
}

#[test]
fn repro_lottie_files_yield_findings_in_a_bundle() {
    let shared = shared_or_skip!();
    let test_dir = shared.join("lottie/rlottie/example/resource/test");
    for (file, want) in [
        ("repro_sbof.json", Some("29140721 frames")),
        ("repro_infinite_loop.json", Some("repeater")),
        // A well-formed polystar animation for lottie-web and giftqa (path direction 2 is read
        // as 1); its crash is in rlottie's property parser.
        ("repro_propertyhelper_type_confusion1.json", None),
        (
            "repro_propertyhelper_type_confusion2.json",
            Some("Error parsing lottie"),
        ),
        ("repro_shapeproperty_type_confusion1.json", None),
    ] {
        let mut f = Fixture::shared(&shared);
        std::fs::copy(test_dir.join(file), f.path("effects/repro.json")).unwrap();
        f.manifest["assets"].as_array_mut().unwrap().push(json!({"id": "repro", "kind": "effect", "format": "lottie", "files": [{"path": "effects/repro.json"}], "fallback": "builtin:x"}));
        f.seal();
        keep(&format!("lottie-{file}"), f.dir());
        let r = f.check();
        match want {
            Some(w) => {
                let d = expect_code(&r, "decode-failed");
                assert_eq!(d.asset.as_deref(), Some("repro"));
                assert!(d.message.contains(w), "{file}: {}", d.message);
            }
            None => assert_eq!(errors(&r), Vec::<&str>::new(), "{file}: {:#?}", r.findings),
        }
    }
}

#[test]
fn truncated_svga_yields_decode_failed() {
    let shared = shared_or_skip!();
    let mut f = Fixture::shared(&shared);
    let bytes = std::fs::read(f.path("effects/heartbeat.svga")).unwrap();
    std::fs::write(f.path("effects/heartbeat.svga"), &bytes[..bytes.len() / 2]).unwrap();
    f.seal();
    keep("truncated-svga", f.dir());
    let r = f.check();
    let d = expect_code(&r, "decode-failed");
    assert_eq!(
        (d.asset.as_deref(), d.path.as_deref()),
        (Some("heartbeat"), Some("effects/heartbeat.svga"))
    );
    assert!(d.message.contains("zlib"), "{}", d.message);
}

#[test]
fn zip_entry_escaping_the_root_is_path_unsafe() {
    let shared = shared_or_skip!();
    let f = Fixture::shared(&shared);
    let png =
        std::fs::read(shared.join("animated-image/image-rs-image/tests/images/png/apng/ball.png"))
            .unwrap();
    let (_tmp, zip) = zip_with(&f, "escape.zip", |w| {
        w.start_file("../../evil.png", zip::write::SimpleFileOptions::default())
            .unwrap();
        w.write_all(&png).unwrap();
    });
    keep("escape.zip", &zip);
    let r = giftqa::check::run_check(&zip, &f.opts(), &|_| {}).unwrap();
    let p = expect_code(&r, "path-unsafe");
    assert_eq!(p.path.as_deref(), Some("../../evil.png"));
    assert!(p.message.contains("escapes"), "{}", p.message);
    assert!(r.assets.iter().all(|a| a.info.is_none()), "fail closed");
}

#[test]
fn zip_entry_of_300_mib_zeros_is_an_archive_bomb() {
    let shared = shared_or_skip!();
    let f = Fixture::shared(&shared);
    let (_tmp, zip) = zip_with(&f, "zeros.zip", |w| {
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .large_file(false);
        w.start_file("effects/zeros.bin", opts).unwrap();
        let chunk = vec![0u8; 1 << 20];
        for _ in 0..300 {
            w.write_all(&chunk).unwrap();
        }
    });
    assert!(
        std::fs::metadata(&zip).unwrap().len() < 2 << 20,
        "zeros compress"
    );
    keep("zeros.zip", &zip);
    let r = giftqa::check::run_check(&zip, &f.opts(), &|_| {}).unwrap();
    let b = expect_code(&r, "archive-bomb");
    assert_eq!(b.path.as_deref(), Some("effects/zeros.bin"));
    assert_eq!(b.actual.as_deref(), Some("314572800"));
}

/// A PNG whose header declares `w` × `h` pixels, with a tiny (wrong) body.
fn png_declaring(w: u32, h: u32) -> Vec<u8> {
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&w.to_be_bytes());
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 6, 0, 0, 0]);
    common::png_chunk(&mut out, *b"IHDR", &ihdr);
    common::png_chunk(
        &mut out,
        *b"IDAT",
        &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01],
    );
    common::png_chunk(&mut out, *b"IEND", &[]);
    out
}

#[test]
fn png_declaring_100000_squared_pixels_is_refused() {
    let shared = shared_or_skip!();
    let mut f = Fixture::shared(&shared);
    std::fs::create_dir_all(f.path("effects/huge")).unwrap();
    std::fs::copy(
        shared.join("png-sequence/APNG4Android/app/src/main/assets/c_1.png"),
        f.path("effects/huge/c_1.png"),
    )
    .unwrap();
    std::fs::write(
        f.path("effects/huge/c_2.png"),
        png_declaring(100_000, 100_000),
    )
    .unwrap();
    f.manifest["assets"].as_array_mut().unwrap().push(json!({
        "id": "huge", "kind": "effect", "format": "png-sequence", "params": {"fps": 20}, "fallback": "builtin:x",
        "files": [{"path": "effects/huge/c_1.png"}, {"path": "effects/huge/c_2.png"}]
    }));
    f.seal();
    keep("huge-png", f.dir());
    let r = f.check();
    let d = expect_code(&r, "decode-failed");
    assert_eq!(d.asset.as_deref(), Some("huge"));
    assert!(
        d.message.contains("c_2.png"),
        "names the frame: {}",
        d.message
    );
    assert!(d.message.contains("limit"), "{}", d.message);
}

#[test]
fn png_with_a_bad_palette_is_decode_failed_everywhere() {
    let mut f = Fixture::demo();
    std::fs::write(
        f.path("effects/ball-seq/ball_05.png"),
        common::png_bad_palette(),
    )
    .unwrap();
    f.seal();
    let r = f.check();
    let d = expect_code(&r, "decode-failed");
    assert_eq!(d.asset.as_deref(), Some("ball-sequence"));
    let dir = f.dir().to_str().unwrap().to_owned();
    for args in [
        vec!["check", dir.as_str(), "--no-cache"],
        vec![
            "smoke",
            dir.as_str(),
            "--tier",
            "high",
            "--no-gpu",
            "--now",
            "2026-12-01T00:00:00Z",
        ],
    ] {
        let (code, out, err) = common::giftqa(&args);
        assert_eq!(code, 1, "{args:?}: {out}{err}");
        assert!(out.contains("decode-failed"), "{args:?}: {out}");
    }
}
