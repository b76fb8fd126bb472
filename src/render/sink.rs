//! The renderer as the playback engine's pixel sink: the engine decides what is resident and
//! what is presented (on its virtual clock); this draws it with wgpu and measures the host's
//! own CPU and GPU time per frame, which reports keep under `host`.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use image::RgbaImage;

use super::RenderContext;
use super::Target;
use super::paint::Painter;
use crate::playback::engine::{
    Engine, FrameSink, Playlist, Presented, SimRun, SinkError, TextureKey, WorstFrame,
};
use crate::playback::host::{AdapterSummary, Drawer, FrameDrawer, HostRun, Thumbnail};
use crate::playback::stats::summarize;
use crate::playback::tiers::{Tier, fit_contain};

/// One look at a running burst: the frame just drawn and the state of the queue.
#[derive(Debug, Clone)]
pub struct LiveFrame {
    /// Tier name.
    pub tier: String,
    /// Scenario name.
    pub scenario: String,
    /// Frame size in pixels (the tier's viewport), width × height.
    pub size: [usize; 2],
    /// Premultiplied RGBA8 pixels, row-major, `size[0] * size[1] * 4` bytes.
    pub rgba: Vec<u8>,
    /// Simulated ms since the scenario started.
    pub t_ms: f64,
    /// Scenario length in simulated ms.
    pub length_ms: f64,
    /// Effect ids on screen now, oldest first.
    pub playing: Vec<String>,
    /// Sends waiting in the queue.
    pub queued: usize,
    /// Sends made so far.
    pub sent: usize,
    /// Sends in the scenario.
    pub total: usize,
    /// Sends dropped so far (queue full).
    pub dropped: usize,
}

/// Receives [`LiveFrame`]s at most once per `every` of host time. The readback happens after
/// the frame's host time is taken, so host figures do not include it.
#[derive(Clone)]
pub struct LiveView {
    /// Least host time between two looks.
    pub every: Duration,
    /// Called on the burst's thread with each look.
    pub sink: Arc<dyn Fn(LiveFrame) + Send + Sync>,
}

impl std::fmt::Debug for LiveView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveView")
            .field("every", &self.every)
            .finish_non_exhaustive()
    }
}

/// The painter as a [`FrameSink`]: uploads what the engine makes resident, evicts what it
/// evicts, draws each presented frame into `target`.
pub struct PainterSink {
    ctx: RenderContext,
    painter: Painter,
    /// The target frames are drawn into.
    pub target: Target,
    /// Host CPU time per frame (uploads since the last frame, then the draw), ms.
    pub cpu_ms: Vec<f64>,
    /// Host GPU time per frame, ms (timestamp queries, when the adapter has them).
    pub gpu_ms: Vec<f64>,
    upload_ms: f64,
    live: Option<(LiveView, String, String)>,
    last_live: Option<Instant>,
}

impl PainterSink {
    /// A sink drawing into a new `size_px` target, textures up to `max_texture_px` a side.
    #[must_use]
    pub fn new(ctx: &RenderContext, size_px: [u32; 2], max_texture_px: u32) -> Self {
        Self {
            ctx: ctx.clone(),
            painter: Painter::new(ctx, u64::MAX, max_texture_px.min(ctx.max_texture_px)),
            target: ctx.target(size_px[0], size_px[1]),
            cpu_ms: Vec::new(),
            gpu_ms: Vec::new(),
            upload_ms: 0.0,
            live: None,
            last_live: None,
        }
    }

    /// Sends looks at the frames to `live`, labelled with the tier and scenario.
    #[must_use]
    pub fn with_live(mut self, live: Option<LiveView>, tier: &str, scenario: &str) -> Self {
        self.live = live.map(|l| (l, tier.to_owned(), scenario.to_owned()));
        self
    }
}

impl FrameSink for PainterSink {
    fn wants_pixels(&self) -> bool {
        true
    }

    fn upload(&mut self, key: TextureKey, image: RgbaImage) -> Result<(), SinkError> {
        let t = Instant::now();
        let r = self
            .painter
            .upload(key, image, &HashSet::new())
            .map_err(|e| SinkError(e.to_string()));
        self.upload_ms += t.elapsed().as_secs_f64() * 1000.0;
        r
    }

    fn evict(&mut self, key: TextureKey) {
        self.painter.evict(key);
    }

    fn present(&mut self, frame: &Presented<'_>) -> Result<(), SinkError> {
        let t = Instant::now();
        let (gpu, _) = self
            .painter
            .draw(&self.target, [0.0; 4], frame.layers)
            .map_err(|e| SinkError(e.to_string()))?;
        self.cpu_ms
            .push(self.upload_ms + t.elapsed().as_secs_f64() * 1000.0);
        self.upload_ms = 0.0;
        if let Some(g) = gpu {
            self.gpu_ms.push(g);
        }
        if let Some((live, tier, scenario)) = &self.live
            && self.last_live.is_none_or(|l| l.elapsed() >= live.every)
        {
            self.last_live = Some(Instant::now());
            let img = self
                .ctx
                .read_pixels(&self.target)
                .map_err(|e| SinkError(e.to_string()))?;
            (live.sink)(LiveFrame {
                tier: tier.clone(),
                scenario: scenario.clone(),
                size: [img.width() as usize, img.height() as usize],
                rgba: img.into_raw(),
                t_ms: frame.t_ms,
                length_ms: frame.queue.length_ms,
                playing: frame.queue.playing.clone(),
                queued: frame.queue.queued,
                sent: frame.queue.sent,
                total: frame.queue.total,
                dropped: frame.queue.dropped,
            });
        }
        Ok(())
    }
}

/// Draws every run on the GPU while the engine simulates it (`smoke` with an adapter).
pub struct GpuDrawer {
    /// The context to draw with.
    pub ctx: RenderContext,
    /// Looks at each burst while it runs (the app's live view).
    pub live: Option<LiveView>,
}

impl Drawer for GpuDrawer {
    fn adapter(&self) -> Option<AdapterSummary> {
        Some(self.ctx.adapter.clone())
    }

    fn run(
        &mut self,
        engine: Engine,
        progress: &dyn Fn(f64),
    ) -> Result<(SimRun, Option<HostRun>), SinkError> {
        let tier = engine.tier().clone();
        let scenario = engine.scenario_name().to_owned();
        let mut sink = PainterSink::new(&self.ctx, engine.viewport_px(), tier.max_texture_px)
            .with_live(self.live.clone(), &tier.name, &scenario);
        let t = Instant::now();
        let run = engine.run(&mut sink, progress)?;
        let wall_ms = t.elapsed().as_secs_f64() * 1000.0;
        let frames = sink.cpu_ms.len();
        let host = HostRun {
            tier: tier.name.clone(),
            scenario,
            wall_ms,
            frames,
            fps: frames as f64 * 1000.0 / wall_ms.max(1e-3),
            frame_cpu_ms: summarize(&sink.cpu_ms),
            frame_gpu_ms: (!sink.gpu_ms.is_empty()).then(|| summarize(&sink.gpu_ms)),
            frame_cpu_series_ms: sink.cpu_ms,
            frame_gpu_series_ms: sink.gpu_ms,
        };
        Ok((run, Some(host)))
    }

    fn thumbnails(
        &mut self,
        playlist: &Playlist,
        worst: &[(String, Tier, WorstFrame)],
    ) -> Vec<Thumbnail> {
        worst
            .iter()
            .filter_map(|(asset, tier, w)| {
                let anim = playlist.anims.get(asset)?;
                let vp = tier.viewport_px;
                let scale = (THUMBNAIL_PX / vp[1].max(1) as f32).min(1.0);
                let size = [
                    ((vp[0] as f32 * scale).round() as u32).max(1),
                    ((vp[1] as f32 * scale).round() as u32).max(1),
                ];
                let fit = fit_contain(
                    [anim.width_px as f32, anim.height_px as f32],
                    [size[0] as f32, size[1] as f32],
                );
                let img = super::paint::render_frame(
                    &self.ctx,
                    anim,
                    w.frame_idx,
                    size,
                    fit,
                    tier.max_texture_px.min(self.ctx.max_texture_px),
                )
                .ok()?;
                let img = super::paint::over_background(&img, [128, 128, 128]);
                let mut png = Vec::new();
                img.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
                    .ok()?;
                Some(Thumbnail {
                    asset: asset.clone(),
                    tier: tier.name.clone(),
                    frame_idx: w.frame_idx,
                    cost_ms: w.cost_ms,
                    png_base64: base64::engine::general_purpose::STANDARD.encode(png),
                })
            })
            .collect()
    }
}

/// Height of a report thumbnail, px.
pub const THUMBNAIL_PX: f32 = 240.0;

/// Draws single frames for `diff` (straight RGBA, each frame fitted into its target).
pub struct GpuFrames {
    /// The context to draw with.
    pub ctx: RenderContext,
}

impl FrameDrawer for GpuFrames {
    fn draw(
        &mut self,
        anim: &crate::model::Animation,
        frame_idx: u32,
        size: [u32; 2],
    ) -> Option<RgbaImage> {
        let fit = fit_contain(
            [anim.width_px as f32, anim.height_px as f32],
            [size[0] as f32, size[1] as f32],
        );
        let mut img = super::paint::render_frame(
            &self.ctx,
            anim,
            frame_idx,
            size,
            fit,
            self.ctx.max_texture_px,
        )
        .ok()?;
        super::unpremultiply(&mut img);
        Some(img)
    }
}
