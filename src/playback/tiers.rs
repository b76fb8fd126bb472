//! Device tiers (spec §9): viewport, texture limits and budgets, target frame rate, decode
//! threads, CPU slowdown and first-frame budget. Built-ins, or a tiers file replacing them.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::model::Affine;

/// One simulated device tier.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tier {
    /// Name: `low`, `mid`, `high`, or a tiers file's own.
    pub name: String,
    /// Viewport `[width, height]`, px.
    pub viewport_px: [u32; 2],
    /// Largest texture side, px.
    pub max_texture_px: u32,
    /// Texture budget, bytes.
    pub texture_budget_bytes: u64,
    /// Target frames per second.
    pub target_fps: u32,
    /// Decode worker threads.
    pub decode_threads: u32,
    /// CPU slowdown factor: decode work runs this many times longer.
    pub cpu_slowdown: f64,
    /// First-frame budget, ms.
    pub first_frame_budget_ms: f64,
}

impl Tier {
    /// The frame budget, ms (1000 / target fps).
    #[must_use]
    pub fn frame_budget_ms(&self) -> f64 {
        1000.0 / f64::from(self.target_fps.max(1))
    }

    /// Bytes uploaded per frame that a tier can afford: a quarter of the texture budget per
    /// second, spread over its frames (a mobile GPU's upload bandwidth is a fraction of its
    /// memory; see docs/decisions.md).
    #[must_use]
    pub fn upload_budget_bytes_per_frame(&self) -> u64 {
        self.texture_budget_bytes / 4 / u64::from(self.target_fps.max(1))
    }

    /// Screen fills per frame a tier can afford before overdraw stalls its GPU.
    #[must_use]
    pub fn overdraw_budget(&self) -> f64 {
        match self.name.as_str() {
            "low" => 2.5,
            "mid" => 4.0,
            _ => 6.0,
        }
    }
}

const MIB: u64 = 1024 * 1024;

/// The built-in tiers of spec §9.
#[must_use]
pub fn builtin_tiers() -> Vec<Tier> {
    vec![
        Tier {
            name: "low".into(),
            viewport_px: [540, 960],
            max_texture_px: 2048,
            texture_budget_bytes: 96 * MIB,
            target_fps: 30,
            decode_threads: 1,
            cpu_slowdown: 4.0,
            first_frame_budget_ms: 300.0,
        },
        Tier {
            name: "mid".into(),
            viewport_px: [720, 1280],
            max_texture_px: 4096,
            texture_budget_bytes: 256 * MIB,
            target_fps: 60,
            decode_threads: 2,
            cpu_slowdown: 2.0,
            first_frame_budget_ms: 200.0,
        },
        Tier {
            name: "high".into(),
            viewport_px: [1080, 1920],
            max_texture_px: 8192,
            texture_budget_bytes: 512 * MIB,
            target_fps: 60,
            decode_threads: 4,
            cpu_slowdown: 1.0,
            first_frame_budget_ms: 150.0,
        },
    ]
}

/// Errors reading a tiers file (exit code 2).
#[derive(Debug, thiserror::Error)]
#[error("{path:?} is not a valid tiers file: {message}")]
pub struct TiersError {
    /// The file.
    pub path: std::path::PathBuf,
    /// Why.
    pub message: String,
}

/// Reads a tiers file: `{"tiers": [Tier, ...]}` with the fields of [`Tier`].
///
/// # Errors
/// [`TiersError`] when unreadable or when a tier has a zero size, rate or budget.
pub fn load_tiers(path: &Path) -> Result<Vec<Tier>, TiersError> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct File {
        tiers: Vec<Tier>,
    }
    let err = |message: String| TiersError {
        path: path.to_owned(),
        message,
    };
    let bytes = std::fs::read(path).map_err(|e| err(e.to_string()))?;
    let f: File = serde_json::from_slice(&bytes).map_err(|e| err(e.to_string()))?;
    if f.tiers.is_empty() {
        return Err(err("no tiers".into()));
    }
    for t in &f.tiers {
        if t.viewport_px.contains(&0)
            || t.max_texture_px == 0
            || t.texture_budget_bytes == 0
            || t.target_fps == 0
            || t.decode_threads == 0
            || t.cpu_slowdown.is_nan()
            || t.cpu_slowdown < 1.0
        {
            return Err(err(format!(
                "tier {:?}: sizes, budgets, fps and threads must be positive and cpu_slowdown ≥ 1",
                t.name
            )));
        }
    }
    Ok(f.tiers)
}

/// The transform that fits a canvas into a viewport: contain (whole canvas visible, aspect
/// kept), centred.
#[must_use]
pub fn fit_contain(canvas: [f32; 2], viewport: [f32; 2]) -> Affine {
    if canvas[0] <= 0.0 || canvas[1] <= 0.0 {
        return Affine::IDENTITY;
    }
    let s = (viewport[0] / canvas[0]).min(viewport[1] / canvas[1]);
    Affine::translate(
        (viewport[0] - canvas[0] * s) / 2.0,
        (viewport[1] - canvas[1] * s) / 2.0,
    )
    .then_after(Affine::scale(s, s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtins_match_the_spec_table() {
        let t = builtin_tiers();
        assert_eq!(
            t.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(),
            ["low", "mid", "high"]
        );
        assert_eq!(t[0].texture_budget_bytes, 96 * MIB);
        assert!((t[0].frame_budget_ms() - 33.333).abs() < 0.01);
        assert_eq!(
            (t[2].viewport_px, t[2].max_texture_px, t[2].decode_threads),
            ([1080, 1920], 8192, 4)
        );
    }

    #[test]
    fn contain_centres_and_keeps_aspect() {
        let f = fit_contain([500.0, 500.0], [540.0, 960.0]);
        assert_eq!(f.apply(0.0, 0.0), (0.0, 210.0));
        assert_eq!(f.apply(500.0, 500.0), (540.0, 750.0));
        let g = fit_contain([750.0, 80.0], [1080.0, 1920.0]);
        let (x, _) = g.apply(750.0, 0.0);
        assert!((x - 1080.0).abs() < 1e-3);
    }
}
