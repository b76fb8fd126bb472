//! Property: any single-byte change of `manifest.json` or of any asset of a signed bundle gives
//! at least one error (spec §2 integrity, §4 signatures).

#![expect(
    clippy::unwrap_used,
    reason = "fixture helpers outside #[test] functions panic on a broken test setup"
)]

mod common;

use common::{Fixture, errors};
use proptest::prelude::*;

fn signed_demo_files() -> Vec<String> {
    let mut files = vec!["manifest.json".to_owned()];
    let m: serde_json::Value = serde_json::from_slice(
        &std::fs::read(common::root().join("assets/demo-bundle/manifest.json")).unwrap(),
    )
    .unwrap();
    for a in m["assets"].as_array().unwrap() {
        for f in a["files"].as_array().unwrap() {
            files.push(f["path"].as_str().unwrap().to_owned());
        }
    }
    files
}

#[test]
fn the_signed_demo_bundle_is_clean() {
    let f = Fixture::demo();
    let r = f.check();
    assert_eq!(errors(&r), Vec::<&str>::new(), "{:#?}", r.findings);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn any_single_byte_change_is_an_error(file_pick in any::<prop::sample::Index>(), offset_pick in any::<prop::sample::Index>(), xor in 1u8..=255) {
        let files = signed_demo_files();
        let rel = file_pick.get(&files).clone();
        let f = Fixture::demo();
        let path = f.path(&rel);
        let mut bytes = std::fs::read(&path).unwrap();
        let i = offset_pick.index(bytes.len());
        bytes[i] ^= xor;
        std::fs::write(&path, &bytes).unwrap();
        let r = f.check();
        prop_assert!(!errors(&r).is_empty(), "changing byte {} of {} went unnoticed: {:#?}", i, rel, r.findings);
    }
}
