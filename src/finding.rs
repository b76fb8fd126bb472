//! Findings: the structured result of every rule (spec §10). They belong to no single area:
//! the bundle layer, the rules of `check` and the playback budgets all report through them
//! (`check::finding` re-exports this module).
//!
//! A [`Finding`] carries a fixed [`Code`] whose [`Severity`] comes from the spec's table, a
//! human message, and optional context (asset id, file path, matrix cells, user share,
//! expected/actual values). Rules push findings into a [`Reporter`]; [`Reporter::finish`]
//! sorts them by (severity, code, asset, path, message) so reports are byte-for-byte
//! deterministic for the same input and `--now`.

use serde::{Deserialize, Serialize};

/// How bad a finding is (spec §10): errors block sign-off, warnings need a waiver, infos inform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Blocks sign-off; the command exits 1.
    Error,
    /// Needs a waiver with a reason at sign-off.
    Warning,
    /// Informational only.
    Info,
}

impl Severity {
    /// The lowercase name used in text and JSON reports.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Error => "error",
            Self::Warning => "warning",
            Self::Info => "info",
        }
    }
}

/// The area a code belongs to (spec §10 table rows).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Area {
    /// `manifest.json` reading and schema.
    Manifest,
    /// Directory and zip layout.
    Archive,
    /// Sizes, hashes and magic bytes of the files.
    Integrity,
    /// Signatures and the keyring.
    Trust,
    /// Release history and kill sequence numbers.
    History,
    /// Dependency and fallback graph.
    Graph,
    /// Compatibility matrix over the fleet.
    Compatibility,
    /// Decoding and playback budgets.
    Playback,
    /// Staged rollout.
    Rollout,
    /// Sign-off documents.
    Signoff,
}

macro_rules! codes {
    ($( $variant:ident = $name:literal, $sev:ident, $area:ident; )*) => {
        /// Every finding code of the contract (spec §10), with its fixed severity and area.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Code {
            $(
                #[doc = concat!("`", $name, "`")]
                $variant,
            )*
        }

        impl Code {
            /// Every code, in the order of the spec's table.
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            /// The kebab-case name fixed by the spec, e.g. `asset-hash-mismatch`.
            #[must_use]
            pub fn as_str(self) -> &'static str {
                match self { $(Code::$variant => $name,)* }
            }

            /// The severity the spec's table gives this code.
            #[must_use]
            pub fn severity(self) -> Severity {
                match self { $(Code::$variant => Severity::$sev,)* }
            }

            /// The area (row of the spec's table) this code belongs to.
            #[must_use]
            pub fn area(self) -> Area {
                match self { $(Code::$variant => Area::$area,)* }
            }

            /// Looks a code up by its kebab-case name.
            #[must_use]
            pub fn from_name(name: &str) -> Option<Code> {
                match name { $($name => Some(Code::$variant),)* _ => None }
            }
        }
    };
}

codes! {
    ManifestMissing = "manifest-missing", Error, Manifest;
    ManifestTooLarge = "manifest-too-large", Error, Manifest;
    JsonInvalid = "json-invalid", Error, Manifest;
    JsonDuplicateKey = "json-duplicate-key", Error, Manifest;
    SchemaInvalid = "schema-invalid", Error, Manifest;
    SchemaVersion = "schema-version", Error, Manifest;
    VersionInvalid = "version-invalid", Error, Manifest;
    VersionBuildMetadata = "version-build-metadata", Warning, Manifest;
    ExpiresFormat = "expires-format", Error, Manifest;
    ManifestExpired = "manifest-expired", Error, Manifest;
    ArchiveInvalid = "archive-invalid", Error, Archive;
    ArchiveBomb = "archive-bomb", Error, Archive;
    PathUnsafe = "path-unsafe", Error, Archive;
    PathCollision = "path-collision", Error, Archive;
    AssetMissing = "asset-missing", Error, Integrity;
    AssetUnlisted = "asset-unlisted", Error, Integrity;
    AssetSizeMismatch = "asset-size-mismatch", Error, Integrity;
    AssetHashMismatch = "asset-hash-mismatch", Error, Integrity;
    HashFormat = "hash-format", Error, Integrity;
    FormatMismatch = "format-mismatch", Error, Integrity;
    SigSkipped = "sig-skipped", Info, Trust;
    SigMissing = "sig-missing", Error, Trust;
    SigInvalid = "sig-invalid", Error, Trust;
    SigUnknownKey = "sig-unknown-key", Error, Trust;
    SigDuplicateKeyid = "sig-duplicate-keyid", Warning, Trust;
    SigThreshold = "sig-threshold", Error, Trust;
    KeyidMismatch = "keyid-mismatch", Error, Trust;
    VersionRollback = "version-rollback", Error, History;
    VersionReused = "version-reused", Error, History;
    KillSeqRollback = "kill-seq-rollback", Error, History;
    KillInvalid = "kill-invalid", Error, History;
    DepUnknown = "dep-unknown", Error, Graph;
    DepCycle = "dep-cycle", Error, Graph;
    FallbackUnknown = "fallback-unknown", Error, Graph;
    FallbackCycle = "fallback-cycle", Error, Graph;
    FallbackChainTooLong = "fallback-chain-too-long", Error, Graph;
    FleetSkipped = "fleet-skipped", Info, Compatibility;
    CompatEmptyRange = "compat-empty-range", Error, Compatibility;
    CompatBelowMin = "compat-below-min", Warning, Compatibility;
    CompatHole = "compat-hole", Error, Compatibility;
    FallbackUsed = "fallback-used", Info, Compatibility;
    KillNotReady = "kill-not-ready", Error, Compatibility;
    TierUnknown = "tier-unknown", Error, Compatibility;
    FleetCapabilityMissing = "fleet-capability-missing", Error, Compatibility;
    DecodeFailed = "decode-failed", Error, Playback;
    CodecUnsupported = "codec-unsupported", Error, Playback;
    FrameTooLarge = "frame-too-large", Error, Playback;
    MemoryOverBudget = "memory-over-budget", Error, Playback;
    FirstFrameSlow = "first-frame-slow", Warning, Playback;
    OverdrawOverBudget = "overdraw-over-budget", Warning, Playback;
    UploadOverBudget = "upload-over-budget", Warning, Playback;
    BurstDropped = "burst-dropped", Warning, Playback;
    VideoSizeUnaligned = "video-size-unaligned", Warning, Playback;
    VideoConfigMismatch = "video-config-mismatch", Warning, Playback;
    VideoAudioTrack = "video-audio-track", Info, Playback;
    RolloutRange = "rollout-range", Error, Rollout;
    RolloutOrder = "rollout-order", Error, Rollout;
    RolloutGateMissing = "rollout-gate-missing", Error, Rollout;
    RegionUnknown = "region-unknown", Warning, Rollout;
    RolloutSaltEmpty = "rollout-salt-empty", Error, Rollout;
    SignoffBlocked = "signoff-blocked", Error, Signoff;
    SignoffStale = "signoff-stale", Error, Signoff;
    SignoffUnauthorized = "signoff-unauthorized", Error, Signoff;
}

/// Codes beyond the contract's §10 table, where it is silent (VAP's maintainers' advice);
/// each is written up in `docs/decisions.md`.
pub const EXTENSIONS: &[Code] = &[
    Code::VideoSizeUnaligned,
    Code::VideoConfigMismatch,
    Code::VideoAudioTrack,
];

impl Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Code {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        Code::from_name(&name)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown finding code {name:?}")))
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One population cell of the fleet (spec §3): a client version on a device tier.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CellRef {
    /// App version of the cell, as written in the fleet file.
    pub client: String,
    /// Device tier name.
    pub tier: String,
    /// Share of all users in this cell, 0–1.
    pub share: f64,
}

/// One finding (spec §10): `{"code", "severity", "message", "asset"?, "path"?, "cells"?,
/// "share"?, "expected"?, "actual"?}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// The fixed code.
    pub code: Code,
    /// The code's severity.
    pub severity: Severity,
    /// One sentence for people.
    pub message: String,
    /// The asset id concerned, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub asset: Option<String>,
    /// The bundle-relative file path (or JSON pointer inside `manifest.json`), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Fleet cells concerned (compatibility findings).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cells: Option<Vec<CellRef>>,
    /// Summed user share of `cells`, 0–1.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub share: Option<f64>,
    /// What the rule expected (hash, size, threshold…).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    /// What was found.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actual: Option<String>,
}

impl Finding {
    /// A finding with the code's own severity and no context.
    #[must_use]
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Self {
            code,
            severity: code.severity(),
            message: message.into(),
            asset: None,
            path: None,
            cells: None,
            share: None,
            expected: None,
            actual: None,
        }
    }

    /// Sets the asset id.
    #[must_use]
    pub fn asset(mut self, asset: impl Into<String>) -> Self {
        self.asset = Some(asset.into());
        self
    }

    /// Sets the file path or JSON pointer.
    #[must_use]
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.path = Some(path.into());
        self
    }

    /// Sets expected and actual values.
    #[must_use]
    pub fn expected_actual(
        mut self,
        expected: impl Into<String>,
        actual: impl Into<String>,
    ) -> Self {
        self.expected = Some(expected.into());
        self.actual = Some(actual.into());
        self
    }

    /// Sets the cells and their summed share.
    #[must_use]
    pub fn cells(mut self, cells: Vec<CellRef>) -> Self {
        let share: f64 = cells.iter().map(|c| c.share).sum();
        self.share = Some(round_share(share));
        self.cells = Some(cells);
        self
    }

    fn sort_key(&self) -> (Severity, &'static str, &str, &str, &str) {
        (
            self.severity,
            self.code.as_str(),
            self.asset.as_deref().unwrap_or(""),
            self.path.as_deref().unwrap_or(""),
            &self.message,
        )
    }
}

/// Rounds a user share to 6 decimals so sums print the same everywhere.
#[must_use]
pub fn round_share(share: f64) -> f64 {
    (share * 1e6).round() / 1e6
}

/// Counts of findings by severity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// Number of error findings.
    pub errors: usize,
    /// Number of warning findings.
    pub warnings: usize,
    /// Number of info findings.
    pub infos: usize,
}

/// Collects findings from rules that carry on after each problem (the reporter pattern).
#[derive(Debug, Default, Clone)]
pub struct Reporter {
    findings: Vec<Finding>,
}

impl Reporter {
    /// An empty reporter.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Records one finding.
    pub fn push(&mut self, finding: Finding) {
        self.findings.push(finding);
    }

    /// Whether any error of the given areas was recorded.
    #[must_use]
    pub fn has_error_in(&self, areas: &[Area]) -> bool {
        self.findings
            .iter()
            .any(|f| f.severity == Severity::Error && areas.contains(&f.code.area()))
    }

    /// Whether any finding with this code was recorded.
    #[must_use]
    pub fn has(&self, code: Code) -> bool {
        self.findings.iter().any(|f| f.code == code)
    }

    /// The findings so far, unsorted.
    #[must_use]
    pub fn findings(&self) -> &[Finding] {
        &self.findings
    }

    /// Sorted, de-duplicated findings.
    #[must_use]
    pub fn finish(mut self) -> Vec<Finding> {
        sort_findings(&mut self.findings);
        self.findings.dedup();
        self.findings
    }
}

/// Sorts findings by (severity, code, asset, path, message) as spec §10 requires.
pub fn sort_findings(findings: &mut [Finding]) {
    findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
}

/// Counts findings by severity.
#[must_use]
pub fn summarize(findings: &[Finding]) -> Summary {
    let mut s = Summary::default();
    for f in findings {
        match f.severity {
            Severity::Error => s.errors += 1,
            Severity::Warning => s.warnings += 1,
            Severity::Info => s.infos += 1,
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_match_spec_counts() {
        for &c in Code::ALL {
            assert_eq!(Code::from_name(c.as_str()), Some(c));
        }
        assert_eq!(Code::ALL.len(), 60 + EXTENSIONS.len());
        assert_eq!(Code::SigDuplicateKeyid.severity(), Severity::Warning);
        assert_eq!(Code::FallbackUsed.severity(), Severity::Info);
    }

    /// Every code of the contract's §10 table, with its severity, is a [`Code`]; the only
    /// others are the documented extensions (`docs/decisions.md`, "Codes beyond the table").
    #[test]
    fn codes_are_the_spec_table() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../shared/spec/bundle-format.md");
        let Ok(spec) = std::fs::read_to_string(&path) else {
            assert!(std::env::var_os("CI").is_none(), "{path:?} is missing");
            return;
        };
        let table = spec
            .split("| area | codes")
            .nth(1)
            .and_then(|t| t.split("\n\n").next())
            .unwrap_or_default();
        let mut listed = Vec::new();
        let parts: Vec<&str> = table.split('`').collect();
        for pair in parts.windows(2).skip(1).step_by(2) {
            let (name, after) = (pair[0], pair[1].trim_start());
            let sev = match after.chars().next() {
                Some('e') => Severity::Error,
                Some('w') => Severity::Warning,
                Some('i') => Severity::Info,
                _ => continue,
            };
            listed.push((name.to_owned(), sev));
        }
        let ours: Vec<(String, Severity)> = Code::ALL
            .iter()
            .filter(|c| !EXTENSIONS.contains(c))
            .map(|c| (c.as_str().to_owned(), c.severity()))
            .collect();
        let decisions = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/decisions.md"),
        )
        .unwrap_or_default();
        for c in EXTENSIONS {
            assert!(
                !listed.iter().any(|(n, _)| n == c.as_str()),
                "{c:?} is in the table now"
            );
            assert!(
                decisions.contains(&format!("`{}`", c.as_str())),
                "{c:?} is not documented in docs/decisions.md"
            );
        }
        listed.sort();
        let mut ours_sorted = ours;
        ours_sorted.sort();
        assert_eq!(listed, ours_sorted);
    }

    #[test]
    fn sorting_is_by_severity_then_code_then_asset() {
        let mut r = Reporter::new();
        r.push(Finding::new(Code::FallbackUsed, "i"));
        r.push(Finding::new(Code::AssetMissing, "b").asset("zz"));
        r.push(Finding::new(Code::AssetMissing, "a").asset("aa"));
        r.push(Finding::new(Code::CompatBelowMin, "w"));
        let f = r.finish();
        let order: Vec<_> = f
            .iter()
            .map(|f| (f.code.as_str(), f.asset.clone()))
            .collect();
        assert_eq!(
            order,
            vec![
                ("asset-missing", Some("aa".into())),
                ("asset-missing", Some("zz".into())),
                ("compat-below-min", None),
                ("fallback-used", None)
            ]
        );
    }
}
