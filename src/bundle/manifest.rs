//! `manifest.json` (spec §2): strict reading into a typed [`Manifest`].
//!
//! Reading goes in three steps. `serde_json` checks the syntax (`json-invalid`); the
//! [`json_scan`](super::json_scan) pass finds duplicate keys (`json-duplicate-key`); then a
//! walk over the value checks every field, collecting one finding per problem with its JSON
//! pointer (`schema-invalid`, `schema-version`, `version-invalid`, `version-build-metadata`,
//! `expires-format`, `hash-format`, `path-unsafe`, `path-collision`). A typed [`Manifest`] is
//! produced only when no error of the manifest area was found, so code past this module never
//! sees an invalid manifest. The list of files ([`ListedFile`]) is extracted best-effort even
//! from a broken manifest so integrity checks can still run.

use std::collections::{BTreeMap, HashMap, HashSet};

use jiff::Timestamp;
use semver::Version;
use serde_json::{Map, Value};

use super::json_scan::{self, escape_token};
use super::paths;
use super::time::parse_utc;
use crate::finding::{Code, Finding, Reporter};

/// Largest accepted `manifest.json`, in bytes (spec §1: 1 MiB).
pub const MANIFEST_MAX_BYTES: u64 = 1024 * 1024;
/// Most assets one manifest may list (spec §2).
pub const MAX_ASSETS: usize = 10_000;
/// The only manifest format this tool reads.
pub const FORMAT: &str = "giftbundle/1";
/// File name of the manifest inside a bundle.
pub const MANIFEST_FILE: &str = "manifest.json";

/// Whether an asset is a gift users see or a file effects depend on (spec §2 `kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AssetKind {
    /// A gift animation users see.
    Effect,
    /// Files effects depend on (sound, shared atlas).
    Resource,
}

/// The asset formats of spec §2 "Formats".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub enum AssetFormat {
    /// One or more PNG frames played in listed order.
    #[serde(rename = "png-sequence")]
    PngSequence,
    /// One PNG or WebP sheet of `columns` × `rows` cells.
    #[serde(rename = "sprite-atlas")]
    SpriteAtlas,
    /// Animated PNG.
    #[serde(rename = "apng")]
    Apng,
    /// GIF.
    #[serde(rename = "gif")]
    Gif,
    /// WebP (animated or still).
    #[serde(rename = "webp")]
    Webp,
    /// SVGA 1.x (zip) or 2.x (zlib + protobuf).
    #[serde(rename = "svga")]
    Svga,
    /// Lottie JSON.
    #[serde(rename = "lottie")]
    Lottie,
    /// dotLottie zip.
    #[serde(rename = "dotlottie")]
    Dotlottie,
    /// VAP MP4 with a `vapc` box.
    #[serde(rename = "vap")]
    Vap,
    /// mp3, aac or ogg (resources only).
    #[serde(rename = "audio")]
    Audio,
}

impl AssetFormat {
    /// Every format, in the spec's order.
    pub const ALL: &'static [AssetFormat] = &[
        Self::PngSequence,
        Self::SpriteAtlas,
        Self::Apng,
        Self::Gif,
        Self::Webp,
        Self::Svga,
        Self::Lottie,
        Self::Dotlottie,
        Self::Vap,
        Self::Audio,
    ];

    /// The name used in manifests and fleet capabilities.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PngSequence => "png-sequence",
            Self::SpriteAtlas => "sprite-atlas",
            Self::Apng => "apng",
            Self::Gif => "gif",
            Self::Webp => "webp",
            Self::Svga => "svga",
            Self::Lottie => "lottie",
            Self::Dotlottie => "dotlottie",
            Self::Vap => "vap",
            Self::Audio => "audio",
        }
    }

    /// Looks a format up by its manifest name.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|f| f.as_str() == name)
    }
}

impl std::fmt::Display for AssetFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A 32-byte BLAKE3-256 digest.
pub type Blake3Hash = [u8; 32];

/// One file of an asset (spec §2 `files[]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileEntry {
    /// Bundle-relative path, already checked by [`paths::unsafe_reason`].
    pub path: String,
    /// Exact length in bytes.
    pub size: u64,
    /// BLAKE3-256 of the content.
    pub blake3: Blake3Hash,
}

/// A file as listed in `manifest.json`, read best-effort (fields that are absent or invalid
/// are `None`). Integrity checks run over these even when the manifest has errors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedFile {
    /// The asset id the file belongs to, if readable.
    pub asset: Option<String>,
    /// Bundle-relative path.
    pub path: String,
    /// Declared size in bytes.
    pub size: Option<u64>,
    /// Declared BLAKE3 digest (`None` when absent or not 64 lowercase hex).
    pub blake3: Option<Blake3Hash>,
    /// Whether the path passed the safety rules of spec §1.
    pub path_safe: bool,
}

/// The client range of an asset (spec §2 `clients`): `min` inclusive, `below` exclusive.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ClientRange {
    /// Lowest client version, inclusive.
    pub min: Option<Version>,
    /// First client version excluded.
    pub below: Option<Version>,
}

impl ClientRange {
    /// Whether `client` is inside the range (`SemVer` precedence).
    #[must_use]
    pub fn contains(&self, client: &Version) -> bool {
        self.min
            .as_ref()
            .is_none_or(|m| cmp_precedence(client, m).is_ge())
            && self
                .below
                .as_ref()
                .is_none_or(|b| cmp_precedence(client, b).is_lt())
    }
}

/// Compares two versions by `SemVer` 2.0 precedence (build metadata ignored).
#[must_use]
pub fn cmp_precedence(a: &Version, b: &Version) -> std::cmp::Ordering {
    (a.major, a.minor, a.patch, &a.pre).cmp(&(b.major, b.minor, b.patch, &b.pre))
}

/// Where a non-playable effect goes (spec §2 `fallback`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Fallback {
    /// Another asset of the bundle, by id.
    Asset(String),
    /// An effect compiled into the app, `builtin:<name>`: always playable.
    Builtin(String),
}

impl std::fmt::Display for Fallback {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Asset(id) => f.write_str(id),
            Self::Builtin(name) => write!(f, "builtin:{name}"),
        }
    }
}

/// Kind of a dynamic slot (spec §2 `slots`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SlotType {
    /// An image, e.g. the sender's avatar.
    Image,
    /// Text, e.g. the sender's name.
    Text,
}

/// Dynamic content the app fills at send time.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Slot {
    /// The key the animation uses (SVGA image key, VAP `srcTag`).
    pub key: String,
    /// Image or text.
    #[serde(rename = "type")]
    pub slot_type: SlotType,
}

/// One asset of the manifest (spec §2 `assets[]`).
#[derive(Debug, Clone, PartialEq)]
pub struct Asset {
    /// Unique id, `[a-z0-9][a-z0-9._-]{0,63}`.
    pub id: String,
    /// Effect or resource.
    pub kind: AssetKind,
    /// Declared format.
    pub format: AssetFormat,
    /// Files in listed order (frames, for a png-sequence).
    pub files: Vec<FileEntry>,
    /// Client range; `None` means every client ≥ `min_client`.
    pub clients: Option<ClientRange>,
    /// Tiers the asset may play on; `None` means every tier.
    pub tiers: Option<Vec<String>>,
    /// Ids of assets that must also be playable.
    pub depends_on: Vec<String>,
    /// Where users go when this asset cannot play.
    pub fallback: Option<Fallback>,
    /// Dynamic slots.
    pub slots: Vec<Slot>,
    /// Format-specific parameters, checked per format.
    pub params: Map<String, Value>,
}

impl Asset {
    /// A numeric parameter, if present.
    #[must_use]
    pub fn param_f64(&self, key: &str) -> Option<f64> {
        self.params.get(key).and_then(Value::as_f64)
    }

    /// An integer parameter, if present and whole.
    #[must_use]
    pub fn param_u64(&self, key: &str) -> Option<u64> {
        let v = self.params.get(key)?;
        v.as_u64().or_else(|| {
            v.as_f64()
                .filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f < 1e15)
                .map(|f| f as u64)
        })
    }

    /// Sum of declared file sizes, in bytes.
    #[must_use]
    pub fn size_bytes(&self) -> u64 {
        self.files.iter().map(|f| f.size).sum()
    }
}

/// One stage of the staged rollout (spec §7).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Stage {
    /// Stage name, e.g. `canary`.
    pub name: String,
    /// Share of users in basis points, 0–10 000.
    pub percent_bp: u64,
    /// ISO 3166-1 alpha-2 codes, or `*`.
    pub regions: Vec<String>,
}

/// The names of the rollout gates (spec §7), all required.
pub const GATE_NAMES: [&str; 6] = [
    "download_success_rate_min",
    "integrity_failure_rate_max",
    "fallback_activation_ratio_max",
    "crash_rate_delta_max",
    "frame_drop_delta_max",
    "min_sessions",
];

/// The staged rollout (spec §7).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Rollout {
    /// Salt of the bucket function.
    pub salt: String,
    /// Stages in order.
    pub stages: Vec<Stage>,
    /// Gate name → threshold.
    pub gates: BTreeMap<String, f64>,
}

/// A typed manifest that passed every manifest-area rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Manifest {
    /// Stable id of the bundle.
    pub bundle_id: String,
    /// Bundle version.
    pub version: Version,
    /// Creation time.
    pub created: Timestamp,
    /// Expiry time.
    pub expires: Timestamp,
    /// Lowest client version the bundle is delivered to.
    pub min_client: Version,
    /// Assets in manifest order.
    pub assets: Vec<Asset>,
    /// Staged rollout, if any.
    pub rollout: Option<Rollout>,
}

impl Manifest {
    /// Looks an asset up by id.
    #[must_use]
    pub fn asset(&self, id: &str) -> Option<&Asset> {
        self.assets.iter().find(|a| a.id == id)
    }
}

/// The result of reading `manifest.json`.
#[derive(Debug, Default)]
pub struct ManifestRead {
    /// The typed manifest, when the manifest area has no error.
    pub manifest: Option<Manifest>,
    /// Files listed by the manifest, best-effort.
    pub files: Vec<ListedFile>,
    /// `bundle_id` and `version` text as written, for the report header.
    pub header: Option<(String, String)>,
}

fn is_id(s: &str, max_rest: usize) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= max_rest + 1
        && (b[0].is_ascii_lowercase() || b[0].is_ascii_digit())
        && b[1..].iter().all(|c| {
            c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, b'.' | b'_' | b'-')
        })
}

/// Whether `s` is a valid `bundle_id` (`[a-z0-9][a-z0-9._-]{0,127}`).
#[must_use]
pub fn is_bundle_id(s: &str) -> bool {
    is_id(s, 127)
}

/// Whether `s` is a valid asset id (`[a-z0-9][a-z0-9._-]{0,63}`).
#[must_use]
pub fn is_asset_id(s: &str) -> bool {
    is_id(s, 63)
}

/// Parses 64 lowercase hex characters into a digest.
#[must_use]
pub fn parse_hex32(s: &str) -> Option<Blake3Hash> {
    let b = s.as_bytes();
    if b.len() != 64
        || !b
            .iter()
            .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(c))
    {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, chunk) in b.chunks(2).enumerate() {
        let hi = (chunk[0] as char).to_digit(16)?;
        let lo = (chunk[1] as char).to_digit(16)?;
        out[i] = (hi * 16 + lo) as u8;
    }
    Some(out)
}

/// Lowercase hex of a digest.
#[must_use]
pub fn hex32(h: &Blake3Hash) -> String {
    use std::fmt::Write;
    h.iter().fold(String::with_capacity(64), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// Parses strict `SemVer` 2.0 (`1.2.3`, `2.0.0-rc.1`; not `v1.2`, `1.2`, `01.2.3`).
///
/// The `semver` crate follows `SemVer` 2.0's grammar, which already rejects leading zeros,
/// a `v` prefix and missing components.
#[must_use]
pub fn parse_semver(s: &str) -> Option<Version> {
    Version::parse(s).ok()
}

/// Reads `manifest.json` bytes into typed form, reporting every problem.
pub fn read_manifest(bytes: &[u8], rep: &mut Reporter) -> ManifestRead {
    let path = MANIFEST_FILE;
    let Ok(text) = std::str::from_utf8(bytes) else {
        rep.push(Finding::new(Code::JsonInvalid, "manifest.json is not UTF-8").path(path));
        return ManifestRead::default();
    };
    let value: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            rep.push(
                Finding::new(
                    Code::JsonInvalid,
                    format!("manifest.json is not valid JSON: {e}"),
                )
                .path(path),
            );
            return ManifestRead::default();
        }
    };
    match json_scan::scan(text) {
        Some(spans) => {
            for ptr in spans.duplicates {
                rep.push(
                    Finding::new(Code::JsonDuplicateKey, format!("duplicate key at {ptr}"))
                        .path(path)
                        .expected_actual("unique keys", ptr),
                );
            }
        }
        None => rep
            .push(Finding::new(Code::JsonInvalid, "manifest.json could not be scanned").path(path)),
    }
    let errors_before = count_manifest_errors(rep);
    let mut w = Walker { rep };
    let out = w.manifest(&value);
    let clean = count_manifest_errors(w.rep) == errors_before && errors_before == 0;
    ManifestRead {
        manifest: if clean { out.0 } else { None },
        files: out.1,
        header: out.2,
    }
}

fn count_manifest_errors(rep: &Reporter) -> usize {
    use crate::finding::{Area, Severity};
    rep.findings()
        .iter()
        .filter(|f| {
            f.severity == Severity::Error
                && (f.code.area() == Area::Manifest
                    || matches!(
                        f.code,
                        Code::HashFormat | Code::PathUnsafe | Code::PathCollision
                    ))
        })
        .count()
}

struct Walker<'r> {
    rep: &'r mut Reporter,
}

type ManifestParts = (Option<Manifest>, Vec<ListedFile>, Option<(String, String)>);

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_f64() => "a float",
        Value::Number(_) => "an integer",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

impl Walker<'_> {
    fn schema(&mut self, ptr: &str, msg: impl Into<String>) {
        let msg = msg.into();
        self.rep
            .push(Finding::new(Code::SchemaInvalid, format!("{ptr}: {msg}")).path(MANIFEST_FILE));
    }

    fn object<'v>(
        &mut self,
        v: &'v Value,
        ptr: &str,
        allowed: &[&str],
        required: &[&str],
    ) -> Option<&'v Map<String, Value>> {
        let Some(map) = v.as_object() else {
            self.schema(ptr, format!("must be an object, found {}", type_name(v)));
            return None;
        };
        for key in map.keys() {
            if !allowed.contains(&key.as_str()) {
                let p = format!("{ptr}/{}", escape_token(key));
                self.rep.push(
                    Finding::new(
                        Code::SchemaInvalid,
                        format!("{p}: unknown field {key:?} (known: {})", allowed.join(", ")),
                    )
                    .path(MANIFEST_FILE),
                );
            }
        }
        for key in required {
            if !map.contains_key(*key) {
                self.schema(&format!("{ptr}/{key}"), "required field is missing");
            }
        }
        Some(map)
    }

    fn string<'v>(&mut self, map: &'v Map<String, Value>, ptr: &str, key: &str) -> Option<&'v str> {
        let v = map.get(key)?;
        let s = v.as_str();
        if s.is_none() {
            self.schema(
                &format!("{ptr}/{key}"),
                format!("must be a string, found {}", type_name(v)),
            );
        }
        s
    }

    fn string_array(
        &mut self,
        map: &Map<String, Value>,
        ptr: &str,
        key: &str,
    ) -> Option<Vec<String>> {
        let v = map.get(key)?;
        let p = format!("{ptr}/{key}");
        let Some(arr) = v.as_array() else {
            self.schema(
                &p,
                format!("must be an array of strings, found {}", type_name(v)),
            );
            return None;
        };
        let mut out = Vec::with_capacity(arr.len());
        for (i, item) in arr.iter().enumerate() {
            match item.as_str() {
                Some(s) => out.push(s.to_owned()),
                None => self.schema(
                    &format!("{p}/{i}"),
                    format!("must be a string, found {}", type_name(item)),
                ),
            }
        }
        Some(out)
    }

    fn integer(&mut self, map: &Map<String, Value>, ptr: &str, key: &str) -> Option<u64> {
        let v = map.get(key)?;
        let n = v.as_u64();
        if n.is_none() {
            self.schema(
                &format!("{ptr}/{key}"),
                format!("must be a non-negative integer, found {}", type_name(v)),
            );
        }
        n
    }

    fn semver(
        &mut self,
        map: &Map<String, Value>,
        ptr: &str,
        key: &str,
        warn_build: bool,
    ) -> Option<Version> {
        let s = self.string(map, ptr, key)?;
        let p = format!("{ptr}/{key}");
        let Some(v) = parse_semver(s) else {
            self.rep.push(
                Finding::new(
                    Code::VersionInvalid,
                    format!("{p}: {s:?} is not strict SemVer 2.0 (like 1.2.3 or 2.0.0-rc.1)"),
                )
                .path(MANIFEST_FILE)
                .expected_actual("MAJOR.MINOR.PATCH[-PRERELEASE]", s),
            );
            return None;
        };
        if !v.build.is_empty() {
            if warn_build {
                self.rep.push(
                    Finding::new(
                        Code::VersionBuildMetadata,
                        format!(
                            "{p}: build metadata \"+{}\" is ignored in every comparison",
                            v.build
                        ),
                    )
                    .path(MANIFEST_FILE)
                    .expected_actual("no +build metadata", s),
                );
            } else {
                self.rep.push(
                    Finding::new(
                        Code::VersionInvalid,
                        format!("{p}: {s:?} carries build metadata, which has no precedence"),
                    )
                    .path(MANIFEST_FILE)
                    .expected_actual("MAJOR.MINOR.PATCH[-PRERELEASE]", s),
                );
                return None;
            }
        }
        Some(v)
    }

    fn timestamp(&mut self, map: &Map<String, Value>, key: &str) -> Option<Timestamp> {
        let s = self.string(map, "", key)?;
        let t = parse_utc(s);
        if t.is_none() {
            self.rep.push(
                Finding::new(
                    Code::ExpiresFormat,
                    format!("/{key}: {s:?} is not YYYY-MM-DDTHH:MM:SSZ (UTC)"),
                )
                .path(MANIFEST_FILE)
                .expected_actual("YYYY-MM-DDTHH:MM:SSZ", s),
            );
        }
        t
    }

    fn manifest(&mut self, v: &Value) -> ManifestParts {
        const TOP: &[&str] = &[
            "format",
            "bundle_id",
            "version",
            "created",
            "expires",
            "min_client",
            "assets",
            "rollout",
        ];
        let Some(map) = v.as_object() else {
            self.schema(
                "",
                format!("the manifest must be a JSON object, found {}", type_name(v)),
            );
            return (None, Vec::new(), None);
        };
        match map.get("format").and_then(Value::as_str) {
            Some(FORMAT) => {}
            other => {
                let found = other.map_or_else(|| "nothing".to_owned(), |s| format!("{s:?}"));
                self.rep.push(
                    Finding::new(
                        Code::SchemaVersion,
                        format!("/format: expected \"{FORMAT}\", found {found}"),
                    )
                    .path(MANIFEST_FILE)
                    .expected_actual(FORMAT, found),
                );
                let files = map
                    .get("assets")
                    .map(Self::listed_files_only)
                    .unwrap_or_default();
                return (None, files, None);
            }
        }
        let map = self
            .object(
                v,
                "",
                TOP,
                &[
                    "format",
                    "bundle_id",
                    "version",
                    "created",
                    "expires",
                    "min_client",
                    "assets",
                ],
            )
            .unwrap_or(map);
        let bundle_id = self.string(map, "", "bundle_id").map(str::to_owned);
        if let Some(id) = &bundle_id
            && !is_bundle_id(id)
        {
            self.schema(
                "/bundle_id",
                format!("{id:?} does not match [a-z0-9][a-z0-9._-]{{0,127}}"),
            );
        }
        let version = self.semver(map, "", "version", true);
        let min_client = self.semver(map, "", "min_client", false);
        let created = self.timestamp(map, "created");
        let expires = self.timestamp(map, "expires");
        if let (Some(c), Some(e)) = (created, expires)
            && e <= c
        {
            self.schema("/expires", "must be later than /created");
        }
        let header = match (&bundle_id, map.get("version").and_then(Value::as_str)) {
            (Some(id), Some(ver)) => Some((id.clone(), ver.to_owned())),
            _ => None,
        };
        let (assets, files) = self.assets(map.get("assets"));
        let rollout = match map.get("rollout") {
            Some(r) => self.rollout(r),
            None => None,
        };
        let manifest = (|| {
            Some(Manifest {
                bundle_id: bundle_id?,
                version: version?,
                created: created?,
                expires: expires?,
                min_client: min_client?,
                assets: assets?,
                rollout: match map.get("rollout") {
                    Some(_) => Some(rollout?),
                    None => None,
                },
            })
        })();
        (manifest, files, header)
    }

    fn listed_files_only(assets: &Value) -> Vec<ListedFile> {
        let mut out = Vec::new();
        for a in assets.as_array().into_iter().flatten() {
            let id = a.get("id").and_then(Value::as_str).map(str::to_owned);
            for f in a
                .get("files")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(path) = f.get("path").and_then(Value::as_str) {
                    out.push(ListedFile {
                        asset: id.clone(),
                        path: path.to_owned(),
                        size: f.get("size").and_then(Value::as_u64),
                        blake3: f
                            .get("blake3")
                            .and_then(Value::as_str)
                            .and_then(parse_hex32),
                        path_safe: paths::unsafe_reason(path).is_none(),
                    });
                }
            }
        }
        out
    }

    fn assets(&mut self, v: Option<&Value>) -> (Option<Vec<Asset>>, Vec<ListedFile>) {
        let mut files = Vec::new();
        let Some(v) = v else { return (None, files) };
        let Some(arr) = v.as_array() else {
            self.schema(
                "/assets",
                format!("must be an array, found {}", type_name(v)),
            );
            return (None, files);
        };
        if arr.is_empty() || arr.len() > MAX_ASSETS {
            self.schema(
                "/assets",
                format!("must hold 1 to {MAX_ASSETS} assets, found {}", arr.len()),
            );
        }
        let mut ids: HashMap<String, usize> = HashMap::new();
        let mut collisions: HashMap<String, String> = HashMap::new();
        let mut out = Vec::with_capacity(arr.len());
        let mut ok = true;
        for (i, a) in arr.iter().enumerate() {
            let ptr = format!("/assets/{i}");
            let asset = self.asset(a, &ptr, &mut files, &mut collisions);
            if let Some(asset) = asset {
                if let Some(prev) = ids.insert(asset.id.clone(), i) {
                    self.schema(
                        &format!("{ptr}/id"),
                        format!("id {:?} is already used by /assets/{prev}", asset.id),
                    );
                    ok = false;
                }
                out.push(asset);
            } else {
                ok = false;
            }
        }
        (ok.then_some(out), files)
    }

    fn asset(
        &mut self,
        v: &Value,
        ptr: &str,
        files_out: &mut Vec<ListedFile>,
        collisions: &mut HashMap<String, String>,
    ) -> Option<Asset> {
        const FIELDS: &[&str] = &[
            "id",
            "kind",
            "format",
            "files",
            "clients",
            "tiers",
            "depends_on",
            "fallback",
            "slots",
            "params",
        ];
        let map = self.object(v, ptr, FIELDS, &["id", "kind", "format", "files"])?;
        let id = self.string(map, ptr, "id").map(str::to_owned);
        if let Some(id) = &id
            && !is_asset_id(id)
        {
            self.schema(
                &format!("{ptr}/id"),
                format!("{id:?} does not match [a-z0-9][a-z0-9._-]{{0,63}}"),
            );
        }
        let kind = match self.string(map, ptr, "kind") {
            Some("effect") => Some(AssetKind::Effect),
            Some("resource") => Some(AssetKind::Resource),
            Some(other) => {
                self.schema(
                    &format!("{ptr}/kind"),
                    format!("must be \"effect\" or \"resource\", found {other:?}"),
                );
                None
            }
            None => None,
        };
        let format = match self.string(map, ptr, "format") {
            Some(name) => {
                let f = AssetFormat::from_name(name);
                if f.is_none() {
                    let names: Vec<_> = AssetFormat::ALL.iter().map(|f| f.as_str()).collect();
                    self.schema(
                        &format!("{ptr}/format"),
                        format!("unknown format {name:?}; known: {}", names.join(", ")),
                    );
                }
                f
            }
            None => None,
        };
        if format == Some(AssetFormat::Audio) && kind == Some(AssetKind::Effect) {
            self.schema(
                &format!("{ptr}/format"),
                "audio is allowed only for kind \"resource\"",
            );
        }
        let files = self.files(map, ptr, id.as_deref(), format, files_out, collisions);
        let clients = match map.get("clients") {
            Some(c) => {
                let p = format!("{ptr}/clients");
                let cm = self.object(c, &p, &["min", "below"], &[]);
                cm.map(|cm| ClientRange {
                    min: self.semver(cm, &p, "min", false),
                    below: self.semver(cm, &p, "below", false),
                })
            }
            None => None,
        };
        let tiers = self.string_array(map, ptr, "tiers");
        if tiers.as_ref().is_some_and(Vec::is_empty) {
            self.schema(
                &format!("{ptr}/tiers"),
                "must list at least one tier (omit it for every tier)",
            );
        }
        let depends_on = self
            .string_array(map, ptr, "depends_on")
            .unwrap_or_default();
        let fallback =
            self.string(map, ptr, "fallback")
                .and_then(|s| match s.strip_prefix("builtin:") {
                    Some(name) if !name.is_empty() => Some(Fallback::Builtin(name.to_owned())),
                    Some(_) => {
                        self.schema(&format!("{ptr}/fallback"), "builtin: needs a name");
                        None
                    }
                    None => Some(Fallback::Asset(s.to_owned())),
                });
        let slots = self.slots(map, ptr);
        let params = match map.get("params") {
            Some(Value::Object(p)) => p.clone(),
            Some(other) => {
                self.schema(
                    &format!("{ptr}/params"),
                    format!("must be an object, found {}", type_name(other)),
                );
                Map::new()
            }
            None => Map::new(),
        };
        if let Some(format) = format {
            self.params(format, &params, &format!("{ptr}/params"));
        }
        Some(Asset {
            id: id?,
            kind: kind?,
            format: format?,
            files: files?,
            clients,
            tiers,
            depends_on,
            fallback,
            slots,
            params,
        })
    }

    fn files(
        &mut self,
        map: &Map<String, Value>,
        ptr: &str,
        asset: Option<&str>,
        format: Option<AssetFormat>,
        out: &mut Vec<ListedFile>,
        collisions: &mut HashMap<String, String>,
    ) -> Option<Vec<FileEntry>> {
        let v = map.get("files")?;
        let p = format!("{ptr}/files");
        let Some(arr) = v.as_array() else {
            self.schema(&p, format!("must be an array, found {}", type_name(v)));
            return None;
        };
        if arr.is_empty() {
            self.schema(&p, "must list at least one file");
        } else if arr.len() > 1 && format.is_some_and(|f| f != AssetFormat::PngSequence) {
            self.schema(
                &p,
                format!(
                    "format {} takes exactly one file, found {}",
                    format.map_or("", AssetFormat::as_str),
                    arr.len()
                ),
            );
        }
        let mut entries = Vec::with_capacity(arr.len());
        let mut ok = true;
        for (i, f) in arr.iter().enumerate() {
            let fp = format!("{p}/{i}");
            let Some(fm) = self.object(
                f,
                &fp,
                &["path", "size", "blake3"],
                &["path", "size", "blake3"],
            ) else {
                ok = false;
                continue;
            };
            let Some(path) = self.string(fm, &fp, "path").map(str::to_owned) else {
                ok = false;
                continue;
            };
            let reason = paths::unsafe_reason(&path);
            if let Some(reason) = reason {
                let mut f = Finding::new(Code::PathUnsafe, reason).path(path.clone());
                if let Some(a) = asset {
                    f = f.asset(a);
                }
                self.rep.push(f);
                ok = false;
            } else if matches!(path.as_str(), MANIFEST_FILE | "manifest.sig") {
                self.schema(
                    &format!("{fp}/path"),
                    format!("{path:?} is reserved for the bundle's own metadata"),
                );
                ok = false;
            } else {
                let key = paths::collision_key(&path);
                if let Some(prev) = collisions.get(&key) {
                    let mut f = Finding::new(
                        Code::PathCollision,
                        format!(
                            "{path:?} collides with {prev:?} (equal after NFC and case folding)"
                        ),
                    )
                    .path(path.clone());
                    if let Some(a) = asset {
                        f = f.asset(a);
                    }
                    self.rep.push(f);
                    ok = false;
                } else {
                    collisions.insert(key, path.clone());
                }
            }
            let size = self.integer(fm, &fp, "size");
            let hash_text = self.string(fm, &fp, "blake3");
            let hash = hash_text.and_then(parse_hex32);
            if let (Some(text), None) = (hash_text, hash) {
                let mut f = Finding::new(
                    Code::HashFormat,
                    format!("{fp}/blake3: {text:?} is not 64 lowercase hex characters"),
                )
                .path(path.clone())
                .expected_actual("64 lowercase hex", text);
                if let Some(a) = asset {
                    f = f.asset(a);
                }
                self.rep.push(f);
            }
            out.push(ListedFile {
                asset: asset.map(str::to_owned),
                path: path.clone(),
                size,
                blake3: hash,
                path_safe: reason.is_none(),
            });
            match (size, hash) {
                (Some(size), Some(blake3)) => entries.push(FileEntry { path, size, blake3 }),
                _ => ok = false,
            }
        }
        ok.then_some(entries)
    }

    fn slots(&mut self, map: &Map<String, Value>, ptr: &str) -> Vec<Slot> {
        let Some(v) = map.get("slots") else {
            return Vec::new();
        };
        let p = format!("{ptr}/slots");
        let Some(arr) = v.as_array() else {
            self.schema(&p, format!("must be an array, found {}", type_name(v)));
            return Vec::new();
        };
        let mut out = Vec::new();
        let mut keys = HashSet::new();
        for (i, s) in arr.iter().enumerate() {
            let sp = format!("{p}/{i}");
            let Some(sm) = self.object(s, &sp, &["key", "type"], &["key", "type"]) else {
                continue;
            };
            let key = self.string(sm, &sp, "key");
            let ty = match self.string(sm, &sp, "type") {
                Some("image") => Some(SlotType::Image),
                Some("text") => Some(SlotType::Text),
                Some(other) => {
                    self.schema(
                        &format!("{sp}/type"),
                        format!("must be \"image\" or \"text\", found {other:?}"),
                    );
                    None
                }
                None => None,
            };
            if let (Some(key), Some(slot_type)) = (key, ty) {
                if key.is_empty() || !keys.insert(key.to_owned()) {
                    self.schema(
                        &format!("{sp}/key"),
                        format!("slot key {key:?} is empty or repeated"),
                    );
                }
                out.push(Slot {
                    key: key.to_owned(),
                    slot_type,
                });
            }
        }
        out
    }

    fn params(&mut self, format: AssetFormat, params: &Map<String, Value>, ptr: &str) {
        let (allowed, required): (&[&str], &[&str]) = match format {
            AssetFormat::PngSequence => (&["fps"], &["fps"]),
            AssetFormat::SpriteAtlas => (
                &["columns", "rows", "frame_count", "fps"],
                &["columns", "rows", "frame_count", "fps"],
            ),
            AssetFormat::Dotlottie => (&["animation"], &[]),
            _ => (&[], &[]),
        };
        let v = Value::Object(params.clone());
        let Some(map) = self.object(&v, ptr, allowed, required) else {
            return;
        };
        if let Some(fps) = map.get("fps") {
            match fps.as_f64() {
                Some(f) if (1.0..=120.0).contains(&f) => {}
                _ => self.schema(
                    &format!("{ptr}/fps"),
                    format!("must be a number from 1 to 120, found {fps}"),
                ),
            }
        }
        for key in ["columns", "rows", "frame_count"] {
            if let Some(n) = map.get(key)
                && !n.as_u64().is_some_and(|n| (1..=4096).contains(&n))
            {
                self.schema(
                    &format!("{ptr}/{key}"),
                    format!("must be an integer from 1 to 4096, found {n}"),
                );
            }
        }
        if let (Some(c), Some(r), Some(n)) = (
            map.get("columns").and_then(Value::as_u64),
            map.get("rows").and_then(Value::as_u64),
            map.get("frame_count").and_then(Value::as_u64),
        ) && n > c * r
        {
            self.schema(
                &format!("{ptr}/frame_count"),
                format!("{n} frames do not fit {c} × {r} cells"),
            );
        }
        if let Some(a) = map.get("animation")
            && a.as_str().is_none_or(str::is_empty)
        {
            self.schema(&format!("{ptr}/animation"), "must be a non-empty string");
        }
    }

    fn rollout(&mut self, v: &Value) -> Option<Rollout> {
        let map = self.object(
            v,
            "/rollout",
            &["salt", "stages", "gates"],
            &["salt", "stages", "gates"],
        )?;
        let salt = self.string(map, "/rollout", "salt").map(str::to_owned);
        let stages = match map.get("stages") {
            Some(Value::Array(arr)) => {
                let mut out = Vec::new();
                let mut names = HashSet::new();
                for (i, s) in arr.iter().enumerate() {
                    let sp = format!("/rollout/stages/{i}");
                    let Some(sm) = self.object(
                        s,
                        &sp,
                        &["name", "percent_bp", "regions"],
                        &["name", "percent_bp", "regions"],
                    ) else {
                        continue;
                    };
                    let name = self.string(sm, &sp, "name").map(str::to_owned);
                    let bp = self.integer(sm, &sp, "percent_bp");
                    let regions = self.string_array(sm, &sp, "regions");
                    if let Some(n) = &name
                        && (n.is_empty() || !names.insert(n.clone()))
                    {
                        self.schema(
                            &format!("{sp}/name"),
                            format!("stage name {n:?} is empty or repeated"),
                        );
                    }
                    if let (Some(name), Some(percent_bp), Some(regions)) = (name, bp, regions) {
                        out.push(Stage {
                            name,
                            percent_bp,
                            regions,
                        });
                    }
                }
                (out.len() == arr.len()).then_some(out)
            }
            Some(other) => {
                self.schema(
                    "/rollout/stages",
                    format!("must be an array, found {}", type_name(other)),
                );
                None
            }
            None => None,
        };
        let gates = match map.get("gates") {
            Some(g) => {
                let gm = self.object(g, "/rollout/gates", &GATE_NAMES, &[]);
                gm.map(|gm| {
                    let mut out = BTreeMap::new();
                    for (k, v) in gm {
                        match v.as_f64() {
                            Some(f) if f.is_finite() && f >= 0.0 => {
                                out.insert(k.clone(), f);
                            }
                            _ => self.schema(
                                &format!("/rollout/gates/{}", escape_token(k)),
                                format!("must be a non-negative number, found {v}"),
                            ),
                        }
                    }
                    if let Some(m) = gm.get("min_sessions")
                        && m.as_u64().is_none()
                    {
                        self.schema(
                            "/rollout/gates/min_sessions",
                            "must be a whole number of sessions",
                        );
                    }
                    out
                })
            }
            None => None,
        };
        Some(Rollout {
            salt: salt?,
            stages: stages?,
            gates: gates?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trip() {
        let h = *blake3::hash(b"x").as_bytes();
        assert_eq!(parse_hex32(&hex32(&h)), Some(h));
        assert_eq!(parse_hex32(&hex32(&h).to_uppercase()), None);
        assert_eq!(parse_hex32("abc"), None);
    }

    #[test]
    fn strict_semver() {
        for ok in ["1.2.3", "2.0.0-rc.1", "0.0.0"] {
            assert!(parse_semver(ok).is_some(), "{ok}");
        }
        for bad in ["v1.2.3", "1.2", "01.2.3", "1.2.3.4", " 1.2.3"] {
            assert!(parse_semver(bad).is_none(), "{bad}");
        }
        let rc = parse_semver("6.0.0-rc.1").unwrap();
        let range = ClientRange {
            min: parse_semver("5.4.0"),
            below: parse_semver("6.0.0"),
        };
        assert!(
            range.contains(&rc),
            "pre-release of 6.0.0 sorts below 6.0.0"
        );
    }

    #[test]
    fn ids() {
        assert!(is_asset_id("rose-burst") && is_asset_id("a") && is_asset_id("0.x_y"));
        assert!(
            !is_asset_id("Rose")
                && !is_asset_id("-a")
                && !is_asset_id("")
                && !is_asset_id(&"a".repeat(65))
        );
        assert!(is_bundle_id(&"a".repeat(128)) && !is_bundle_id(&"a".repeat(129)));
    }
}
