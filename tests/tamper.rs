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

/// A signed-off zip cannot be changed behind the central directory's back, nor carry its own
/// sign-off.
mod zip_layout {
    use super::common::{self, Fixture, expect_code};

    fn check(zip: &std::path::Path) -> giftqa::check::CheckReport {
        let f = Fixture::demo();
        giftqa::check::run_check(zip, &f.opts(), &|_| {}).expect("check runs")
    }

    /// The CLI on the same zip, under 2 GiB and 60 s: exit 1 with `code`.
    fn bounded(zip: &std::path::Path, code: &str) {
        let (exit, codes) = common::check_bounded(zip);
        assert_eq!(exit, 1, "{codes:?}");
        assert!(codes.iter().any(|c| c == code), "{code} in {codes:?}");
    }

    /// The end-of-central-directory record: (its offset, the directory's offset).
    fn eocd(b: &[u8]) -> (usize, usize) {
        let at = b
            .windows(4)
            .rposition(|w| w == b"PK\x05\x06")
            .expect("EOCD");
        let cd = u32::from_le_bytes(b[at + 16..at + 20].try_into().expect("4 bytes")) as usize;
        (at, cd)
    }

    #[test]
    fn a_sign_off_inside_a_zip_is_unlisted() {
        let f = Fixture::demo();
        std::fs::write(f.path("signoff.json"), b"{}").expect("write");
        std::fs::write(f.path("signoff.sig"), b"{}").expect("write");
        let (_keep, zip) = f.zip("bundle.zip");
        let r = check(&zip);
        let hit = expect_code(&r, "asset-unlisted");
        assert!(hit.message.contains("beside it"), "{hit:?}");
        bounded(&zip, "asset-unlisted");
        // In a directory the same files are the sign-off's place.
        assert!(!common::codes(&f.check()).contains(&"asset-unlisted"));
    }

    #[test]
    fn a_local_header_name_that_differs_from_the_directory_is_invalid() {
        let f = Fixture::demo();
        let (_keep, zip) = f.zip("bundle.zip");
        let mut b = std::fs::read(&zip).expect("read");
        // The first occurrence of the name is the local header's (it precedes the directory).
        let name = b"manifest.json";
        let at = b.windows(name.len()).position(|w| w == name).expect("name");
        b[at..at + name.len()].copy_from_slice(b"../../evil.js");
        std::fs::write(&zip, &b).expect("write");
        let r = check(&zip);
        let hit = expect_code(&r, "archive-invalid");
        assert!(hit.message.contains("local header"), "{hit:?}");
        bounded(&zip, "archive-invalid");
    }

    #[test]
    fn a_local_entry_outside_the_directory_is_invalid() {
        let f = Fixture::demo();
        let (_keep, zip) = f.zip("bundle.zip");
        let b = std::fs::read(&zip).expect("read");
        let (_, cd) = eocd(&b);
        // A stored entry "evil.gif", in no directory record, just before the directory.
        let data = b"GIF89a";
        let name = b"evil.gif";
        let mut entry = Vec::new();
        entry.extend_from_slice(b"PK\x03\x04");
        entry.extend_from_slice(&20u16.to_le_bytes());
        entry.extend_from_slice(&[0; 8]); // flags, method (stored), time, date
        entry.extend_from_slice(&crc32fast::hash(data).to_le_bytes());
        entry.extend_from_slice(&(data.len() as u32).to_le_bytes());
        entry.extend_from_slice(&(data.len() as u32).to_le_bytes());
        entry.extend_from_slice(&(name.len() as u16).to_le_bytes());
        entry.extend_from_slice(&0u16.to_le_bytes());
        entry.extend_from_slice(name);
        entry.extend_from_slice(data);
        let mut out = b[..cd].to_vec();
        out.extend_from_slice(&entry);
        out.extend_from_slice(&b[cd..]);
        let (at, _) = eocd(&out);
        let moved = (cd + entry.len()) as u32;
        out[at + 16..at + 20].copy_from_slice(&moved.to_le_bytes());
        std::fs::write(&zip, &out).expect("write");
        let r = check(&zip);
        let hit = expect_code(&r, "archive-invalid");
        assert!(hit.message.contains("does not list"), "{hit:?}");
        bounded(&zip, "archive-invalid");
    }
}

/// A file swapped on disk after the check verified the bundle is not what gets decoded: the
/// verified bundle hands on a source pinned to the verified BLAKE3 digests, so the read fails
/// (`changed since the check verified it`) instead of decoding the new bytes. The same holds
/// for `manifest.json`. An unchanged file still reads.
#[test]
fn a_file_swapped_after_verification_is_refused_not_decoded() {
    let f = Fixture::demo();
    let verified = giftqa::check::open_verified(f.dir(), &f.opts())
        .unwrap()
        .unwrap_or_else(|blocking| panic!("the demo verifies: {blocking:#?}"));
    let asset = verified.manifest.assets[0].clone();
    let path = asset.files[0].path.clone();
    let limits = giftqa::format::DecodeLimits::default();
    assert!(giftqa::model::load::load_animation(&asset, &verified.source, &limits).is_ok());
    // Same length, one byte different: only the digest tells.
    let mut bytes = std::fs::read(f.path(&path)).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x01;
    std::fs::write(f.path(&path), &bytes).unwrap();
    let err = giftqa::model::load::load_animation(&asset, &verified.source, &limits)
        .expect_err("the swapped file is refused");
    assert!(
        err.to_string()
            .contains("changed since the check verified it"),
        "{err}"
    );
    assert!(err.to_string().contains(&path), "names the file: {err}");
    let mut manifest = std::fs::read(f.path("manifest.json")).unwrap();
    manifest.push(b'\n');
    std::fs::write(f.path("manifest.json"), &manifest).unwrap();
    assert!(matches!(
        verified.source.read("manifest.json", 1 << 20),
        Err(giftqa::bundle::source::ReadError::Changed)
    ));
    // Another asset's file, untouched, still reads.
    let other = &verified.manifest.assets[1].files[0].path;
    assert!(verified.source.read(other, 64 << 20).is_ok());
}
