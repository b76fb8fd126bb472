//! The decode cache of `check` (incremental check): what decoding an asset found, kept under
//! the user's cache directory by a key of everything the result depends on — the giftqa
//! build (version and executable), the asset's id, format and parameters, each file's path, size and BLAKE3 (verified
//! by the integrity check before anything is decoded), and the decode limits. Re-checking a
//! new version of a bundle decodes only the assets whose key changed.
//!
//! The cache only makes `check` faster: an entry that cannot be read, does not parse, names
//! another key or whose payload digest does not match is ignored (and decoded afresh), never
//! trusted; a cache that cannot be written is skipped silently.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::finding::Finding;
use crate::bundle::manifest::{Asset, hex32};
use crate::format::{AnimationInfo, DecodeLimits};
use crate::fsutil::write_atomic;

/// The entry format's name.
pub const FORMAT: &str = "giftqa-decode-cache/1";
/// Largest entry read, bytes.
pub const MAX_ENTRY_BYTES: u64 = 4 * 1024 * 1024;

/// What decoding one asset found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decoded {
    /// The decoder's summary, when it decoded.
    pub info: Option<AnimationInfo>,
    /// Its findings (`format-mismatch`, `decode-failed`).
    pub findings: Vec<Finding>,
}

#[derive(Serialize, Deserialize)]
struct Entry {
    format: String,
    key: String,
    payload_blake3: String,
    payload: Decoded,
}

/// This build of giftqa: its version, and the size and modification time of the running
/// executable, so a rebuilt giftqa (a decoder fixed, with the version unchanged) never reads
/// what an older build decoded.
fn build_id() -> &'static str {
    static ID: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    ID.get_or_init(|| {
        let exe = std::env::current_exe()
            .ok()
            .and_then(|p| std::fs::metadata(p).ok())
            .map(|m| {
                let t = m
                    .modified()
                    .ok()
                    .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                    .map_or(0, |d| d.as_nanos());
                format!("{}:{t}", m.len())
            })
            .unwrap_or_default();
        format!("{}:{exe}", env!("CARGO_PKG_VERSION"))
    })
}

/// A decode cache in one directory.
#[derive(Debug, Clone)]
pub struct DecodeCache {
    dir: PathBuf,
}

impl DecodeCache {
    /// The user's cache directory for giftqa: `$XDG_CACHE_HOME/giftqa`, else
    /// `$HOME/.cache/giftqa`; `None` without either.
    #[must_use]
    pub fn default_dir() -> Option<PathBuf> {
        std::env::var_os("XDG_CACHE_HOME")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| {
                std::env::var_os("HOME")
                    .filter(|v| !v.is_empty())
                    .map(|h| PathBuf::from(h).join(".cache"))
            })
            .map(|d| d.join("giftqa"))
    }

    /// A cache in `dir` (made on first write).
    #[must_use]
    pub fn new(dir: &Path) -> Self {
        Self {
            dir: dir.join("decode-v1"),
        }
    }

    /// The key of an asset's decode result (64 hex).
    #[must_use]
    pub fn key(a: &Asset, limits: &DecodeLimits) -> String {
        let mut h = blake3::Hasher::new();
        h.update(FORMAT.as_bytes());
        h.update(b"\0");
        h.update(build_id().as_bytes());
        h.update(b"\0");
        h.update(a.id.as_bytes());
        h.update(b"\0");
        h.update(format!("{:?}\0{:?}\0", a.format, limits).as_bytes());
        h.update(
            serde_json::to_string(&a.params)
                .unwrap_or_default()
                .as_bytes(),
        );
        for f in &a.files {
            h.update(b"\0");
            h.update(f.path.as_bytes());
            h.update(&f.size.to_le_bytes());
            h.update(&f.blake3);
        }
        hex32(h.finalize().as_bytes())
    }

    fn path(&self, key: &str) -> PathBuf {
        self.dir
            .join(&key[..2.min(key.len())])
            .join(format!("{key}.json"))
    }

    /// The entry for `key`, when there is a sound one.
    #[must_use]
    pub fn get(&self, key: &str) -> Option<Decoded> {
        let p = self.path(key);
        if std::fs::metadata(&p).ok()?.len() > MAX_ENTRY_BYTES {
            return None;
        }
        let bytes = std::fs::read(&p).ok()?;
        let e: Entry = serde_json::from_slice(&bytes).ok()?;
        let payload = serde_json::to_vec(&e.payload).ok()?;
        (e.format == FORMAT
            && e.key == key
            && e.payload_blake3 == hex32(blake3::hash(&payload).as_bytes()))
        .then_some(e.payload)
    }

    /// Keeps `d` under `key`; a failed write is ignored (the cache only speeds things up).
    pub fn put(&self, key: &str, d: &Decoded) {
        let Ok(payload) = serde_json::to_vec(d) else {
            return;
        };
        let e = Entry {
            format: FORMAT.to_owned(),
            key: key.to_owned(),
            payload_blake3: hex32(blake3::hash(&payload).as_bytes()),
            payload: d.clone(),
        };
        let p = self.path(key);
        if let (Some(parent), Ok(bytes)) = (p.parent(), serde_json::to_vec(&e))
            && std::fs::create_dir_all(parent).is_ok()
        {
            // A cache that cannot be written is no error: the next check decodes again.
            write_atomic(&p, &bytes, None).ok();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::finding::Code;

    fn sample() -> Decoded {
        Decoded {
            info: Some(AnimationInfo {
                width_px: 300,
                height_px: 300,
                fps: 20.0,
                frame_count: 40,
                ..AnimationInfo::default()
            }),
            findings: vec![Finding::new(Code::DecodeFailed, "frame 3: bad").asset("a")],
        }
    }

    #[test]
    fn entries_round_trip_and_broken_ones_are_ignored() {
        let t = tempfile::tempdir().unwrap();
        let c = DecodeCache::new(t.path());
        let key = "ab".repeat(32);
        assert_eq!(c.get(&key), None);
        c.put(&key, &sample());
        assert_eq!(c.get(&key), Some(sample()));
        let p = c.path(&key);
        let text = std::fs::read_to_string(&p).unwrap();
        // A changed payload no longer matches its digest.
        std::fs::write(&p, text.replace("\"frame_count\":40", "\"frame_count\":41")).unwrap();
        assert_eq!(c.get(&key), None);
        // Truncated, or filed under another key.
        std::fs::write(&p, &text[..text.len() / 2]).unwrap();
        assert_eq!(c.get(&key), None);
        std::fs::write(&p, text.replace(&key, &"cd".repeat(32))).unwrap();
        assert_eq!(c.get(&key), None);
    }
}
