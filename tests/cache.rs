//! Incremental check: decode results cached by content and giftqa version, so a re-check of
//! a new version decodes only what changed, and a broken cache entry is never trusted.

#![expect(
    clippy::unwrap_used,
    reason = "test helpers: a failed unwrap is the test failing"
)]

mod common;

use common::{Fixture, giftqa};

fn entries(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(entries(&p));
        } else {
            out.push(p);
        }
    }
    out.sort();
    out
}

/// Each entry's inode and modification time: a hit leaves its entry untouched, a miss writes
/// it anew (atomically, so as another file).
fn stamps(dir: &std::path::Path) -> Vec<(u64, std::time::SystemTime)> {
    use std::os::unix::fs::MetadataExt as _;
    entries(dir)
        .iter()
        .map(|p| {
            let m = std::fs::metadata(p).unwrap();
            (m.ino(), m.modified().unwrap())
        })
        .collect()
}

fn check(dir: &str, cache: Option<&str>) -> String {
    let mut args = vec![
        "check",
        dir,
        "--now",
        "2026-12-01T00:00:00Z",
        "--format",
        "json",
    ];
    match cache {
        Some(c) => args.extend(["--cache", c]),
        None => args.push("--no-cache"),
    }
    let (code, out, err) = giftqa(&args);
    assert_eq!(code, 0, "{err}");
    out
}

#[test]
fn rechecks_decode_only_what_changed_and_ignore_broken_entries() {
    let mut f = Fixture::demo();
    let dir = f.dir().to_str().unwrap().to_owned();
    let c = tempfile::tempdir().unwrap();
    let cache = c.path().to_str().unwrap();
    let fresh = check(&dir, None);
    assert_eq!(check(&dir, Some(cache)), fresh, "cold");
    let cold = entries(c.path());
    let assets = f.manifest["assets"].as_array().unwrap().len();
    assert_eq!(cold.len(), assets, "one entry per asset");
    let before = stamps(c.path());
    assert_eq!(check(&dir, Some(cache)), fresh, "warm: the same report");
    assert_eq!(entries(c.path()), cold);
    assert_eq!(
        stamps(c.path()),
        before,
        "every entry was a hit: nothing decoded again"
    );
    // A new version with one asset changed: one new entry, the rest reused.
    common::swap_ball_frames(&f);
    f.manifest["version"] = serde_json::json!("1.0.1");
    f.seal();
    let fresh = check(&dir, None);
    let before = stamps(c.path());
    assert_eq!(check(&dir, Some(cache)), fresh);
    let after = stamps(c.path());
    assert_eq!(after.len(), assets + 1, "only ball-sequence decoded");
    assert!(
        before.iter().all(|s| after.contains(s)),
        "the others were hits"
    );
    // Every entry corrupted: the report is still the fresh one.
    for e in entries(c.path()) {
        let text = std::fs::read_to_string(&e).unwrap();
        std::fs::write(&e, text.replace("\"fps\":", "\"fps\":1")).unwrap();
    }
    assert_eq!(
        check(&dir, Some(cache)),
        fresh,
        "broken entries are ignored"
    );
}
