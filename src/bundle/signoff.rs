//! Sign-off (spec §8): `signoff.json` + `signoff.sig`, signed by `approver` keys to the
//! approver threshold, and the release history it appends to (spec §5).
//!
//! A sign-off binds the exact bytes of `manifest.json` and `manifest.sig` (their BLAKE3), the
//! check report it was given (its BLAKE3), the counts of errors and warnings, and a waiver with
//! a reason for every warning. It is refused while any error stands (`signoff-blocked`), by a
//! key without the `approver` role (`signoff-unauthorized`), and it is stale once the bundle
//! no longer matches it (`signoff-stale`).

use serde::{Deserialize, Serialize};

use super::history::{Approval, History};
use super::manifest::hex32;
use super::signature::{self, Envelope, Keyring, SIGNOFF_PREFIX, VerifyRequest};
use crate::finding::{Code, Finding, Reporter, Severity};

/// The sign-off document's format string.
pub const FORMAT: &str = "giftbundle-signoff/1";

/// A waiver: why a warning is accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Waiver {
    /// The finding code waived.
    pub code: String,
    /// The asset it concerns (empty for findings without an asset).
    pub asset: String,
    /// Why it is accepted.
    pub reason: String,
}

impl std::str::FromStr for Waiver {
    type Err = String;

    /// Parses `CODE:ASSET:REASON` (ASSET may be empty: `CODE::REASON`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut parts = s.splitn(3, ':');
        let (Some(code), Some(asset), Some(reason)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(format!("{s:?} is not CODE:ASSET:REASON"));
        };
        if Code::from_name(code).is_none() {
            return Err(format!("{code:?} is not a finding code"));
        }
        if reason.trim().is_empty() {
            return Err(format!("the waiver of {code} needs a reason"));
        }
        Ok(Self {
            code: code.to_owned(),
            asset: asset.to_owned(),
            reason: reason.trim().to_owned(),
        })
    }
}

/// `signoff.json` (spec §8).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Signoff {
    /// Always `giftbundle-signoff/1`.
    pub format: String,
    /// Bundle id.
    pub bundle_id: String,
    /// Bundle version.
    pub version: String,
    /// BLAKE3 hex of `manifest.json`.
    pub manifest_blake3: String,
    /// BLAKE3 hex of `manifest.sig`.
    pub manifest_sig_blake3: String,
    /// BLAKE3 hex of the check report (its JSON) the approvers saw.
    pub report_blake3: String,
    /// giftqa version that made it.
    pub tool_version: String,
    /// Errors in that report (always 0: sign-off is refused otherwise).
    pub errors: usize,
    /// Warnings in that report, each waived.
    pub warnings: usize,
    /// The waivers.
    pub waivers: Vec<Waiver>,
    /// When, `YYYY-MM-DDTHH:MM:SSZ`.
    pub approved_at: String,
    /// Keyids of the approvers who sign it.
    pub approver_keyids: Vec<String>,
    /// The smoke run the sign-off rests on (spec §8); absent only in sign-offs made before
    /// sign-off covered playback.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smoke: Option<SmokeRef>,
}

/// The smoke run a sign-off rests on (spec §8).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmokeRef {
    /// BLAKE3 hex of the smoke report's JSON bytes.
    pub report_blake3: String,
    /// Tiers that ran.
    pub tiers: Vec<String>,
    /// Scenarios that ran.
    pub scenarios: Vec<String>,
}

/// What a sign-off is judged against: the bundle as it is now.
#[derive(Debug, Clone, Copy)]
pub struct Current<'a> {
    /// Bundle id.
    pub bundle_id: &'a str,
    /// Version.
    pub version: &'a str,
    /// `manifest.json` bytes.
    pub manifest: &'a [u8],
    /// `manifest.sig` bytes, if present.
    pub manifest_sig: Option<&'a [u8]>,
}

/// BLAKE3 hex of bytes (an absent file hashes as empty).
#[must_use]
pub fn digest(bytes: Option<&[u8]>) -> String {
    hex32(blake3::hash(bytes.unwrap_or_default()).as_bytes())
}

/// Decides whether a check report may be signed off: refused (`signoff-blocked`) while an
/// error stands or a warning has no waiver. Returns the waivers that apply.
pub fn gate(findings: &[Finding], waivers: &[Waiver], rep: &mut Reporter) -> Vec<Waiver> {
    let errors: Vec<&Finding> = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .collect();
    if !errors.is_empty() {
        let list: Vec<String> = errors
            .iter()
            .take(5)
            .map(|f| {
                format!(
                    "{}{}",
                    f.code,
                    f.asset
                        .as_ref()
                        .map(|a| format!(" ({a})"))
                        .unwrap_or_default()
                )
            })
            .collect();
        rep.push(
            Finding::new(
                Code::SignoffBlocked,
                format!("{} error(s) stand: {}", errors.len(), list.join(", ")),
            )
            .expected_actual("0 errors", errors.len().to_string()),
        );
    }
    let mut used = Vec::new();
    for w in findings.iter().filter(|f| f.severity == Severity::Warning) {
        let asset = w.asset.clone().unwrap_or_default();
        if let Some(v) = waivers
            .iter()
            .find(|v| v.code == w.code.as_str() && v.asset == asset)
        {
            if !used.contains(v) {
                used.push(v.clone());
            }
        } else {
            let mut f = Finding::new(
                Code::SignoffBlocked,
                format!(
                    "warning {} needs a waiver: --waive {}:{}:REASON",
                    w.code, w.code, asset
                ),
            );
            f.asset.clone_from(&w.asset);
            rep.push(f);
        }
    }
    used
}

/// Signs a sign-off with each approver key and returns `(signoff.json bytes, signoff.sig
/// bytes)`.
///
/// # Errors
/// Only if serialisation fails.
pub fn seal(
    doc: &Signoff,
    keys: &[ed25519_dalek::SigningKey],
) -> serde_json::Result<(Vec<u8>, Vec<u8>)> {
    let mut json = serde_json::to_vec_pretty(doc)?;
    json.push(b'\n');
    let mut env = Envelope::default();
    for k in keys {
        signature::add_signature(&mut env, k, SIGNOFF_PREFIX, &json);
    }
    let mut sig = serde_json::to_vec_pretty(&env)?;
    sig.push(b'\n');
    Ok((json, sig))
}

/// Checks that every approver key holds the `approver` role (`signoff-unauthorized`).
pub fn check_authorized(keyring: &Keyring, keyids: &[String], rep: &mut Reporter) {
    for id in keyids {
        let ok = keyring
            .keys
            .iter()
            .any(|k| &k.keyid == id && k.roles.iter().any(|r| r == "approver"));
        if !ok {
            rep.push(
                Finding::new(
                    Code::SignoffUnauthorized,
                    format!(
                        "key {}… is not an approver in the keyring",
                        &id[..id.len().min(12)]
                    ),
                )
                .path("signoff.sig")
                .expected_actual("a key with the approver role", id.clone()),
            );
        }
    }
}

/// Verifies a sign-off against the keyring and the bundle as it is now: signatures by approver
/// keys to the threshold (`signoff-unauthorized`), and digests, bundle id and version that
/// still match (`signoff-stale`). Returns the parsed document when it could be read.
pub fn verify(
    json: &[u8],
    sig: Option<&[u8]>,
    keyring: &Keyring,
    now: &Current<'_>,
    rep: &mut Reporter,
) -> Option<Signoff> {
    let doc: Signoff = match serde_json::from_slice(json) {
        Ok(d) => d,
        Err(e) => {
            rep.push(
                Finding::new(
                    Code::SignoffStale,
                    format!("signoff.json is not a valid sign-off: {e}"),
                )
                .path("signoff.json"),
            );
            return None;
        }
    };
    if doc.format != FORMAT {
        rep.push(
            Finding::new(
                Code::SignoffStale,
                format!("format {:?} is not {FORMAT:?}", doc.format),
            )
            .path("signoff.json"),
        );
    }
    // Signatures: by approver keys, to the approver threshold.
    let mut sig_rep = Reporter::new();
    let req = VerifyRequest {
        prefix: SIGNOFF_PREFIX,
        doc: json,
        envelope: sig,
        sig_path: "signoff.sig",
        roles: &["approver"],
        threshold: keyring.threshold("approver"),
    };
    let valid = signature::verify(keyring, &req, &mut sig_rep);
    let signed_by: Vec<String> = sig
        .and_then(|s| serde_json::from_slice::<Envelope>(s).ok())
        .map(|e| e.signatures.into_iter().map(|s| s.keyid).collect())
        .unwrap_or_default();
    for f in sig_rep.finish() {
        let code = if f.code == Code::SigThreshold
            || f.code == Code::SigUnknownKey
            || f.code == Code::SigMissing
            || f.code == Code::SigInvalid
        {
            Code::SignoffUnauthorized
        } else {
            f.code
        };
        let mut g = Finding::new(code, format!("{} ({})", f.message, f.code));
        g.path = f.path;
        g.expected = f.expected;
        g.actual = f.actual;
        rep.push(g);
    }
    let known_non_approvers: Vec<String> = signed_by
        .iter()
        .filter(|id| !valid.contains(id) && keyring.keys.iter().any(|k| &k.keyid == *id))
        .cloned()
        .collect();
    check_authorized(keyring, &known_non_approvers, rep);
    let stale = |rep: &mut Reporter, what: &str, expected: &str, actual: String| {
        rep.push(
            Finding::new(
                Code::SignoffStale,
                format!("{what} no longer matches the sign-off"),
            )
            .path("signoff.json")
            .expected_actual(expected, actual),
        );
    };
    if doc.bundle_id != now.bundle_id {
        stale(rep, "bundle_id", &doc.bundle_id, now.bundle_id.to_owned());
    }
    if doc.version != now.version {
        stale(rep, "version", &doc.version, now.version.to_owned());
    }
    let m = digest(Some(now.manifest));
    if doc.manifest_blake3 != m {
        stale(rep, "manifest.json", &doc.manifest_blake3, m);
    }
    let s = digest(now.manifest_sig);
    if doc.manifest_sig_blake3 != s {
        stale(rep, "manifest.sig", &doc.manifest_sig_blake3, s);
    }
    Some(doc)
}

/// The approval records a sign-off appends to the history, one per approver.
#[must_use]
pub fn approvals(doc: &Signoff) -> Vec<Approval> {
    doc.approver_keyids
        .iter()
        .map(|k| Approval {
            bundle_id: doc.bundle_id.clone(),
            version: doc.version.clone(),
            manifest_blake3: doc.manifest_blake3.clone(),
            approved_at: doc.approved_at.clone(),
            approver_keyid: k.clone(),
        })
        .collect()
}

/// Appends the sign-off's approvals to a history.
pub fn append(history: &mut History, doc: &Signoff) {
    history.approvals.extend(approvals(doc));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waivers_parse() {
        let w: Waiver = "first-frame-slow:rose-burst:heavy but rare"
            .parse()
            .unwrap();
        assert_eq!(
            (w.code.as_str(), w.asset.as_str(), w.reason.as_str()),
            ("first-frame-slow", "rose-burst", "heavy but rare")
        );
        let w: Waiver = "burst-dropped::queue limit is by design: ok"
            .parse()
            .unwrap();
        assert_eq!(
            (w.asset.as_str(), w.reason.as_str()),
            ("", "queue limit is by design: ok")
        );
        assert!("nope:x:y".parse::<Waiver>().is_err());
        assert!("first-frame-slow:x: ".parse::<Waiver>().is_err());
    }

    #[test]
    fn gate_blocks_errors_and_unwaived_warnings() {
        let warn = Finding::new(Code::CompatBelowMin, "w").asset("a");
        let err = Finding::new(Code::AssetMissing, "e").asset("b");
        let mut rep = Reporter::new();
        gate(std::slice::from_ref(&warn), &[], &mut rep);
        assert!(rep.has(Code::SignoffBlocked));
        let mut rep = Reporter::new();
        let used = gate(
            std::slice::from_ref(&warn),
            &["compat-below-min:a:known".parse().unwrap()],
            &mut rep,
        );
        assert!(rep.findings().is_empty());
        assert_eq!(used.len(), 1);
        let mut rep = Reporter::new();
        gate(
            &[warn, err],
            &["compat-below-min:a:known".parse().unwrap()],
            &mut rep,
        );
        assert_eq!(rep.findings().len(), 1);
        assert!(rep.findings()[0].message.contains("asset-missing (b)"));
    }
}
