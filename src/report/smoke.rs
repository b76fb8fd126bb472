//! The `smoke` report (spec §9, §11): the simulated runs and their findings, deterministic for
//! the same bundle, tiers and scenarios, and beside them, under `host`, what this machine
//! measured (never a finding).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

pub use crate::playback::host::{AdapterSummary, Drawer, HostRun, Simulate, Thumbnail};

use crate::check::BundleHeader;
use crate::check::finding::{Finding, Summary as FindingSummary};
use crate::model::Unsupported;
use crate::playback::engine::{Plays, SimRun};
use crate::playback::tiers::Tier;

/// The host's side of a smoke report: labelled as the host's, never judged.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HostReport {
    /// The adapter frames were drawn with; `None` when simulated without one (`--no-gpu`).
    pub adapter: Option<AdapterSummary>,
    /// Wall time of the whole smoke test, ms.
    pub wall_ms: f64,
    /// Per run, when drawn.
    pub runs: Vec<HostRun>,
    /// Each effect at its worst frame, when drawn.
    pub thumbnails: Vec<Thumbnail>,
}

/// The `smoke` report (`report.json`). Everything but `host` is byte-identical for the same
/// bundle, tiers file and scenarios, on any machine.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SmokeReport {
    /// Tool name and version (this build's when read back).
    #[serde(skip_deserializing)]
    pub tool: super::json::Tool,
    /// The bundle.
    pub bundle: Option<BundleHeader>,
    /// Counts of findings.
    pub summary: FindingSummary,
    /// Sorted findings.
    pub findings: Vec<Finding>,
    /// The tiers used, every default written out.
    pub tiers: Vec<Tier>,
    /// What each effect plays per tier where it is not itself (a fallback, a builtin, nothing).
    pub substitutions: BTreeMap<String, BTreeMap<String, Plays>>,
    /// Simulated runs, in tier order, then scenario order.
    pub runs: Vec<SimRun>,
    /// Effects, or parts of them, that the playback model does not draw yet.
    pub not_drawn: Vec<(String, Unsupported)>,
    /// What this machine measured.
    pub host: HostReport,
    /// The verified `manifest.json` (SARIF locations).
    #[serde(skip)]
    pub manifest_json: Vec<u8>,
}

/// The text table of a smoke report: one row per run, then the findings and a summary.
#[must_use]
pub fn smoke_text(report: &SmokeReport) -> String {
    let mut s = match &report.host.adapter {
        Some(a) => format!(
            "giftqa smoke: simulated device time; frames drawn on {} ({})\n\n",
            a.name, a.backend
        ),
        None => "giftqa smoke: simulated device time; nothing drawn (--no-gpu)\n\n".to_owned(),
    };
    let _ = writeln!(
        s,
        "{:<6} {:<10} {:>6} {:>6} {:>15} {:>8} {:>11} {:>5} {:>14} {:>17} {:>8} {:>8}",
        "tier",
        "scenario",
        "frames",
        "fps",
        "main p50/p95 ms",
        "gpu p95",
        "jank >1×/2×",
        "late",
        "start→1st p95",
        "memory MiB/budg",
        "overdraw",
        "dropped"
    );
    for r in &report.runs {
        let st = &r.stats;
        let _ = writeln!(
            s,
            "{:<6} {:<10} {:>6} {:>6.1} {:>15} {:>8.2} {:>11} {:>5} {:>14} {:>17} {:>8.2} {:>8}",
            r.tier,
            r.scenario,
            st.frames,
            st.fps,
            format!("{:.1}/{:.1}", st.frame_main_ms.p50, st.frame_main_ms.p95),
            st.frame_gpu_ms.p95,
            format!("{}/{}", st.jank.over_budget, st.jank.over_twice_budget),
            st.late_frames,
            format!("{:.0}", st.start_to_first_frame_ms.p95),
            format!(
                "{:.1}/{:.0}",
                st.peak_memory.total() as f64 / 1_048_576.0,
                st.texture_budget_bytes as f64 / 1_048_576.0
            ),
            st.peak_overdraw,
            st.dropped
        );
    }
    for (tier, plays) in &report.substitutions {
        for (effect, p) in plays {
            let what = match p {
                Plays::Itself => continue,
                Plays::Fallback(f) => format!("plays its fallback {f}"),
                Plays::Builtin(b) => format!("plays the client's builtin:{b} (not measured)"),
                Plays::Nothing(why) => format!("plays nothing: {why}"),
            };
            let _ = writeln!(s, "tier {tier}: {effect} {what}");
        }
    }
    if !report.findings.is_empty() {
        s.push('\n');
    }
    for f in &report.findings {
        let _ = writeln!(s, "{}", super::text::finding_line(f));
    }
    for (asset, u) in &report.not_drawn {
        for line in u.describe() {
            let _ = writeln!(s, "not drawn yet: {asset}: {line}");
        }
    }
    let _ = writeln!(
        s,
        "\nsummary: {} errors, {} warnings, {} infos",
        report.summary.errors, report.summary.warnings, report.summary.infos
    );
    s
}

/// What a smoke test runs: the bundle, its side files, tiers and scenarios.
#[derive(Debug, Clone)]
pub struct SmokeRequest {
    /// Bundle directory or zip.
    pub bundle: std::path::PathBuf,
    /// Keyring: verify signatures first.
    pub keys: Option<std::path::PathBuf>,
    /// Fleet file: what each tier's newest client is delivered (fallbacks, holes).
    pub fleet: Option<std::path::PathBuf>,
    /// Tiers to run.
    pub tiers: Vec<Tier>,
    /// Scenario names or files.
    pub scenarios: Vec<String>,
    /// Kill document (`kill.json`, its envelope beside it): the effects it kills while in
    /// force play their fallback.
    pub kill: Option<std::path::PathBuf>,
    /// Effects killed as a what-if (the app's kill switches).
    pub kills: std::collections::BTreeSet<String>,
    /// The clock the verification uses (`--now`).
    pub now: jiff::Timestamp,
}

/// Why a smoke test could not run (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum SmokeError {
    /// The bundle, keyring or fleet cannot be read.
    #[error(transparent)]
    Check(#[from] crate::check::CheckError),
    /// The bundle cannot be opened after verification.
    #[error(transparent)]
    Source(#[from] crate::bundle::source::SourceError),
    /// The manifest cannot be read after verification.
    #[error("reading the manifest of {path:?}: {source}")]
    Manifest {
        /// The bundle.
        path: std::path::PathBuf,
        /// Why.
        source: crate::bundle::source::ReadError,
    },
    /// A scenario is unknown or invalid.
    #[error(transparent)]
    Scenario(#[from] crate::playback::scenario::ScenarioError),
    /// The fleet file cannot be read.
    #[error(transparent)]
    Fleet(#[from] crate::check::compat::FleetError),
    /// Drawing failed.
    #[error("drawing failed: {0}")]
    Sink(#[from] crate::playback::engine::SinkError),
}

/// Runs every (tier, scenario) of a smoke test on the playback engine, drawing through
/// `drawer`. Returns the findings that block playback instead when the bundle does not verify
/// (fail closed, spec §10).
///
/// # Errors
/// [`SmokeError`] when an input cannot be read or drawing fails.
pub fn run_smoke(
    req: &SmokeRequest,
    drawer: &mut dyn Drawer,
    progress: &dyn Fn(&str, f64),
) -> Result<Result<SmokeReport, Vec<Finding>>, SmokeError> {
    use std::sync::Arc;

    use crate::bundle::manifest::{AssetKind, MANIFEST_FILE, MANIFEST_MAX_BYTES, hex32};
    use crate::check::finding::{Code, sort_findings, summarize};
    use crate::format::DecodeLimits;
    use crate::model::load::load_animation;
    use crate::playback::engine::{Engine, Playlist, RunOptions};

    let wall = std::time::Instant::now();
    let opts = crate::check::CheckOptions {
        keys: req.keys.clone(),
        kill: req.kill.clone(),
        ..crate::check::CheckOptions::new(req.now)
    };
    let verified = match crate::check::open_verified(&req.bundle, &opts)? {
        Ok(v) => v,
        Err(blocking) => return Ok(Err(blocking)),
    };
    let (manifest, src) = (verified.manifest, verified.source);
    let kills: std::collections::BTreeSet<String> =
        req.kills.union(&verified.killed).cloned().collect();
    let manifest_bytes = src
        .read(MANIFEST_FILE, MANIFEST_MAX_BYTES)
        .map_err(|source| SmokeError::Manifest {
            path: req.bundle.clone(),
            source,
        })?;
    let header = BundleHeader {
        bundle_id: manifest.bundle_id.clone(),
        version: manifest.version.to_string(),
        manifest_blake3: hex32(blake3::hash(&manifest_bytes).as_bytes()),
    };
    let fleet = req
        .fleet
        .as_deref()
        .map(crate::check::compat::Fleet::load)
        .transpose()?;
    let effects: Vec<String> = manifest
        .assets
        .iter()
        .filter(|a| a.kind == AssetKind::Effect)
        .map(|a| a.id.clone())
        .collect();
    let scenarios = req
        .scenarios
        .iter()
        .map(|s| crate::playback::scenario::resolve(s, &effects))
        .collect::<Result<Vec<_>, _>>()?;
    let mut plays_by_tier = BTreeMap::new();
    let mut wanted: std::collections::BTreeSet<String> = effects.iter().cloned().collect();
    for tier in &req.tiers {
        let plays =
            crate::check::compat::plays_on_tier(&manifest, fleet.as_ref(), &tier.name, &kills);
        for p in plays.values() {
            if let Plays::Fallback(f) = p {
                wanted.insert(f.clone());
            }
        }
        plays_by_tier.insert(tier.name.clone(), plays);
    }
    let limits = DecodeLimits::default();
    let mut findings = Vec::new();
    let mut anims = BTreeMap::new();
    let mut not_drawn = Vec::new();
    for a in manifest.assets.iter().filter(|a| wanted.contains(&a.id)) {
        match load_animation(a, &src, &limits) {
            Ok(anim) => {
                let u = anim.unsupported();
                if !u.is_empty() {
                    not_drawn.push((a.id.clone(), u));
                }
                anims.insert(a.id.clone(), Arc::new(anim));
            }
            Err(why) => findings.push(
                Finding::new(Code::DecodeFailed, why.to_string())
                    .asset(&a.id)
                    .path(a.files.first().map(|f| f.path.clone()).unwrap_or_default()),
            ),
        }
    }
    let playlist = Arc::new(Playlist::new(anims, effects));
    let mut runs = Vec::new();
    let mut host_runs = Vec::new();
    let mut substitutions = BTreeMap::new();
    let mut worst: BTreeMap<String, (Tier, crate::playback::engine::WorstFrame)> = BTreeMap::new();
    for tier in &req.tiers {
        let mut plays = plays_by_tier.remove(&tier.name).unwrap_or_default();
        // Effects with an image over the tier's largest texture play nothing on it, whether
        // sent themselves or reached as a fallback.
        let mut tier_findings: Vec<Finding> = Vec::new();
        for (id, anim) in &playlist.anims {
            let too_large =
                crate::check::budgets::oversized_images(id, anim, tier.max_texture_px, &tier.name);
            if too_large.is_empty() {
                continue;
            }
            tier_findings.extend(too_large);
            for (effect, p) in &mut plays {
                let reaches = match p {
                    Plays::Itself => effect == id,
                    Plays::Fallback(f) => f == id,
                    Plays::Builtin(_) | Plays::Nothing(_) => false,
                };
                if reaches {
                    *p = Plays::Nothing(format!(
                        "{id} has images over the tier's {} px texture limit",
                        tier.max_texture_px
                    ));
                }
            }
        }
        findings.extend(tier_findings.iter().cloned());
        let shown: BTreeMap<String, Plays> = plays
            .iter()
            .filter(|(_, p)| **p != Plays::Itself)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if !shown.is_empty() {
            substitutions.insert(tier.name.clone(), shown);
        }
        for s in &scenarios {
            let label = format!("{} / {}", tier.name, s.name);
            let engine = Engine::new(
                Arc::clone(&playlist),
                tier,
                s,
                RunOptions {
                    plays: plays.clone(),
                    ..RunOptions::default()
                },
                drawer.adapter().is_some(),
            );
            let (mut run, host) = drawer.run(engine, &|f| progress(&label, f))?;
            let mut own = crate::check::budgets::run_findings(&run, tier, s);
            own.extend(tier_findings.iter().cloned());
            sort_findings(&mut own);
            findings.extend(own.iter().cloned());
            run.findings = own;
            for (asset, w) in &run.worst_frames {
                let better = worst.get(asset).is_none_or(|(_, o)| w.cost_ms > o.cost_ms);
                if better {
                    worst.insert(asset.clone(), (tier.clone(), *w));
                }
            }
            runs.push(run);
            host_runs.extend(host);
        }
    }
    let worst: Vec<(String, Tier, crate::playback::engine::WorstFrame)> =
        worst.into_iter().map(|(a, (t, w))| (a, t, w)).collect();
    let thumbnails = drawer.thumbnails(&playlist, &worst);
    sort_findings(&mut findings);
    findings.dedup();
    let summary = summarize(&findings);
    Ok(Ok(SmokeReport {
        tool: super::json::TOOL,
        bundle: Some(header),
        summary,
        findings,
        tiers: req.tiers.clone(),
        substitutions,
        runs,
        not_drawn,
        host: HostReport {
            adapter: drawer.adapter(),
            wall_ms: wall.elapsed().as_secs_f64() * 1000.0,
            runs: host_runs,
            thumbnails,
        },
        manifest_json: manifest_bytes,
    }))
}
