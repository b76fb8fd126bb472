//! `giftqa check` (spec §10, §11): the GPU-free verification of a bundle, end to end.
//!
//! Order of work: open the layout (archive area), read the manifest (manifest area), hash
//! every file (integrity), verify signatures (trust), then — only on a typed manifest — expiry,
//! history, graph, rollout and the compatibility matrix. Assets are sniffed and decoded only
//! when the manifest, archive, integrity and trust areas hold no error: the tool fails closed.

pub mod budgets;
pub mod cache;
pub mod compat;
pub use crate::finding;
pub mod graph;
pub mod kill;
pub mod rollout;
pub mod signoff;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use jiff::Timestamp;
use rayon::prelude::*;
use serde::Serialize;

use crate::bundle::history::{self, History, HistoryError, LoadedKill};
use crate::bundle::integrity;
use crate::bundle::manifest::{
    self, AssetFormat, AssetKind, MANIFEST_FILE, MANIFEST_MAX_BYTES, Manifest, hex32,
};
use crate::bundle::signature::{self, KeyError, Keyring, MANIFEST_PREFIX, VerifyRequest};
use crate::bundle::source::{BundleSource, ReadLimits, SourceError};
use crate::bundle::time::format_utc;
use crate::format::{self, AnimationInfo, DecodeLimits};
use compat::{BUILTIN_TIERS, Fleet, FleetError, Matrix};
use finding::{Area, Code, Finding, Reporter, Summary, summarize};

/// Inputs beside the bundle, and the clock.
#[derive(Debug, Clone)]
pub struct CheckOptions {
    /// Keyring (`--keys`); without it signatures are skipped (`sig-skipped`).
    pub keys: Option<PathBuf>,
    /// Fleet file (`--fleet`); without it the matrix is skipped (`fleet-skipped`).
    pub fleet: Option<PathBuf>,
    /// Release history (`--history`).
    pub history: Option<PathBuf>,
    /// Kill document (`--kill`), with its envelope beside it.
    pub kill: Option<PathBuf>,
    /// The one clock reading the check uses (`--now`).
    pub now: Timestamp,
    /// Layout size caps.
    pub read_limits: ReadLimits,
    /// Decoder limits.
    pub decode_limits: DecodeLimits,
    /// Whether to decode assets (true for `check`).
    pub decode: bool,
    /// Decode cache directory (`--cache`); `None`: decode everything.
    pub cache: Option<PathBuf>,
}

impl CheckOptions {
    /// Options with no side inputs, the given clock and default limits.
    #[must_use]
    pub fn new(now: Timestamp) -> Self {
        Self {
            keys: None,
            fleet: None,
            history: None,
            kill: None,
            now,
            read_limits: ReadLimits::default(),
            decode_limits: DecodeLimits::default(),
            decode: true,
            cache: None,
        }
    }
}

/// Errors that stop a check from running (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// The bundle path cannot be read.
    #[error(transparent)]
    Source(#[from] SourceError),
    /// The keyring cannot be read.
    #[error(transparent)]
    Keys(#[from] KeyError),
    /// The fleet file cannot be read.
    #[error(transparent)]
    Fleet(#[from] FleetError),
    /// The history or kill file cannot be read.
    #[error(transparent)]
    History(#[from] HistoryError),
}

/// A bundle that verified: its typed manifest, its source, and the kill document in force.
#[derive(Debug)]
pub struct Verified {
    /// The manifest.
    pub manifest: Manifest,
    /// The bundle's files.
    pub source: BundleSource,
    /// Effects killed by the kill document given (`--kill`) when it is in force.
    pub killed: BTreeSet<String>,
}

/// Verifies a bundle without decoding (fail closed, spec §10) with `opts` (keys, kill,
/// clock), and returns what verified, or the findings that block playing it.
///
/// # Errors
/// [`CheckError`] when the bundle, keyring or kill document cannot be read at all.
pub fn open_verified(
    bundle: &Path,
    opts: &CheckOptions,
) -> Result<Result<Verified, Vec<Finding>>, CheckError> {
    let opts = CheckOptions {
        decode: false,
        ..opts.clone()
    };
    let (report, source) = check_and_open(bundle, &opts, &|_| {})?;
    let blocking: Vec<Finding> = report.blocking_findings().cloned().collect();
    if !blocking.is_empty() {
        return Ok(Err(blocking));
    }
    let Some(manifest) = report.manifest else {
        return Ok(Err(report.findings));
    };
    let killed = report
        .kill
        .filter(|k| k.in_force)
        .map(|k| k.killed.into_iter().collect())
        .unwrap_or_default();
    Ok(Ok(Verified {
        manifest,
        source,
        killed,
    }))
}

/// The report header (spec §11 `bundle`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct BundleHeader {
    /// `bundle_id` as written.
    pub bundle_id: String,
    /// `version` as written.
    pub version: String,
    /// BLAKE3 hex of the exact `manifest.json` bytes.
    pub manifest_blake3: String,
}

/// What the check learned about one asset.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AssetReport {
    /// Asset id.
    pub id: String,
    /// Effect or resource.
    pub kind: AssetKind,
    /// Declared format.
    pub format: AssetFormat,
    /// Number of files.
    pub files: usize,
    /// Sum of file sizes, bytes.
    pub size_bytes: u64,
    /// Decoded summary, when decoding ran and succeeded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub info: Option<AnimationInfo>,
}

/// The kill document applied, as reported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KillSummary {
    /// Its sequence number.
    pub seq: u64,
    /// Whether it is in force at the check's clock reading.
    pub in_force: bool,
    /// Killed ids.
    pub killed: Vec<String>,
}

/// Everything `check` reports.
#[derive(Debug, Clone, Serialize)]
pub struct CheckReport {
    /// Header, when the manifest named its bundle.
    pub bundle: Option<BundleHeader>,
    /// Counts by severity.
    pub summary: Summary,
    /// Sorted findings.
    pub findings: Vec<Finding>,
    /// Per-asset results, in manifest order.
    pub assets: Vec<AssetReport>,
    /// The compatibility matrix, with a fleet.
    pub matrix: Option<Matrix>,
    /// The kill document applied, if any.
    pub kill: Option<KillSummary>,
    /// Why assets were not decoded, when they were not (fail closed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decode_skipped: Option<String>,
    /// The clock reading used.
    pub now: String,
    /// Bytes hashed (not part of the JSON contract; for progress and benchmarks).
    #[serde(skip)]
    pub hashed_bytes: u64,
    /// The typed manifest, when it was clean.
    #[serde(skip)]
    pub manifest: Option<Manifest>,
    /// The exact bytes of `manifest.json` and `manifest.sig` this check verified: what a
    /// sign-off signs, never a second read (spec §8).
    #[serde(skip)]
    pub verified_bytes: Option<VerifiedBytes>,
}

/// The bytes a check verified (see [`CheckReport::verified_bytes`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedBytes {
    /// `manifest.json`.
    pub manifest: Vec<u8>,
    /// `manifest.sig`, when the bundle has one and it was read.
    pub manifest_sig: Option<Vec<u8>>,
}

impl CheckReport {
    /// Whether any error finding stands.
    #[must_use]
    pub fn has_errors(&self) -> bool {
        self.summary.errors > 0
    }

    /// The errors that keep the bundle from being decoded or played (spec §10: manifest,
    /// archive, integrity and trust areas; the tool fails closed on them).
    pub fn blocking_findings(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(|f| {
            f.severity == finding::Severity::Error
                && matches!(
                    f.code.area(),
                    Area::Manifest | Area::Archive | Area::Integrity | Area::Trust
                )
        })
    }
}

/// Progress of a running check, for a progress bar.
#[derive(Debug, Clone, Copy)]
pub enum Progress {
    /// Hashing starts: total bytes to hash.
    HashStart(u64),
    /// This many more bytes were hashed.
    Hashed(u64),
    /// Hashing is done.
    HashDone,
}

/// Runs every rule of `check` on the bundle at `path`.
///
/// # Errors
/// [`CheckError`] when the bundle or a side input cannot be read at all (exit code 2). Every
/// problem inside them is a finding instead.
pub fn run_check(
    path: &Path,
    opts: &CheckOptions,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<CheckReport, CheckError> {
    check_and_open(path, opts, progress).map(|(report, _)| report)
}

/// [`run_check`], handing on the bundle as the check read it: the source is pinned to what
/// it verified (every listed file's declared BLAKE3, `manifest.json` and `manifest.sig` as
/// read), so a later read returns those bytes or fails with `ReadError::Changed`; nothing
/// reopens the bundle after a check (see [`BundleSource::pin`]).
///
/// # Errors
/// As [`run_check`].
pub fn check_and_open(
    path: &Path,
    opts: &CheckOptions,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<(CheckReport, BundleSource), CheckError> {
    let mut rep = Reporter::new();
    let keyring = opts
        .keys
        .as_deref()
        .map(|k| Keyring::load(k, &mut rep))
        .transpose()?;
    let fleet = opts.fleet.as_deref().map(Fleet::load).transpose()?;
    let hist = opts
        .history
        .as_deref()
        .map(|h| History::load(h, false))
        .transpose()?;
    let mut src = BundleSource::open(path, opts.read_limits, &mut rep)?;

    // Manifest area.
    let manifest_bytes = if src.readable {
        match src.files().get(MANIFEST_FILE) {
            None => {
                rep.push(
                    Finding::new(
                        Code::ManifestMissing,
                        "the bundle has no manifest.json at its root",
                    )
                    .path(MANIFEST_FILE),
                );
                None
            }
            Some(&size) if size > MANIFEST_MAX_BYTES => {
                rep.push(
                    Finding::new(
                        Code::ManifestTooLarge,
                        format!("{size} bytes, over the {MANIFEST_MAX_BYTES}-byte limit"),
                    )
                    .path(MANIFEST_FILE)
                    .expected_actual(format!("≤ {MANIFEST_MAX_BYTES}"), size.to_string()),
                );
                None
            }
            Some(_) => match src.read(MANIFEST_FILE, MANIFEST_MAX_BYTES) {
                Ok(b) => Some(b),
                Err(e) => {
                    rep.push(
                        Finding::new(Code::ManifestTooLarge, format!("cannot be read: {e}"))
                            .path(MANIFEST_FILE),
                    );
                    None
                }
            },
        }
    } else {
        None
    };
    let read = manifest_bytes
        .as_deref()
        .map(|b| manifest::read_manifest(b, &mut rep))
        .unwrap_or_default();
    let manifest_digest = manifest_bytes
        .as_deref()
        .map(|b| *blake3::hash(b).as_bytes());
    let header = match (&read.header, manifest_digest) {
        (Some((id, v)), Some(d)) => Some(BundleHeader {
            bundle_id: id.clone(),
            version: v.clone(),
            manifest_blake3: hex32(&d),
        }),
        _ => None,
    };
    if let Some(m) = &read.manifest
        && m.expires <= opts.now
    {
        rep.push(
            Finding::new(
                Code::ManifestExpired,
                format!(
                    "expired at {}; the check's clock reads {}",
                    format_utc(m.expires),
                    format_utc(opts.now)
                ),
            )
            .path(MANIFEST_FILE)
            .expected_actual(
                format!("expires > {}", format_utc(opts.now)),
                format_utc(m.expires),
            ),
        );
    }

    // Integrity.
    let mut hashed_bytes = 0;
    if src.readable && manifest_bytes.is_some() {
        let total: u64 = read
            .files
            .iter()
            .filter_map(|f| src.files().get(&f.path))
            .sum();
        progress(Progress::HashStart(total));
        hashed_bytes = integrity::verify_files(
            &src,
            &read.files,
            &|n| progress(Progress::Hashed(n)),
            &mut rep,
        );
        progress(Progress::HashDone);
    }

    // Trust.
    let mut sig_bytes: Option<Vec<u8>> = None;
    match (&keyring, &manifest_bytes) {
        (None, _) => rep.push(
            Finding::new(
                Code::SigSkipped,
                "no keyring given (--keys): signatures were not checked",
            )
            .path("manifest.sig"),
        ),
        (Some(kr), Some(doc)) => {
            let env = src
                .files()
                .contains_key("manifest.sig")
                .then(|| src.read("manifest.sig", MANIFEST_MAX_BYTES).ok())
                .flatten();
            sig_bytes.clone_from(&env);
            let req = VerifyRequest {
                prefix: MANIFEST_PREFIX,
                doc,
                envelope: env.as_deref(),
                sig_path: "manifest.sig",
                roles: &["publisher"],
                threshold: kr.threshold("publisher"),
            };
            signature::verify(kr, &req, &mut rep);
        }
        (Some(_), None) => {}
    }

    // From here on, reads return the verified bytes or fail.
    let mut pins: BTreeMap<String, [u8; 32]> = read
        .files
        .iter()
        .filter_map(|f| Some((f.path.clone(), f.blake3?)))
        .collect();
    if let Some(d) = manifest_digest {
        pins.insert(MANIFEST_FILE.to_owned(), d);
    }
    if let Some(sig) = &sig_bytes {
        pins.insert("manifest.sig".to_owned(), *blake3::hash(sig).as_bytes());
    }
    src.pin(pins);

    // Rules on the typed manifest.
    let mut matrix = None;
    let mut kill_summary = None;
    if let (Some(m), Some(digest)) = (&read.manifest, manifest_digest) {
        if let Some(h) = &hist {
            h.check(m, &digest, &mut rep);
        }
        let kill: Option<LoadedKill> = opts
            .kill
            .as_deref()
            .map(|k| {
                history::load_kill(
                    k,
                    Some(&m.bundle_id),
                    keyring.as_ref(),
                    hist.as_ref(),
                    opts.now,
                    &mut rep,
                )
            })
            .transpose()?;
        let graph_ok = graph::check_graph(m, &mut rep);
        if let Some(r) = &m.rollout {
            rollout::check_rollout(r, &mut rep);
        }
        compat::check_ranges(m, &BUILTIN_TIERS, &mut rep);
        let killed: BTreeSet<String> = kill
            .as_ref()
            .filter(|k| k.in_force)
            .map(|k| k.doc.killed.iter().cloned().collect())
            .unwrap_or_default();
        if let Some(k) = &kill {
            kill_summary = Some(KillSummary {
                seq: k.doc.seq,
                in_force: k.in_force,
                killed: k.doc.killed.clone(),
            });
        }
        match &fleet {
            None => rep.push(Finding::new(
                Code::FleetSkipped,
                "no fleet file given (--fleet): the compatibility matrix was not built",
            )),
            Some(f) if graph_ok => {
                matrix = Some(compat::check_fleet(m, f, &BUILTIN_TIERS, &killed, &mut rep));
            }
            Some(_) => rep.push(Finding::new(
                Code::FleetSkipped,
                "the compatibility matrix needs a sound dependency and fallback graph",
            )),
        }
    }

    // Decoding, fail closed.
    let mut assets = Vec::new();
    let blocked = rep.has_error_in(&[Area::Manifest, Area::Archive, Area::Integrity, Area::Trust]);
    let decode_skipped = blocked.then(|| {
        "the bundle has errors in the manifest, archive, integrity or trust areas, so nothing of it is decoded (fail closed)".to_owned()
    });
    if let Some(m) = &read.manifest {
        let cache = opts.cache.as_deref().map(cache::DecodeCache::new);
        let results: Vec<(Option<AnimationInfo>, Vec<Finding>)> = m
            .assets
            .par_iter()
            .map(|a| {
                if blocked || !opts.decode {
                    return (None, Vec::new());
                }
                let Some(c) = &cache else {
                    return decode_one(a, &src, &opts.decode_limits);
                };
                let key = cache::DecodeCache::key(a, &opts.decode_limits);
                if let Some(hit) = c.get(&key) {
                    return (hit.info, hit.findings);
                }
                let (info, findings) = decode_one(a, &src, &opts.decode_limits);
                c.put(
                    &key,
                    &cache::Decoded {
                        info: info.clone(),
                        findings: findings.clone(),
                    },
                );
                (info, findings)
            })
            .collect();
        for (a, (info, findings)) in m.assets.iter().zip(results) {
            for f in findings {
                rep.push(f);
            }
            assets.push(AssetReport {
                id: a.id.clone(),
                kind: a.kind,
                format: a.format,
                files: a.files.len(),
                size_bytes: a.size_bytes(),
                info,
            });
        }
    }

    let findings = rep.finish();
    let report = CheckReport {
        bundle: header,
        summary: summarize(&findings),
        findings,
        assets,
        matrix,
        kill: kill_summary,
        decode_skipped,
        now: format_utc(opts.now),
        hashed_bytes,
        manifest: read.manifest,
        verified_bytes: manifest_bytes.map(|manifest| VerifiedBytes {
            manifest,
            manifest_sig: sig_bytes,
        }),
    };
    Ok((report, src))
}

fn decode_one(
    a: &manifest::Asset,
    src: &BundleSource,
    limits: &DecodeLimits,
) -> (Option<AnimationInfo>, Vec<Finding>) {
    let mut findings = Vec::new();
    for f in &a.files {
        let head = src.with_reader(&f.path, |r| {
            let mut buf = vec![0u8; 4096];
            let mut n = 0;
            while n < buf.len() {
                match r.read(&mut buf[n..])? {
                    0 => break,
                    k => n += k,
                }
            }
            buf.truncate(n);
            Ok(buf)
        });
        match head
            .map_err(|e| e.to_string())
            .and_then(|h| format::check_magic(a.format, &h).map_err(|e| e.to_string()))
        {
            Ok(_) => {}
            Err(why) => findings.push(
                Finding::new(Code::FormatMismatch, why)
                    .asset(a.id.clone())
                    .path(f.path.clone()),
            ),
        }
    }
    if !findings.is_empty() {
        return (None, findings);
    }
    match format::decode_asset(a, src, limits) {
        Ok(info) => {
            let path = a.files.first().map(|f| f.path.clone()).unwrap_or_default();
            for adv in &info.advice {
                findings.push(
                    Finding::new(adv.code, adv.message.clone())
                        .asset(a.id.clone())
                        .path(path.clone()),
                );
            }
            (Some(info), findings)
        }
        Err(why) => {
            let path = a.files.first().map(|f| f.path.clone()).unwrap_or_default();
            findings.push(
                Finding::new(Code::DecodeFailed, why.to_string())
                    .asset(a.id.clone())
                    .path(path),
            );
            (None, findings)
        }
    }
}
