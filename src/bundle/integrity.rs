//! Integrity (spec §2, §10 integrity area): every listed file present with its exact size and
//! BLAKE3-256, and no file that the manifest does not list.
//!
//! Files are hashed in parallel (rayon) and streamed: directory files are memory-mapped and
//! hashed with BLAKE3's own multi-threading, zip entries decompressed through a capped reader.
//! Nothing is ever held whole in memory.

use rayon::prelude::*;

use super::manifest::{ListedFile, hex32};
use super::source::{BundleSource, ReadError};
use crate::finding::{Code, Finding, Reporter};

/// Files a bundle may hold besides its assets (spec §1 and §8): the manifest, its signature
/// envelope, and a sign-off written beside them with the smoke report it rests on. A zip may
/// hold only the first two: its sign-off lives beside the archive.
pub const BUNDLE_METADATA_FILES: [&str; 5] = [
    "manifest.json",
    "manifest.sig",
    "signoff.json",
    "signoff.sig",
    SIGNOFF_SMOKE_FILE,
];

/// The smoke report `approve` ran and rests a sign-off on, written beside `signoff.json`.
pub const SIGNOFF_SMOKE_FILE: &str = "signoff-smoke.json";

/// A short form of a hex digest for messages: the first 12 characters and an ellipsis.
#[must_use]
pub fn short_hex(hex: &str) -> String {
    format!("{}…", &hex[..hex.len().min(12)])
}

/// Checks every listed file against the bundle and reports every unlisted file.
///
/// `progress` is called with the number of bytes hashed as hashing proceeds (from several
/// threads). Returns the total number of bytes hashed.
pub fn verify_files(
    src: &BundleSource,
    listed: &[ListedFile],
    progress: &(dyn Fn(u64) + Sync),
    rep: &mut Reporter,
) -> u64 {
    let present = src.files();
    let mut to_hash = Vec::new();
    for lf in listed.iter().filter(|l| l.path_safe) {
        let mut base = Finding::new(Code::AssetMissing, "").path(lf.path.clone());
        base.asset.clone_from(&lf.asset);
        match present.get(&lf.path) {
            None => {
                base.message = "listed in the manifest but not in the bundle".into();
                rep.push(base);
            }
            Some(&actual) if lf.size.is_some_and(|s| s != actual) => {
                let expected = lf.size.unwrap_or_default();
                base.code = Code::AssetSizeMismatch;
                base.message = format!("expected {expected} bytes, got {actual}");
                rep.push(base.expected_actual(expected.to_string(), actual.to_string()));
            }
            Some(_) => to_hash.push(lf),
        }
    }
    let results: Vec<_> = to_hash
        .par_iter()
        .map(|lf| {
            let r = src.hash(&lf.path);
            if let Ok((_, n)) = &r {
                progress(*n);
            }
            (lf, r)
        })
        .collect();
    let mut total = 0;
    for (lf, r) in results {
        let mut f = Finding::new(Code::AssetHashMismatch, "").path(lf.path.clone());
        f.asset.clone_from(&lf.asset);
        match r {
            Ok((hash, n)) => {
                total += n;
                if let Some(expected) = lf.blake3
                    && expected != hash
                {
                    let (e, a) = (hex32(&expected), hex32(&hash));
                    f.message = format!("expected {}, got {}", short_hex(&e), short_hex(&a));
                    rep.push(f.expected_actual(e, a));
                }
            }
            Err(ReadError::TooLarge { limit }) => {
                f.code = Code::ArchiveBomb;
                f.message = format!("inflates past the {limit}-byte entry limit");
                rep.push(f);
            }
            Err(e) => {
                f.code = Code::AssetMissing;
                f.message = format!("cannot be read: {e}");
                rep.push(f);
            }
        }
    }
    let listed_paths: std::collections::HashSet<&str> =
        listed.iter().map(|l| l.path.as_str()).collect();
    // A zip's sign-off is read from beside it, never from inside: a sign-off inside a zip is
    // a file nobody checks, and would let a changed archive carry its own approval.
    let allowed: &[&str] = if src.is_zip() {
        &BUNDLE_METADATA_FILES[..2]
    } else {
        &BUNDLE_METADATA_FILES
    };
    for path in present.keys() {
        if !listed_paths.contains(path.as_str()) && !allowed.contains(&path.as_str()) {
            rep.push(
                Finding::new(
                    Code::AssetUnlisted,
                    if src.is_zip() && BUNDLE_METADATA_FILES.contains(&path.as_str()) {
                        "inside the zip but not listed in the manifest: a zip's sign-off is read from beside it, never from inside"
                    } else {
                        "in the bundle but not listed in the manifest"
                    },
                )
                .path(path.clone()),
            );
        }
    }
    total
}
