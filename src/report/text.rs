//! Text reports for a terminal: one line per finding like a compiler's
//! (`error[asset-hash-mismatch]: effects/rose.svga: expected 9f3e…, got 41aa…`), then the
//! assets, the compatibility matrix with user shares, and a one-line summary.

use std::fmt::Write as _;

use crate::check::CheckReport;
use crate::check::finding::Finding;

fn location(f: &Finding) -> Option<String> {
    match (&f.path, &f.asset) {
        (Some(p), Some(a)) => Some(format!("{p} ({a})")),
        (Some(p), None) => Some(p.clone()),
        (None, Some(a)) => Some(a.clone()),
        (None, None) => None,
    }
}

/// One audio track as a line: key, frames, times and whether its sound is in the file.
#[must_use]
pub fn audio_line(t: &crate::format::AudioTrack, fps: f64) -> String {
    let ms = |f: u32| f64::from(f) * 1000.0 / fps.max(1e-3);
    format!(
        "audio {}: frames {}–{} ({:.0}–{:.0} ms), from {} ms of the sound{}",
        t.key,
        t.start_frame,
        t.end_frame,
        ms(t.start_frame),
        ms(t.end_frame),
        t.start_ms,
        if t.bytes > 0 {
            format!(", {} in the file", human_bytes(t.bytes))
        } else {
            ", its sound is not in the file".to_owned()
        }
    )
}

/// One finding as a line (and an indented line for the cells of matrix findings).
#[must_use]
pub fn finding_line(f: &Finding) -> String {
    let mut s = match location(f) {
        Some(loc) => format!("{}[{}]: {loc}: {}", f.severity.as_str(), f.code, f.message),
        None => format!("{}[{}]: {}", f.severity.as_str(), f.code, f.message),
    };
    if let Some(cells) = &f.cells {
        let shown: Vec<String> = cells
            .iter()
            .take(6)
            .map(|c| format!("{}/{} {:.2}%", c.client, c.tier, c.share * 100.0))
            .collect();
        let more = if cells.len() > 6 {
            format!(", … {} more", cells.len() - 6)
        } else {
            String::new()
        };
        let _ = write!(s, "\n    cells: {}{more}", shown.join(", "));
    }
    s
}

fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

/// A user share as a percentage with two decimals, e.g. `20.00%`.
#[must_use]
pub fn pct(share: f64) -> String {
    format!("{:.2}%", share * 100.0)
}

/// Renders the whole check report.
#[must_use]
pub fn check_text(r: &CheckReport, bundle_path: &str) -> String {
    let mut s = String::new();
    match &r.bundle {
        Some(b) => {
            let _ = writeln!(
                s,
                "giftqa check {bundle_path}: {} {} (manifest {}…)",
                b.bundle_id,
                b.version,
                &b.manifest_blake3[..12]
            );
        }
        None => {
            let _ = writeln!(s, "giftqa check {bundle_path}");
        }
    }
    let _ = writeln!(s);
    for f in &r.findings {
        let _ = writeln!(s, "{}", finding_line(f));
    }
    if !r.findings.is_empty() {
        let _ = writeln!(s);
    }
    if !r.assets.is_empty() {
        let _ = writeln!(s, "assets:");
        let _ = writeln!(
            s,
            "  {:<22} {:<8} {:<12} {:>9} {:>11} {:>7} {:>6} {:>10}",
            "id", "kind", "format", "size", "canvas", "frames", "fps", "decoded"
        );
        for a in &r.assets {
            let kind = match a.kind {
                crate::bundle::manifest::AssetKind::Effect => "effect",
                crate::bundle::manifest::AssetKind::Resource => "resource",
            };
            let (canvas, frames, fps, decoded) = match &a.info {
                Some(i) if i.frame_count > 0 => (
                    format!("{}×{}", i.width_px, i.height_px),
                    i.frame_count.to_string(),
                    format!("{:.0}", i.fps),
                    human_bytes(i.decoded_bytes),
                ),
                Some(_) => ("-".into(), "-".into(), "-".into(), "-".into()),
                None => ("?".into(), "?".into(), "?".into(), "not decoded".into()),
            };
            let _ = writeln!(
                s,
                "  {:<22} {:<8} {:<12} {:>9} {:>11} {:>7} {:>6} {:>10}",
                a.id,
                kind,
                a.format.as_str(),
                human_bytes(a.size_bytes),
                canvas,
                frames,
                fps,
                decoded
            );
            if let Some(i) = &a.info {
                for n in &i.notes {
                    let _ = writeln!(s, "      · {n}");
                }
                if !i.slot_keys.is_empty() {
                    let _ = writeln!(s, "      · dynamic slot keys: {}", i.slot_keys.join(", "));
                }
                for t in &i.audio {
                    let _ = writeln!(s, "      · {}", audio_line(t, i.fps));
                }
            }
        }
        let _ = writeln!(s);
    }
    if let Some(why) = &r.decode_skipped {
        let _ = writeln!(s, "assets not decoded: {why}\n");
    }
    if let Some(m) = &r.matrix {
        let total: f64 = m.cells.iter().map(|c| c.share).sum();
        let _ = writeln!(
            s,
            "compatibility matrix ({} cells, {} of users listed):",
            m.cells.len(),
            pct(total)
        );
        let _ = writeln!(
            s,
            "  {:<22} {:>9} {:>9} {:>9} {:>14}",
            "effect", "primary", "fallback", "hole", "not delivered"
        );
        for row in &m.rows {
            let _ = writeln!(
                s,
                "  {:<22} {:>9} {:>9} {:>9} {:>14}",
                row.asset,
                pct(row.shares.primary),
                pct(row.shares.fallback),
                pct(row.shares.hole),
                pct(row.shares.not_delivered)
            );
            let fallbacks = row.fallbacks();
            if !fallbacks.is_empty() {
                let _ = writeln!(
                    s,
                    "      · falls back to {}",
                    fallbacks.into_iter().collect::<Vec<_>>().join(", ")
                );
            }
        }
        let _ = writeln!(s);
    }
    if let Some(k) = &r.kill {
        let _ = writeln!(
            s,
            "kill document seq {}: {} ({})",
            k.seq,
            k.killed.join(", "),
            if k.in_force {
                "in force"
            } else {
                "not in force at this clock reading"
            }
        );
        let _ = writeln!(s);
    }
    let verdict = if r.summary.errors > 0 {
        "FAIL: sign-off blocked"
    } else if r.summary.warnings > 0 {
        "PASS with warnings: each needs a waiver at sign-off"
    } else {
        "PASS"
    };
    let _ = writeln!(
        s,
        "summary: {} error{}, {} warning{}, {} info{} — {verdict}",
        r.summary.errors,
        if r.summary.errors == 1 { "" } else { "s" },
        r.summary.warnings,
        if r.summary.warnings == 1 { "" } else { "s" },
        r.summary.infos,
        if r.summary.infos == 1 { "" } else { "s" },
    );
    s
}
