//! The device model (spec §9): the work one frame needs, counted exactly, and a tier's device
//! constants that turn those counts into simulated device time.
//!
//! Counts come from the display lists and the decode jobs, never from the host's clock, so the
//! same bundle gives the same costs on any machine. The built-in constants and their sources
//! are in `docs/device-model.md`; `giftqa calibrate` measures a host's own.

use serde::{Deserialize, Serialize};

use crate::bundle::manifest::AssetFormat;
use crate::model::{Animation, Content, DisplayList, ImageAsset, ImageSource};

use super::Placed;

/// A codec whose decode time the model counts per pixel (H.264 is counted in macroblocks).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Codec {
    /// PNG and APNG frames (zlib inflate and filters).
    Png,
    /// WebP, lossy or lossless, still or animated.
    Webp,
    /// GIF (LZW).
    Gif,
    /// JPEG.
    Jpeg,
    /// Pixels already decoded (a filled slot): no decode work.
    Raw,
    /// An H.264 video frame (VAP), counted in macroblocks.
    H264,
}

impl Codec {
    /// The codec of an image, from its container or its first bytes.
    #[must_use]
    pub fn of(image: &ImageAsset) -> Self {
        match &image.source {
            ImageSource::Pixels(_) => Self::Raw,
            ImageSource::AnimatedFrame { format, .. } => match format {
                AssetFormat::Gif => Self::Gif,
                AssetFormat::Webp => Self::Webp,
                _ => Self::Png,
            },
            ImageSource::Encoded(bytes) => Self::sniff(bytes),
            ImageSource::VideoFrame { .. } => Self::H264,
        }
    }

    /// The codec named by an encoded image's signature (PNG when unknown).
    #[must_use]
    pub fn sniff(bytes: &[u8]) -> Self {
        if bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
            Self::Webp
        } else if bytes.starts_with(b"GIF8") {
            Self::Gif
        } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Self::Jpeg
        } else {
            Self::Png
        }
    }
}

/// Pixels decoded, per codec.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecodedPixels {
    /// PNG and APNG pixels.
    pub png: u64,
    /// WebP pixels.
    pub webp: u64,
    /// GIF pixels.
    pub gif: u64,
    /// JPEG pixels.
    pub jpeg: u64,
}

impl DecodedPixels {
    /// Adds `px` pixels of `codec`.
    pub fn add(&mut self, codec: Codec, px: u64) {
        match codec {
            Codec::Png => self.png += px,
            Codec::Webp => self.webp += px,
            Codec::Gif => self.gif += px,
            Codec::Jpeg => self.jpeg += px,
            // Raw pixels cost nothing; H.264 is counted in macroblocks (FrameWork).
            Codec::Raw | Codec::H264 => {}
        }
    }

    /// All pixels.
    #[must_use]
    pub fn total(&self) -> u64 {
        self.png + self.webp + self.gif + self.jpeg
    }
}

/// Bytes resident on the device at one moment (spec §9 "memory").
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResidentBytes {
    /// Decoded images as textures.
    pub textures: u64,
    /// The viewport's render target (single-sample resolve).
    pub targets: u64,
    /// The multisampled colour buffer of the target (× samples).
    pub msaa: u64,
    /// Offscreen layers alive at once (× samples).
    pub layers: u64,
    /// Vertex and index buffers of the frame's meshes.
    pub meshes: u64,
}

impl ResidentBytes {
    /// Everything resident.
    #[must_use]
    pub fn total(&self) -> u64 {
        self.textures + self.targets + self.msaa + self.layers + self.meshes
    }
}

/// The work of one presented frame, counted exactly (spec §9). Decode work is counted on the
/// frame whose decode jobs finished, H.264 in macroblocks of 16 × 16 px.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct FrameWork {
    /// Pixels decoded per codec by jobs that finished for this frame.
    pub decoded_px: DecodedPixels,
    /// H.264 macroblocks decoded.
    pub h264_macroblocks: u64,
    /// Bytes uploaded to textures.
    pub uploaded_bytes: u64,
    /// Keyframed properties evaluated (SVGA: a sprite frame's alpha, layout, transform and
    /// clip, and each shape; Lottie: each active layer's transform and opacity and each shape
    /// item).
    pub properties_evaluated: u64,
    /// Path segments flattened.
    pub segments_flattened: u64,
    /// Vertices tessellated.
    pub vertices_tessellated: u64,
    /// Draw calls (quads, meshes, layer composites).
    pub draw_calls: u64,
    /// Offscreen layers opened.
    pub offscreen_layers: u64,
    /// Pixels filled × samples.
    pub filled_px_samples: f64,
    /// Deepest layer nesting (what must be resident at once).
    pub layer_depth: u64,
    /// Mesh bytes (vertices 8 bytes each, indices 4).
    pub mesh_bytes: u64,
}

impl FrameWork {
    /// Counts the decode of one image: its pixels per codec, or a VAP frame's macroblocks.
    pub fn add_decoded(&mut self, image: &ImageAsset) {
        match &image.source {
            ImageSource::VideoFrame { video, .. } => {
                self.h264_macroblocks += video.macroblocks_per_frame();
            }
            _ => self.decoded_px.add(
                Codec::of(image),
                u64::from(image.width_px) * u64::from(image.height_px),
            ),
        }
    }
}

impl std::ops::AddAssign for FrameWork {
    fn add_assign(&mut self, o: Self) {
        self.decoded_px.png += o.decoded_px.png;
        self.decoded_px.webp += o.decoded_px.webp;
        self.decoded_px.gif += o.decoded_px.gif;
        self.decoded_px.jpeg += o.decoded_px.jpeg;
        self.h264_macroblocks += o.h264_macroblocks;
        self.uploaded_bytes += o.uploaded_bytes;
        self.properties_evaluated += o.properties_evaluated;
        self.segments_flattened += o.segments_flattened;
        self.vertices_tessellated += o.vertices_tessellated;
        self.draw_calls += o.draw_calls;
        self.offscreen_layers += o.offscreen_layers;
        self.filled_px_samples += o.filled_px_samples;
        self.layer_depth = self.layer_depth.max(o.layer_depth);
        self.mesh_bytes += o.mesh_bytes;
    }
}

/// Counts the draw work of one effect's placed frame: draw calls, layers, fill × samples,
/// tessellation (the device tessellates every path it draws, as `Canvas.drawPath` does) and
/// mesh bytes. `viewport_area` is the target's px².
#[must_use]
pub fn draw_work(placed: &[Placed], viewport_area: f64, samples: u32) -> FrameWork {
    let mut w = FrameWork::default();
    let mut depth = 0u64;
    let s = f64::from(samples.max(1));
    for p in placed {
        match p {
            Placed::Image(_) => w.draw_calls += 1,
            Placed::Mesh(m) => {
                w.draw_calls += 1;
                w.vertices_tessellated += m.triangles.len() as u64;
                w.segments_flattened += u64::from(m.segments);
                w.mesh_bytes += m.triangles.len() as u64 * 12;
            }
            Placed::PushLayer { clip, .. } => {
                w.offscreen_layers += 1;
                depth += 1;
                w.layer_depth = w.layer_depth.max(depth);
                if let Some(c) = clip {
                    w.vertices_tessellated += c.len() as u64;
                    w.mesh_bytes += c.len() as u64 * 12;
                }
            }
            Placed::PopLayer => {
                w.draw_calls += 1;
                depth = depth.saturating_sub(1);
            }
        }
        w.filled_px_samples += p.area(viewport_area) * s;
    }
    w
}

/// A number of a tiers file outside its range (`docs/limits.md`): the field and the range.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RangeError {
    /// A tier's own field.
    #[error("tier {tier:?}: {field} must be {range}")]
    Tier {
        /// The tier's name.
        tier: String,
        /// The field.
        field: &'static str,
        /// The range it must be in.
        range: String,
    },
    /// A device constant ([`DeviceConstants::validate`]).
    #[error("{field} = {value} is out of range ({range})")]
    Constant {
        /// The constant's name.
        field: &'static str,
        /// Its value.
        value: f64,
        /// The range it must be in.
        range: &'static str,
    },
    /// A device constant of a tier.
    #[error("tier {tier:?}: {source}")]
    Device {
        /// The tier's name.
        tier: String,
        /// The constant out of range.
        source: Box<RangeError>,
    },
}

/// Caps on the work of one frame (`docs/limits.md`). A frame past one is not drawn: the
/// effect fails with `decode-failed` naming the frame, as a player that cannot build the
/// frame in time would drop the effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameCaps {
    /// Draw calls (sprites, shapes, layer composites).
    pub draw_calls: u64,
    /// Vertices tessellated.
    pub vertices: u64,
    /// Offscreen layers (mattes, masks, clips, group opacity).
    pub offscreen_layers: u64,
    /// Layers nested in one another.
    pub layer_depth: u64,
}

impl Default for FrameCaps {
    /// 10 000 draw calls, 4 million vertices, 2 000 layers, 64 deep: the heaviest file of
    /// `../shared/assets` uses under a tenth of each.
    fn default() -> Self {
        Self {
            draw_calls: 10_000,
            vertices: 4_000_000,
            offscreen_layers: 2_000,
            layer_depth: 64,
        }
    }
}

impl FrameCaps {
    /// The first cap `work` is past, as a message naming the count and the cap.
    #[must_use]
    pub fn exceeded(&self, work: &FrameWork) -> Option<String> {
        [
            (work.draw_calls, self.draw_calls, "draw calls"),
            (work.vertices_tessellated, self.vertices, "vertices"),
            (
                work.offscreen_layers,
                self.offscreen_layers,
                "offscreen layers",
            ),
            (work.layer_depth, self.layer_depth, "nested layers"),
        ]
        .into_iter()
        .find(|(n, cap, _)| n > cap)
        .map(|(n, cap, what)| format!("{n} {what}, over the per-frame limit of {cap}"))
    }
}

/// Why frame `frame` cannot be drawn, with the frame named: the first shape its display list
/// refused at a limit ([`crate::model::vector::ShapeError::is_limit`]), or the first of the
/// default [`FrameCaps`] that `work` (its [`draw_work`]) passes. Shared by the engine (smoke,
/// the app) and `render`.
#[must_use]
pub fn frame_problem(frame: u32, list: &DisplayList, work: &FrameWork) -> Option<String> {
    list.refused
        .as_ref()
        .filter(|e| e.is_limit())
        .map(ToString::to_string)
        .or_else(|| FrameCaps::default().exceeded(work))
        .map(|why| format!("frame {frame}: {why}"))
}

/// Keyframed properties evaluated to build frame `frame_idx` (see
/// [`FrameWork::properties_evaluated`]).
#[must_use]
pub fn properties_at(anim: &Animation, frame_idx: u32) -> u64 {
    match &anim.content {
        Content::Frames(_) | Content::NotDrawn(_) => 0,
        Content::Sprites(sprites) => sprites
            .iter()
            .filter(|s| {
                s.frames
                    .get(frame_idx as usize)
                    .is_some_and(|f| f.alpha > 0.0)
            })
            .map(|s| {
                4 + s
                    .shapes
                    .get(frame_idx as usize)
                    .map_or(0, |sh| sh.len() as u64)
            })
            .sum(),
        Content::Lottie(comp, ..) => lottie_properties(comp, frame_idx),
    }
}

fn lottie_properties(comp: &velato::Composition, frame_idx: u32) -> u64 {
    use velato::model::{Content as LContent, Shape};
    fn shapes(list: &[Shape]) -> u64 {
        list.iter()
            .map(|s| match s {
                Shape::Group(inner, _) => 1 + shapes(inner),
                _ => 1,
            })
            .sum()
    }
    let f = comp.frames.start + f64::from(frame_idx);
    comp.layers
        .iter()
        .filter(|l| l.frames.contains(&f))
        .map(|l| {
            2 + l.masks.len() as u64
                + match &l.content {
                    LContent::Shape(s) => shapes(s),
                    _ => 1,
                }
        })
        .sum()
}

/// A tier's device constants: throughput per unit of each count (units in the names). The
/// defaults and their sources are in `docs/device-model.md`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceConstants {
    /// PNG decode, megapixels per second on one decode thread.
    pub decode_png_mpx_per_s: f64,
    /// WebP decode, megapixels per second on one decode thread.
    pub decode_webp_mpx_per_s: f64,
    /// GIF decode, megapixels per second on one decode thread.
    pub decode_gif_mpx_per_s: f64,
    /// JPEG decode, megapixels per second on one decode thread.
    pub decode_jpeg_mpx_per_s: f64,
    /// H.264 decode (the hardware decoder), macroblocks per second.
    pub decode_h264_macroblocks_per_s: f64,
    /// Texture upload, megabytes (10⁶ bytes) per second.
    pub upload_mb_per_s: f64,
    /// Keyframed properties evaluated per millisecond of main thread.
    pub eval_properties_per_ms: f64,
    /// Path segments flattened per millisecond of main thread.
    pub flatten_segments_per_ms: f64,
    /// Vertices tessellated per millisecond of main thread.
    pub tessellate_vertices_per_ms: f64,
    /// Main-thread time to record and submit one draw call, µs.
    pub draw_call_us: f64,
    /// GPU time to open, resolve and composite one offscreen layer, µs.
    pub layer_us: f64,
    /// GPU fill rate with blending, megapixels (× samples) per millisecond.
    pub fill_mpx_per_ms: f64,
    /// Fixed main-thread time per frame (the player's own bookkeeping), ms.
    pub frame_overhead_ms: f64,
}

impl DeviceConstants {
    /// Every constant with its name, in declaration order (for validation and docs).
    #[must_use]
    pub fn fields(&self) -> [(&'static str, f64); 13] {
        [
            ("decode_png_mpx_per_s", self.decode_png_mpx_per_s),
            ("decode_webp_mpx_per_s", self.decode_webp_mpx_per_s),
            ("decode_gif_mpx_per_s", self.decode_gif_mpx_per_s),
            ("decode_jpeg_mpx_per_s", self.decode_jpeg_mpx_per_s),
            (
                "decode_h264_macroblocks_per_s",
                self.decode_h264_macroblocks_per_s,
            ),
            ("upload_mb_per_s", self.upload_mb_per_s),
            ("eval_properties_per_ms", self.eval_properties_per_ms),
            ("flatten_segments_per_ms", self.flatten_segments_per_ms),
            (
                "tessellate_vertices_per_ms",
                self.tessellate_vertices_per_ms,
            ),
            ("draw_call_us", self.draw_call_us),
            ("layer_us", self.layer_us),
            ("fill_mpx_per_ms", self.fill_mpx_per_ms),
            ("frame_overhead_ms", self.frame_overhead_ms),
        ]
    }

    /// Checks every constant is finite and in a sane range: throughputs in (0, 10¹²], costs in
    /// [0, 10⁶].
    ///
    /// # Errors
    /// The first constant out of range, named.
    pub fn validate(&self) -> Result<(), RangeError> {
        for (name, v) in self.fields() {
            let cost = matches!(name, "draw_call_us" | "layer_us" | "frame_overhead_ms");
            let ok = v.is_finite()
                && if cost {
                    (0.0..=1e6).contains(&v)
                } else {
                    v > 0.0 && v <= 1e12
                };
            if !ok {
                return Err(RangeError::Constant {
                    field: name,
                    value: v,
                    range: if cost {
                        "0 to 1e6"
                    } else {
                        "above 0, at most 1e12"
                    },
                });
            }
        }
        Ok(())
    }

    /// These constants with every CPU throughput divided by `slowdown` (a tiers file's
    /// `cpu_slowdown`); GPU constants unchanged.
    #[must_use]
    pub fn slowed(mut self, slowdown: f64) -> Self {
        let k = slowdown.max(1.0);
        self.decode_png_mpx_per_s /= k;
        self.decode_webp_mpx_per_s /= k;
        self.decode_gif_mpx_per_s /= k;
        self.decode_jpeg_mpx_per_s /= k;
        self.eval_properties_per_ms /= k;
        self.flatten_segments_per_ms /= k;
        self.tessellate_vertices_per_ms /= k;
        self.draw_call_us *= k;
        self.frame_overhead_ms *= k;
        self
    }

    /// Simulated time to decode `px` pixels of `codec` on one decode thread, ms.
    #[must_use]
    pub fn decode_ms(&self, codec: Codec, px: u64) -> f64 {
        let rate = match codec {
            Codec::Png => self.decode_png_mpx_per_s,
            Codec::Webp => self.decode_webp_mpx_per_s,
            Codec::Gif => self.decode_gif_mpx_per_s,
            Codec::Jpeg => self.decode_jpeg_mpx_per_s,
            Codec::Raw => return 0.0,
            Codec::H264 => return self.h264_ms(px.div_ceil(256)),
        };
        px as f64 / (rate * 1000.0)
    }

    /// Simulated time to decode one image on one decode thread, ms: per pixel of its codec,
    /// or per macroblock of the whole coded video frame for VAP (colour and alpha halves and
    /// the padding between them all decode).
    #[must_use]
    pub fn image_decode_ms(&self, image: &ImageAsset) -> f64 {
        match &image.source {
            ImageSource::VideoFrame { video, .. } => self.h264_ms(video.macroblocks_per_frame()),
            _ => self.decode_ms(
                Codec::of(image),
                u64::from(image.width_px) * u64::from(image.height_px),
            ),
        }
    }

    /// Simulated time to decode `macroblocks` of H.264, ms.
    #[must_use]
    pub fn h264_ms(&self, macroblocks: u64) -> f64 {
        macroblocks as f64 * 1000.0 / self.decode_h264_macroblocks_per_s
    }

    /// Simulated main-thread time of a frame: overhead, evaluation, flattening, tessellation
    /// and submission, ms.
    #[must_use]
    pub fn main_ms(&self, w: &FrameWork) -> f64 {
        self.frame_overhead_ms
            + w.properties_evaluated as f64 / self.eval_properties_per_ms
            + w.segments_flattened as f64 / self.flatten_segments_per_ms
            + w.vertices_tessellated as f64 / self.tessellate_vertices_per_ms
            + w.draw_calls as f64 * self.draw_call_us / 1000.0
    }

    /// Simulated GPU time of a frame: upload, fill and layers, ms.
    #[must_use]
    pub fn gpu_ms(&self, w: &FrameWork) -> f64 {
        w.uploaded_bytes as f64 / (self.upload_mb_per_s * 1000.0)
            + w.filled_px_samples / (self.fill_mpx_per_ms * 1e6)
            + w.offscreen_layers as f64 * self.layer_us / 1000.0
    }
}

/// The built-in constants of the `mid` tier, standing for a Snapdragon 680 phone
/// (see `docs/device-model.md`); also the default of a tier of another name.
#[must_use]
pub fn mid_constants() -> DeviceConstants {
    DeviceConstants {
        decode_png_mpx_per_s: 40.0,
        decode_webp_mpx_per_s: 28.0,
        decode_gif_mpx_per_s: 55.0,
        decode_jpeg_mpx_per_s: 100.0,
        decode_h264_macroblocks_per_s: 489_600.0,
        upload_mb_per_s: 1_500.0,
        eval_properties_per_ms: 4_000.0,
        flatten_segments_per_ms: 6_000.0,
        tessellate_vertices_per_ms: 8_000.0,
        draw_call_us: 18.0,
        layer_us: 180.0,
        fill_mpx_per_ms: 2.4,
        frame_overhead_ms: 0.8,
    }
}

/// The built-in constants of a tier named `low`, `mid` or `high` (spec §9; sources in
/// `docs/device-model.md`); `None` for other names.
#[must_use]
pub fn builtin_constants(tier: &str) -> Option<DeviceConstants> {
    Some(match tier {
        // Representative SoC: MediaTek Helio A22 (4 × Cortex-A53 2.0 GHz, PowerVR GE8320).
        "low" => DeviceConstants {
            decode_png_mpx_per_s: 18.0,
            decode_webp_mpx_per_s: 12.0,
            decode_gif_mpx_per_s: 25.0,
            decode_jpeg_mpx_per_s: 45.0,
            decode_h264_macroblocks_per_s: 244_800.0,
            upload_mb_per_s: 600.0,
            eval_properties_per_ms: 1_500.0,
            flatten_segments_per_ms: 2_500.0,
            tessellate_vertices_per_ms: 3_000.0,
            draw_call_us: 40.0,
            layer_us: 400.0,
            fill_mpx_per_ms: 0.8,
            frame_overhead_ms: 1.5,
        },
        "mid" => mid_constants(),
        // Representative SoC: Snapdragon 8 Gen 2 (Cortex-X3 3.2 GHz, Adreno 740).
        "high" => DeviceConstants {
            decode_png_mpx_per_s: 110.0,
            decode_webp_mpx_per_s: 80.0,
            decode_gif_mpx_per_s: 150.0,
            decode_jpeg_mpx_per_s: 300.0,
            decode_h264_macroblocks_per_s: 1_958_400.0,
            upload_mb_per_s: 6_000.0,
            eval_properties_per_ms: 15_000.0,
            flatten_segments_per_ms: 20_000.0,
            tessellate_vertices_per_ms: 30_000.0,
            draw_call_us: 5.0,
            layer_us: 50.0,
            fill_mpx_per_ms: 12.0,
            frame_overhead_ms: 0.3,
        },
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtins_validate_and_order_by_tier() {
        let [l, m, h] = ["low", "mid", "high"].map(|t| builtin_constants(t).unwrap());
        for c in [l, m, h] {
            c.validate().unwrap();
        }
        let w = FrameWork {
            properties_evaluated: 500,
            vertices_tessellated: 6000,
            draw_calls: 40,
            uploaded_bytes: 4_000_000,
            filled_px_samples: 4.0 * 540.0 * 960.0 * 3.0,
            ..FrameWork::default()
        };
        assert!(l.main_ms(&w) > m.main_ms(&w) && m.main_ms(&w) > h.main_ms(&w));
        assert!(l.gpu_ms(&w) > m.gpu_ms(&w) && m.gpu_ms(&w) > h.gpu_ms(&w));
        assert!(builtin_constants("tiny").is_none());
    }

    #[test]
    fn costs_are_linear_in_counts() {
        let c = builtin_constants("mid").unwrap();
        // 1 Mpx of PNG at 40 Mpx/s is 25 ms.
        assert!((c.decode_ms(Codec::Png, 1_000_000) - 25.0).abs() < 1e-9);
        assert!(c.decode_ms(Codec::Raw, 1_000_000).abs() < f64::EPSILON);
        let one = FrameWork {
            draw_calls: 10,
            ..FrameWork::default()
        };
        let two = FrameWork {
            draw_calls: 20,
            ..FrameWork::default()
        };
        let d1 = c.main_ms(&one) - c.frame_overhead_ms;
        let d2 = c.main_ms(&two) - c.frame_overhead_ms;
        assert!((d2 - 2.0 * d1).abs() < 1e-12);
        let slow = c.slowed(2.0);
        assert!((slow.decode_ms(Codec::Png, 1_000_000) - 50.0).abs() < 1e-9);
        assert!((slow.fill_mpx_per_ms - c.fill_mpx_per_ms).abs() < f64::EPSILON);
    }

    #[test]
    fn out_of_range_constants_are_named() {
        let mut c = builtin_constants("low").unwrap();
        c.fill_mpx_per_ms = f64::INFINITY;
        assert!(
            c.validate()
                .unwrap_err()
                .to_string()
                .contains("fill_mpx_per_ms")
        );
        c.fill_mpx_per_ms = 0.0;
        assert!(c.validate().is_err());
    }

    #[test]
    fn codecs_are_sniffed() {
        assert_eq!(Codec::sniff(b"RIFF\0\0\0\0WEBPVP8 "), Codec::Webp);
        assert_eq!(Codec::sniff(b"GIF89a"), Codec::Gif);
        assert_eq!(Codec::sniff(&[0xFF, 0xD8, 0xFF, 0xE0]), Codec::Jpeg);
        assert_eq!(Codec::sniff(b"\x89PNG\r\n\x1a\n"), Codec::Png);
    }
}
