//! VAP effects in the animation model: one full-canvas image per video frame, decoded on
//! demand by [`super::load::FrameDecoder`] (never the whole video up front), with the fusion
//! sources (`vapx`: the sender's avatar and name) composited into the frames that place them.
//!
//! Fusion follows Android's `MixRender`/`MixShader` (`Tencent/vap`,
//! `Android/PlayerProj/animplayer/.../mix/`): each placement of a frame, in `z` order, draws
//! its source into `frame` on the canvas (stretched for `fitXY`, cropped around its centre for
//! `centerFull`/`centerCrop`), its alpha multiplied by the red channel of the video at
//! `mFrame` (rotated 90° when `mt` is 90); a text source is filled with its `color`. Blending
//! is `glBlendFuncSeparate(SRC_ALPHA, ONE_MINUS_SRC_ALPHA, ONE, ONE_MINUS_SRC_ALPHA)`. A text
//! source is drawn, as `BitmapUtil.createTxtBitmap` does, centred in a `w × h` bitmap at 0.8
//! of its height, shrunk until it fits.

use std::collections::HashMap;
use std::sync::Arc;

use image::RgbaImage;

use super::slots::{FilledSlot, SlotError, SlotValue};
use super::text::{Overflow, TextStyle, draw_slot_text};
use super::{Animation, Content, ImageAsset, ImageSource};
use crate::format::vap::{Fit, SrcKind, VapMovie, h264::Yuv420, mask_at, merge};

/// Largest side of an avatar kept for fusion, px (larger pictures are scaled down first).
pub const MAX_FUSION_IMAGE_PX: u32 = 1024;

/// A VAP video and what fills its fusion sources.
#[derive(Debug)]
pub struct VapVideo {
    /// The opened file.
    pub movie: Arc<VapMovie>,
    /// Source bitmaps by `srcId` (straight alpha): avatars as given, texts as drawn.
    pub fills: HashMap<String, Arc<RgbaImage>>,
}

impl VapVideo {
    /// H.264 macroblocks one frame decodes.
    #[must_use]
    pub fn macroblocks_per_frame(&self) -> u64 {
        self.movie.macroblocks_per_frame()
    }
}

/// The [`Animation`] of an opened VAP file, with no fusion sources filled.
#[must_use]
pub fn vap_animation(movie: Arc<VapMovie>) -> Animation {
    animation_of(&Arc::new(VapVideo {
        movie,
        fills: HashMap::new(),
    }))
}

fn animation_of(video: &Arc<VapVideo>) -> Animation {
    let c = &video.movie.config;
    let n = video.movie.frame_count();
    let fps = if c.fps > 0.0 {
        c.fps
    } else {
        video.movie.track.fps.max(1.0)
    };
    let images = (0..n)
        .map(|index| ImageAsset {
            key: format!("frame_{index:04}"),
            width_px: c.width,
            height_px: c.height,
            source: ImageSource::VideoFrame {
                video: Arc::clone(video),
                index,
            },
        })
        .collect();
    Animation {
        width_px: c.width,
        height_px: c.height,
        fps,
        frame_count: n.max(1),
        frame_start_ms: None,
        images,
        content: Content::Frames((0..n as usize).map(|i| (i, [0.0, 0.0, 1.0, 1.0])).collect()),
    }
}

/// The video behind an animation's images, when it is a VAP effect.
#[must_use]
pub fn video_of(anim: &Animation) -> Option<&Arc<VapVideo>> {
    anim.images.iter().find_map(|i| match &i.source {
        ImageSource::VideoFrame { video, .. } => Some(video),
        _ => None,
    })
}

/// Fills fusion sources by slot key (`srcTag` without brackets; `[sImg1]` is accepted too).
///
/// # Errors
/// [`SlotError::UnknownTag`] naming the key when no source has it, or
/// [`SlotError::TextArea`] when a text cannot be drawn.
pub fn fill_vap_slots(
    anim: &Animation,
    video: &VapVideo,
    fills: &[(String, SlotValue)],
) -> Result<(Animation, Vec<FilledSlot>), SlotError> {
    let cfg = &video.movie.config;
    let mut map = video.fills.clone();
    let mut report = Vec::new();
    for (key, value) in fills {
        let key = key.trim_matches(['[', ']']);
        let srcs: Vec<_> = cfg.srcs.iter().filter(|s| s.tag == key).collect();
        if srcs.is_empty() {
            return Err(SlotError::UnknownTag {
                tag: key.to_owned(),
                tags: cfg.slot_keys(),
            });
        }
        for src in srcs {
            let placements = cfg
                .fusion
                .values()
                .filter(|objs| objs.iter().any(|o| o.src_id == src.id))
                .count();
            let mut filled = FilledSlot {
                key: key.to_owned(),
                kind: "image",
                sprites: placements,
                size_px: [src.w, src.h],
                shown: None,
                ellipsized: false,
                font_px: None,
                fonts: Vec::new(),
                missing_glyphs: 0,
            };
            let bitmap = match (value, src.kind) {
                (SlotValue::Image(img), _) => {
                    let (w, h) = img.dimensions();
                    let side = w.max(h).max(1);
                    if side > MAX_FUSION_IMAGE_PX {
                        let s = f64::from(MAX_FUSION_IMAGE_PX) / f64::from(side);
                        image::imageops::resize(
                            img,
                            ((f64::from(w) * s).round() as u32).max(1),
                            ((f64::from(h) * s).round() as u32).max(1),
                            image::imageops::FilterType::CatmullRom,
                        )
                    } else {
                        img.clone()
                    }
                }
                (SlotValue::Text(text), _) => {
                    let st = TextStyle {
                        color: src.color,
                        size_of_height: 0.8,
                        overflow: Overflow::Shrink,
                        bold: src.bold,
                        min_shrink: 0.125,
                    };
                    let t = draw_slot_text(text, [src.w.max(1), src.h.max(1)], &st)
                        .map_err(|e| e.in_slot(key))?;
                    filled.record_text(t)
                }
            };
            filled.size_px = [bitmap.width(), bitmap.height()];
            map.insert(src.id.clone(), Arc::new(bitmap));
            report.push(filled);
        }
    }
    let video = Arc::new(VapVideo {
        movie: Arc::clone(&video.movie),
        fills: map,
    });
    let mut out = animation_of(&video);
    out.frame_start_ms.clone_from(&anim.frame_start_ms);
    Ok((out, report))
}

fn sample(img: &RgbaImage, x: f32, y: f32) -> [f32; 4] {
    let (w, h) = img.dimensions();
    let fx = (x - 0.5).clamp(0.0, (w.max(1) - 1) as f32);
    let fy = (y - 0.5).clamp(0.0, (h.max(1) - 1) as f32);
    let (x0, y0) = (fx.floor() as u32, fy.floor() as u32);
    let (x1, y1) = ((x0 + 1).min(w - 1), (y0 + 1).min(h - 1));
    let (ax, ay) = (fx - x0 as f32, fy - y0 as f32);
    let mut out = [0.0; 4];
    for (c, o) in out.iter_mut().enumerate() {
        let p = |x: u32, y: u32| f32::from(img.get_pixel(x, y)[c]);
        let top = p(x0, y0) + (p(x1, y0) - p(x0, y0)) * ax;
        let bottom = p(x0, y1) + (p(x1, y1) - p(x0, y1)) * ax;
        *o = top + (bottom - top) * ay;
    }
    out
}

/// One frame of a VAP effect: the merged video picture with the frame's fusion placements
/// composited over it.
#[must_use]
pub fn compose(video: &VapVideo, pic: &Yuv420, index: u32) -> RgbaImage {
    let cfg = &video.movie.config;
    let mut out = merge(pic, cfg);
    let Some(objs) = cfg.fusion.get(&index) else {
        return out;
    };
    let (cw, ch) = out.dimensions();
    for obj in objs {
        let (Some(src), Some(bitmap)) = (
            cfg.srcs.iter().find(|s| s.id == obj.src_id),
            video.fills.get(&obj.src_id),
        ) else {
            continue;
        };
        if bitmap.width() == 0 || bitmap.height() == 0 || obj.frame.w <= 0.0 || obj.frame.h <= 0.0 {
            continue;
        }
        // The part of the bitmap the placement shows (MixRender.genSrcCoordsArray).
        let (bw, bh) = (bitmap.width() as f32, bitmap.height() as f32);
        let (fw, fh) = (obj.frame.w, obj.frame.h);
        let (sx, sy, sw, sh) = match src.fit {
            Fit::Stretch => (0.0, 0.0, bw, bh),
            Fit::CenterCrop if fw <= bw && fh <= bh => ((bw - fw) / 2.0, (bh - fh) / 2.0, fw, fh),
            Fit::CenterCrop => {
                let (fa, sa) = (fw / fh, bw / bh);
                if fa > sa {
                    let h = bw / fa;
                    (0.0, (bh - h) / 2.0, bw, h)
                } else {
                    let w = bh * fa;
                    ((bw - w) / 2.0, 0.0, w, bh)
                }
            }
        };
        let x0 = obj.frame.x.floor().max(0.0) as u32;
        let y0 = obj.frame.y.floor().max(0.0) as u32;
        let x1 = ((obj.frame.x + fw).ceil().max(0.0) as u32).min(cw);
        let y1 = ((obj.frame.y + fh).ceil().max(0.0) as u32).min(ch);
        for y in y0..y1 {
            for x in x0..x1 {
                let u = (x as f32 + 0.5 - obj.frame.x) / fw;
                let v = (y as f32 + 0.5 - obj.frame.y) / fh;
                if !(0.0..1.0).contains(&u) || !(0.0..1.0).contains(&v) {
                    continue;
                }
                let s = sample(bitmap, sx + u * sw, sy + v * sh);
                let m = mask_at(pic, cfg, obj.mask, obj.mt, u, v);
                let rgb = if src.kind == SrcKind::Text {
                    [
                        f32::from(src.color[0]),
                        f32::from(src.color[1]),
                        f32::from(src.color[2]),
                    ]
                } else {
                    [s[0], s[1], s[2]]
                };
                let a = s[3] / 255.0 * m;
                let d = out.get_pixel_mut(x, y);
                for c in 0..3 {
                    d[c] = (rgb[c] * a + f32::from(d[c]) * (1.0 - a))
                        .round()
                        .clamp(0.0, 255.0) as u8;
                }
                d[3] = (a * 255.0 + f32::from(d[3]) * (1.0 - a))
                    .round()
                    .clamp(0.0, 255.0) as u8;
            }
        }
    }
    out
}
