//! Release history (spec §5) and kill documents (spec §6).

use std::path::{Path, PathBuf};

use jiff::Timestamp;
use semver::Version;
use serde::{Deserialize, Serialize};

use super::manifest::{Manifest, cmp_precedence, hex32, parse_semver};
use super::signature::{self, KILL_PREFIX, Keyring, VerifyRequest};
use super::time::parse_utc;
use crate::finding::{Code, Finding, Reporter, Severity};

/// Errors reading a history or kill file (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    /// The file could not be read.
    #[error("cannot read {path:?}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not the expected JSON.
    #[error("{path:?} is not a valid {what}: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// "history" or "kill document".
        what: &'static str,
        /// Why.
        message: String,
    },
}

/// One approval of `history.json`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Approval {
    /// Bundle id.
    pub bundle_id: String,
    /// Approved version (strict `SemVer`).
    pub version: String,
    /// BLAKE3 hex of the approved `manifest.json`.
    pub manifest_blake3: String,
    /// When, `YYYY-MM-DDTHH:MM:SSZ`.
    pub approved_at: String,
    /// Keyid of the approver.
    pub approver_keyid: String,
}

/// One recorded kill sequence number.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct KillRecord {
    /// Bundle id.
    pub bundle_id: String,
    /// The kill document's `seq`.
    pub seq: u64,
    /// BLAKE3 of the kill document's bytes, when `giftqa kill` recorded it: checking that very
    /// document again is a re-check, not a rollback.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kill_blake3: Option<String>,
}

/// `history.json` (spec §5).
#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct History {
    /// Approvals in the order they were appended.
    #[serde(default)]
    pub approvals: Vec<Approval>,
    /// Kills in the order they were recorded.
    #[serde(default)]
    pub kills: Vec<KillRecord>,
}

impl History {
    /// Loads `history.json`; a missing file is an empty history only when `allow_missing`.
    ///
    /// # Errors
    /// [`HistoryError`] when the file cannot be read or parsed.
    pub fn load(path: &Path, allow_missing: bool) -> Result<Self, HistoryError> {
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) if allow_missing && e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Self::default());
            }
            Err(source) => {
                return Err(HistoryError::Io {
                    path: path.to_owned(),
                    source,
                });
            }
        };
        let h: Self = serde_json::from_slice(&bytes).map_err(|e| HistoryError::Invalid {
            path: path.to_owned(),
            what: "history",
            message: e.to_string(),
        })?;
        for (i, a) in h.approvals.iter().enumerate() {
            if parse_semver(&a.version).is_none() {
                return Err(HistoryError::Invalid {
                    path: path.to_owned(),
                    what: "history",
                    message: format!("approvals[{i}].version {:?} is not SemVer", a.version),
                });
            }
        }
        Ok(h)
    }

    /// The highest kill `seq` recorded for a bundle.
    #[must_use]
    pub fn last_kill_seq(&self, bundle_id: &str) -> Option<u64> {
        self.kills
            .iter()
            .filter(|k| k.bundle_id == bundle_id)
            .map(|k| k.seq)
            .max()
    }

    /// Reports `version-rollback` and `version-reused` for this manifest (spec §5).
    pub fn check(&self, m: &Manifest, manifest_blake3: &[u8; 32], rep: &mut Reporter) {
        let digest = hex32(manifest_blake3);
        let same: Vec<(&Approval, Version)> = self
            .approvals
            .iter()
            .filter(|a| a.bundle_id == m.bundle_id)
            .filter_map(|a| parse_semver(&a.version).map(|v| (a, v)))
            .collect();
        if let Some((top, v)) = same.iter().max_by(|a, b| cmp_precedence(&a.1, &b.1))
            && cmp_precedence(&m.version, v).is_lt()
        {
            rep.push(
                Finding::new(
                    Code::VersionRollback,
                    format!(
                        "version {} is below {} approved at {}",
                        m.version, v, top.approved_at
                    ),
                )
                .path("manifest.json")
                .expected_actual(format!("≥ {v}"), m.version.to_string()),
            );
        }
        if let Some((a, _)) = same
            .iter()
            .find(|(a, v)| cmp_precedence(v, &m.version).is_eq() && a.manifest_blake3 != digest)
        {
            rep.push(
                Finding::new(
                    Code::VersionReused,
                    format!(
                        "version {} was approved at {} with another manifest",
                        m.version, a.approved_at
                    ),
                )
                .path("manifest.json")
                .expected_actual(a.manifest_blake3.clone(), digest),
            );
        }
    }
}

/// A kill document (`kill.json`, spec §6).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct KillDoc {
    /// Always `giftbundle-kill/1`.
    pub format: String,
    /// The bundle it applies to.
    pub bundle_id: String,
    /// Monotonic sequence number.
    pub seq: u64,
    /// When it was issued.
    pub issued: String,
    /// When it stops applying.
    pub expires: String,
    /// Killed effect ids, or `["*"]` for every effect.
    pub killed: Vec<String>,
}

/// A kill document that was read, with whether it is in force at the check's clock reading.
#[derive(Debug, Clone)]
pub struct LoadedKill {
    /// The document.
    pub doc: KillDoc,
    /// Whether it verified and `issued ≤ now < expires`: only then is it applied.
    pub in_force: bool,
}

impl LoadedKill {
    /// Whether an effect id is killed by this document while it is in force.
    #[must_use]
    pub fn kills(&self, id: &str) -> bool {
        self.in_force && self.doc.killed.iter().any(|k| k == "*" || k == id)
    }
}

/// Reads `kill.json` and its envelope (same stem, `.sig`), verifies it against the keyring
/// (a `publisher` or `approver` key, threshold 1), and checks its `seq` against the history
/// (spec §6).
///
/// A document that does not verify — no keyring to verify it with, a missing, bad or unknown
/// signature, another `bundle_id`, expired — is `kill-invalid` (the trust findings of its
/// envelope are reported beside it) and is **never applied**: `in_force` is false.
///
/// # Errors
/// [`HistoryError`] when the document cannot be read or is not a kill document at all.
pub fn load_kill(
    path: &Path,
    bundle_id: Option<&str>,
    keyring: Option<&Keyring>,
    history: Option<&History>,
    now: Timestamp,
    rep: &mut Reporter,
) -> Result<LoadedKill, HistoryError> {
    let invalid = |message: String| HistoryError::Invalid {
        path: path.to_owned(),
        what: "kill document",
        message,
    };
    let bytes = std::fs::read(path).map_err(|source| HistoryError::Io {
        path: path.to_owned(),
        source,
    })?;
    let doc: KillDoc = serde_json::from_slice(&bytes).map_err(|e| invalid(e.to_string()))?;
    if doc.format != "giftbundle-kill/1" {
        return Err(invalid(format!(
            "format is {:?}, expected \"giftbundle-kill/1\"",
            doc.format
        )));
    }
    let name = path.file_name().map_or_else(
        || "kill.json".to_owned(),
        |n| n.to_string_lossy().into_owned(),
    );
    let mut why: Vec<String> = Vec::new();
    if let Some(id) = bundle_id
        && doc.bundle_id != id
    {
        why.push(format!("it kills bundle {:?}, not {id:?}", doc.bundle_id));
    }
    let times = parse_utc(&doc.issued).zip(parse_utc(&doc.expires));
    match times {
        None => why.push("issued and expires must be YYYY-MM-DDTHH:MM:SSZ".into()),
        Some((_, expires)) if expires <= now => {
            why.push(format!("it expired at {}", doc.expires));
        }
        Some(_) => {}
    }
    let sig_path = path.with_extension("sig");
    let sig_name = sig_path.file_name().map_or_else(
        || "kill.sig".to_owned(),
        |n| n.to_string_lossy().into_owned(),
    );
    match keyring {
        Some(kr) => {
            let env = std::fs::read(&sig_path).ok();
            let req = VerifyRequest {
                prefix: KILL_PREFIX,
                doc: &bytes,
                envelope: env.as_deref(),
                sig_path: &sig_name,
                roles: &["publisher", "approver"],
                threshold: 1,
            };
            let mut sub = Reporter::new();
            signature::verify(kr, &req, &mut sub);
            let trust: Vec<Finding> = sub.finish();
            let codes: Vec<&str> = trust
                .iter()
                .filter(|f| f.severity == Severity::Error)
                .map(|f| f.code.as_str())
                .collect();
            if !codes.is_empty() {
                why.push(format!(
                    "its signature does not verify ({})",
                    codes.join(", ")
                ));
            }
            for f in trust {
                rep.push(f);
            }
        }
        None => why.push("no keyring (--keys) to verify its signature with".into()),
    }
    if !why.is_empty() {
        rep.push(
            Finding::new(
                Code::KillInvalid,
                format!("the kill document is not applied: {}", why.join("; ")),
            )
            .path(name.clone()),
        );
    }
    let digest = hex32(blake3::hash(&bytes).as_bytes());
    let recorded = history.is_some_and(|h| {
        h.kills.iter().any(|k| {
            k.bundle_id == doc.bundle_id
                && k.seq == doc.seq
                && k.kill_blake3.as_deref() == Some(digest.as_str())
        })
    });
    if let Some(last) = history.and_then(|h| h.last_kill_seq(&doc.bundle_id))
        && doc.seq <= last
        && !recorded
    {
        rep.push(
            Finding::new(
                Code::KillSeqRollback,
                format!(
                    "seq {} is not above the last recorded kill seq {last}",
                    doc.seq
                ),
            )
            .path(name)
            .expected_actual(format!("> {last}"), doc.seq.to_string()),
        );
    }
    let in_force =
        why.is_empty() && times.is_some_and(|(issued, expires)| issued <= now && now < expires);
    Ok(LoadedKill { doc, in_force })
}
