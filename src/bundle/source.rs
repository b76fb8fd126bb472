//! Reading a bundle from a directory or a `.zip` (spec §1), never extracting to disk.
//!
//! [`BundleSource::open`] lists the files with their sizes and reports layout problems
//! (`archive-invalid`, `archive-bomb`, `path-unsafe`, `path-collision`). Reads are capped: a
//! zip entry is decompressed through a `take(limit + 1)` so an entry that lies about its size
//! is caught without allocating more than the cap, and hashing streams.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use super::paths;
use crate::finding::{Code, Finding, Reporter};

/// Size caps for reading a bundle (spec §1 defaults).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadLimits {
    /// Most uncompressed bytes of all entries together (default 1 GiB).
    pub max_total_bytes: u64,
    /// Most uncompressed bytes of one entry (default 256 MiB).
    pub max_entry_bytes: u64,
    /// Most files a bundle may hold (default 100 000).
    pub max_files: usize,
}

impl Default for ReadLimits {
    fn default() -> Self {
        Self {
            max_total_bytes: 1 << 30,
            max_entry_bytes: 256 << 20,
            max_files: 100_000,
        }
    }
}

/// Errors that stop a bundle from being read at all (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The bundle path does not exist or cannot be read.
    #[error("cannot read bundle {path:?}: {source}")]
    Unreadable {
        /// The path given by the user.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
    /// The path is neither a directory nor a file.
    #[error("{0:?} is neither a directory nor a .zip file")]
    NotABundle(PathBuf),
}

/// Errors reading one file of a bundle.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// No such file in the bundle.
    #[error("not in the bundle")]
    Missing,
    /// The file is larger than the cap.
    #[error("larger than the {limit}-byte limit")]
    TooLarge {
        /// The cap in bytes.
        limit: u64,
    },
    /// An I/O or zip error.
    #[error("{0}")]
    Io(String),
    /// The file's bytes are not the ones the check verified: it changed on disk after the
    /// check (see [`BundleSource::pin`]).
    #[error("changed since the check verified it (its BLAKE3 no longer matches)")]
    Changed,
}

/// Where the files of a bundle live.
#[derive(Debug, Clone)]
enum Kind {
    Dir(PathBuf),
    Zip {
        archive: Option<zip::ZipArchive<SharedFile>>,
        index: HashMap<String, usize>,
    },
}

/// A file shared between threads, read by position (`pread`), so one parsed zip archive can
/// be cloned cheaply for every reader and hashing thread.
#[derive(Debug, Clone)]
struct SharedFile {
    file: std::sync::Arc<File>,
    pos: u64,
    len: u64,
}

impl Read for SharedFile {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        #[cfg(unix)]
        let n = std::os::unix::fs::FileExt::read_at(&*self.file, buf, self.pos)?;
        #[cfg(windows)]
        let n = std::os::windows::fs::FileExt::seek_read(&*self.file, buf, self.pos)?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl io::Seek for SharedFile {
    fn seek(&mut self, to: io::SeekFrom) -> io::Result<u64> {
        let next = match to {
            io::SeekFrom::Start(n) => Some(n),
            io::SeekFrom::End(d) => self.len.checked_add_signed(d),
            io::SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        self.pos = next.ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "seek before the start of the file",
            )
        })?;
        Ok(self.pos)
    }
}

/// An opened bundle: its file list (bundle-relative path → size in bytes) and a way to read.
#[derive(Debug, Clone)]
pub struct BundleSource {
    kind: Kind,
    files: BTreeMap<String, u64>,
    limits: ReadLimits,
    /// Whether the layout itself was readable (false after `archive-invalid`).
    pub readable: bool,
    /// BLAKE3 digests the check verified, by path: a read of a pinned file must give exactly
    /// those bytes.
    pins: Option<std::sync::Arc<BTreeMap<String, [u8; 32]>>>,
}

/// Whether the file at `path` starts with the zip local-header magic.
#[must_use]
pub fn looks_like_zip(path: &Path) -> bool {
    let mut magic = [0u8; 4];
    File::open(path)
        .and_then(|mut f| f.read_exact(&mut magic))
        .is_ok()
        && &magic == b"PK\x03\x04"
}

impl BundleSource {
    /// Opens `path` (a directory or a zip file) and lists its files, reporting layout findings.
    ///
    /// # Errors
    /// [`SourceError`] when the path cannot be read at all.
    pub fn open(path: &Path, limits: ReadLimits, rep: &mut Reporter) -> Result<Self, SourceError> {
        let meta = std::fs::metadata(path).map_err(|source| SourceError::Unreadable {
            path: path.to_owned(),
            source,
        })?;
        if meta.is_dir() {
            let mut files = BTreeMap::new();
            let mut seen = HashMap::new();
            walk_dir(path, path, &mut files, &mut seen, limits, rep);
            // The same caps as a zip's (spec §1): a directory is what a zip unpacks to.
            size_caps(
                files.iter().map(|(p, s)| (p.as_str(), *s)),
                path,
                limits,
                rep,
            );
            Ok(Self {
                kind: Kind::Dir(path.to_owned()),
                files,
                limits,
                readable: true,
                pins: None,
            })
        } else if meta.is_file() {
            Ok(open_zip(path, limits, rep))
        } else {
            Err(SourceError::NotABundle(path.to_owned()))
        }
    }

    /// Files of the bundle: path → size in bytes (uncompressed, as declared by a zip).
    #[must_use]
    pub fn files(&self) -> &BTreeMap<String, u64> {
        &self.files
    }

    /// Whether the bundle is a zip archive.
    #[must_use]
    pub fn is_zip(&self) -> bool {
        matches!(self.kind, Kind::Zip { .. })
    }

    /// The directory of a directory bundle.
    #[must_use]
    pub fn dir(&self) -> Option<&Path> {
        match &self.kind {
            Kind::Dir(p) => Some(p),
            Kind::Zip { .. } => None,
        }
    }

    /// Reads one whole file, at most `limit` bytes.
    ///
    /// # Errors
    /// [`ReadError`] when the file is missing, over the limit or unreadable, or
    /// [`ReadError::Changed`] when it is pinned and its bytes are not the verified ones.
    pub fn read(&self, rel: &str, limit: u64) -> Result<Vec<u8>, ReadError> {
        let out = self.read_unpinned(rel, limit)?;
        if let Some(want) = self.pins.as_ref().and_then(|p| p.get(rel))
            && blake3::hash(&out).as_bytes() != want
        {
            return Err(ReadError::Changed);
        }
        Ok(out)
    }

    /// Pins files to the BLAKE3 digests a check verified (path → digest): from then on,
    /// [`BundleSource::read`] of a pinned file returns exactly the verified bytes or
    /// [`ReadError::Changed`], so what is decoded, drawn or signed after a check is what the
    /// check verified even though the bytes are read again (a bundle is not held in memory).
    /// Streamed reads ([`BundleSource::with_reader`]) are not pinned.
    pub fn pin(&mut self, pins: BTreeMap<String, [u8; 32]>) {
        self.pins = Some(std::sync::Arc::new(pins));
    }

    /// [`BundleSource::read`] without the pin check.
    fn read_unpinned(&self, rel: &str, limit: u64) -> Result<Vec<u8>, ReadError> {
        let limit = limit.min(self.limits.max_entry_bytes);
        let declared = *self.files.get(rel).ok_or(ReadError::Missing)?;
        if declared > limit {
            return Err(ReadError::TooLarge { limit });
        }
        let mut out = Vec::with_capacity(declared as usize);
        self.with_reader(rel, |r| r.take(limit + 1).read_to_end(&mut out).map(|_| ()))?;
        if out.len() as u64 > limit {
            return Err(ReadError::TooLarge { limit });
        }
        Ok(out)
    }

    /// Streams one file into `f`; the reader yields at most the entry cap plus one byte.
    ///
    /// # Errors
    /// [`ReadError`] when the file is missing or unreadable.
    pub fn with_reader<T>(
        &self,
        rel: &str,
        f: impl FnOnce(&mut dyn Read) -> io::Result<T>,
    ) -> Result<T, ReadError> {
        if !self.files.contains_key(rel) {
            return Err(ReadError::Missing);
        }
        match &self.kind {
            Kind::Dir(root) => {
                let file = File::open(root.join(rel)).map_err(|e| ReadError::Io(e.to_string()))?;
                let mut r = file.take(self.limits.max_entry_bytes + 1);
                f(&mut r).map_err(|e| ReadError::Io(e.to_string()))
            }
            Kind::Zip { archive, index } => {
                let mut zip = archive.clone().ok_or(ReadError::Missing)?;
                let idx = *index.get(rel).ok_or(ReadError::Missing)?;
                let entry = zip
                    .by_index(idx)
                    .map_err(|e| ReadError::Io(e.to_string()))?;
                let mut r = entry.take(self.limits.max_entry_bytes + 1);
                f(&mut r).map_err(|e| ReadError::Io(e.to_string()))
            }
        }
    }

    /// Hashes one file with BLAKE3, streaming. Returns (digest, bytes read).
    ///
    /// Directory files are memory-mapped and hashed with BLAKE3's multi-threaded mode; zip
    /// entries are decompressed through a capped reader.
    ///
    /// # Errors
    /// [`ReadError`] when the file is missing, unreadable or over the entry cap.
    pub fn hash(&self, rel: &str) -> Result<([u8; 32], u64), ReadError> {
        let cap = self.limits.max_entry_bytes;
        match &self.kind {
            Kind::Dir(root) => {
                if !self.files.contains_key(rel) {
                    return Err(ReadError::Missing);
                }
                if self.files[rel] > cap {
                    return Err(ReadError::TooLarge { limit: cap });
                }
                let mut h = blake3::Hasher::new();
                h.update_mmap_rayon(root.join(rel))
                    .map_err(|e| ReadError::Io(e.to_string()))?;
                let n = h.count();
                Ok((*h.finalize().as_bytes(), n))
            }
            Kind::Zip { .. } => {
                let (hash, n) = self.with_reader(rel, |r| {
                    let mut h = blake3::Hasher::new();
                    let n = io::copy(r, &mut h)?;
                    Ok((*h.finalize().as_bytes(), n))
                })?;
                if n > cap {
                    return Err(ReadError::TooLarge { limit: cap });
                }
                Ok((hash, n))
            }
        }
    }
}

/// The size caps of spec §1, the same for a directory and a zip: each entry at most
/// `max_entry_bytes`, all together at most `max_total_bytes` (`archive-bomb`).
fn size_caps<'a>(
    entries: impl Iterator<Item = (&'a str, u64)>,
    bundle: &Path,
    limits: ReadLimits,
    rep: &mut Reporter,
) {
    let mut total: u64 = 0;
    for (rel, size) in entries {
        if size > limits.max_entry_bytes {
            rep.push(
                Finding::new(
                    Code::ArchiveBomb,
                    format!(
                        "{rel:?} holds {size} bytes, over the {}-byte entry limit",
                        limits.max_entry_bytes
                    ),
                )
                .path(rel.to_owned())
                .expected_actual(
                    format!("≤ {} bytes", limits.max_entry_bytes),
                    size.to_string(),
                ),
            );
        }
        total = total.saturating_add(size);
    }
    if total > limits.max_total_bytes {
        rep.push(
            Finding::new(
                Code::ArchiveBomb,
                format!(
                    "the files hold {total} bytes in all, over the {}-byte limit",
                    limits.max_total_bytes
                ),
            )
            .path(bundle.display().to_string())
            .expected_actual(
                format!("≤ {} bytes", limits.max_total_bytes),
                total.to_string(),
            ),
        );
    }
}

fn walk_dir(
    root: &Path,
    dir: &Path,
    files: &mut BTreeMap<String, u64>,
    seen: &mut HashMap<String, String>,
    limits: ReadLimits,
    rep: &mut Reporter,
) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        rep.push(Finding::new(
            Code::ArchiveInvalid,
            format!("cannot list directory {dir:?}"),
        ));
        return;
    };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).collect();
    entries.sort_by_key(std::fs::DirEntry::file_name);
    for entry in entries {
        let full = entry.path();
        let rel_os = full.strip_prefix(root).unwrap_or(&full);
        let Some(rel) = rel_os
            .to_str()
            .map(|s| s.replace(std::path::MAIN_SEPARATOR, "/"))
        else {
            rep.push(
                Finding::new(Code::PathUnsafe, "the file name is not UTF-8")
                    .path(rel_os.to_string_lossy()),
            );
            continue;
        };
        let Ok(ft) = entry.file_type() else { continue };
        if ft.is_symlink() {
            rep.push(
                Finding::new(Code::PathUnsafe, "a symbolic link; symlinks are refused").path(rel),
            );
            continue;
        }
        if ft.is_dir() {
            walk_dir(root, &full, files, seen, limits, rep);
            continue;
        }
        if !ft.is_file() {
            rep.push(Finding::new(Code::PathUnsafe, "not a regular file").path(rel));
            continue;
        }
        if let Some(reason) = paths::unsafe_reason(&rel) {
            rep.push(Finding::new(Code::PathUnsafe, reason).path(rel));
            continue;
        }
        if files.len() >= limits.max_files {
            rep.push(Finding::new(
                Code::ArchiveBomb,
                format!("more than {} files in the bundle", limits.max_files),
            ));
            return;
        }
        let size = entry.metadata().map_or(0, |m| m.len());
        if let Some(prev) = seen.insert(paths::collision_key(&rel), rel.clone()) {
            rep.push(
                Finding::new(
                    Code::PathCollision,
                    format!("collides with {prev:?} (equal after NFC and case folding)"),
                )
                .path(rel.clone()),
            );
        }
        files.insert(rel, size);
    }
}

/// A zip entry's name as stored.
enum EntryName {
    /// A UTF-8 name.
    Utf8(String),
    /// Not UTF-8: its lossy form, for the `path-unsafe` finding.
    NotUtf8(String),
}

/// A zip entry as listed: index, name, declared size, whether it is a directory, whether it
/// is a symlink.
type RawEntry = (usize, EntryName, u64, bool, bool);

/// Where a zip entry lies, from the central directory.
struct EntryLayout {
    /// The name the central directory gives.
    name: Vec<u8>,
    /// Byte offset of its local header.
    header_start: u64,
    /// Byte just past its compressed data (a data descriptor may follow).
    data_end: u64,
    /// Byte offset of its central-directory record.
    central_start: u64,
}

/// Checks the local headers against the central directory (APPNOTE 4.3.6–4.3.12): every
/// entry's local header must be where the directory says and carry the same name, and no
/// local header may stand outside the directory (between entries or before the directory),
/// where another unzip tool would find a file giftqa never checked.
fn layout_problem(path: &Path, entries: &[EntryLayout]) -> Option<String> {
    use std::io::{Seek, SeekFrom};
    let mut f = File::open(path).ok()?;
    let mut spans: Vec<(u64, u64)> = Vec::with_capacity(entries.len());
    for e in entries {
        let mut head = [0u8; 30];
        f.seek(SeekFrom::Start(e.header_start)).ok()?;
        if f.read_exact(&mut head).is_err() || &head[..4] != b"PK\x03\x04" {
            return Some(format!(
                "entry {:?}: no local header at byte {}",
                String::from_utf8_lossy(&e.name),
                e.header_start
            ));
        }
        let name_len = usize::from(u16::from_le_bytes([head[26], head[27]]));
        let mut local = vec![0u8; name_len];
        if f.read_exact(&mut local).is_err() || local != e.name {
            return Some(format!(
                "entry {:?} is named {:?} in its local header: unzip tools disagree on what it is",
                String::from_utf8_lossy(&e.name),
                String::from_utf8_lossy(&local)
            ));
        }
        spans.push((e.header_start, e.data_end));
    }
    let directory = entries.iter().map(|e| e.central_start).min()?;
    spans.sort_unstable();
    // The bytes between entries (a data descriptor at most) and before the directory must
    // not hold a local header.
    let mut gaps = Vec::new();
    let mut at = spans.first().map_or(directory, |s| s.0);
    for (start, end) in spans
        .iter()
        .copied()
        .chain(std::iter::once((directory, directory)))
    {
        if start > at {
            gaps.push((at, start));
        }
        at = at.max(end);
    }
    for (from, to) in gaps {
        let len = usize::try_from((to - from).min(64 << 20)).ok()?;
        let mut buf = vec![0u8; len];
        f.seek(SeekFrom::Start(from)).ok()?;
        f.read_exact(&mut buf).ok()?;
        if let Some(k) = buf.windows(4).position(|w| w == b"PK\x03\x04") {
            return Some(format!(
                "a local header at byte {} that the central directory does not list: a file other unzip tools would extract and giftqa never checks",
                from + k as u64
            ));
        }
    }
    None
}

const S_IFMT: u32 = 0o170_000;
const S_IFLNK: u32 = 0o120_000;

fn open_zip(path: &Path, limits: ReadLimits, rep: &mut Reporter) -> BundleSource {
    let invalid = |rep: &mut Reporter, why: String| {
        rep.push(
            Finding::new(
                Code::ArchiveInvalid,
                format!("{path:?} is not a readable zip: {why}"),
            )
            .path(path.display().to_string()),
        );
        BundleSource {
            kind: Kind::Zip {
                archive: None,
                index: HashMap::new(),
            },
            files: BTreeMap::new(),
            limits,
            readable: false,
            pins: None,
        }
    };
    let file = match File::open(path).and_then(|f| f.metadata().map(|m| (f, m.len()))) {
        Ok((f, len)) => SharedFile {
            file: std::sync::Arc::new(f),
            pos: 0,
            len,
        },
        Err(e) => return invalid(rep, e.to_string()),
    };
    let mut zip = match zip::ZipArchive::new(file) {
        Ok(z) => z,
        Err(e) => return invalid(rep, e.to_string()),
    };
    if zip.len() > limits.max_files {
        rep.push(Finding::new(
            Code::ArchiveBomb,
            format!(
                "{} entries, more than the {} allowed",
                zip.len(),
                limits.max_files
            ),
        ));
        return invalid(rep, "too many entries".into());
    }
    // Names as stored, raw bytes first so non-UTF-8 names are caught.
    let mut raw: Vec<RawEntry> = Vec::with_capacity(zip.len());
    let mut layout: Vec<EntryLayout> = Vec::with_capacity(zip.len());
    for i in 0..zip.len() {
        let Ok(e) = zip.by_index_raw(i) else {
            return invalid(rep, format!("entry {i} is unreadable"));
        };
        let name = std::str::from_utf8(e.name_raw()).map_or_else(
            |_| EntryName::NotUtf8(String::from_utf8_lossy(e.name_raw()).into_owned()),
            |n| EntryName::Utf8(n.to_owned()),
        );
        let is_link = e.unix_mode().is_some_and(|m| m & S_IFMT == S_IFLNK);
        layout.push(EntryLayout {
            name: e.name_raw().to_vec(),
            header_start: e.header_start(),
            data_end: e.data_start().saturating_add(e.compressed_size()),
            central_start: e.central_header_start(),
        });
        raw.push((i, name, e.size(), e.is_dir(), is_link));
    }
    if let Some(why) = layout_problem(path, &layout) {
        return invalid(rep, why);
    }
    // "A .zip of one directory": when manifest.json is not at the root but inside exactly one
    // top-level folder, that folder is the bundle root.
    let prefix = {
        let names: Vec<&str> = raw
            .iter()
            .filter_map(|r| match &r.1 {
                EntryName::Utf8(n) => Some(n.as_str()),
                EntryName::NotUtf8(_) => None,
            })
            .collect();
        if names.contains(&"manifest.json") {
            String::new()
        } else {
            let tops: std::collections::BTreeSet<&str> = names
                .iter()
                .filter_map(|n| n.split_once('/').map(|(t, _)| t))
                .collect();
            match tops.iter().next() {
                Some(t)
                    if tops.len() == 1
                        && names.contains(&format!("{t}/manifest.json").as_str()) =>
                {
                    format!("{t}/")
                }
                _ => String::new(),
            }
        }
    };
    let mut files = BTreeMap::new();
    let mut index = HashMap::new();
    let mut seen: HashMap<String, String> = HashMap::new();
    let mut sized: Vec<(String, u64)> = Vec::new();
    for (i, name, size, is_dir, is_link) in raw {
        let name = match name {
            EntryName::Utf8(n) => n,
            EntryName::NotUtf8(lossy) => {
                rep.push(Finding::new(Code::PathUnsafe, "the entry name is not UTF-8").path(lossy));
                continue;
            }
        };
        if is_dir && !name.contains("..") && !name.starts_with('/') {
            continue;
        }
        let Some(rel) = name
            .strip_prefix(&prefix)
            .map(str::to_owned)
            .or_else(|| Some(name.clone()))
        else {
            continue;
        };
        if let Some(reason) = paths::unsafe_reason(&rel) {
            rep.push(Finding::new(Code::PathUnsafe, reason).path(name.clone()));
            continue;
        }
        if is_link {
            rep.push(
                Finding::new(Code::PathUnsafe, "a symbolic link; symlinks are refused").path(rel),
            );
            continue;
        }
        sized.push((rel.clone(), size));
        if let Some(prev) = seen.insert(paths::collision_key(&rel), rel.clone()) {
            rep.push(
                Finding::new(
                    Code::PathCollision,
                    format!("collides with {prev:?} (equal after NFC and case folding)"),
                )
                .path(rel.clone()),
            );
            continue;
        }
        index.insert(rel.clone(), i);
        files.insert(rel, size);
    }
    size_caps(
        sized.iter().map(|(p, s)| (p.as_str(), *s)),
        path,
        limits,
        rep,
    );
    BundleSource {
        kind: Kind::Zip {
            archive: Some(zip),
            index,
        },
        files,
        limits,
        readable: true,
        pins: None,
    }
}
