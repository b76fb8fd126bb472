//! The host's side of playback: how a run's frames are drawn (not at all, or by a renderer
//! that implements [`Drawer`] and [`FrameDrawer`]) and what the host measured while drawing.
//! These figures are reported apart from the simulation and never judged (spec §9). The
//! renderer implements the traits; reports use them; neither names the other.

use serde::{Deserialize, Serialize};

use super::engine::{Engine, Playlist, SimRun, SinkError, WorstFrame};
use super::stats::Summary;
use super::tiers::Tier;
use crate::model::Animation;

/// What the host's adapter is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdapterSummary {
    /// Adapter name, e.g. "llvmpipe (LLVM 15.0.6, 256 bits)".
    pub name: String,
    /// Backend, e.g. "Vulkan".
    pub backend: String,
    /// Device type, e.g. "Cpu".
    pub device_type: String,
    /// Whether GPU timestamps are measured.
    pub timestamps: bool,
}

/// What the host measured of one (tier, scenario) run while drawing it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HostRun {
    /// Tier name.
    pub tier: String,
    /// Scenario name.
    pub scenario: String,
    /// Wall time of the run on the host, ms.
    pub wall_ms: f64,
    /// Frames the host drew.
    pub frames: usize,
    /// Frames drawn per host second (unpaced: as fast as the host can).
    pub fps: f64,
    /// Host CPU time per frame (prepare, upload, draw, wait), ms.
    pub frame_cpu_ms: Summary,
    /// Host GPU time of the render pass, ms (timestamp queries), when measured.
    pub frame_gpu_ms: Option<Summary>,
    /// Host CPU time per frame, ms (charts).
    pub frame_cpu_series_ms: Vec<f64>,
    /// Host GPU time per frame, ms (charts).
    pub frame_gpu_series_ms: Vec<f64>,
}

/// One effect drawn at its most expensive simulated frame (report.html thumbnails).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Thumbnail {
    /// Asset id.
    pub asset: String,
    /// Tier it was judged worst on.
    pub tier: String,
    /// Frame index.
    pub frame_idx: u32,
    /// Simulated cost of that frame, ms.
    pub cost_ms: f64,
    /// PNG bytes, base64.
    pub png_base64: String,
}

/// How the frames of each run are drawn: not at all ([`Simulate`]), or by the renderer.
pub trait Drawer {
    /// The adapter, when frames are drawn.
    fn adapter(&self) -> Option<AdapterSummary>;

    /// Runs one engine to its end, drawing its frames; returns the simulated run and what the
    /// host measured.
    ///
    /// # Errors
    /// The sink's error (the GPU failed).
    fn run(
        &mut self,
        engine: Engine,
        progress: &dyn Fn(f64),
    ) -> Result<(SimRun, Option<HostRun>), SinkError>;

    /// Each `(asset, tier, frame)` drawn as a thumbnail; none when nothing is drawn.
    fn thumbnails(
        &mut self,
        playlist: &Playlist,
        worst: &[(String, Tier, WorstFrame)],
    ) -> Vec<Thumbnail> {
        let _ = (playlist, worst);
        Vec::new()
    }
}

/// Simulates without drawing anything: no adapter needed (`smoke --no-gpu`).
#[derive(Debug, Default, Clone, Copy)]
pub struct Simulate;

impl Drawer for Simulate {
    fn adapter(&self) -> Option<AdapterSummary> {
        None
    }

    fn run(
        &mut self,
        engine: Engine,
        progress: &dyn Fn(f64),
    ) -> Result<(SimRun, Option<HostRun>), SinkError> {
        let run = engine.run(&mut super::engine::CostSink, progress)?;
        Ok((run, None))
    }
}

/// Draws one frame of an animation into a `size` px target (straight RGBA).
pub trait FrameDrawer {
    /// The frame, or `None` when it cannot be drawn.
    fn draw(
        &mut self,
        anim: &Animation,
        frame_idx: u32,
        size: [u32; 2],
    ) -> Option<image::RgbaImage>;
}
