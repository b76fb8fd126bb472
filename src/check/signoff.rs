//! `giftqa approve` and `giftqa verify-signoff` (spec §8): the release manager's sign-off.

use std::path::{Path, PathBuf};

use jiff::Timestamp;

use super::finding::{Code, Finding, Reporter, sort_findings};
use super::{CheckError, CheckOptions, CheckReport, run_check};
use crate::bundle::history::History;
use crate::bundle::integrity::SIGNOFF_SMOKE_FILE;
use crate::bundle::manifest::MANIFEST_FILE;
use crate::bundle::signature::{self, KeyError, Keyring};
use crate::bundle::signoff::{self, Current, Signoff, Waiver};
use crate::bundle::time::format_utc;
use crate::fsutil::write_atomic;

/// Errors that stop `approve` or `verify-signoff` from running (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum SignoffError {
    /// The check could not run.
    #[error(transparent)]
    Check(#[from] CheckError),
    /// A key could not be loaded.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// A file could not be read or written.
    #[error("{path:?}: {message}")]
    File {
        /// The file.
        path: PathBuf,
        /// Why.
        message: String,
    },
}

/// Where sign-off files live: inside a bundle directory, beside a zip.
#[must_use]
pub fn signoff_dir(bundle: &Path) -> PathBuf {
    if bundle.is_dir() {
        bundle.to_owned()
    } else {
        bundle
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map_or_else(|| PathBuf::from("."), Path::to_owned)
    }
}

/// What `approve` was asked for.
#[derive(Debug, Clone)]
pub struct ApproveRequest {
    /// Bundle directory or zip.
    pub bundle: PathBuf,
    /// Approver secret keys (one or more, for an approver threshold above 1).
    pub keys: Vec<PathBuf>,
    /// The keyring.
    pub keyring: PathBuf,
    /// The release history to check against and append to (created when missing).
    pub history: PathBuf,
    /// Fleet file, for the compatibility matrix.
    pub fleet: Option<PathBuf>,
    /// Waivers, for check and playback warnings alike.
    pub waivers: Vec<Waiver>,
    /// A smoke report (`report.json`) of this very manifest to rest the sign-off on; without
    /// it `approve` runs smoke itself ([`DEFAULT_SMOKE_SCENARIOS`] on every built-in tier,
    /// simulated) and keeps the report beside the sign-off.
    pub smoke: Option<PathBuf>,
    /// The approval time (also the check's clock).
    pub now: Timestamp,
}

/// The scenarios `approve` runs when it is given no smoke report.
pub const DEFAULT_SMOKE_SCENARIOS: [&str; 2] = ["single", "storm"];

/// Largest smoke report read, bytes.
pub const MAX_SMOKE_REPORT_BYTES: u64 = 64 * 1024 * 1024;

/// A smoke report as a sign-off reads it.
struct SmokeRun {
    /// The report's exact bytes.
    bytes: Vec<u8>,
    /// Where it came from (messages).
    name: String,
    /// Its `bundle.manifest_blake3`.
    manifest_blake3: Option<String>,
    /// Tier and scenario names that ran.
    tiers: Vec<String>,
    scenarios: Vec<String>,
    /// Its findings.
    findings: Vec<Finding>,
}

/// Why a smoke report cannot be taken as the sign-off's evidence.
#[derive(Debug, thiserror::Error)]
enum SmokeReportError {
    #[error("{name}: not JSON: {source}")]
    Json {
        name: String,
        source: serde_json::Error,
    },
    #[error("{name}: not a smoke report (no runs)")]
    NoRuns { name: String },
    #[error("{name}: unknown finding code {code:?}")]
    UnknownCode { name: String, code: String },
}

impl SmokeRun {
    /// Reads a smoke report's JSON (spec §9, §11 `smoke --format json`).
    fn parse(bytes: Vec<u8>, name: String) -> Result<Self, SmokeReportError> {
        let v: serde_json::Value = match serde_json::from_slice(&bytes) {
            Ok(v) => v,
            Err(source) => return Err(SmokeReportError::Json { name, source }),
        };
        let text = |v: &serde_json::Value| v.as_str().map(str::to_owned);
        let manifest_blake3 = text(&v["bundle"]["manifest_blake3"]);
        let mut tiers = Vec::new();
        let mut scenarios = Vec::new();
        for r in v["runs"].as_array().into_iter().flatten() {
            if let Some(t) = text(&r["tier"])
                && !tiers.contains(&t)
            {
                tiers.push(t);
            }
            if let Some(sc) = text(&r["scenario"])
                && !scenarios.contains(&sc)
            {
                scenarios.push(sc);
            }
        }
        if tiers.is_empty() {
            return Err(SmokeReportError::NoRuns { name });
        }
        let mut findings = Vec::new();
        for f in v["findings"].as_array().into_iter().flatten() {
            let code = text(&f["code"]).unwrap_or_default();
            let Some(code) = Code::from_name(&code) else {
                return Err(SmokeReportError::UnknownCode { name, code });
            };
            let mut g = Finding::new(code, text(&f["message"]).unwrap_or_default());
            g.asset = text(&f["asset"]);
            g.path = text(&f["path"]);
            findings.push(g);
        }
        Ok(Self {
            bytes,
            name,
            manifest_blake3,
            tiers,
            scenarios,
            findings,
        })
    }
}

/// What `approve` did.
#[derive(Debug)]
pub struct ApproveOutcome {
    /// The check report the approvers signed off.
    pub report: CheckReport,
    /// Sign-off findings (refusals), sorted.
    pub findings: Vec<Finding>,
    /// The sign-off, when it was written.
    pub signoff: Option<Signoff>,
    /// Files written.
    pub written: Vec<PathBuf>,
}

fn file_err(path: &Path, e: impl std::fmt::Display) -> SignoffError {
    SignoffError::File {
        path: path.to_owned(),
        message: e.to_string(),
    }
}

/// Checks the bundle, refuses while an error stands or a warning has no waiver, and writes
/// `signoff.json` and `signoff.sig` (beside the manifest, or beside a zip) and appends the
/// history, each atomically, in that order.
///
/// # Errors
/// [`SignoffError`] when the bundle, keys or history cannot be read or written.
pub fn approve(req: &ApproveRequest) -> Result<ApproveOutcome, SignoffError> {
    let history_exists = req.history.exists();
    let opts = CheckOptions {
        keys: Some(req.keyring.clone()),
        fleet: req.fleet.clone(),
        history: history_exists.then(|| req.history.clone()),
        ..CheckOptions::new(req.now)
    };
    let report = run_check(&req.bundle, &opts, &|_| {})?;
    let mut rep = Reporter::new();
    let (smoke, smoke_ran) = match &req.smoke {
        Some(path) => {
            let bytes = read_capped(path, MAX_SMOKE_REPORT_BYTES)?;
            let run = SmokeRun::parse(bytes, path.display().to_string())
                .map_err(|e| file_err(path, e))?;
            (Some(run), false)
        }
        None => (run_smoke_for(req, &report)?, true),
    };
    let digest_checked = report.bundle.as_ref().map(|b| b.manifest_blake3.clone());
    let mut all = report.findings.clone();
    if let Some(run) = &smoke {
        if run.manifest_blake3 != digest_checked {
            rep.push(
                Finding::new(
                    Code::SignoffStale,
                    format!(
                        "{} is a smoke report of another manifest: sign-off rests on a smoke run of the bundle checked",
                        run.name
                    ),
                )
                .expected_actual(
                    digest_checked.clone().unwrap_or_default(),
                    run.manifest_blake3.clone().unwrap_or_default(),
                ),
            );
        }
        all.extend(run.findings.iter().cloned());
    }
    let waivers = signoff::gate(&all, &req.waivers, &mut rep);
    let secret: Vec<ed25519_dalek::SigningKey> = req
        .keys
        .iter()
        .map(|k| signature::load_secret(k))
        .collect::<Result<_, _>>()?;
    let keyids: Vec<String> = secret
        .iter()
        .map(|k| signature::keyid_of(&k.verifying_key()))
        .collect();
    let mut ring_rep = Reporter::new();
    let keyring = Keyring::load(&req.keyring, &mut ring_rep)?;
    signoff::check_authorized(&keyring, &keyids, &mut rep);
    if keyids.len() < keyring.threshold("approver") {
        rep.push(
            Finding::new(
                Code::SignoffUnauthorized,
                format!(
                    "{} approver key(s) given, the keyring's approver threshold is {}",
                    keyids.len(),
                    keyring.threshold("approver")
                ),
            )
            .expected_actual(
                keyring.threshold("approver").to_string(),
                keyids.len().to_string(),
            ),
        );
    }
    let mut findings = rep.finish();
    if !findings.is_empty() {
        sort_findings(&mut findings);
        return Ok(ApproveOutcome {
            report,
            findings,
            signoff: None,
            written: Vec::new(),
        });
    }
    // The digests signed are of the bytes the check verified, never of a second read.
    let verified = report.verified_bytes.clone().ok_or_else(|| {
        file_err(
            &req.bundle.join(MANIFEST_FILE),
            "the check read no manifest",
        )
    })?;
    let (manifest, manifest_sig) = (verified.manifest, verified.manifest_sig);
    let header = report
        .bundle
        .clone()
        .ok_or_else(|| file_err(&req.bundle, "the manifest names no bundle"))?;
    let report_json =
        crate::report::json::check_json(&report).map_err(|e| file_err(&req.bundle, e))?;
    let doc = Signoff {
        format: signoff::FORMAT.to_owned(),
        bundle_id: header.bundle_id,
        version: header.version,
        manifest_blake3: signoff::digest(Some(&manifest)),
        manifest_sig_blake3: signoff::digest(manifest_sig.as_deref()),
        report_blake3: signoff::digest(Some(report_json.as_bytes())),
        tool_version: env!("CARGO_PKG_VERSION").to_owned(),
        errors: report.summary.errors,
        warnings: all
            .iter()
            .filter(|f| f.severity == super::finding::Severity::Warning)
            .count(),
        waivers,
        approved_at: format_utc(req.now),
        approver_keyids: keyids,
        smoke: smoke.as_ref().map(|run| signoff::SmokeRef {
            report_blake3: signoff::digest(Some(&run.bytes)),
            tiers: run.tiers.clone(),
            scenarios: run.scenarios.clone(),
        }),
    };
    let (json, sig) = signoff::seal(&doc, &secret).map_err(|e| file_err(&req.bundle, e))?;
    let dir = signoff_dir(&req.bundle);
    let mut history = if history_exists {
        History::load(&req.history, false).map_err(|e| file_err(&req.history, e))?
    } else {
        History::default()
    };
    signoff::append(&mut history, &doc);
    let mut hist_bytes =
        serde_json::to_vec_pretty(&history).map_err(|e| file_err(&req.history, e))?;
    hist_bytes.push(b'\n');
    let mut written = Vec::new();
    let mut files = Vec::new();
    if smoke_ran && let Some(run) = &smoke {
        files.push((dir.join(SIGNOFF_SMOKE_FILE), run.bytes.clone()));
    }
    files.extend([
        (dir.join("signoff.json"), json),
        (dir.join("signoff.sig"), sig),
        (req.history.clone(), hist_bytes),
    ]);
    for (path, bytes) in files {
        write_atomic(&path, &bytes, None).map_err(|e| file_err(&path, e))?;
        written.push(path);
    }
    Ok(ApproveOutcome {
        report,
        findings: Vec::new(),
        signoff: Some(doc),
        written,
    })
}

/// Reads at most `cap` bytes of a file.
fn read_capped(path: &Path, cap: u64) -> Result<Vec<u8>, SignoffError> {
    let len = std::fs::metadata(path)
        .map_err(|e| file_err(path, e))?
        .len();
    if len > cap {
        return Err(file_err(path, format!("{len} bytes; at most {cap}")));
    }
    std::fs::read(path).map_err(|e| file_err(path, e))
}

/// Runs smoke for a sign-off: every built-in tier, [`DEFAULT_SMOKE_SCENARIOS`], simulated, on
/// the bundle just checked. `None` when the bundle does not verify (its errors already refuse
/// the sign-off).
fn run_smoke_for(
    req: &ApproveRequest,
    report: &CheckReport,
) -> Result<Option<SmokeRun>, SignoffError> {
    if report.blocking_findings().next().is_some() {
        return Ok(None);
    }
    let smoke_req = crate::report::smoke::SmokeRequest {
        bundle: req.bundle.clone(),
        keys: Some(req.keyring.clone()),
        fleet: req.fleet.clone(),
        kill: None,
        kills: std::collections::BTreeSet::new(),
        tiers: crate::playback::tiers::builtin_tiers(),
        scenarios: DEFAULT_SMOKE_SCENARIOS.map(str::to_owned).to_vec(),
        now: req.now,
    };
    let outcome = crate::report::smoke::run_smoke(
        &smoke_req,
        &mut crate::report::smoke::Simulate,
        &|_, _| {},
    )
    .map_err(|e| file_err(&req.bundle, format!("smoke could not run: {e}")))?;
    let Ok(smoke) = outcome else {
        return Ok(None);
    };
    let mut bytes = serde_json::to_vec_pretty(&smoke).map_err(|e| file_err(&req.bundle, e))?;
    bytes.push(b'\n');
    SmokeRun::parse(bytes, SIGNOFF_SMOKE_FILE.to_owned())
        .map(Some)
        .map_err(|e| file_err(&req.bundle, e))
}

/// Verifies a sign-off against the bundle as it is now: the bundle must still verify (its
/// files, manifest and signatures), the sign-off's digests must match, and it must be signed
/// by approver keys to the threshold. Returns the findings (sorted) and the sign-off.
///
/// # Errors
/// [`SignoffError`] when the bundle or keyring cannot be read, or there is no sign-off.
pub fn verify_signoff(
    bundle: &Path,
    keyring_path: &Path,
    dir: Option<&Path>,
    smoke: Option<&Path>,
    now: Timestamp,
) -> Result<(Vec<Finding>, Option<Signoff>), SignoffError> {
    let opts = CheckOptions {
        keys: Some(keyring_path.to_owned()),
        decode: false,
        ..CheckOptions::new(now)
    };
    let report = run_check(bundle, &opts, &|_| {})?;
    let mut rep = Reporter::new();
    let broken: Vec<&Finding> = report.blocking_findings().collect();
    for f in &broken {
        let mut g = Finding::new(
            Code::SignoffStale,
            format!("the bundle no longer verifies: {} {}", f.code, f.message),
        );
        g.asset.clone_from(&f.asset);
        g.path.clone_from(&f.path);
        rep.push(g);
    }
    let dir = dir.map_or_else(|| signoff_dir(bundle), Path::to_owned);
    let json_path = dir.join("signoff.json");
    let json = std::fs::read(&json_path)
        .map_err(|e| file_err(&json_path, format!("no sign-off to verify: {e}")))?;
    let sig = std::fs::read(dir.join("signoff.sig")).ok();
    let mut ring_rep = Reporter::new();
    let keyring = Keyring::load(keyring_path, &mut ring_rep)?;
    let verified = report.verified_bytes.clone();
    let manifest = verified
        .as_ref()
        .map(|v| v.manifest.clone())
        .unwrap_or_default();
    let manifest_sig = verified.and_then(|v| v.manifest_sig);
    let (bundle_id, version) = report
        .bundle
        .as_ref()
        .map(|b| (b.bundle_id.clone(), b.version.clone()))
        .unwrap_or_default();
    let current = Current {
        bundle_id: &bundle_id,
        version: &version,
        manifest: &manifest,
        manifest_sig: manifest_sig.as_deref(),
    };
    let doc = signoff::verify(&json, sig.as_deref(), &keyring, &current, &mut rep);
    if let Some(d) = &doc {
        verify_smoke(d, smoke, &dir, &signoff::digest(Some(&manifest)), &mut rep)?;
    }
    Ok((rep.finish(), doc))
}

/// The smoke run a sign-off rests on (spec §8): the report given (or `signoff-smoke.json`
/// beside the sign-off) must be the one signed (`report_blake3`) and of the bundle's manifest
/// as it is now; a sign-off without a smoke run no longer covers playback. Each failure is
/// `signoff-stale`.
fn verify_smoke(
    doc: &Signoff,
    smoke: Option<&Path>,
    dir: &Path,
    manifest_blake3: &str,
    rep: &mut Reporter,
) -> Result<(), SignoffError> {
    let stale = |rep: &mut Reporter, message: String| {
        rep.push(Finding::new(Code::SignoffStale, message).path("signoff.json"));
    };
    let Some(sref) = &doc.smoke else {
        stale(
            rep,
            "the sign-off rests on no smoke run: sign-off covers playback (approve again)".into(),
        );
        return Ok(());
    };
    let beside = dir.join(SIGNOFF_SMOKE_FILE);
    let path = match smoke {
        Some(p) => p.to_owned(),
        None if beside.exists() => beside,
        None => return Ok(()),
    };
    let bytes = read_capped(&path, MAX_SMOKE_REPORT_BYTES)?;
    let d = signoff::digest(Some(&bytes));
    if d != sref.report_blake3 {
        rep.push(
            Finding::new(
                Code::SignoffStale,
                format!(
                    "{} is not the smoke report the sign-off rests on",
                    path.display()
                ),
            )
            .path("signoff.json")
            .expected_actual(sref.report_blake3.clone(), d),
        );
    }
    let run = SmokeRun::parse(bytes, path.display().to_string()).map_err(|e| file_err(&path, e))?;
    if run.manifest_blake3.as_deref() != Some(manifest_blake3) {
        rep.push(
            Finding::new(
                Code::SignoffStale,
                format!(
                    "{}: the smoke run was of another manifest than the bundle's now",
                    path.display()
                ),
            )
            .path("signoff.json")
            .expected_actual(
                manifest_blake3.to_owned(),
                run.manifest_blake3.unwrap_or_default(),
            ),
        );
    }
    Ok(())
}
