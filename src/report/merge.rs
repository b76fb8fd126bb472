//! `giftqa report merge` (spec §11): joins the reports of a split CI run (one `check`, and a
//! `smoke` per tier or scenario, each `--format json`) into one report with one verdict.
//!
//! Every report must be of the same bundle (the same `manifest_blake3`). Findings are joined
//! and sorted as one run sorts them; runs, tiers, substitutions and host figures are
//! concatenated in the order the reports are given.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::smoke::{HostReport, SmokeReport};
use crate::check::BundleHeader;
use crate::check::finding::{Finding, sort_findings, summarize};

/// Largest report read, bytes.
pub const MAX_REPORT_BYTES: u64 = 256 * 1024 * 1024;

/// Why reports cannot be merged (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    /// A report cannot be read.
    #[error("{path:?}: {message}")]
    Read {
        /// The report.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// Two reports are of different bundles.
    #[error(
        "{path:?} is a report of {found}, the first of {expected}: merge the reports of one bundle at a time"
    )]
    OtherBundle {
        /// The report.
        path: PathBuf,
        /// The first report's bundle.
        expected: String,
        /// This report's bundle.
        found: String,
    },
    /// No report given.
    #[error("no report to merge")]
    Empty,
}

#[derive(serde::Deserialize)]
struct CheckJson {
    bundle: Option<BundleHeader>,
    findings: Vec<Finding>,
}

fn name(b: Option<&BundleHeader>) -> String {
    b.map_or_else(
        || "no bundle".to_owned(),
        |b| {
            format!(
                "{} {} (manifest {})",
                b.bundle_id,
                b.version,
                &b.manifest_blake3[..b.manifest_blake3.len().min(12)]
            )
        },
    )
}

/// Merges `reports`, each a path and its bytes (a smoke report, or a check report: a JSON
/// object with `findings` and no `runs`).
///
/// # Errors
/// [`MergeError`] when a report is not one giftqa wrote, or two are of different bundles.
pub fn merge(reports: &[(PathBuf, Vec<u8>)]) -> Result<SmokeReport, MergeError> {
    let mut merged: Option<SmokeReport> = None;
    let mut extra: Vec<Finding> = Vec::new();
    let mut bundle: Option<Option<BundleHeader>> = None;
    for (path, bytes) in reports {
        let err = |message: String| MergeError::Read {
            path: path.clone(),
            message,
        };
        let v: serde_json::Value =
            serde_json::from_slice(bytes).map_err(|e| err(format!("not JSON: {e}")))?;
        let (header, smoke) = if v.get("runs").is_some() {
            let r: SmokeReport = serde_json::from_value(v)
                .map_err(|e| err(format!("not a giftqa smoke report: {e}")))?;
            (r.bundle.clone(), Some(r))
        } else {
            let c: CheckJson = serde_json::from_value(v)
                .map_err(|e| err(format!("not a giftqa check report: {e}")))?;
            extra.extend(c.findings);
            (c.bundle, None)
        };
        match &bundle {
            None => bundle = Some(header.clone()),
            Some(first)
                if first.as_ref().map(|b| &b.manifest_blake3)
                    != header.as_ref().map(|b| &b.manifest_blake3) =>
            {
                return Err(MergeError::OtherBundle {
                    path: path.clone(),
                    expected: name(first.as_ref()),
                    found: name(header.as_ref()),
                });
            }
            Some(_) => {}
        }
        let Some(r) = smoke else { continue };
        match &mut merged {
            None => merged = Some(r),
            Some(m) => {
                m.findings.extend(r.findings);
                for t in r.tiers {
                    if !m.tiers.iter().any(|x| x.name == t.name) {
                        m.tiers.push(t);
                    }
                }
                for (tier, plays) in r.substitutions {
                    m.substitutions.entry(tier).or_default().extend(plays);
                }
                m.runs.extend(r.runs);
                for nd in r.not_drawn {
                    if !m.not_drawn.contains(&nd) {
                        m.not_drawn.push(nd);
                    }
                }
                merge_host(&mut m.host, r.host);
            }
        }
    }
    let bundle = bundle.ok_or(MergeError::Empty)?;
    let mut m = merged.unwrap_or_else(|| SmokeReport {
        tool: super::json::TOOL,
        bundle: bundle.clone(),
        summary: summarize(&[]),
        findings: Vec::new(),
        tiers: Vec::new(),
        substitutions: BTreeMap::new(),
        runs: Vec::new(),
        not_drawn: Vec::new(),
        host: HostReport::default(),
        manifest_json: Vec::new(),
    });
    m.tool = super::json::TOOL;
    m.findings.extend(extra);
    sort_findings(&mut m.findings);
    m.findings.dedup();
    m.summary = summarize(&m.findings);
    Ok(m)
}

fn merge_host(into: &mut HostReport, from: HostReport) {
    if into.adapter.is_none() {
        into.adapter = from.adapter;
    }
    into.wall_ms += from.wall_ms;
    into.runs.extend(from.runs);
    for t in from.thumbnails {
        if !into.thumbnails.iter().any(|x| x.asset == t.asset) {
            into.thumbnails.push(t);
        }
    }
}
