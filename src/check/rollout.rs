//! Staged rollout (spec §7): stage validation, the deterministic bucket function, and the
//! promote / hold / rollback decision per stage from a telemetry export.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::bundle::manifest::{GATE_NAMES, Rollout};
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
/// BLAKE3(`giftbundle-rollout/v1` NUL salt NUL `bundle_id` NUL `user_id`), modulo 10 000.
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
        rep.push(
            Finding::new(
                Code::RolloutSaltEmpty,
                "/rollout/salt is empty; every bundle would bucket users the same way",
            )
            .path(path),
        );
    }
    if r.stages.is_empty() {
        rep.push(
            Finding::new(
                Code::RolloutRange,
                "/rollout/stages is empty; the last stage must be 10000 bp on [\"*\"]",
            )
            .path(path)
            .expected_actual("a last stage of 10000 bp on [\"*\"]", "no stages"),
        );
    }
    let mut prev: Option<(u64, &str)> = None;
    for (i, s) in r.stages.iter().enumerate() {
        if s.percent_bp > FULL_BP {
            rep.push(
                Finding::new(
                    Code::RolloutRange,
                    format!(
                        "/rollout/stages/{i} ({}): percent_bp {} is above 10000",
                        s.name, s.percent_bp
                    ),
                )
                .path(path)
                .expected_actual("0–10000", s.percent_bp.to_string()),
            );
        }
        if let Some((p, pname)) = prev
            && s.percent_bp < p
        {
            rep.push(
                    Finding::new(Code::RolloutOrder, format!("/rollout/stages/{i} ({}): percent_bp {} is below {p} of the stage before ({pname})", s.name, s.percent_bp))
                        .path(path)
                        .expected_actual(format!("≥ {p}"), s.percent_bp.to_string()),
                );
        }
        if s.regions.is_empty() {
            rep.push(
                Finding::new(
                    Code::RolloutRange,
                    format!("/rollout/stages/{i} ({}): no regions", s.name),
                )
                .path(path),
            );
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
    if let Some(last) = r.stages.last()
        && (last.percent_bp != FULL_BP || last.regions != ["*"])
    {
        rep.push(
            Finding::new(
                Code::RolloutRange,
                format!(
                    "the last stage ({}) must be 10000 bp on [\"*\"], found {} bp on {:?}",
                    last.name, last.percent_bp, last.regions
                ),
            )
            .path(path)
            .expected_actual(
                "10000 bp on [\"*\"]",
                format!("{} bp on {:?}", last.percent_bp, last.regions),
            ),
        );
    }
    for g in GATE_NAMES {
        if !r.gates.contains_key(g) {
            rep.push(
                Finding::new(
                    Code::RolloutGateMissing,
                    format!("/rollout/gates/{g} is missing"),
                )
                .path(path)
                .expected_actual(g, "missing"),
            );
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
    let err = |message: String| TelemetryError {
        path: path.to_owned(),
        message,
    };
    let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
    let trimmed = text.trim_start();
    if trimmed.starts_with('{') {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Wrapped {
            rows: Vec<TelemetryRow>,
        }
        return serde_json::from_str::<Wrapped>(&text)
            .map(|w| w.rows)
            .map_err(|e| err(e.to_string()));
    }
    if trimmed.starts_with('[') {
        return serde_json::from_str(&text).map_err(|e| err(e.to_string()));
    }
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let header: Vec<&str> = lines
        .next()
        .ok_or_else(|| err("empty file".into()))?
        .split(',')
        .map(str::trim)
        .collect();
    let mut rows = Vec::new();
    for (n, line) in lines.enumerate() {
        let cols: Vec<&str> = line.split(',').map(str::trim).collect();
        if cols.len() != header.len() {
            return Err(err(format!(
                "line {}: {} columns, header has {}",
                n + 2,
                cols.len(),
                header.len()
            )));
        }
        let mut obj = serde_json::Map::new();
        for (h, c) in header.iter().zip(cols) {
            let v = match *h {
                "stage" | "region" => serde_json::Value::String(c.to_owned()),
                _ => serde_json::from_str(c)
                    .map_err(|_| err(format!("line {}: {h} = {c:?} is not a number", n + 2)))?,
            };
            obj.insert((*h).to_owned(), v);
        }
        rows.push(
            serde_json::from_value(serde_json::Value::Object(obj))
                .map_err(|e| err(format!("line {}: {e}", n + 2)))?,
        );
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

fn row_metrics(t: &TelemetryRow) -> BTreeMap<String, f64> {
    [
        ("download_success_rate", t.download_success_rate),
        ("integrity_failure_rate", t.integrity_failure_rate),
        ("fallback_activation_ratio", t.fallback_activation_ratio),
        ("crash_rate_delta", t.crash_rate_delta),
        ("frame_drop_delta", t.frame_drop_delta),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

/// Gates breached by these metrics: a `*_min` gate above its metric, a `*_max` gate below it.
fn breaches(gates: &BTreeMap<String, f64>, metrics: &BTreeMap<String, f64>) -> Vec<String> {
    let mut out = Vec::new();
    for (gate, threshold) in gates {
        if let Some(metric) = gate.strip_suffix("_min") {
            if let Some(v) = metrics.get(metric).filter(|v| *v < threshold) {
                out.push(format!("{metric} {v:.6} is below {threshold}"));
            }
        } else if let Some(metric) = gate.strip_suffix("_max")
            && let Some(v) = metrics.get(metric).filter(|v| *v > threshold)
        {
            out.push(format!("{metric} {v:.6} is above {threshold}"));
        }
    }
    out
}

/// Judges each stage on its telemetry rows.
///
/// Rows of a stage are summed over regions: sessions add up and each metric is
/// session-weighted. A stage with fewer than `min_sessions` holds; otherwise a breached gate
/// (`*_min` below its threshold, `*_max` above it) in the aggregate, or in any one region that
/// has `min_sessions` of its own, rolls back; a stage with none promotes.
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
                (
                    "download_success_rate",
                    weighted(|t| t.download_success_rate),
                ),
                (
                    "integrity_failure_rate",
                    weighted(|t| t.integrity_failure_rate),
                ),
                (
                    "fallback_activation_ratio",
                    weighted(|t| t.fallback_activation_ratio),
                ),
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
                reasons.extend(
                    breaches(&r.gates, &metrics)
                        .into_iter()
                        .map(|b| format!("all regions: {b}")),
                );
                // A region with enough sessions of its own is judged alone too, so a healthy
                // large region cannot hide a breach in a smaller one.
                for t in mine.iter().filter(|t| t.sessions as f64 >= min_sessions) {
                    reasons.extend(
                        breaches(&r.gates, &row_metrics(t))
                            .into_iter()
                            .map(|b| format!("region {}: {b}", t.region)),
                    );
                }
                if reasons.is_empty() {
                    Decision::Promote
                } else {
                    Decision::Rollback
                }
            };
            StageGate {
                stage: s.name.clone(),
                decision,
                sessions,
                metrics,
                reasons,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bundle::manifest::Stage;

    #[test]
    fn bucket_golden_vectors() {
        // Computed independently with the reference BLAKE3 implementation (Python `blake3`):
        // int.from_bytes(blake3(b"giftbundle-rollout/v1\0" + salt + b"\0" + bundle + b"\0" + user).digest()[:8], "big") % 10000
        assert_eq!(bucket("w26", "campaign.winter-2026", "user-1"), 6757);
        assert_eq!(bucket("w26", "campaign.winter-2026", "user-2"), 3037);
        assert_eq!(bucket("demo-w26", "demo.winter-2026", "42"), 9048);
        assert_eq!(bucket("", "x", ""), 8407);
        assert_eq!(bucket("salt", "bundle", "ユーザー"), 225);
    }

    fn rollout() -> Rollout {
        let gates = GATE_NAMES
            .iter()
            .zip([0.995, 0.001, 0.02, 0.0005, 0.01, 5000.0])
            .map(|(k, v)| ((*k).to_owned(), v))
            .collect();
        Rollout {
            salt: "s".into(),
            stages: vec![
                Stage {
                    name: "canary".into(),
                    percent_bp: 100,
                    regions: vec!["*".into()],
                },
                Stage {
                    name: "regional".into(),
                    percent_bp: 2000,
                    regions: vec!["SG".into(), "ID".into()],
                },
                Stage {
                    name: "global".into(),
                    percent_bp: 10000,
                    regions: vec!["*".into()],
                },
            ],
            gates,
        }
    }

    fn row(stage: &str, region: &str, sessions: u64, dl: f64, fallback: f64) -> TelemetryRow {
        TelemetryRow {
            stage: stage.into(),
            region: region.into(),
            sessions,
            download_success_rate: dl,
            integrity_failure_rate: 0.0,
            fallback_activation_ratio: fallback,
            crash_rate_delta: 0.0,
            frame_drop_delta: 0.0,
        }
    }

    #[test]
    fn gates_promote_hold_and_rollback() {
        let rows = [
            row("canary", "SG", 4000, 0.999, 0.01),
            row("canary", "ID", 2000, 0.997, 0.01),
            row("regional", "SG", 6000, 0.999, 0.01),
            row("regional", "ID", 4000, 0.999, 0.04),
            row("global", "US", 100, 0.5, 0.9),
        ];
        let g = judge(&rollout(), &rows);
        assert_eq!(
            g.iter().map(|g| g.decision).collect::<Vec<_>>(),
            vec![Decision::Promote, Decision::Rollback, Decision::Hold]
        );
        assert_eq!(g[0].sessions, 6000);
        // Session-weighted: (6000·0.01 + 4000·0.04) / 10000 = 0.022 > 0.02.
        assert!((g[1].metrics["fallback_activation_ratio"] - 0.022).abs() < 1e-12);
        assert!(g[1].reasons[0].contains("fallback_activation_ratio"));
    }

    #[test]
    fn membership_follows_bucket_and_region() {
        let r = rollout();
        assert!(
            in_stage(&r.stages[1], "SG", 1999)
                && !in_stage(&r.stages[1], "SG", 2000)
                && !in_stage(&r.stages[1], "US", 5)
        );
        assert!(in_stage(&r.stages[2], "US", 9999));
    }

    #[test]
    fn regions() {
        assert!(is_known_region("SG") && is_known_region("*") && is_known_region("ID"));
        assert!(
            !is_known_region("sg")
                && !is_known_region("XX")
                && !is_known_region("UK")
                && !is_known_region("SGP")
        );
        assert_eq!(ISO_3166_ALPHA2.split(' ').count(), 249);
    }
}
