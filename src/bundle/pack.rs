//! Authoring: `giftqa pack DIR` fills `files[].size` and `files[].blake3` from disk, and
//! `giftqa sign` writes or extends `manifest.sig` (spec §2, §4).
//!
//! `pack` edits `manifest.json` in place by byte spans: only the `size` and `blake3` values
//! change (or are inserted after the last member of their `files[]` object), so every other
//! byte — key order, spacing, comments in string values — stays as the author wrote it.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::json_scan;
use super::manifest::{MANIFEST_FILE, hex32};
use super::paths;
use super::signature::{self, Envelope, KeyError, MANIFEST_PREFIX};
use crate::fsutil::write_atomic;

/// Errors of `pack` and `sign` (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum PackError {
    /// A file could not be read or written.
    #[error("{path:?}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// `manifest.json` is not JSON that can be packed.
    #[error("{path:?}: {message}")]
    Manifest {
        /// The manifest file.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// The key could not be loaded.
    #[error(transparent)]
    Key(#[from] KeyError),
}

/// One file whose size and digest `pack` wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackedFile {
    /// Bundle-relative path.
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// BLAKE3 hex.
    pub blake3: String,
    /// Whether the manifest's values changed.
    pub changed: bool,
}

fn read_manifest_text(dir: &Path) -> Result<(PathBuf, String), PackError> {
    let path = dir.join(MANIFEST_FILE);
    let bytes = std::fs::read(&path).map_err(|source| PackError::Io {
        path: path.clone(),
        source,
    })?;
    let text = String::from_utf8(bytes).map_err(|_| PackError::Manifest {
        path: path.clone(),
        message: "not UTF-8".into(),
    })?;
    Ok((path, text))
}

/// Fills sizes and BLAKE3 digests of every listed file from `dir`, writing `manifest.json`
/// atomically when anything changed.
///
/// # Errors
/// [`PackError`] when the manifest is not valid JSON, has duplicate keys, lists an unsafe
/// path, or a listed file cannot be read.
pub fn pack(dir: &Path) -> Result<Vec<PackedFile>, PackError> {
    let (mpath, text) = read_manifest_text(dir)?;
    let bad = |message: String| PackError::Manifest {
        path: mpath.clone(),
        message,
    };
    let value: Value =
        serde_json::from_str(&text).map_err(|e| bad(format!("not valid JSON: {e}")))?;
    let spans = json_scan::scan(&text).ok_or_else(|| bad("could not be scanned".into()))?;
    if let Some(d) = spans.duplicates.first() {
        return Err(bad(format!("duplicate key at {d}")));
    }
    let mut edits: Vec<(usize, usize, String)> = Vec::new();
    let mut out = Vec::new();
    let assets = value
        .get("assets")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("/assets is not an array".into()))?;
    for (i, a) in assets.iter().enumerate() {
        let files = a
            .get("files")
            .and_then(Value::as_array)
            .ok_or_else(|| bad(format!("/assets/{i}/files is not an array")))?;
        for (j, f) in files.iter().enumerate() {
            let ptr = format!("/assets/{i}/files/{j}");
            let rel = f
                .get("path")
                .and_then(Value::as_str)
                .ok_or_else(|| bad(format!("{ptr}/path is missing")))?;
            if let Some(why) = paths::unsafe_reason(rel) {
                return Err(bad(format!("{ptr}/path {rel:?}: {why}")));
            }
            let file = dir.join(rel);
            let meta = std::fs::symlink_metadata(&file).map_err(|source| PackError::Io {
                path: file.clone(),
                source,
            })?;
            if !meta.is_file() {
                return Err(PackError::Io {
                    path: file,
                    source: std::io::Error::other("not a regular file"),
                });
            }
            let mut h = blake3::Hasher::new();
            h.update_mmap_rayon(&file).map_err(|source| PackError::Io {
                path: file.clone(),
                source,
            })?;
            let size = h.count();
            let hex = hex32(h.finalize().as_bytes());
            let changed = f.get("size").and_then(Value::as_u64) != Some(size)
                || f.get("blake3").and_then(Value::as_str) != Some(hex.as_str());
            let mut inserts = Vec::new();
            for (key, val) in [("size", size.to_string()), ("blake3", format!("\"{hex}\""))] {
                match spans.values.get(&format!("{ptr}/{key}")) {
                    Some(&(s, e)) => edits.push((s, e, val)),
                    None => inserts.push(format!("\"{key}\": {val}")),
                }
            }
            if !inserts.is_empty() {
                let end = *spans
                    .object_ends
                    .get(&ptr)
                    .ok_or_else(|| bad(format!("{ptr} is not an object")))?;
                let last = text[..end].trim_end().len();
                let sep = if text[..last].ends_with('{') {
                    ""
                } else {
                    ", "
                };
                edits.push((last, last, format!("{sep}{}", inserts.join(", "))));
            }
            out.push(PackedFile {
                path: rel.to_owned(),
                size,
                blake3: hex,
                changed,
            });
        }
    }
    edits.sort_by_key(|e| std::cmp::Reverse(e.0));
    let mut new = text.clone();
    for (s, e, val) in edits {
        new.replace_range(s..e, &val);
    }
    if new != text {
        write_atomic(&mpath, new.as_bytes(), None).map_err(|source| PackError::Io {
            path: mpath.clone(),
            source,
        })?;
    }
    Ok(out)
}

/// Signs `manifest.json` of a bundle directory with a secret key file and writes or extends
/// `manifest.sig` atomically (a signature by the same key is replaced). Returns the keyid.
///
/// # Errors
/// [`PackError`] when the bundle is not a directory, the key or envelope cannot be read, or
/// the envelope cannot be written.
pub fn sign(dir: &Path, key_path: &Path) -> Result<String, PackError> {
    if !dir.is_dir() {
        return Err(PackError::Manifest {
            path: dir.to_owned(),
            message: "sign works on a bundle directory; sign it before zipping".into(),
        });
    }
    let key = signature::load_secret(key_path)?;
    let mpath = dir.join(MANIFEST_FILE);
    let doc = std::fs::read(&mpath).map_err(|source| PackError::Io {
        path: mpath.clone(),
        source,
    })?;
    let sig_path = dir.join("manifest.sig");
    let mut env = match std::fs::read(&sig_path) {
        Ok(b) => serde_json::from_slice::<Envelope>(&b).map_err(|e| PackError::Manifest {
            path: sig_path.clone(),
            message: format!("existing envelope is not valid: {e}"),
        })?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Envelope::default(),
        Err(source) => {
            return Err(PackError::Io {
                path: sig_path,
                source,
            });
        }
    };
    signature::add_signature(&mut env, &key, MANIFEST_PREFIX, &doc);
    let mut bytes = serde_json::to_vec_pretty(&env).map_err(|e| PackError::Manifest {
        path: sig_path.clone(),
        message: e.to_string(),
    })?;
    bytes.push(b'\n');
    write_atomic(&sig_path, &bytes, None).map_err(|source| PackError::Io {
        path: sig_path.clone(),
        source,
    })?;
    Ok(signature::keyid_of(&key.verifying_key()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pack_keeps_other_bytes_and_inserts_missing_keys() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.bin"), b"hello").unwrap();
        std::fs::write(dir.path().join("b.bin"), b"x").unwrap();
        let manifest = "{\n  \"assets\": [ {\"files\": [\n    {\"path\": \"a.bin\", \"size\": 0, \"blake3\": \"00\"},\n    {\"path\": \"b.bin\"}\n  ]} ],\n  \"note\":   \"kept\"\n}\n";
        std::fs::write(dir.path().join("manifest.json"), manifest).unwrap();
        let packed = pack(dir.path()).unwrap();
        assert_eq!(packed.len(), 2);
        let after = std::fs::read_to_string(dir.path().join("manifest.json")).unwrap();
        let ha = blake3::hash(b"hello").to_hex().to_string();
        let hb = blake3::hash(b"x").to_hex().to_string();
        let expected = format!(
            "{{\n  \"assets\": [ {{\"files\": [\n    {{\"path\": \"a.bin\", \"size\": 5, \"blake3\": \"{ha}\"}},\n    {{\"path\": \"b.bin\", \"size\": 1, \"blake3\": \"{hb}\"}}\n  ]}} ],\n  \"note\":   \"kept\"\n}}\n"
        );
        assert_eq!(after, expected);
        // Packing again changes nothing.
        assert!(pack(dir.path()).unwrap().iter().all(|p| !p.changed));
        assert_eq!(
            std::fs::read_to_string(dir.path().join("manifest.json")).unwrap(),
            expected
        );
    }
}
