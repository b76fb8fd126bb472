//! The JSON documents beside a bundle (the first byte picks one): kill, history, sign-off,
//! fleet, tiers, scenario, telemetry and keyring.
#![no_main]

use giftqa::bundle::history::{History, load_kill};
use giftqa::bundle::signature::Keyring;
use giftqa::finding::Reporter;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Panics that giftqa contains at a decoder boundary (and reports as decode-failed) are
    // not crashes; any other panic still aborts through libFuzzer's hook.
    static QUIET: std::sync::Once = std::sync::Once::new();
    QUIET.call_once(giftqa::format::quiet_contained_panics);
    let Some((&pick, bytes)) = data.split_first() else { return };
    let Ok(dir) = tempfile::tempdir() else { return };
    let path = dir.path().join("doc.json");
    if std::fs::write(&path, bytes).is_err() {
        return;
    }
    let mut rep = Reporter::new();
    let now = jiff::Timestamp::from_second(1_800_000_000).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    match pick % 8 {
        0 => {
            let _ = load_kill(&path, Some("fuzz.bundle"), None, None, now, &mut rep);
        }
        1 => {
            let _ = History::load(&path, false);
        }
        2 => {
            let _ = serde_json::from_slice::<giftqa::bundle::signoff::Signoff>(bytes);
        }
        3 => {
            let _ = giftqa::check::compat::Fleet::load(&path);
        }
        4 => {
            let _ = giftqa::playback::tiers::load_tiers(&path);
        }
        5 => {
            let effects = vec!["a".to_owned(), "b".to_owned()];
            if let Ok(s) = giftqa::playback::scenario::resolve(path.to_str().unwrap_or(""), &effects) {
                let _ = giftqa::playback::scenario::expand(&s, &effects);
            }
        }
        6 => {
            let _ = giftqa::check::rollout::load_telemetry(&path);
        }
        _ => {
            let _ = Keyring::load(&path, &mut rep);
        }
    }
});
