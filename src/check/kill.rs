//! `giftqa kill` (spec §6, §11): issue or extend a signed kill document for a bundle, with
//! `seq` above every kill recorded, and record it in the release history.
//!
//! The document is written beside the bundle, never into it (`<bundle>.kill.json` and its
//! envelope `<bundle>.kill.sig`, or `--out`), each file atomically, then the history.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use jiff::Timestamp;

use super::finding::{Finding, Reporter};
use super::signoff::{SignoffError, signoff_dir};
use super::{CheckOptions, open_verified};
use crate::bundle::history::{History, KillDoc, KillRecord, load_kill};
use crate::bundle::manifest::AssetKind;
use crate::bundle::signature::{self, Envelope, KILL_PREFIX, Keyring};
use crate::bundle::time::format_utc;
use crate::fsutil::write_atomic;

/// Longest a kill may be issued for, hours (30 days).
pub const MAX_KILL_HOURS: u64 = 24 * 30;

/// What `kill` was asked for.
#[derive(Debug, Clone)]
pub struct KillRequest {
    /// Bundle directory or zip.
    pub bundle: PathBuf,
    /// Effect id to kill, or `*` for every effect.
    pub asset: String,
    /// A `publisher` or `approver` secret key.
    pub key: PathBuf,
    /// The keyring.
    pub keyring: PathBuf,
    /// The release history: its kills give the next `seq`; the kill is appended.
    pub history: PathBuf,
    /// Where the kill document goes; default [`default_kill_path`].
    pub out: Option<PathBuf>,
    /// How long the kill stays in force, hours (1 to [`MAX_KILL_HOURS`]).
    pub hours: u64,
    /// The issue time.
    pub now: Timestamp,
}

/// What `kill` did.
#[derive(Debug)]
pub struct KillOutcome {
    /// The document written, when it was.
    pub doc: Option<KillDoc>,
    /// Findings that refused it (the bundle does not verify).
    pub findings: Vec<Finding>,
    /// Files written, in order.
    pub written: Vec<PathBuf>,
}

/// `<bundle name>.kill.json` beside the bundle (directory or zip).
#[must_use]
pub fn default_kill_path(bundle: &Path) -> PathBuf {
    let name = bundle
        .file_stem()
        .map_or_else(|| "bundle".into(), |n| n.to_string_lossy().into_owned());
    let parent = if bundle.is_dir() {
        bundle
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map_or_else(|| PathBuf::from("."), Path::to_owned)
    } else {
        signoff_dir(bundle)
    };
    parent.join(format!("{name}.kill.json"))
}

fn err(path: &Path, e: impl std::fmt::Display) -> SignoffError {
    SignoffError::File {
        path: path.to_owned(),
        message: e.to_string(),
    }
}

/// Verifies the bundle, then writes (or extends) the kill document: the killed set of a kill
/// already there and in force is kept and `asset` added; `seq` is one above the highest of the
/// history's kills and the existing document's.
///
/// # Errors
/// [`SignoffError`] when the bundle, key, keyring or history cannot be read, the key is not a
/// `publisher` or `approver` of the keyring, the asset is not an effect of the bundle, or a
/// file cannot be written.
pub fn issue_kill(req: &KillRequest) -> Result<KillOutcome, SignoffError> {
    if !(1..=MAX_KILL_HOURS).contains(&req.hours) {
        return Err(err(
            &req.bundle,
            format!(
                "--hours {} is out of range (1 to {MAX_KILL_HOURS})",
                req.hours
            ),
        ));
    }
    let opts = CheckOptions {
        keys: Some(req.keyring.clone()),
        ..CheckOptions::new(req.now)
    };
    let verified = match open_verified(&req.bundle, &opts)? {
        Ok(v) => v,
        Err(findings) => {
            return Ok(KillOutcome {
                doc: None,
                findings,
                written: Vec::new(),
            });
        }
    };
    let m = &verified.manifest;
    if req.asset != "*"
        && !m
            .assets
            .iter()
            .any(|a| a.id == req.asset && a.kind == AssetKind::Effect)
    {
        let effects: Vec<&str> = m
            .assets
            .iter()
            .filter(|a| a.kind == AssetKind::Effect)
            .map(|a| a.id.as_str())
            .collect();
        return Err(err(
            &req.bundle,
            format!(
                "{:?} is not an effect of the bundle (effects: {}, or *)",
                req.asset,
                effects.join(", ")
            ),
        ));
    }
    let secret = signature::load_secret(&req.key)?;
    let keyid = signature::keyid_of(&secret.verifying_key());
    let mut ring_rep = Reporter::new();
    let keyring = Keyring::load(&req.keyring, &mut ring_rep)?;
    let allowed = keyring
        .keys
        .iter()
        .any(|k| k.keyid == keyid && k.roles.iter().any(|r| r == "publisher" || r == "approver"));
    if !allowed {
        return Err(err(
            &req.key,
            format!(
                "key {}… is not a publisher or approver in {}",
                &keyid[..12],
                req.keyring.display()
            ),
        ));
    }
    let history = if req.history.exists() {
        History::load(&req.history, false).map_err(|e| err(&req.history, e))?
    } else {
        History::default()
    };
    let path = req
        .out
        .clone()
        .unwrap_or_else(|| default_kill_path(&req.bundle));
    // A kill already there, verified and in force, is extended.
    let mut killed: BTreeSet<String> = BTreeSet::new();
    let mut seq = history.last_kill_seq(&m.bundle_id).unwrap_or(0);
    if path.exists() {
        let mut rep = Reporter::new();
        let old = load_kill(
            &path,
            Some(&m.bundle_id),
            Some(&keyring),
            None,
            req.now,
            &mut rep,
        )
        .map_err(|e| err(&path, e))?;
        seq = seq.max(old.doc.seq);
        if old.in_force {
            killed.extend(old.doc.killed);
        }
    }
    killed.insert(req.asset.clone());
    if killed.contains("*") {
        killed = BTreeSet::from(["*".to_owned()]);
    }
    let expires = req
        .now
        .checked_add(jiff::SignedDuration::from_hours(
            i64::try_from(req.hours).unwrap_or(24),
        ))
        .map_err(|e| err(&path, e))?;
    let doc = KillDoc {
        format: "giftbundle-kill/1".into(),
        bundle_id: m.bundle_id.clone(),
        seq: seq + 1,
        issued: format_utc(req.now),
        expires: format_utc(expires),
        killed: killed.into_iter().collect(),
    };
    let mut json = serde_json::to_vec_pretty(&doc).map_err(|e| err(&path, e))?;
    json.push(b'\n');
    let mut env = Envelope::default();
    signature::add_signature(&mut env, &secret, KILL_PREFIX, &json);
    let mut sig = serde_json::to_vec_pretty(&env).map_err(|e| err(&path, e))?;
    sig.push(b'\n');
    let mut history = history;
    history.kills.push(KillRecord {
        bundle_id: doc.bundle_id.clone(),
        seq: doc.seq,
        kill_blake3: Some(crate::bundle::manifest::hex32(
            blake3::hash(&json).as_bytes(),
        )),
    });
    let mut hist = serde_json::to_vec_pretty(&history).map_err(|e| err(&req.history, e))?;
    hist.push(b'\n');
    let mut written = Vec::new();
    for (p, bytes) in [
        (path.clone(), json),
        (path.with_extension("sig"), sig),
        (req.history.clone(), hist),
    ] {
        write_atomic(&p, &bytes, None).map_err(|e| err(&p, e))?;
        written.push(p);
    }
    Ok(KillOutcome {
        doc: Some(doc),
        findings: Vec::new(),
        written,
    })
}
