//! Device tiers (spec §9): viewport, texture limits and budgets, target frame rate, decode
//! threads, CPU slowdown and first-frame budget. Built-ins, or a tiers file replacing them.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::device::{DeviceConstants, RangeError, builtin_constants, mid_constants};
use crate::model::Affine;

/// One simulated device tier: the device it stands for (viewport, limits, decode threads, the
/// device constants of its model) and every budget its effects are judged against.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tier {
    /// Name: `low`, `mid`, `high`, or a tiers file's own.
    pub name: String,
    /// Viewport `[width, height]`, px.
    pub viewport_px: [u32; 2],
    /// Largest texture side, px.
    pub max_texture_px: u32,
    /// Device memory budget (textures, targets, layers, meshes), bytes.
    pub texture_budget_bytes: u64,
    /// Target frames per second.
    pub target_fps: u32,
    /// Decode worker threads.
    pub decode_threads: u32,
    /// First-frame budget, ms.
    pub first_frame_budget_ms: f64,
    /// Screen fills one effect may paint in a frame before `overdraw-over-budget`. Default:
    /// 2.5 on `low`, 4 on `mid`, 6 otherwise.
    #[serde(default)]
    pub overdraw_budget: Option<f64>,
    /// Bytes uploaded per frame (p95) before `upload-over-budget`. Default: a quarter of the
    /// texture budget per second, spread over the frames.
    #[serde(default)]
    pub upload_budget_bytes_per_frame: Option<u64>,
    /// Samples per pixel of the target and layers (the renderer's 4× MSAA). Default 4.
    #[serde(default)]
    pub msaa_samples: Option<u32>,
    /// CPU slowdown: every CPU throughput of the device constants divided by it (1–1000).
    /// Default 1.
    #[serde(default)]
    pub cpu_slowdown: Option<f64>,
    /// The device constants; default: the built-in tier of the same name, else `mid`'s.
    #[serde(default)]
    pub device: Option<DeviceConstants>,
}

impl Tier {
    /// The frame budget, ms (1000 / target fps).
    #[must_use]
    pub fn frame_budget_ms(&self) -> f64 {
        1000.0 / f64::from(self.target_fps.max(1))
    }

    /// Bytes uploaded per frame that a tier can afford (the field, or a quarter of the
    /// texture budget per second spread over its frames; see docs/decisions.md).
    #[must_use]
    pub fn upload_budget_bytes_per_frame(&self) -> u64 {
        self.upload_budget_bytes_per_frame
            .unwrap_or(self.texture_budget_bytes / 4 / u64::from(self.target_fps.max(1)))
    }

    /// Screen fills per frame a tier can afford before overdraw stalls its GPU.
    #[must_use]
    pub fn overdraw_budget(&self) -> f64 {
        self.overdraw_budget.unwrap_or(match self.name.as_str() {
            "low" => 2.5,
            "mid" => 4.0,
            _ => 6.0,
        })
    }

    /// Samples per pixel of targets and layers.
    #[must_use]
    pub fn msaa_samples(&self) -> u32 {
        self.msaa_samples.unwrap_or(4)
    }

    /// The device constants the model uses, `cpu_slowdown` applied.
    #[must_use]
    pub fn device(&self) -> DeviceConstants {
        let base = self
            .device
            .unwrap_or_else(|| builtin_constants(&self.name).unwrap_or_else(mid_constants));
        base.slowed(self.cpu_slowdown.unwrap_or(1.0))
    }

    /// Checks every number against its range (see `docs/limits.md`).
    ///
    /// # Errors
    /// The first field out of range, named.
    pub fn validate(&self) -> Result<(), RangeError> {
        let bad = |field: &'static str, range: &str| {
            Err(RangeError::Tier {
                tier: self.name.clone(),
                field,
                range: range.to_owned(),
            })
        };
        if self
            .viewport_px
            .iter()
            .any(|&v| v == 0 || v > MAX_VIEWPORT_PX)
        {
            return bad("viewport_px sides", &format!("1 to {MAX_VIEWPORT_PX}"));
        }
        if self.max_texture_px == 0 || self.max_texture_px > 65_536 {
            return bad("max_texture_px", "1 to 65536");
        }
        if self.texture_budget_bytes == 0 || self.texture_budget_bytes > 1 << 40 {
            return bad("texture_budget_bytes", "1 to 2^40");
        }
        if self.target_fps == 0 || self.target_fps > 240 {
            return bad("target_fps", "1 to 240");
        }
        if self.decode_threads == 0 || self.decode_threads > 64 {
            return bad("decode_threads", "1 to 64");
        }
        if !(self.first_frame_budget_ms.is_finite()
            && (0.0..=600_000.0).contains(&self.first_frame_budget_ms))
        {
            return bad("first_frame_budget_ms", "0 to 600000");
        }
        if let Some(o) = self.overdraw_budget
            && !(o.is_finite() && (0.0..=1000.0).contains(&o))
        {
            return bad("overdraw_budget", "0 to 1000");
        }
        if let Some(s) = self.msaa_samples
            && ![1, 2, 4, 8].contains(&s)
        {
            return bad("msaa_samples", "1, 2, 4 or 8");
        }
        if let Some(k) = self.cpu_slowdown
            && !(k.is_finite() && (1.0..=1000.0).contains(&k))
        {
            return bad("cpu_slowdown", "1 to 1000");
        }
        if let Some(d) = &self.device {
            d.validate().map_err(|e| RangeError::Device {
                tier: self.name.clone(),
                source: Box::new(e),
            })?;
        }
        Ok(())
    }
}

/// Largest viewport side a tiers file may ask for, px.
pub const MAX_VIEWPORT_PX: u32 = 8192;

const MIB: u64 = 1024 * 1024;

fn tier(
    name: &str,
    viewport_px: [u32; 2],
    max_texture_px: u32,
    budget_mib: u64,
    target_fps: u32,
    decode_threads: u32,
    first_frame_budget_ms: f64,
) -> Tier {
    Tier {
        name: name.into(),
        viewport_px,
        max_texture_px,
        texture_budget_bytes: budget_mib * MIB,
        target_fps,
        decode_threads,
        first_frame_budget_ms,
        overdraw_budget: None,
        upload_budget_bytes_per_frame: None,
        msaa_samples: None,
        cpu_slowdown: None,
        device: None,
    }
}

/// The built-in tiers of spec §9, with their budgets and device constants filled in.
#[must_use]
pub fn builtin_tiers() -> Vec<Tier> {
    [
        tier("low", [540, 960], 2048, 96, 30, 1, 300.0),
        tier("mid", [720, 1280], 4096, 256, 60, 2, 200.0),
        tier("high", [1080, 1920], 8192, 512, 60, 4, 150.0),
    ]
    .into_iter()
    .map(Tier::filled)
    .collect()
}

impl Tier {
    /// This tier with every defaulted field written out (what a tiers file states).
    #[must_use]
    pub fn filled(mut self) -> Self {
        self.overdraw_budget = Some(self.overdraw_budget());
        self.upload_budget_bytes_per_frame = Some(self.upload_budget_bytes_per_frame());
        self.msaa_samples = Some(self.msaa_samples());
        self.device = Some(self.device());
        self.cpu_slowdown = None;
        self
    }
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
/// [`TiersError`] when unreadable or when a number is out of range ([`Tier::validate`]).
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
    if f.tiers.len() > 64 {
        return Err(err(format!("{} tiers; at most 64", f.tiers.len())));
    }
    for t in &f.tiers {
        t.validate().map_err(|e| err(e.to_string()))?;
    }
    Ok(f.tiers.into_iter().map(Tier::filled).collect())
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
