//! The preview engine: one effect played in a tier's viewport by the shared renderer
//! ([`Painter`] on a [`RenderContext`]), its images decoded on the tier's workers, the frame
//! read back into an egui texture. Never blocks the UI thread on decoding.

use std::collections::{HashSet, VecDeque};
use std::sync::Arc;
use std::time::Instant;

use crate::model::{Animation, frame_at};
use crate::playback::tiers::{Tier, fit_contain};
use crate::playback::{Placed, place};
use crate::render::paint::Painter;
use crate::render::smoke::{DecodePool, Job};
use crate::render::{RenderContext, Target};

/// Longest side of the preview target, px (the tier viewport is scaled to fit).
pub const PREVIEW_MAX_PX: f32 = 960.0;
/// Frames kept in the performance history.
pub const HISTORY: usize = 240;

/// Per-frame timings of the preview, ms.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct FrameTimes {
    /// Decode time of the last image decoded for this frame (tier slowdown included).
    pub decode_ms: f64,
    /// Draw (GPU pass, waited for).
    pub render_ms: f64,
    /// Readback and upload to the window's texture.
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
    last_tick: Option<Instant>,
    painter: Painter,
    ctx: RenderContext,
    target: Target,
    pool: Option<DecodePool>,
    requested: HashSet<usize>,
    drawn_frame: Option<u32>,
    dirty: bool,
    started: Instant,
    /// Time from opening the preview to its first frame drawn, ms.
    pub first_frame_ms: Option<f64>,
    /// Recent frame timings.
    pub history: VecDeque<FrameTimes>,
    /// Screen fills of the last frame drawn.
    pub overdraw: f64,
    /// The last frame drawn, premultiplied RGBA, with its size.
    pub pixels: Option<([usize; 2], Vec<u8>)>,
    /// Decode errors, if any.
    pub error: Option<String>,
    last_decode_ms: f64,
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
        Self {
            asset: asset.to_owned(),
            anim,
            tier: tier.clone(),
            playing: true,
            looping: true,
            speed: 1.0,
            t_ms: 0.0,
            last_tick: None,
            painter: Painter::new(
                ctx,
                tier.texture_budget_bytes,
                tier.max_texture_px.min(ctx.max_texture_px),
            ),
            ctx: ctx.clone(),
            target: ctx.target(size[0], size[1]),
            pool: Some(DecodePool::new(tier.decode_threads, tier.cpu_slowdown)),
            requested: HashSet::new(),
            drawn_frame: None,
            dirty: true,
            started: Instant::now(),
            first_frame_ms: None,
            history: VecDeque::with_capacity(HISTORY),
            overdraw: 0.0,
            pixels: None,
            error: None,
            last_decode_ms: 0.0,
        }
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
        self.last_tick = None;
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

    /// The tier's viewport fitted into the preview target.
    fn placed(&self, frame: u32) -> Vec<Placed> {
        let fit = fit_contain(
            [self.anim.width_px as f32, self.anim.height_px as f32],
            [self.target.width as f32, self.target.height as f32],
        );
        place(&frame_at(&self.anim, frame), fit)
    }

    /// Advances time, takes decoded images, asks for the next ones, and redraws when the
    /// frame changed and its images are resident. Returns whether new pixels are ready.
    pub fn tick(&mut self) -> bool {
        let now = Instant::now();
        if self.playing {
            if let Some(last) = self.last_tick {
                self.t_ms +=
                    now.duration_since(last).as_secs_f64() * 1000.0 * f64::from(self.speed);
            }
            let d = self.anim.duration_ms();
            if self.t_ms >= d {
                if self.looping && d > 0.0 {
                    self.t_ms %= d;
                } else {
                    self.t_ms = d;
                    self.playing = false;
                }
            }
        }
        self.last_tick = Some(now);
        let frame = self.frame();
        let placed = self.placed(frame);
        let pinned: HashSet<(u32, usize)> = placed
            .iter()
            .filter_map(Placed::image)
            .map(|i| (0, i))
            .collect();
        if let Some(pool) = &self.pool {
            while let Ok(d) = pool.results.try_recv() {
                self.last_decode_ms = d.decode_ms;
                match d.result {
                    Ok(img) => {
                        if let Err(e) = self.painter.upload((d.slot, d.image), img, &pinned) {
                            self.error = Some(e.to_string());
                        }
                        self.dirty = true;
                    }
                    Err(e) => self.error = Some(e),
                }
            }
            // This frame's images, then the next few.
            let step = 1000.0 / self.anim.fps.max(1.0);
            for k in 0..8u32 {
                let f = self.anim.frame_at_time(self.t_ms + f64::from(k) * step);
                for img in self.anim.images_at(f) {
                    if !self.requested.contains(&img) && !self.painter.has((0, img)) {
                        self.requested.insert(img);
                        pool.submit(Job {
                            slot: 0,
                            image: img,
                            anim: Arc::clone(&self.anim),
                        });
                    }
                }
            }
            // Textures evicted since must be asked for again.
            let painter = &mut self.painter;
            self.requested
                .retain(|i| painter.has((0, *i)) || !pinned.contains(&(0, *i)));
        }
        if self.drawn_frame == Some(frame) && !self.dirty {
            return false;
        }
        if !placed
            .iter()
            .filter_map(Placed::image)
            .all(|i| self.painter.has((0, i)))
        {
            return false;
        }
        let t = Instant::now();
        if let Err(e) = self.painter.draw(&self.target, [0.0; 4], &[(0, &placed)]) {
            self.error = Some(e.to_string());
            return false;
        }
        let render_ms = t.elapsed().as_secs_f64() * 1000.0;
        let t = Instant::now();
        match self.ctx.read_pixels(&self.target) {
            Ok(img) => {
                let size = [img.width() as usize, img.height() as usize];
                self.pixels = Some((size, img.into_raw()));
            }
            Err(e) => {
                self.error = Some(e.to_string());
                return false;
            }
        }
        let present_ms = t.elapsed().as_secs_f64() * 1000.0;
        let area = f64::from(self.target.width) * f64::from(self.target.height);
        self.overdraw = placed.iter().map(|p| p.area(area)).sum::<f64>() / area.max(1.0);
        if self.first_frame_ms.is_none() {
            self.first_frame_ms = Some(self.started.elapsed().as_secs_f64() * 1000.0);
        }
        if self.history.len() == HISTORY {
            self.history.pop_front();
        }
        self.history.push_back(FrameTimes {
            decode_ms: self.last_decode_ms,
            render_ms,
            present_ms,
        });
        self.drawn_frame = Some(frame);
        self.dirty = false;
        true
    }

    /// Texture bytes resident.
    #[must_use]
    pub fn texture_bytes(&self) -> u64 {
        self.painter.resident_bytes()
    }
}

impl Drop for Preview {
    fn drop(&mut self) {
        if let Some(pool) = self.pool.take() {
            // Workers end when their queues close; do not wait for them on the UI thread.
            std::thread::spawn(move || pool.shutdown());
        }
    }
}
