//! `giftqa diff OLD NEW` (spec §11): what changed from the version users have to the one a
//! release manager is about to approve, and who sees what differently.
//!
//! Both bundles are checked in full (with the same keyring, fleet and clock); the report
//! lists assets added, removed and changed (by the hashes of their files, with size deltas),
//! per-asset manifest changes, bundle-level changes (the version must rise by semver
//! precedence), the compatibility-matrix delta weighted by the fleet's user shares, the
//! finding delta, and, when a [`FrameDrawer`] is given, the same frames of each changed
//! effect side by side with their PSNR.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::PathBuf;

use serde::Serialize;
use serde_json::Value;

use crate::bundle::manifest::{AssetKind, cmp_precedence};
use crate::check::compat::Outcome;
use crate::check::finding::{Code, Finding, Summary, sort_findings, summarize};
use crate::check::{BundleHeader, CheckError, CheckOptions, CheckReport, check_and_open};
pub use crate::playback::host::FrameDrawer;

use super::text::pct;

/// Frames compared per changed effect.
pub const DIFF_FRAMES: u32 = 5;
/// Longest side of a compared frame, px.
pub const DIFF_FRAME_PX: u32 = 240;

/// What `diff` compares.
#[derive(Debug, Clone)]
pub struct DiffRequest {
    /// The version users have.
    pub old: PathBuf,
    /// The version to approve.
    pub new: PathBuf,
    /// Keyring for both.
    pub keys: Option<PathBuf>,
    /// Fleet for both (the matrix delta needs it).
    pub fleet: Option<PathBuf>,
    /// The one clock reading.
    pub now: jiff::Timestamp,
}

/// An asset added or removed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AssetEntry {
    /// Asset id.
    pub id: String,
    /// Effect or resource.
    pub kind: String,
    /// Declared bytes of its files.
    pub size_bytes: u64,
}

/// A file of a changed asset.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FileChange {
    /// Path in the bundle.
    pub path: String,
    /// Old BLAKE3 (`None`: added).
    pub old_blake3: Option<String>,
    /// New BLAKE3 (`None`: removed).
    pub new_blake3: Option<String>,
    /// New size − old size, bytes.
    pub size_delta: i64,
}

/// An asset whose files changed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChangedAsset {
    /// Asset id.
    pub id: String,
    /// Its files that differ.
    pub files: Vec<FileChange>,
    /// New total − old total, bytes.
    pub size_delta: i64,
}

/// One manifest field that changed, of an asset or of the bundle.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldChange {
    /// Asset id; `None` for the bundle.
    pub asset: Option<String>,
    /// The field (`tiers`, `clients`, `fallback`, `depends_on`, `params`, `version`, …).
    pub field: String,
    /// Old value (`null`: absent).
    pub old: Value,
    /// New value (`null`: absent).
    pub new: Value,
}

/// How one effect's reach changes over the fleet, in shares of all users (0–1).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReachChange {
    /// Effect id.
    pub asset: String,
    /// Users who see the effect itself now and did not before.
    pub gained: f64,
    /// Users who saw the effect itself and do not now.
    pub lost: f64,
    /// Users who see a fallback, before and after.
    pub fallback_old: f64,
    /// Users who see a fallback now.
    pub fallback_new: f64,
    /// Cells where nothing plays now and something did (or the effect is new): new holes.
    pub new_hole_share: f64,
}

/// Two renderings of one frame.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FramePair {
    /// Frame index.
    pub frame_idx: u32,
    /// PSNR over mid-grey, dB; `None` when the two are identical.
    pub psnr_db: Option<f64>,
    /// The old frame as PNG, base64 (report.html).
    #[serde(skip)]
    pub old_png: String,
    /// The new frame as PNG, base64.
    #[serde(skip)]
    pub new_png: String,
}

/// The frames of one changed effect, side by side.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FrameDiff {
    /// Effect id.
    pub asset: String,
    /// The frames compared.
    pub frames: Vec<FramePair>,
}

/// The `diff` report (`diff.json`).
#[derive(Debug, Clone, Serialize)]
pub struct DiffReport {
    /// Tool name and version.
    pub tool: super::json::Tool,
    /// The old bundle.
    pub old: Option<BundleHeader>,
    /// The new bundle.
    pub new: Option<BundleHeader>,
    /// The diff's own findings (the version must rise) and the new bundle's errors.
    pub findings: Vec<Finding>,
    /// Counts of `findings`.
    pub summary: Summary,
    /// Assets only in NEW.
    pub added: Vec<AssetEntry>,
    /// Assets only in OLD.
    pub removed: Vec<AssetEntry>,
    /// Assets in both whose files differ.
    pub changed: Vec<ChangedAsset>,
    /// Manifest fields of assets in both that differ.
    pub asset_changes: Vec<FieldChange>,
    /// Bundle-level fields that differ (`version`, `min_client`, `rollout`, …).
    pub bundle_changes: Vec<FieldChange>,
    /// Per effect, how its reach over the fleet changes (with a fleet; effects whose reach
    /// is unchanged are left out).
    pub reach: Vec<ReachChange>,
    /// Findings of NEW that OLD did not have (by code, asset and path).
    pub new_findings: Vec<Finding>,
    /// Findings of OLD that NEW no longer has.
    pub fixed_findings: Vec<Finding>,
    /// Changed effects' frames side by side, when drawn.
    pub frames: Vec<FrameDiff>,
    /// NEW's verified `manifest.json` (SARIF locations).
    #[serde(skip)]
    pub new_manifest_json: Option<Vec<u8>>,
}

/// Why `diff` could not run (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum DiffError {
    /// A bundle, keyring or fleet cannot be read.
    #[error(transparent)]
    Check(#[from] CheckError),
    /// A bundle cannot be opened to draw its frames.
    #[error(transparent)]
    Source(#[from] crate::bundle::source::SourceError),
}

fn raw_assets(r: &CheckReport) -> (Value, BTreeMap<String, Value>) {
    let v: Value = r
        .verified_bytes
        .as_ref()
        .and_then(|b| serde_json::from_slice(&b.manifest).ok())
        .unwrap_or(Value::Null);
    let assets = v["assets"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| Some((a["id"].as_str()?.to_owned(), a.clone())))
        .collect();
    (v, assets)
}

fn files_of(a: &Value) -> BTreeMap<String, (String, i64)> {
    a["files"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| {
            Some((
                f["path"].as_str()?.to_owned(),
                (
                    f["blake3"].as_str().unwrap_or_default().to_owned(),
                    f["size"].as_i64().unwrap_or(0),
                ),
            ))
        })
        .collect()
}

fn entry(id: &str, a: &Value) -> AssetEntry {
    AssetEntry {
        id: id.to_owned(),
        kind: a["kind"].as_str().unwrap_or("effect").to_owned(),
        size_bytes: files_of(a)
            .values()
            .map(|(_, s)| u64::try_from(*s).unwrap_or(0))
            .sum(),
    }
}

/// The finding key a delta compares: code, asset and path (messages carry versions).
fn key(f: &Finding) -> (String, Option<String>, Option<String>) {
    (f.code.as_str().to_owned(), f.asset.clone(), f.path.clone())
}

/// Compares OLD with NEW (see the module docs). `drawer` draws the frames of changed effects
/// when given.
///
/// # Errors
/// [`DiffError`] when a bundle, the keyring or the fleet cannot be read at all.
pub fn run_diff(
    req: &DiffRequest,
    drawer: Option<&mut dyn FrameDrawer>,
) -> Result<DiffReport, DiffError> {
    let opts = CheckOptions {
        keys: req.keys.clone(),
        fleet: req.fleet.clone(),
        ..CheckOptions::new(req.now)
    };
    let (old, old_src) = check_and_open(&req.old, &opts, &|_| {})?;
    let (new, new_src) = check_and_open(&req.new, &opts, &|_| {})?;
    let (old_raw, old_assets) = raw_assets(&old);
    let (new_raw, new_assets) = raw_assets(&new);
    let mut added = Vec::new();
    let mut removed = Vec::new();
    let mut changed = Vec::new();
    let mut asset_changes = Vec::new();
    for (id, a) in &new_assets {
        if !old_assets.contains_key(id) {
            added.push(entry(id, a));
        }
    }
    for (id, a) in &old_assets {
        let Some(b) = new_assets.get(id) else {
            removed.push(entry(id, a));
            continue;
        };
        let (fa, fb) = (files_of(a), files_of(b));
        let paths: BTreeSet<&String> = fa.keys().chain(fb.keys()).collect();
        let mut files = Vec::new();
        for p in paths {
            let (o, n) = (fa.get(p), fb.get(p));
            if o.map(|x| &x.0) != n.map(|x| &x.0) {
                files.push(FileChange {
                    path: p.clone(),
                    old_blake3: o.map(|x| x.0.clone()),
                    new_blake3: n.map(|x| x.0.clone()),
                    size_delta: n.map_or(0, |x| x.1) - o.map_or(0, |x| x.1),
                });
            }
        }
        if !files.is_empty() {
            let total = |f: &BTreeMap<String, (String, i64)>| f.values().map(|x| x.1).sum::<i64>();
            changed.push(ChangedAsset {
                id: id.clone(),
                files,
                size_delta: total(&fb) - total(&fa),
            });
        }
        let fields: BTreeSet<&String> = a
            .as_object()
            .into_iter()
            .flatten()
            .chain(b.as_object().into_iter().flatten())
            .map(|(k, _)| k)
            .filter(|k| k.as_str() != "id" && k.as_str() != "files")
            .collect();
        for f in fields {
            let (o, n) = (a.get(f.as_str()), b.get(f.as_str()));
            if o != n {
                asset_changes.push(FieldChange {
                    asset: Some(id.clone()),
                    field: f.clone(),
                    old: o.cloned().unwrap_or(Value::Null),
                    new: n.cloned().unwrap_or(Value::Null),
                });
            }
        }
    }
    let mut bundle_changes = Vec::new();
    for f in [
        "bundle_id",
        "version",
        "min_client",
        "expires",
        "rollout",
        "format",
    ] {
        let (o, n) = (old_raw.get(f), new_raw.get(f));
        if o != n {
            bundle_changes.push(FieldChange {
                asset: None,
                field: f.to_owned(),
                old: o.cloned().unwrap_or(Value::Null),
                new: n.cloned().unwrap_or(Value::Null),
            });
        }
    }
    let mut findings = Vec::new();
    if let (Some(o), Some(n)) = (&old.manifest, &new.manifest) {
        match cmp_precedence(&n.version, &o.version) {
            std::cmp::Ordering::Greater => {}
            std::cmp::Ordering::Equal => findings.push(
                Finding::new(
                    Code::VersionReused,
                    format!(
                        "NEW keeps version {} of OLD: a changed bundle needs a higher version",
                        n.version
                    ),
                )
                .path("manifest.json")
                .expected_actual(format!("> {}", o.version), n.version.to_string()),
            ),
            std::cmp::Ordering::Less => findings.push(
                Finding::new(
                    Code::VersionRollback,
                    format!(
                        "NEW's version {} is below OLD's {} by SemVer precedence",
                        n.version, o.version
                    ),
                )
                .path("manifest.json")
                .expected_actual(format!("> {}", o.version), n.version.to_string()),
            ),
        }
    }
    findings.extend(
        new.findings
            .iter()
            .filter(|f| f.severity == crate::check::finding::Severity::Error)
            .cloned(),
    );
    sort_findings(&mut findings);
    findings.dedup();
    let reach = reach_delta(&old, &new);
    let old_keys: BTreeSet<_> = old.findings.iter().map(key).collect();
    let new_keys: BTreeSet<_> = new.findings.iter().map(key).collect();
    let new_findings = new
        .findings
        .iter()
        .filter(|f| !old_keys.contains(&key(f)))
        .cloned()
        .collect();
    let fixed_findings = old
        .findings
        .iter()
        .filter(|f| !new_keys.contains(&key(f)))
        .cloned()
        .collect();
    let frames = match drawer {
        Some(d) => draw_changed([&old, &new], [&old_src, &new_src], &changed, d),
        None => Vec::new(),
    };
    Ok(DiffReport {
        tool: super::json::TOOL,
        old: old.bundle.clone(),
        new: new.bundle.clone(),
        summary: summarize(&findings),
        findings,
        added,
        removed,
        changed,
        asset_changes,
        bundle_changes,
        reach,
        new_findings,
        fixed_findings,
        frames,
        new_manifest_json: new.verified_bytes.as_ref().map(|v| v.manifest.clone()),
    })
}

fn reach_delta(old: &CheckReport, new: &CheckReport) -> Vec<ReachChange> {
    let (Some(mo), Some(mn)) = (&old.matrix, &new.matrix) else {
        return Vec::new();
    };
    let cell_key = |c: &crate::check::finding::CellRef| (c.client.clone(), c.tier.clone());
    let old_index: BTreeMap<_, usize> = mo
        .cells
        .iter()
        .enumerate()
        .map(|(i, c)| (cell_key(c), i))
        .collect();
    let mut out = Vec::new();
    for row in &mn.rows {
        let old_row = mo.rows.iter().find(|r| r.asset == row.asset);
        let (mut gained, mut lost, mut holes) = (0.0, 0.0, 0.0);
        for (cell, outcome) in mn.cells.iter().zip(&row.outcomes) {
            let before = old_row
                .zip(old_index.get(&cell_key(cell)))
                .and_then(|(r, i)| r.outcomes.get(*i));
            let was = matches!(before, Some(Outcome::Primary));
            let is = matches!(outcome, Outcome::Primary);
            if is && !was {
                gained += cell.share;
            }
            if was && !is {
                lost += cell.share;
            }
            if matches!(outcome, Outcome::Hole) && !matches!(before, Some(Outcome::Hole)) {
                holes += cell.share;
            }
        }
        for (cell, outcome) in mo
            .cells
            .iter()
            .zip(old_row.map_or(&[][..], |r| &r.outcomes))
        {
            // Cells of OLD's fleet that NEW's no longer lists count as lost.
            if !mn.cells.iter().any(|c| cell_key(c) == cell_key(cell))
                && matches!(outcome, Outcome::Primary)
            {
                lost += cell.share;
            }
        }
        let fallback_old = old_row.map_or(0.0, |r| r.shares.fallback);
        let change = ReachChange {
            asset: row.asset.clone(),
            gained: round(gained),
            lost: round(lost),
            fallback_old: round(fallback_old),
            fallback_new: round(row.shares.fallback),
            new_hole_share: round(holes),
        };
        if change.gained > 0.0
            || change.lost > 0.0
            || change.new_hole_share > 0.0
            || (change.fallback_old - change.fallback_new).abs() > 1e-12
            || old_row.is_none()
        {
            out.push(change);
        }
    }
    for row in &mo.rows {
        if !mn.rows.iter().any(|r| r.asset == row.asset) {
            out.push(ReachChange {
                asset: row.asset.clone(),
                gained: 0.0,
                lost: round(row.shares.primary),
                fallback_old: round(row.shares.fallback),
                fallback_new: 0.0,
                new_hole_share: 0.0,
            });
        }
    }
    out
}

fn round(share: f64) -> f64 {
    crate::check::finding::round_share(share)
}

/// Draws the changed effects of the two checked bundles (old, new), read through the sources
/// their checks verified.
fn draw_changed(
    [old, new]: [&CheckReport; 2],
    [so, sn]: [&crate::bundle::source::BundleSource; 2],
    changed: &[ChangedAsset],
    drawer: &mut dyn FrameDrawer,
) -> Vec<FrameDiff> {
    use base64::Engine as _;

    use crate::format::DecodeLimits;
    use crate::model::load::load_animation;

    let (Some(mo), Some(mn)) = (&old.manifest, &new.manifest) else {
        return Vec::new();
    };
    if old.blocking_findings().next().is_some() || new.blocking_findings().next().is_some() {
        return Vec::new();
    }
    let limits = DecodeLimits::default();
    let png = |img: &image::RgbaImage| {
        let mut out = Vec::new();
        img.write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
            .ok()
            .map(|()| base64::engine::general_purpose::STANDARD.encode(out))
            .unwrap_or_default()
    };
    let mut out = Vec::new();
    for c in changed {
        let (Some(ao), Some(an)) = (mo.asset(&c.id), mn.asset(&c.id)) else {
            continue;
        };
        if an.kind != AssetKind::Effect {
            continue;
        }
        let (Ok(a), Ok(b)) = (
            load_animation(ao, so, &limits),
            load_animation(an, sn, &limits),
        ) else {
            continue;
        };
        let scale = DIFF_FRAME_PX as f32 / a.width_px.max(a.height_px).max(1) as f32;
        let size = [
            ((a.width_px as f32 * scale).round() as u32).max(1),
            ((a.height_px as f32 * scale).round() as u32).max(1),
        ];
        let n = a.frame_count.min(b.frame_count).max(1);
        let picks: BTreeSet<u32> = (0..DIFF_FRAMES)
            .map(|k| k * (n - 1) / (DIFF_FRAMES - 1).max(1))
            .collect();
        let mut frames = Vec::new();
        for f in picks {
            let (Some(x), Some(y)) = (drawer.draw(&a, f, size), drawer.draw(&b, f, size)) else {
                continue;
            };
            let psnr = crate::playback::fidelity::psnr_over_grey(&x, &y)
                .filter(|p| p.is_finite())
                .map(|p| (p * 100.0).round() / 100.0);
            frames.push(FramePair {
                frame_idx: f,
                psnr_db: psnr,
                old_png: png(&x),
                new_png: png(&y),
            });
        }
        out.push(FrameDiff {
            asset: c.id.clone(),
            frames,
        });
    }
    out
}

/// The diff as text for a terminal.
#[must_use]
pub fn diff_text(r: &DiffReport) -> String {
    let name = |h: &Option<BundleHeader>| {
        h.as_ref()
            .map_or("?".to_owned(), |h| format!("{} {}", h.bundle_id, h.version))
    };
    let mut s = format!("giftqa diff: {} → {}\n", name(&r.old), name(&r.new));
    for c in &r.bundle_changes {
        let _ = writeln!(s, "bundle {}: {} → {}", c.field, c.old, c.new);
    }
    for a in &r.added {
        let _ = writeln!(s, "+ {} ({}, {} bytes)", a.id, a.kind, a.size_bytes);
    }
    for a in &r.removed {
        let _ = writeln!(s, "- {} ({}, {} bytes)", a.id, a.kind, a.size_bytes);
    }
    for c in &r.changed {
        let _ = writeln!(
            s,
            "~ {} ({} file(s), {:+} bytes)",
            c.id,
            c.files.len(),
            c.size_delta
        );
    }
    for c in &r.asset_changes {
        let _ = writeln!(
            s,
            "  {} {}: {} → {}",
            c.asset.as_deref().unwrap_or(""),
            c.field,
            c.old,
            c.new
        );
    }
    if !r.reach.is_empty() {
        let _ = writeln!(
            s,
            "\nreach over the fleet (share of users):\n  {:<24} {:>9} {:>9} {:>19} {:>10}",
            "effect", "gained", "lost", "fallback old→new", "new holes"
        );
        for c in &r.reach {
            let _ = writeln!(
                s,
                "  {:<24} {:>9} {:>9} {:>19} {:>10}",
                c.asset,
                pct(c.gained),
                pct(c.lost),
                format!("{}→{}", pct(c.fallback_old), pct(c.fallback_new)),
                pct(c.new_hole_share)
            );
        }
    }
    for f in &r.frames {
        let line: Vec<String> = f
            .frames
            .iter()
            .map(|p| match p.psnr_db {
                Some(db) => format!("{}: {db:.1} dB", p.frame_idx),
                None => format!("{}: identical", p.frame_idx),
            })
            .collect();
        let _ = writeln!(s, "frames of {}: {}", f.asset, line.join(", "));
    }
    if !r.new_findings.is_empty() || !r.fixed_findings.is_empty() {
        s.push('\n');
    }
    for f in &r.new_findings {
        let _ = writeln!(s, "new   {}", super::text::finding_line(f));
    }
    for f in &r.fixed_findings {
        let _ = writeln!(s, "fixed {}", super::text::finding_line(f));
    }
    if !r.findings.is_empty() {
        s.push('\n');
    }
    for f in &r.findings {
        let _ = writeln!(s, "{}", super::text::finding_line(f));
    }
    let _ = writeln!(
        s,
        "\nsummary: {} added, {} removed, {} changed, {} new finding(s), {} fixed; {} errors",
        r.added.len(),
        r.removed.len(),
        r.changed.len(),
        r.new_findings.len(),
        r.fixed_findings.len(),
        r.summary.errors
    );
    s
}

/// The diff as one self-contained HTML page, the changed effects' frames side by side.
#[must_use]
pub fn diff_html(r: &DiffReport) -> String {
    use super::html::escape;
    let mut s = String::from(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>giftqa diff</title><style>body{font:14px system-ui,sans-serif;margin:24px;color:#222}table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}th{background:#eee}figure{display:inline-block;margin:4px 12px 4px 0}img{background:#808080}.error{color:#b00}</style></head><body>",
    );
    let _ = write!(
        s,
        "<h1>{}</h1>",
        escape(diff_text(r).lines().next().unwrap_or("giftqa diff"))
    );
    s.push_str("<pre>");
    s.push_str(&escape(&diff_text(r)));
    s.push_str("</pre>");
    for f in &r.frames {
        let _ = write!(
            s,
            "<h2>{} — old and new, side by side</h2>",
            escape(&f.asset)
        );
        for p in &f.frames {
            let psnr = p
                .psnr_db
                .map_or_else(|| "identical".to_owned(), |db| format!("{db:.1} dB"));
            let _ = write!(
                s,
                "<figure><img alt=\"old frame {0}\" src=\"data:image/png;base64,{1}\"><img alt=\"new frame {0}\" src=\"data:image/png;base64,{2}\"><figcaption>frame {0}: {3}</figcaption></figure>",
                p.frame_idx, p.old_png, p.new_png, psnr
            );
        }
    }
    s.push_str("</body></html>\n");
    s
}
