//! The bundle reader on a zip archive: entry names, sizes, the bomb and path checks, and
//! reading every entry under the limits.
#![no_main]

use giftqa::bundle::source::{BundleSource, ReadLimits};
use giftqa::finding::Reporter;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Panics that giftqa contains at a decoder boundary (and reports as decode-failed) are
    // not crashes; any other panic still aborts through libFuzzer's hook.
    static QUIET: std::sync::Once = std::sync::Once::new();
    QUIET.call_once(giftqa::format::quiet_contained_panics);
    let Ok(dir) = tempfile::tempdir() else { return };
    let path = dir.path().join("bundle.zip");
    if std::fs::write(&path, data).is_err() {
        return;
    }
    let mut rep = Reporter::new();
    let limits = ReadLimits {
        max_total_bytes: 64 << 20,
        max_entry_bytes: 16 << 20,
        max_files: 10_000,
    };
    if let Ok(src) = BundleSource::open(&path, limits, &mut rep) {
        let names: Vec<String> = src.files().keys().cloned().collect();
        for name in names.iter().take(64) {
            let _ = src.read(name, 16 << 20);
            let _ = src.hash(name);
        }
    }
});
