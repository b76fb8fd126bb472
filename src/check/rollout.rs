//! Staged rollout (spec §7): stage validation, the deterministic bucket function, and the
//! promote / hold / rollback decision per stage from a telemetry export.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::bundle::manifest::{Rollout, GATE_NAMES};
use crate::check::finding::{Code, Finding, Reporter};

/// Basis points of a full rollout.
pub const FULL_BP: u64 = 10_000;

/// ISO 3166-1 alpha-2 codes (officially assigned), for `region-unknown`.
const ISO_3166_ALPHA2: &str = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ \
CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR \
GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP \
KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ \
NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW \
SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ \
UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW";

/// Whether a region is `*` or an assigned ISO 3166-1 alpha-2 code.
#[must_use]
pub fn is_known_region(region: &str) -> bool {
    region == "*" || (region.len() == 2 && ISO_3166_ALPHA2.split(' ').any(|c| c == region))
}

/// A user's rollout bucket, 0–9 999 (spec §7): the first 8 bytes, big-endian, of
/// BLAKE3(`giftbundle-rollout/v1` NUL salt NUL bundle_id NUL user_id), modulo 10 000.
#[must_use]
pub fn bucket(salt: &str, bundle_id: &str, user_id: &str) -> u64 {
    let mut h = blake3::Hasher::new();
    h.update(b"giftbundle-rollout/v1\0");
    h.update(salt.as_bytes());
    h.update(b"\0");
    h.update(bundle_id.as_bytes());
    h.update(b"\0");
    h.update(user_id.as_bytes());
    let d = h.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&d.as_bytes()[..8]);
    u64::from_be_bytes(first) % FULL_BP
}

/// Whether a user in `region` with `bucket` is in a stage.
#[must_use]
pub fn in_stage(stage: &crate::bundle::manifest::Stage, region: &str, bucket: u64) -> bool {
    stage.regions.iter().any(|r| r == "*" || r == region) && bucket < stage.percent_bp
}

/// Validates the rollout: `rollout-salt-empty`, `rollout-range`, `rollout-order`,
/// `rollout-gate-missing`, `region-unknown`.
pub fn check_rollout(r: &Rollout, rep: &mut Reporter) {
    let path = "manifest.json";
    if r.salt.is_empty() {
        rep.push(Finding::new(Code::RolloutSaltEmpty, "/rollout/salt is empty; every bundle would bucket users the same way").path(path));
    }
    if r.stages.is_empty() {
        rep.push(Finding::new(Code::RolloutRange, "/rollout/stages is empty; the last stage must be 10000 bp on [\"*\"]").path(path).expected_actual("a last stage of 10000 bp on [\"*\"]", "no stages"));
    }
    let mut prev: Option<(u64, &str)> = None;
    for (i, s) in r.stages.iter().enumerate() {
        if s.percent_bp > FULL_BP {
            rep.push(
                Finding::new(Code::RolloutRange, format!("/rollout/stages/{i} ({}): percent_bp {} is above 10000", s.name, s.percent_bp))
                    .path(path)
                    .expected_actual("0–10000", s.percent_bp.to_string()),
            );
        }
        if let Some((p, pname)) = prev {
            if s.percent_bp < p {
                rep.push(
                    Finding::new(Code::RolloutOrder, format!("/rollout/stages/{i} ({}): percent_bp {} is below {p} of the stage before ({pname})", s.name, s.percent_bp))
                        .path(path)
                        .expected_actual(format!("≥ {p}"), s.percent_bp.to_string()),
                );
            }
        }
        if s.regions.is_empty() {
            rep.push(Finding::new(Code::RolloutRange, format!("/rollout/stages/{i} ({}): no regions", s.name)).path(path));
        }
        for reg in &s.regions {
            if !is_known_region(reg) {
                rep.push(
                    Finding::new(Code::RegionUnknown, format!("/rollout/stages/{i} ({}): region {reg:?} is not an ISO 3166-1 alpha-2 code or \"*\"", s.name))
                        .path(path)
                        .expected_actual("ISO 3166-1 alpha-2 or *", reg.clone()),
                );
            }
        }
        prev = Some((s.percent_bp, &s.name));
    }
    if let Some(last) = r.stages.last() {
        if last.percent_bp != FULL_BP || last.regions != ["*"] {
            rep.push(
                Finding::new(Code::RolloutRange, format!("the last stage ({}) must be 10000 bp on [\"*\"], found {} bp on {:?}", last.name, last.percent_bp, last.regions))
                    .path(path)
                    .expected_actual("10000 bp on [\"*\"]", format!("{} bp on {:?}", last.percent_bp, last.regions)),
            );
        }
    }
    for g in GATE_NAMES {
        if !r.gates.contains_key(g) {
            rep.push(Finding::new(Code::RolloutGateMissing, format!("/rollout/gates/{g} is missing")).path(path).expected_actual(g, "missing"));
        }
    }
}

/// One row of a telemetry export: one stage in one region.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TelemetryRow {
    /// Stage name.
    pub stage: String,
    /// Region code.
    pub region: String,
    /// Sessions observed.
    pub sessions: u64,
    /// Share of downloads that succeeded, 0–1.
    pub download_success_rate: f64,
    /// Share of downloads that failed integrity, 0–1.
    pub integrity_failure_rate: f64,
    /// Share of sends that showed a fallback, 0–1.
    pub fallback_activation_ratio: f64,
    /// Crash rate minus the control's.
    pub crash_rate_delta: f64,
    /// Frame-drop rate minus the control's.
    pub frame_drop_delta: f64,
}

/// Errors reading telemetry (exit code 2).
#[derive(Debug, thiserror::Error)]
#[error("{path:?} is not a readable telemetry export: {message}")]
pub struct TelemetryError {
    /// The file.
    pub path: PathBuf,
    /// Why.
    pub message: String,
}

/// Reads a telemetry export: JSON (`{"rows": [...]}` or a bare array) or CSV with a header
/// naming the columns of [`TelemetryRow`].
///
/// # Errors
/// [`TelemetryError`] when the file cannot be read or parsed.
pub fn load_telemetry(path: &Path) -> Result<Vec<TelemetryRow>, TelemetryError> {
    let err = |message: String| TelemetryError { path: path.to_owned(), message };
    let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
    let trimmed = text.trim_start();
    if trimmed.starts_with('{') {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Wrapped {
            rows: Vec<TelemetryRow>,
        }
        return serde_json::from_str::<Wrapped>(&text).map(|w| w.rows).map_err(|e| err(e.to_string()));
    }
    if trimmed.starts_with('[') {
        return serde_json::from_str(&text).map_err(|e| err(e.to_string()));
    }
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let header: Vec<&str> = lines.next().ok_or_else(|| err("empty file".into()))?.split(',').map(str::trim).collect();
    let mut rows = Vec::new();
    for (n, line) in lines.enumerate() {
        let cols: Vec<&str> = line.split(',').map(str::trim).collect();
        if cols.len() != header.len() {
            return Err(err(format!("line {}: {} columns, header has {}", n + 2, cols.len(), header.len())));
        }
        let mut obj = serde_json::Map::new();
        for (h, c) in header.iter().zip(cols) {
            let v = match *h {
                "stage" | "region" => serde_json::Value::String(c.to_owned()),
                _ => serde_json::from_str(c).map_err(|_| err(format!("line {}: {h} = {c:?} is not a number", n + 2)))?,
            };
            obj.insert((*h).to_owned(), v);
        }
        rows.push(serde_json::from_value(serde_json::Value::Object(obj)).map_err(|e| err(format!("line {}: {e}", n + 2)))?);
    }
    Ok(rows)
}

/// The decision for one stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Decision {
    /// Every gate holds on enough sessions: go to the next stage.
    Promote,
    /// Too few sessions to judge: wait.
    Hold,
    /// A gate is breached: roll back.
    Rollback,
}

/// The gate result of one stage.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StageGate {
    /// Stage name.
    pub stage: String,
    /// The decision.
    pub decision: Decision,
    /// Sessions summed over the stage's regions.
    pub sessions: u64,
    /// Session-weighted metrics over the stage's regions.
    pub metrics: BTreeMap<String, f64>,
    /// Human reasons: each breached gate, or why the stage holds.
    pub reasons: Vec<String>,
}

/// Judges each stage on its telemetry rows.
///
/// Rows of a stage are summed over regions: sessions add up and each metric is
/// session-weighted. A stage with fewer than `min_sessions` holds; otherwise any breached gate
/// (`*_min` below its threshold, `*_max` above it) rolls back, and a stage with none promotes.
#[must_use]
pub fn judge(r: &Rollout, rows: &[TelemetryRow]) -> Vec<StageGate> {
    let min_sessions = r.gates.get("min_sessions").copied().unwrap_or(0.0);
    r.stages
        .iter()
        .map(|s| {
            let mine: Vec<&TelemetryRow> = rows.iter().filter(|t| t.stage == s.name).collect();
            let sessions: u64 = mine.iter().map(|t| t.sessions).sum();
            let weighted = |f: fn(&TelemetryRow) -> f64| -> f64 {
                if sessions == 0 {
                    return 0.0;
                }
                mine.iter().map(|t| f(t) * t.sessions as f64).sum::<f64>() / sessions as f64
            };
            let metrics: BTreeMap<String, f64> = [
                ("download_success_rate", weighted(|t| t.download_success_rate)),
                ("integrity_failure_rate", weighted(|t| t.integrity_failure_rate)),
                ("fallback_activation_ratio", weighted(|t| t.fallback_activation_ratio)),
                ("crash_rate_delta", weighted(|t| t.crash_rate_delta)),
                ("frame_drop_delta", weighted(|t| t.frame_drop_delta)),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
            let mut reasons = Vec::new();
            let decision = if (sessions as f64) < min_sessions {
                reasons.push(format!("{sessions} sessions, {min_sessions} needed"));
                Decision::Hold
            } else {
                for (gate, threshold) in &r.gates {
                    if let Some(metric) = gate.strip_suffix("_min") {
                        if metrics.get(metric).is_some_and(|v| v < threshold) {
                            reasons.push(format!("{metric} {:.6} is below {threshold}", metrics[metric]));
                        }
                    } else if let Some(metric) = gate.strip_suffix("_max") {
                        if metrics.get(metric).is_some_and(|v| v > threshold) {
                            reasons.push(format!("{metric} {:.6} is above {threshold}", metrics[metric]));
                        }
                    }
                }
                if reasons.is_empty() { Decision::Promote } else { Decision::Rollback }
            };
            StageGate { stage: s.name.clone(), decision, sessions, metrics, reasons }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions() {
        assert!(is_known_region("SG") && is_known_region("*") && is_known_region("ID"));
        assert!(!is_known_region("sg") && !is_known_region("XX") && !is_known_region("UK") && !is_known_region("SGP"));
        assert_eq!(ISO_3166_ALPHA2.split(' ').count(), 249);
    }
}
