//! `giftqa approve` and `giftqa verify-signoff` (spec §8): the release manager's sign-off.

use std::path::{Path, PathBuf};

use jiff::Timestamp;

use super::finding::{Code, Finding, Reporter, sort_findings};
use super::{CheckError, CheckOptions, CheckReport, run_check};
use crate::bundle::history::History;
use crate::bundle::manifest::MANIFEST_FILE;
use crate::bundle::signature::{self, KeyError, Keyring};
use crate::bundle::signoff::{self, Current, Signoff, Waiver};
use crate::bundle::source::{BundleSource, ReadLimits};
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
    /// Waivers.
    pub waivers: Vec<Waiver>,
    /// The approval time (also the check's clock).
    pub now: Timestamp,
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
    let waivers = signoff::gate(&report.findings, &req.waivers, &mut rep);
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
    let mut src_rep = Reporter::new();
    let src = BundleSource::open(&req.bundle, ReadLimits::default(), &mut src_rep)
        .map_err(CheckError::from)?;
    let manifest = src
        .read(MANIFEST_FILE, crate::bundle::manifest::MANIFEST_MAX_BYTES)
        .map_err(|e| file_err(&req.bundle.join(MANIFEST_FILE), e))?;
    let manifest_sig = src
        .read("manifest.sig", crate::bundle::manifest::MANIFEST_MAX_BYTES)
        .ok();
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
        warnings: report.summary.warnings,
        waivers,
        approved_at: format_utc(req.now),
        approver_keyids: keyids,
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
    for (path, bytes) in [
        (dir.join("signoff.json"), json),
        (dir.join("signoff.sig"), sig),
        (req.history.clone(), hist_bytes),
    ] {
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
    let mut src_rep = Reporter::new();
    let src = BundleSource::open(bundle, ReadLimits::default(), &mut src_rep)
        .map_err(CheckError::from)?;
    let manifest = src
        .read(MANIFEST_FILE, crate::bundle::manifest::MANIFEST_MAX_BYTES)
        .unwrap_or_default();
    let manifest_sig = src
        .read("manifest.sig", crate::bundle::manifest::MANIFEST_MAX_BYTES)
        .ok();
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
    Ok((rep.finish(), doc))
}
