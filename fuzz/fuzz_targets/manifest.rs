//! The manifest reader (strict JSON with duplicate keys, the schema, §2) and the JSON span
//! scanner that locates findings in it.
#![no_main]

use giftqa::bundle::{json_scan, manifest};
use giftqa::finding::Reporter;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Panics that giftqa contains at a decoder boundary (and reports as decode-failed) are
    // not crashes; any other panic still aborts through libFuzzer's hook.
    static QUIET: std::sync::Once = std::sync::Once::new();
    QUIET.call_once(giftqa::format::quiet_contained_panics);
    let mut rep = Reporter::new();
    let _ = manifest::read_manifest(data, &mut rep);
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = json_scan::scan(text);
    }
});
