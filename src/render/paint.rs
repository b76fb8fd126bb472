//! Painting animations with the [`RenderContext`]: textures uploaded on demand under a byte
//! budget (least recently used evicted first), display lists placed on a target and drawn.

use std::collections::{HashMap, HashSet};

use image::RgbaImage;

use super::{DrawItem, GpuTexture, Quad, RenderContext, RenderError, Target, premultiply};
use crate::format::DecodeLimits;
use crate::model::Animation;
use crate::model::load::FrameDecoder;
use crate::playback::Placed;
use crate::playback::cache::BudgetLru;

pub use crate::playback::engine::TextureKey;

/// Why a frame could not be painted.
#[derive(Debug, thiserror::Error)]
pub enum PaintError {
    /// An image failed to decode.
    #[error("image {key:?} of {slot_label}: {message}")]
    Decode {
        /// Which animation.
        slot_label: String,
        /// The image key.
        key: String,
        /// Why.
        message: String,
    },
    /// The renderer failed (a texture too large, readback).
    #[error(transparent)]
    Render(#[from] RenderError),
}

/// Textures of the animations on screen, under a budget.
pub struct Painter {
    ctx: RenderContext,
    textures: HashMap<TextureKey, GpuTexture>,
    lru: BudgetLru<TextureKey>,
    max_texture_px: u32,
    /// Bytes uploaded by the last [`Painter::prepare`] call.
    pub uploaded_bytes: u64,
    /// Gradient ramps (256 × 1 texels) by content; cleared when it holds [`MAX_RAMPS`].
    ramps: HashMap<Vec<u8>, GpuTexture>,
}

/// Most gradient ramps kept (each 1 KiB of texture).
pub const MAX_RAMPS: usize = 512;

impl Painter {
    /// A painter with a texture budget in bytes and a largest texture side in px.
    #[must_use]
    pub fn new(ctx: &RenderContext, budget_bytes: u64, max_texture_px: u32) -> Self {
        Self {
            ctx: ctx.clone(),
            textures: HashMap::new(),
            lru: BudgetLru::new(budget_bytes),
            max_texture_px,
            uploaded_bytes: 0,
            ramps: HashMap::new(),
        }
    }

    /// Whether a texture is resident (and marks it used).
    pub fn has(&mut self, key: TextureKey) -> bool {
        self.lru.touch(&key) && self.textures.contains_key(&key)
    }

    /// Uploads one decoded straight-alpha image, evicting older textures not in `pinned`.
    ///
    /// # Errors
    /// [`RenderError::TooLarge`] when the image exceeds the largest texture.
    pub fn upload(
        &mut self,
        key: TextureKey,
        mut image: RgbaImage,
        pinned: &HashSet<TextureKey>,
    ) -> Result<(), RenderError> {
        premultiply(&mut image);
        let tex = self.ctx.upload(&image, self.max_texture_px)?;
        self.uploaded_bytes += tex.bytes;
        for gone in self.lru.insert(key, tex.bytes, pinned) {
            self.textures.remove(&gone);
        }
        self.textures.insert(key, tex);
        Ok(())
    }

    /// Makes sure every image the quads need is resident, decoding inline with `decoder`.
    /// Resets [`Painter::uploaded_bytes`] first.
    ///
    /// # Errors
    /// [`PaintError`] when an image fails to decode or upload.
    pub fn prepare(
        &mut self,
        slot: u32,
        label: &str,
        anim: &Animation,
        placed: &[Placed],
        decoder: &mut FrameDecoder,
        limits: &DecodeLimits,
    ) -> Result<(), PaintError> {
        self.uploaded_bytes = 0;
        let pinned: HashSet<TextureKey> = placed
            .iter()
            .filter_map(Placed::image)
            .map(|i| (slot, i))
            .collect();
        for image in placed.iter().filter_map(Placed::image) {
            let key = (slot, image);
            if self.has(key) {
                continue;
            }
            let img = &anim.images[image];
            let rgba = decoder
                .decode(img, limits)
                .map_err(|message| PaintError::Decode {
                    slot_label: label.to_owned(),
                    key: img.key.clone(),
                    message: message.to_string(),
                })?;
            self.upload(key, rgba, &pinned)?;
        }
        Ok(())
    }

    /// Draws the placed commands of several animations in order on `target` (each slot's
    /// images are its own). Quads whose texture is not resident are skipped and counted.
    ///
    /// # Errors
    /// [`RenderError`] from the GPU.
    pub fn draw(
        &mut self,
        target: &Target,
        clear: [f64; 4],
        layers: &[(u32, &[Placed])],
    ) -> Result<(Option<f64>, usize), RenderError> {
        // Gradient ramps first: the items below borrow them.
        let mut ramp_of: Vec<Option<Vec<u8>>> = Vec::new();
        for (_, placed) in layers {
            for p in *placed {
                let key = match p {
                    Placed::Mesh(m) => m.gradient.as_ref().map(|(g, _)| g.ramp()),
                    _ => None,
                };
                if let Some(k) = &key
                    && !self.ramps.contains_key(k)
                {
                    if self.ramps.len() >= MAX_RAMPS {
                        self.ramps.clear();
                    }
                    let img =
                        RgbaImage::from_raw(crate::model::vector::RAMP_TEXELS as u32, 1, k.clone())
                            .ok_or_else(|| RenderError::Readback("gradient ramp".into()))?;
                    let tex = self.ctx.upload(&img, self.max_texture_px.max(256))?;
                    self.ramps.insert(k.clone(), tex);
                }
                ramp_of.push(key);
            }
        }
        let mut ramps = ramp_of.iter();
        let mut items = Vec::new();
        let mut missing = 0;
        for (slot, placed) in layers {
            for p in *placed {
                if !matches!(p, Placed::Mesh(_)) {
                    ramps.next();
                }
                match p {
                    Placed::Image(q) => match self.textures.get(&(*slot, q.image)) {
                        Some(t) => items.push(DrawItem::Quad(
                            t,
                            Quad {
                                corners: q.corners,
                                uv: q.uv,
                                alpha: q.alpha,
                            },
                        )),
                        None => missing += 1,
                    },
                    Placed::Mesh(m) => {
                        let ramp = ramps
                            .next()
                            .and_then(Option::as_ref)
                            .and_then(|k| self.ramps.get(k));
                        match (&m.gradient, ramp) {
                            (Some((g, uvs)), Some(ramp)) => items.push(DrawItem::Gradient {
                                points: &m.triangles,
                                uvs,
                                radial: g.radial,
                                ramp,
                                color: m.color,
                            }),
                            _ => items.push(DrawItem::Triangles(&m.triangles, m.color)),
                        }
                    }
                    Placed::PushLayer {
                        alpha,
                        compose,
                        clip,
                    } => items.push(DrawItem::PushLayer {
                        alpha: *alpha,
                        compose: *compose,
                        clip: clip.as_deref(),
                    }),
                    Placed::PopLayer => items.push(DrawItem::PopLayer),
                }
            }
        }
        let gpu = self.ctx.draw(target, clear, &items)?;
        Ok((gpu, missing))
    }

    /// Drops one texture (the playback engine evicted it).
    pub fn evict(&mut self, key: TextureKey) {
        self.textures.remove(&key);
        self.lru.remove(&key);
    }

    /// Drops every texture of a slot (an animation that finished).
    pub fn release(&mut self, slot: u32) {
        let keys: Vec<TextureKey> = self
            .textures
            .keys()
            .filter(|k| k.0 == slot)
            .copied()
            .collect();
        for k in keys {
            self.textures.remove(&k);
            self.lru.remove(&k);
        }
    }

    /// Texture bytes resident now.
    #[must_use]
    pub fn resident_bytes(&self) -> u64 {
        self.lru.resident_bytes()
    }

    /// Most texture bytes ever resident.
    #[must_use]
    pub fn peak_bytes(&self) -> u64 {
        self.lru.peak_bytes()
    }
}

/// Composites premultiplied RGBA over an opaque background colour, giving straight RGBA
/// with alpha 255.
#[must_use]
pub fn over_background(premultiplied: &RgbaImage, bg: [u8; 3]) -> RgbaImage {
    let mut out = premultiplied.clone();
    for p in out.pixels_mut() {
        let inv = 255 - u32::from(p[3]);
        for c in 0..3 {
            p[c] = (u32::from(p[c]) + (u32::from(bg[c]) * inv + 127) / 255).min(255) as u8;
        }
        p[3] = 255;
    }
    out
}

/// A golden frame (straight alpha) and a rendered one (premultiplied, as [`render_frame`]
/// returns it) side by side, the golden on the left, both over `bg`: for looking at what a
/// fidelity figure measures (`examples/fidelity.rs`, `examples/lottie_fidelity.rs`).
#[must_use]
pub fn beside_golden(golden: &RgbaImage, ours: &RgbaImage, bg: [u8; 3]) -> RgbaImage {
    let mut golden_pm = golden.clone();
    crate::model::pixels::premultiply(&mut golden_pm);
    let (w, h) = golden.dimensions();
    let mut out = RgbaImage::new(w * 2, h);
    image::imageops::replace(&mut out, &over_background(&golden_pm, bg), 0, 0);
    image::imageops::replace(&mut out, &over_background(ours, bg), i64::from(w), 0);
    out
}

/// Renders one frame of an animation into a new target of `target_px`, through `fit`.
/// Returns premultiplied RGBA.
///
/// # Errors
/// [`PaintError`] when an image fails to decode or the GPU fails.
pub fn render_frame(
    ctx: &RenderContext,
    anim: &Animation,
    frame_idx: u32,
    target_px: [u32; 2],
    fit: crate::model::Affine,
    max_texture_px: u32,
) -> Result<RgbaImage, PaintError> {
    let target = ctx.target(target_px[0], target_px[1]);
    let mut painter = Painter::new(ctx, u64::MAX, max_texture_px);
    let mut decoder = FrameDecoder::new();
    let dl = crate::model::frame_at(anim, frame_idx);
    let placed = crate::playback::place(&dl, fit);
    painter.prepare(
        0,
        "animation",
        anim,
        &placed,
        &mut decoder,
        &DecodeLimits::default(),
    )?;
    painter.draw(&target, [0.0; 4], &[(0, &placed)])?;
    Ok(ctx.read_pixels(&target)?)
}

/// Renders each golden frame's index of `anim` at the golden's size 1:1 and scores it against
/// the golden PNG: the content and whole-frame PSNR over mid-grey in dB (see
/// [`crate::playback::fidelity::compare`]), in order. A blank golden frame judges nothing and
/// is left out, so a set whose goldens are all blank gives an empty list.
///
/// # Errors
/// [`PaintError`] when a frame cannot be drawn, or a golden PNG cannot be read (as a decode
/// error naming it).
pub fn golden_psnr(
    ctx: &RenderContext,
    anim: &Animation,
    frames: &[(u32, std::path::PathBuf)],
) -> Result<Vec<(u32, crate::playback::fidelity::FrameScore)>, PaintError> {
    use crate::playback::fidelity::{FrameScore, compare, is_blank};
    let mut out = Vec::with_capacity(frames.len());
    for (idx, path) in frames {
        let golden = image::open(path)
            .map_err(|e| PaintError::Decode {
                slot_label: "golden".into(),
                key: path.display().to_string(),
                message: e.to_string(),
            })?
            .into_rgba8();
        if is_blank(&golden) {
            continue;
        }
        let mut ours = render_frame(
            ctx,
            anim,
            *idx,
            [golden.width(), golden.height()],
            crate::model::Affine::IDENTITY,
            8192,
        )?;
        super::unpremultiply(&mut ours);
        let score = compare(&ours, &golden).unwrap_or(FrameScore {
            content_db: 0.0,
            whole_db: 0.0,
            content_share: 0.0,
        });
        out.push((*idx, score));
    }
    Ok(out)
}
