//! The preview: one effect played by the playback engine (the same engine `smoke` runs) in a
//! tier's viewport, drawn by the shared renderer ([`PainterSink`]). The engine's clock is
//! driven by real time here, so the preview shows what the tier's device would show: a frame
//! the device could not decode in time is late on screen too. Host decodes are polled, never
//! waited for on the UI thread.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Instant;

use crate::model::Animation;
use crate::playback::engine::{Engine, HostWait, Playlist, RunOptions};
use crate::playback::scenario::{Event, Scenario};
use crate::playback::tiers::Tier;
use crate::render::RenderContext;
use crate::render::sink::PainterSink;

/// Longest side of the preview target, px (the tier viewport is scaled to fit).
pub const PREVIEW_MAX_PX: f32 = 960.0;
/// Frames kept in the performance history.
pub const HISTORY: usize = 240;

/// Per-frame timings of the preview, ms: the simulated device's and the host's.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct FrameTimes {
    /// Simulated device main-thread time (evaluation, tessellation, submission).
    pub device_main_ms: f64,
    /// Simulated device GPU time (upload, fill, layers).
    pub device_gpu_ms: f64,
    /// Host: uploads and the draw (GPU pass, waited for).
    pub render_ms: f64,
    /// Host: readback and upload to the window's texture (0 when the window samples the
    /// frame's texture directly).
    pub present_ms: f64,
}

/// A running preview.
pub struct Preview {
    /// The effect shown.
    pub asset: String,
    /// Its animation.
    pub anim: Arc<Animation>,
    /// The tier it plays under.
    pub tier: Tier,
    /// Playing or paused.
    pub playing: bool,
    /// Loop at the end.
    pub looping: bool,
    /// Playback speed, 0.25–2.
    pub speed: f32,
    /// Playback position, ms.
    pub t_ms: f64,
    engine: Engine,
    sink: PainterSink,
    ctx: RenderContext,
    started: Instant,
    drawn_frame: Option<u32>,
    dirty: bool,
    /// Simulated time from opening the preview to its first frame presented, ms.
    pub first_frame_ms: Option<f64>,
    /// Recent frame timings.
    pub history: VecDeque<FrameTimes>,
    /// Screen fills of the last frame drawn.
    pub overdraw: f64,
    /// The last frame drawn, premultiplied RGBA, with its size.
    pub pixels: Option<([usize; 2], Vec<u8>)>,
    /// Decode errors, if any.
    pub error: Option<String>,
    /// How a frame reaches the window.
    pub present: Present,
}

/// How the preview's frames reach the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Present {
    /// Each new frame read back into [`Preview::pixels`] (a renderer on its own device).
    Readback,
    /// The window samples [`Preview::target_view`] directly (its renderer shares the device):
    /// no readback.
    Native,
}

impl Preview {
    /// Starts previewing an effect under a tier.
    #[must_use]
    pub fn new(ctx: &RenderContext, asset: &str, anim: Arc<Animation>, tier: &Tier) -> Self {
        let vp = [tier.viewport_px[0] as f32, tier.viewport_px[1] as f32];
        let scale = (PREVIEW_MAX_PX / vp[0].max(vp[1])).min(1.0);
        let size = [
            (vp[0] * scale).round().max(1.0) as u32,
            (vp[1] * scale).round().max(1.0) as u32,
        ];
        let playlist = Arc::new(Playlist::new(
            [(asset.to_owned(), Arc::clone(&anim))]
                .into_iter()
                .collect(),
            vec![asset.to_owned()],
        ));
        let scenario = Scenario {
            name: "preview".into(),
            duration_ms: 0,
            max_concurrent: 1,
            queue_limit: 0,
            events: vec![Event {
                at_ms: 0,
                asset: asset.to_owned(),
                repeat: 1,
                every_ms: 0,
            }],
        };
        let engine = Engine::new(
            playlist,
            tier,
            &scenario,
            RunOptions {
                host_wait: HostWait::Poll,
                looping: true,
                viewport_px: Some(size),
                ..RunOptions::default()
            },
            true,
        );
        Self {
            asset: asset.to_owned(),
            anim,
            tier: tier.clone(),
            playing: true,
            looping: true,
            speed: 1.0,
            t_ms: 0.0,
            engine,
            sink: PainterSink::new(ctx, size, tier.max_texture_px),
            ctx: ctx.clone(),
            started: Instant::now(),
            drawn_frame: None,
            dirty: true,
            first_frame_ms: None,
            history: VecDeque::with_capacity(HISTORY),
            overdraw: 0.0,
            pixels: None,
            error: None,
            present: Present::Readback,
        }
    }

    /// The texture each frame is drawn into (see [`crate::render::Target::view`]).
    #[must_use]
    pub fn target_view(&self) -> &eframe::egui_wgpu::wgpu::TextureView {
        self.sink.target.view()
    }

    /// The frame at the playback position.
    #[must_use]
    pub fn frame(&self) -> u32 {
        self.anim.frame_at_time(self.t_ms)
    }

    /// Moves to a frame (pauses).
    pub fn seek_frame(&mut self, frame: u32) {
        let f = frame.min(self.anim.frame_count.saturating_sub(1));
        self.t_ms = match &self.anim.frame_start_ms {
            Some(s) => s.get(f as usize).copied().unwrap_or(0.0),
            None => f64::from(f) * 1000.0 / self.anim.fps.max(1e-3),
        };
        self.engine.seek(self.t_ms);
        self.dirty = true;
    }

    /// One frame forward (pauses).
    pub fn step(&mut self) {
        self.playing = false;
        let next = (self.frame() + 1) % self.anim.frame_count.max(1);
        self.seek_frame(next);
    }

    /// Whether the preview needs more UI frames (playing or waiting for images).
    #[must_use]
    pub fn busy(&self) -> bool {
        self.playing || self.drawn_frame != Some(self.frame()) || self.dirty
    }

    /// Advances the engine to now, and reads the frame back when a new one was presented.
    /// Returns whether new pixels are ready.
    pub fn tick(&mut self) -> bool {
        self.engine.paused = !self.playing;
        self.engine.speed = f64::from(self.speed);
        let before = self.engine.position_ms().unwrap_or(0.0);
        let now = self.started.elapsed().as_secs_f64() * 1000.0;
        let presented = match self.engine.tick(&mut self.sink, now) {
            Ok(p) => p,
            Err(e) => {
                self.error = Some(e.to_string());
                return false;
            }
        };
        if let Some((_, e)) = self.engine.first_error() {
            self.error = Some(e.to_owned());
        }
        let pos = self.engine.position_ms().unwrap_or(0.0);
        if self.playing && !self.looping && pos < before {
            // Wrapped: stop on the last frame instead.
            self.playing = false;
            self.seek_frame(self.anim.frame_count.saturating_sub(1));
            return false;
        }
        self.t_ms = pos;
        let Some(last) = self.engine.last_frame() else {
            return false;
        };
        let frame = self.anim.frame_at_time(pos);
        let render_ms = self.sink.cpu_ms.last().copied().unwrap_or(0.0);
        self.sink.cpu_ms.clear();
        self.sink.gpu_ms.clear();
        if !presented || (self.drawn_frame == Some(frame) && !self.dirty) {
            return false;
        }
        let t = Instant::now();
        if self.present == Present::Readback {
            match self.ctx.read_pixels(&self.sink.target) {
                Ok(img) => {
                    let size = [img.width() as usize, img.height() as usize];
                    self.pixels = Some((size, img.into_raw()));
                }
                Err(e) => {
                    self.error = Some(e.to_string());
                    return false;
                }
            }
        }
        let present_ms = t.elapsed().as_secs_f64() * 1000.0;
        self.overdraw = last.overdraw;
        if self.first_frame_ms.is_none() {
            self.first_frame_ms = Some(last.t_ms);
        }
        if self.history.len() == HISTORY {
            self.history.pop_front();
        }
        self.history.push_back(FrameTimes {
            device_main_ms: last.main_ms,
            device_gpu_ms: last.gpu_ms,
            render_ms,
            present_ms,
        });
        self.drawn_frame = Some(frame);
        self.dirty = false;
        true
    }

    /// Device memory resident, bytes (textures, targets, layers, meshes).
    #[must_use]
    pub fn texture_bytes(&self) -> u64 {
        self.engine.resident().total()
    }
}
