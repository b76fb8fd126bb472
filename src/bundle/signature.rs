//! Signatures and keys (spec §4, §6, §8): Ed25519 envelopes over exact bytes, a keyring with
//! roles and thresholds, and the secret/public key files `giftqa keygen` writes.
//!
//! The signed message is an ASCII prefix (e.g. `giftbundle/1 manifest\n`) followed by the
//! exact bytes of the document, so no canonical JSON is needed. Verification is strict
//! (`verify_strict`: non-canonical signatures and small-order keys are rejected). A keyid is
//! the BLAKE3-256 hex of the raw 32-byte public key and is recomputed on load.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};

use super::manifest::{hex32, parse_hex32};
use crate::finding::{Code, Finding, Reporter};

/// Message prefix of a manifest signature (spec §4).
pub const MANIFEST_PREFIX: &[u8] = b"giftbundle/1 manifest\n";
/// Message prefix of a kill document signature (spec §6).
pub const KILL_PREFIX: &[u8] = b"giftbundle/1 kill\n";
/// Message prefix of a sign-off signature (spec §8).
pub const SIGNOFF_PREFIX: &[u8] = b"giftbundle/1 signoff\n";

/// Errors loading a keyring or key file (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The file could not be read.
    #[error("cannot read {path:?}: {source}")]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not the expected JSON.
    #[error("{path:?} is not a valid {what}: {message}")]
    Invalid {
        /// The file.
        path: std::path::PathBuf,
        /// "keyring", "secret key", …
        what: &'static str,
        /// Why.
        message: String,
    },
}

/// The keyid of a public key: BLAKE3-256 hex of its 32 raw bytes.
#[must_use]
pub fn keyid_of(public: &VerifyingKey) -> String {
    hex32(blake3::hash(public.as_bytes()).as_bytes())
}

/// One trusted key of the keyring.
#[derive(Debug, Clone)]
pub struct TrustedKey {
    /// Recomputed keyid (64 hex).
    pub keyid: String,
    /// The public key.
    pub public: VerifyingKey,
    /// Display name, e.g. "Release CI".
    pub name: String,
    /// Roles: `publisher`, `approver`.
    pub roles: Vec<String>,
}

/// The team's keyring (`trusted-keys.json`, spec §4).
#[derive(Debug, Clone, Default)]
pub struct Keyring {
    /// Keys that loaded and whose keyid matched.
    pub keys: Vec<TrustedKey>,
    /// Role → number of distinct valid signatures needed.
    pub thresholds: BTreeMap<String, usize>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawKeyring {
    keys: Vec<RawKey>,
    #[serde(default)]
    thresholds: BTreeMap<String, usize>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawKey {
    keyid: String,
    public: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    roles: Vec<String>,
}

/// Why a keyring's public key is refused (`sig-invalid` on the keyring, spec §4).
#[derive(Debug, thiserror::Error)]
pub enum PublicKeyError {
    /// Not standard base64.
    #[error("public key is not base64: {0}")]
    Base64(#[from] base64::DecodeError),
    /// Not 32 bytes once decoded.
    #[error("public key is not 32 bytes")]
    Length,
    /// Not a point of the curve.
    #[error("public key is not a valid Ed25519 point: {0}")]
    Point(ed25519_dalek::SignatureError),
    /// A small-order point: any signature would verify.
    #[error("public key has small order and is refused")]
    Weak,
}

fn decode_public(b64: &str) -> Result<VerifyingKey, PublicKeyError> {
    let bytes = B64.decode(b64)?;
    let arr: [u8; 32] = bytes.try_into().map_err(|_| PublicKeyError::Length)?;
    let key = VerifyingKey::from_bytes(&arr).map_err(PublicKeyError::Point)?;
    if key.is_weak() {
        return Err(PublicKeyError::Weak);
    }
    Ok(key)
}

impl Keyring {
    /// Loads a keyring file. Keys whose recorded keyid differs from the recomputed one are
    /// left out and reported as `keyid-mismatch`; invalid or small-order keys as `sig-invalid`.
    ///
    /// # Errors
    /// [`KeyError`] when the file cannot be read or is not a keyring.
    pub fn load(path: &Path, rep: &mut Reporter) -> Result<Self, KeyError> {
        let bytes = std::fs::read(path).map_err(|source| KeyError::Io {
            path: path.to_owned(),
            source,
        })?;
        let raw: RawKeyring = serde_json::from_slice(&bytes).map_err(|e| KeyError::Invalid {
            path: path.to_owned(),
            what: "keyring",
            message: e.to_string(),
        })?;
        let file = path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        let mut keys = Vec::new();
        for (i, k) in raw.keys.into_iter().enumerate() {
            let public = match decode_public(&k.public) {
                Ok(p) => p,
                Err(why) => {
                    rep.push(
                        Finding::new(
                            Code::SigInvalid,
                            format!("keyring key {i} ({:?}): {why}", k.name),
                        )
                        .path(file.clone()),
                    );
                    continue;
                }
            };
            let keyid = keyid_of(&public);
            if keyid != k.keyid {
                rep.push(
                    Finding::new(
                        Code::KeyidMismatch,
                        format!(
                            "keyring key {i} ({:?}): recorded keyid does not match its public key",
                            k.name
                        ),
                    )
                    .path(file.clone())
                    .expected_actual(keyid, k.keyid),
                );
                continue;
            }
            keys.push(TrustedKey {
                keyid,
                public,
                name: k.name,
                roles: k.roles,
            });
        }
        Ok(Self {
            keys,
            thresholds: raw.thresholds,
        })
    }

    /// The threshold for a role (at least 1).
    #[must_use]
    pub fn threshold(&self, role: &str) -> usize {
        self.thresholds.get(role).copied().unwrap_or(1).max(1)
    }

    fn find(&self, keyid: &str) -> Option<&TrustedKey> {
        self.keys.iter().find(|k| k.keyid == keyid)
    }
}

/// One signature of an envelope.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct EnvelopeSig {
    /// Keyid of the signing key, 64 hex.
    pub keyid: String,
    /// Base64 (standard alphabet, padded) of the 64-byte signature.
    pub sig: String,
}

/// A signature envelope (`manifest.sig`, `kill.sig`, `signoff.sig`).
#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Envelope {
    /// The signatures.
    pub signatures: Vec<EnvelopeSig>,
}

fn message(prefix: &[u8], doc: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(prefix.len() + doc.len());
    m.extend_from_slice(prefix);
    m.extend_from_slice(doc);
    m
}

/// What to verify: which document, under which prefix, by which roles, to which threshold.
#[derive(Debug, Clone, Copy)]
pub struct VerifyRequest<'a> {
    /// Message prefix.
    pub prefix: &'a [u8],
    /// Exact bytes of the signed document.
    pub doc: &'a [u8],
    /// Envelope bytes, or `None` when the `.sig` file is absent.
    pub envelope: Option<&'a [u8]>,
    /// Path of the envelope for findings (e.g. `manifest.sig`).
    pub sig_path: &'a str,
    /// Roles whose keys count.
    pub roles: &'a [&'a str],
    /// Valid distinct signatures needed.
    pub threshold: usize,
}

/// Verifies an envelope against the keyring, reporting every trust finding. Returns the
/// keyids of distinct valid signatures by keys holding one of the roles.
pub fn verify(keyring: &Keyring, req: &VerifyRequest<'_>, rep: &mut Reporter) -> Vec<String> {
    let path = req.sig_path;
    let Some(env_bytes) = req.envelope else {
        rep.push(
            Finding::new(
                Code::SigMissing,
                "no signature envelope; sign with `giftqa sign`",
            )
            .path(path),
        );
        return Vec::new();
    };
    let env: Envelope = match serde_json::from_slice(env_bytes) {
        Ok(e) => e,
        Err(e) => {
            rep.push(
                Finding::new(Code::SigInvalid, format!("the envelope is not valid: {e}"))
                    .path(path),
            );
            return Vec::new();
        }
    };
    let msg = message(req.prefix, req.doc);
    let mut seen = HashSet::new();
    let mut valid = Vec::new();
    for (i, s) in env.signatures.iter().enumerate() {
        if parse_hex32(&s.keyid).is_none() {
            rep.push(
                Finding::new(
                    Code::SigInvalid,
                    format!("signature {i}: keyid {:?} is not 64 lowercase hex", s.keyid),
                )
                .path(path),
            );
            continue;
        }
        if !seen.insert(s.keyid.clone()) {
            rep.push(
                Finding::new(
                    Code::SigDuplicateKeyid,
                    format!(
                        "signature {i}: key {} signs more than once; it counts once",
                        short(&s.keyid)
                    ),
                )
                .path(path),
            );
            continue;
        }
        let Some(key) = keyring.find(&s.keyid) else {
            rep.push(
                Finding::new(
                    Code::SigUnknownKey,
                    format!(
                        "signature {i}: key {} is not in the keyring",
                        short(&s.keyid)
                    ),
                )
                .path(path)
                .expected_actual("a keyring keyid", s.keyid.clone()),
            );
            continue;
        };
        let sig = B64
            .decode(&s.sig)
            .ok()
            .and_then(|b| <[u8; 64]>::try_from(b).ok())
            .map(|b| Signature::from_bytes(&b));
        let Some(sig) = sig else {
            rep.push(
                Finding::new(
                    Code::SigInvalid,
                    format!("signature {i} by {:?}: not 64 bytes of base64", key.name),
                )
                .path(path),
            );
            continue;
        };
        if key.public.verify_strict(&msg, &sig).is_err() {
            rep.push(
                Finding::new(
                    Code::SigInvalid,
                    format!("signature {i} by {:?} does not verify", key.name),
                )
                .path(path),
            );
            continue;
        }
        if key.roles.iter().any(|r| req.roles.contains(&r.as_str())) {
            valid.push(key.keyid.clone());
        }
    }
    if valid.len() < req.threshold {
        rep.push(
            Finding::new(
                Code::SigThreshold,
                format!(
                    "{} valid signature(s) by {} keys, {} needed",
                    valid.len(),
                    req.roles.join(" or "),
                    req.threshold
                ),
            )
            .path(path)
            .expected_actual(req.threshold.to_string(), valid.len().to_string()),
        );
    }
    valid
}

fn short(keyid: &str) -> String {
    format!("{}…", &keyid[..keyid.len().min(12)])
}

/// A secret key file written by `giftqa keygen` (`NAME.key`, mode 0600).
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretKeyFile {
    /// Always `giftqa-ed25519-secret/1`.
    pub format: String,
    /// Keyid of the public half.
    pub keyid: String,
    /// Base64 of the 32-byte public key.
    pub public: String,
    /// Base64 of the 32-byte Ed25519 seed.
    pub secret: String,
    /// Display name.
    #[serde(default)]
    pub name: String,
}

/// A public key file written by `giftqa keygen` (`NAME.pub`): a ready keyring entry.
#[derive(Debug, Serialize, Deserialize)]
pub struct PublicKeyFile {
    /// Keyid (64 hex).
    pub keyid: String,
    /// Base64 of the 32-byte public key.
    pub public: String,
    /// Display name.
    pub name: String,
    /// Suggested roles.
    pub roles: Vec<String>,
}

/// Generates a new key pair from the operating system's randomness.
///
/// # Errors
/// When the OS has no randomness to give.
pub fn generate(
    name: &str,
    roles: &[String],
) -> Result<(SecretKeyFile, PublicKeyFile), getrandom::Error> {
    let mut seed = [0u8; 32];
    getrandom::getrandom(&mut seed)?;
    let sk = SigningKey::from_bytes(&seed);
    let public = sk.verifying_key();
    let keyid = keyid_of(&public);
    Ok((
        SecretKeyFile {
            format: "giftqa-ed25519-secret/1".into(),
            keyid: keyid.clone(),
            public: B64.encode(public.as_bytes()),
            secret: B64.encode(seed),
            name: name.to_owned(),
        },
        PublicKeyFile {
            keyid,
            public: B64.encode(public.as_bytes()),
            name: name.to_owned(),
            roles: roles.to_vec(),
        },
    ))
}

/// Loads a secret key file.
///
/// # Errors
/// [`KeyError`] when it cannot be read, is not a key file, or its keyid does not match.
pub fn load_secret(path: &Path) -> Result<SigningKey, KeyError> {
    let bytes = std::fs::read(path).map_err(|source| KeyError::Io {
        path: path.to_owned(),
        source,
    })?;
    let invalid = |message: String| KeyError::Invalid {
        path: path.to_owned(),
        what: "secret key",
        message,
    };
    let f: SecretKeyFile = serde_json::from_slice(&bytes).map_err(|e| invalid(e.to_string()))?;
    let seed: [u8; 32] = B64
        .decode(&f.secret)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| invalid("secret is not 32 bytes of base64".into()))?;
    let sk = SigningKey::from_bytes(&seed);
    if keyid_of(&sk.verifying_key()) != f.keyid {
        return Err(invalid("keyid does not match the key".into()));
    }
    Ok(sk)
}

/// Signs `doc` under `prefix` and adds the signature to `envelope`, replacing an earlier
/// signature by the same key.
pub fn add_signature(envelope: &mut Envelope, key: &SigningKey, prefix: &[u8], doc: &[u8]) {
    let keyid = keyid_of(&key.verifying_key());
    let sig = key.sign(&message(prefix, doc));
    envelope.signatures.retain(|s| s.keyid != keyid);
    envelope.signatures.push(EnvelopeSig {
        keyid,
        sig: B64.encode(sig.to_bytes()),
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring(sk: &SigningKey, roles: &[&str]) -> Keyring {
        let public = sk.verifying_key();
        Keyring {
            keys: vec![TrustedKey {
                keyid: keyid_of(&public),
                public,
                name: "k".into(),
                roles: roles.iter().map(|r| (*r).to_owned()).collect(),
            }],
            thresholds: BTreeMap::new(),
        }
    }

    #[test]
    fn sign_then_verify_and_tamper() {
        let sk = SigningKey::from_bytes(&[7u8; 32]);
        let mut env = Envelope::default();
        add_signature(&mut env, &sk, MANIFEST_PREFIX, b"{}");
        add_signature(&mut env, &sk, MANIFEST_PREFIX, b"{}");
        assert_eq!(env.signatures.len(), 1, "re-signing replaces");
        let bytes = serde_json::to_vec(&env).unwrap();
        let kr = ring(&sk, &["publisher"]);
        let req = VerifyRequest {
            prefix: MANIFEST_PREFIX,
            doc: b"{}",
            envelope: Some(&bytes),
            sig_path: "manifest.sig",
            roles: &["publisher"],
            threshold: 1,
        };
        let mut rep = Reporter::new();
        assert_eq!(verify(&kr, &req, &mut rep).len(), 1);
        assert!(rep.findings().is_empty());
        let mut rep = Reporter::new();
        let bad = VerifyRequest { doc: b"{ }", ..req };
        assert!(verify(&kr, &bad, &mut rep).is_empty());
        assert!(rep.has(Code::SigInvalid) && rep.has(Code::SigThreshold));
        let mut rep = Reporter::new();
        let wrong_prefix = VerifyRequest {
            prefix: KILL_PREFIX,
            ..req
        };
        assert!(
            verify(&kr, &wrong_prefix, &mut rep).is_empty(),
            "a manifest signature is not a kill signature"
        );
    }

    #[test]
    fn small_order_key_is_refused() {
        // The identity point (y = 1) has small order.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        assert!(decode_public(&B64.encode(identity)).is_err());
    }
}
