//! Playback rules (spec §9, §10 playback area): a simulated run of the playback engine judged
//! against its tier's budgets. Every finding here comes from the simulation, never from the
//! host's clock, so the same inputs give the same findings on any machine.

use std::collections::BTreeMap;

use super::finding::{Code, Finding};
use crate::model::Animation;
use crate::playback::engine::SimRun;
use crate::playback::scenario::Scenario;
use crate::playback::tiers::Tier;

/// Images larger than `max` px a side (a tier's largest texture): `frame-too-large`, one per
/// image, naming the tier.
#[must_use]
pub fn oversized_images(asset: &str, anim: &Animation, max: u32, tier: &str) -> Vec<Finding> {
    anim.images
        .iter()
        .filter(|i| i.width_px > max || i.height_px > max)
        .map(|i| {
            Finding::new(
                Code::FrameTooLarge,
                format!(
                    "image {:?} is {} × {} px, over the {max} px texture limit of tier {tier}",
                    i.key, i.width_px, i.height_px
                ),
            )
            .asset(asset)
            .expected_actual(
                format!("≤ {max} px a side"),
                format!("{} × {} px", i.width_px, i.height_px),
            )
        })
        .collect()
}

/// The findings of one simulated run: `decode-failed`, `memory-over-budget`,
/// `first-frame-slow`, `overdraw-over-budget`, `upload-over-budget` and `burst-dropped`.
#[must_use]
pub fn run_findings(run: &SimRun, tier: &Tier, scenario: &Scenario) -> Vec<Finding> {
    let tag = format!("tier {}, scenario {}", tier.name, scenario.name);
    let st = &run.stats;
    let mut out = Vec::new();
    for (asset, e) in &run.decode_errors {
        out.push(Finding::new(Code::DecodeFailed, format!("{tag}: {e}")).asset(asset.clone()));
    }
    let peak = st.peak_memory.total();
    if peak > tier.texture_budget_bytes {
        let m = &st.peak_memory;
        out.push(
            Finding::new(
                Code::MemoryOverBudget,
                format!(
                    "{tag}: {peak} bytes resident on the device (textures {}, targets {}, MSAA {}, layers {}, meshes {}) with {} playing, over the tier's budget",
                    m.textures,
                    m.targets,
                    m.msaa,
                    m.layers,
                    m.meshes,
                    run.peak_memory_playing.join(", ")
                ),
            )
            .expected_actual(format!("≤ {}", tier.texture_budget_bytes), peak.to_string()),
        );
    }
    let mut slow: BTreeMap<&str, f64> = BTreeMap::new();
    for s in &run.sends {
        if let Some(ms) = s.start_to_first_frame_ms {
            let e = slow.entry(s.asset.as_str()).or_default();
            *e = e.max(ms);
        }
    }
    for (asset, ms) in slow {
        if ms > tier.first_frame_budget_ms {
            out.push(
                Finding::new(
                    Code::FirstFrameSlow,
                    format!(
                        "{tag}: first frame presented {ms:.0} ms after the effect started (simulated), over the tier's {:.0} ms budget",
                        tier.first_frame_budget_ms
                    ),
                )
                .asset(asset)
                .expected_actual(
                    format!("≤ {:.0} ms", tier.first_frame_budget_ms),
                    format!("{ms:.0} ms"),
                ),
            );
        }
    }
    let budget = tier.overdraw_budget();
    for (asset, od) in &run.overdraw_by_asset {
        if *od > budget {
            out.push(
                Finding::new(
                    Code::OverdrawOverBudget,
                    format!(
                        "{tag}: one frame paints {od:.2} screen fills, over the tier's {budget:.1}"
                    ),
                )
                .asset(asset.clone())
                .expected_actual(format!("≤ {budget:.1}"), format!("{od:.2}")),
            );
        }
    }
    let upload_budget = tier.upload_budget_bytes_per_frame();
    if st.upload_bytes_p95 > upload_budget as f64 {
        out.push(
            Finding::new(
                Code::UploadOverBudget,
                format!(
                    "{tag}: p95 upload {:.0} bytes per frame, over the tier's {upload_budget} bytes",
                    st.upload_bytes_p95
                ),
            )
            .expected_actual(
                format!("≤ {upload_budget}"),
                format!("{:.0}", st.upload_bytes_p95),
            ),
        );
    }
    if st.dropped > 0 {
        out.push(
            Finding::new(
                Code::BurstDropped,
                format!(
                    "{tag}: {} of {} sends dropped by a full queue (limit {})",
                    st.dropped, st.sends, scenario.queue_limit
                ),
            )
            .expected_actual("0 dropped", st.dropped.to_string()),
        );
    }
    out
}
