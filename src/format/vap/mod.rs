//! VAP (Tencent's Video Animation Player, `shared/spec/formats/vap/`): an MP4 whose H.264
//! frames hold the colour and the alpha of an effect side by side, with a JSON config in a
//! top-level `vapc` box (`info`: canvas, video size, frame count, fps, the `rgbFrame` and
//! `aFrame` regions; for fusion effects, `src` slots and per-frame `frame` placements).
//!
//! - [`demux`] reads the video track with `re_mp4`, [`h264`] decodes it with OpenH264.
//! - [`merge`] turns a decoded picture into straight-alpha RGBA as the players' shaders do:
//!   colour sampled from `rgbFrame`, alpha from the red channel of `aFrame` (which VapTool
//!   stores at half scale by default), both with a linear sampler.
//! - Version-1 files carry no `vapc`; the app tells the player the layout (Android
//!   `AnimView.setVideoMode`, iOS `QGHWDTextureBlendMode`), and the players' default puts
//!   alpha on the left (`AnimConfig.defaultVideoMode = VIDEO_MODE_SPLIT_HORIZONTAL`). giftqa
//!   reads the layout off the pixels instead (the alpha half has no chroma; see
//!   [`detect_layout`]), plays the file that way, and warns when it is not the default.
//! - [`decode`] is what `check` runs: it decodes every frame (a truncated or corrupt sample is
//!   `decode-failed` naming the frame; HEVC is `codec-unsupported`) and adds the advice VAP's
//!   maintainers give (`tool_Mac_Tool.md` "额外说明", `tool_README_en.md`).

pub mod demux;
pub mod h264;

use std::collections::BTreeMap;
use std::sync::Arc;

use image::RgbaImage;
use serde_json::Value;

use super::{Advice, AnimationInfo, DecodeLimits};
use crate::finding::Code;
use demux::VideoTrack;

/// Why a VAP file cannot be opened or a frame cannot be decoded.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum VapError {
    /// The box structure or sample table is broken.
    #[error("MP4 structure: {0}")]
    Container(String),
    /// No video track.
    #[error("the file has no video track")]
    NoVideo,
    /// A codec other than H.264 (the players' error 10008 on phones without it).
    #[error("the video is {0}, not H.264: many phones cannot decode it (VAP error 10008)")]
    Codec(String),
    /// The `vapc` config is invalid.
    #[error("vapc config: {0}")]
    Config(String),
    /// A size, count or duration outside the decode limits.
    #[error(transparent)]
    Limit(#[from] crate::format::LimitError),
    /// A count over a VAP limit (samples, fusion sources), named in the message.
    #[error("{0}")]
    Limits(String),
    /// The demuxer panicked on the bytes (contained).
    #[error("MP4 structure: the decoder failed on this file ({0})")]
    Panicked(String),
    /// The decoder could not start.
    #[error("{0}")]
    Decode(String),
    /// One frame's sample or parameter set is refused before decoding.
    #[error("frame {index}: {source}")]
    Nal {
        /// Presentation index, from 0.
        index: usize,
        /// What is wrong with it.
        source: h264::NalError,
    },
    /// One frame does not decode.
    #[error("frame {index}: {why}")]
    Frame {
        /// Presentation index, from 0.
        index: usize,
        /// What went wrong.
        why: String,
    },
}

impl From<crate::format::Panicked> for VapError {
    fn from(p: crate::format::Panicked) -> Self {
        Self::Panicked(p.0)
    }
}

/// A region `[x, y, w, h]` in px.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rect {
    /// Left, px.
    pub x: f32,
    /// Top, px.
    pub y: f32,
    /// Width, px.
    pub w: f32,
    /// Height, px.
    pub h: f32,
}

impl Rect {
    fn from_json(v: Option<&Value>, what: &str) -> Result<Self, VapError> {
        let a = v
            .and_then(Value::as_array)
            .filter(|a| a.len() == 4)
            .ok_or_else(|| VapError::Config(format!("{what} is not [x, y, w, h]")))?;
        let n: Vec<f32> = a
            .iter()
            .map(|x| x.as_f64().filter(|f| f.is_finite() && f.abs() <= 1e5))
            .collect::<Option<Vec<f64>>>()
            .ok_or_else(|| {
                VapError::Config(format!("{what} holds a non-number or one over 100000"))
            })?
            .into_iter()
            .map(|f| f as f32)
            .collect();
        if n[2] < 0.0 || n[3] < 0.0 {
            return Err(VapError::Config(format!("{what} has a negative size")));
        }
        Ok(Self {
            x: n[0],
            y: n[1],
            w: n[2],
            h: n[3],
        })
    }
}

/// Where the alpha half of a version-1 file is (Android `Constant.VIDEO_MODE_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Layout {
    /// Alpha left, colour right: the players' default (`VIDEO_MODE_SPLIT_HORIZONTAL`).
    #[default]
    AlphaLeft,
    /// Colour left, alpha right (`VIDEO_MODE_SPLIT_HORIZONTAL_REVERSE`).
    AlphaRight,
    /// Alpha on top, colour below (`VIDEO_MODE_SPLIT_VERTICAL`).
    AlphaTop,
    /// Colour on top, alpha below (`VIDEO_MODE_SPLIT_VERTICAL_REVERSE`).
    AlphaBottom,
}

/// A `params.layout` that names no layout.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("params.layout {0:?}: expected alpha-left, alpha-right, alpha-top or alpha-bottom")]
pub struct UnknownLayout(pub String);

impl std::str::FromStr for Layout {
    type Err = UnknownLayout;
    fn from_str(s: &str) -> Result<Self, UnknownLayout> {
        match s {
            "alpha-left" => Ok(Self::AlphaLeft),
            "alpha-right" => Ok(Self::AlphaRight),
            "alpha-top" => Ok(Self::AlphaTop),
            "alpha-bottom" => Ok(Self::AlphaBottom),
            _ => Err(UnknownLayout(s.to_owned())),
        }
    }
}

/// What fills a fusion source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SrcKind {
    /// A picture (`"srcType": "img"`), e.g. the sender's avatar.
    Image,
    /// A text (`"srcType": "txt"`), e.g. the sender's name.
    Text,
}

/// How a source fills its placement (Android `Src.FitType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fit {
    /// Stretched to the placement (`fitXY`, the default).
    Stretch,
    /// Cropped around its centre to the placement's aspect (`centerFull`, iOS `centerCrop`).
    CenterCrop,
}

/// One fusion source (`src[]`): a slot the sender's avatar or name fills.
#[derive(Debug, Clone, PartialEq)]
pub struct VapSrc {
    /// `srcId`, which placements refer to.
    pub id: String,
    /// Picture or text.
    pub kind: SrcKind,
    /// The slot key: `srcTag` without its brackets (`[sImg1]` → `sImg1`).
    pub tag: String,
    /// Text colour, straight RGBA8 (`color`, `#RRGGBB`; black when absent, as Android reads it).
    pub color: [u8; 4],
    /// Bold text (`"style": "b"`).
    pub bold: bool,
    /// How it fills its placement.
    pub fit: Fit,
    /// Source width, px (`w`; a text bitmap is drawn this size).
    pub w: u32,
    /// Source height, px.
    pub h: u32,
}

/// One placement of a source in one frame (`frame[].obj[]`).
#[derive(Debug, Clone, PartialEq)]
pub struct VapObj {
    /// The source it draws.
    pub src_id: String,
    /// Drawing order; lower first (`FrameSet` sorts by `z`).
    pub z: i64,
    /// Where it goes on the canvas, px.
    pub frame: Rect,
    /// Its mask in the video frame, px (`mFrame`): the red channel cuts the source.
    pub mask: Rect,
    /// Mask rotation, 0 or 90 degrees clockwise (`mt`).
    pub mt: u32,
}

/// Most fusion placements in one frame.
pub const MAX_FUSION_OBJECTS: usize = 64;

/// The layout and timing of a VAP effect: from `vapc`, or for version 1 from the video and
/// the declared [`Layout`].
#[derive(Debug, Clone, PartialEq)]
pub struct VapConfig {
    /// Whether a `vapc` box gave it.
    pub from_vapc: bool,
    /// Frames the config states (`f`; the track's count for version 1).
    pub frames: u64,
    /// Frames per second the config states (`fps`).
    pub fps: f64,
    /// Canvas width, px (`w`).
    pub width: u32,
    /// Canvas height, px (`h`).
    pub height: u32,
    /// Video width the config states, px (`videoW`).
    pub video_w: u32,
    /// Video height the config states, px (`videoH`).
    pub video_h: u32,
    /// Colour region in the video, px (`rgbFrame`).
    pub rgb: Rect,
    /// Alpha region in the video, px (`aFrame`).
    pub alpha: Rect,
    /// Fusion sources (`src`).
    pub srcs: Vec<VapSrc>,
    /// Placements by frame index (`frame[].i`).
    pub fusion: BTreeMap<u32, Vec<VapObj>>,
}

impl VapConfig {
    /// The config of a version-1 file: two halves of the video, as the players lay them out
    /// (Android `AnimConfigManager.defaultConfig`).
    #[must_use]
    pub fn default_for(track: &VideoTrack, layout: Layout) -> Self {
        let (vw, vh) = (track.width_px, track.height_px);
        let (w, h) = match layout {
            Layout::AlphaLeft | Layout::AlphaRight => (vw / 2, vh),
            Layout::AlphaTop | Layout::AlphaBottom => (vw, vh / 2),
        };
        let first = Rect {
            x: 0.0,
            y: 0.0,
            w: w as f32,
            h: h as f32,
        };
        let second = Rect {
            x: if w < vw { w as f32 } else { 0.0 },
            y: if h < vh { h as f32 } else { 0.0 },
            ..first
        };
        let (alpha, rgb) = match layout {
            Layout::AlphaLeft | Layout::AlphaTop => (first, second),
            Layout::AlphaRight | Layout::AlphaBottom => (second, first),
        };
        Self {
            from_vapc: false,
            frames: track.samples.len() as u64,
            fps: track.fps,
            width: w.max(1),
            height: h.max(1),
            video_w: vw,
            video_h: vh,
            rgb,
            alpha,
            srcs: Vec::new(),
            fusion: BTreeMap::new(),
        }
    }

    /// Parses a `vapc` body (Android `AnimConfig.parse`, `mix/Src.kt`, `mix/Frame.kt`).
    ///
    /// # Errors
    /// [`VapError::Config`] for JSON that is not a VAP config, [`VapError::Limits`] for sizes
    /// over the limits.
    pub fn parse(body: &[u8], limits: &DecodeLimits) -> Result<Self, VapError> {
        let cfg: Value =
            serde_json::from_slice(body).map_err(|e| VapError::Config(format!("not JSON: {e}")))?;
        let info = cfg
            .get("info")
            .ok_or_else(|| VapError::Config("no info".into()))?;
        let num = |k: &str| {
            info.get(k)
                .and_then(Value::as_f64)
                .filter(|v| v.is_finite())
        };
        let (Some(w), Some(h), Some(fps), Some(frames)) =
            (num("w"), num("h"), num("fps"), num("f"))
        else {
            return Err(VapError::Config("info needs w, h, fps and f".into()));
        };
        limits
            .check_frame("the effect", w, h)
            .map_err(VapError::Limit)?;
        limits.check_timing(frames, fps).map_err(VapError::Limit)?;
        let (vw, vh) = (num("videoW").unwrap_or(w), num("videoH").unwrap_or(h));
        limits
            .check_frame("the video", vw, vh)
            .map_err(VapError::Limit)?;
        let rgb = Rect::from_json(info.get("rgbFrame"), "rgbFrame")?;
        let alpha = Rect::from_json(info.get("aFrame"), "aFrame")?;
        let mut srcs = Vec::new();
        for s in cfg
            .get("src")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let text = |k: &str| s.get(k).and_then(Value::as_str).unwrap_or("");
            let kind = match text("srcType") {
                "img" => SrcKind::Image,
                "txt" => SrcKind::Text,
                // Android's SrcMap drops sources of unknown type.
                _ => continue,
            };
            let dim = |k: &str| s.get(k).and_then(Value::as_f64).unwrap_or(0.0);
            let (sw, sh) = (dim("w"), dim("h"));
            limits
                .check_frame(
                    &format!("source {:?}", text("srcId")),
                    sw.max(1.0),
                    sh.max(1.0),
                )
                .map_err(VapError::Limit)?;
            srcs.push(VapSrc {
                id: text("srcId").to_owned(),
                kind,
                tag: text("srcTag").trim_matches(['[', ']']).to_owned(),
                color: parse_color(text("color")),
                bold: text("style") == "b",
                fit: match text("fitType") {
                    "centerFull" | "centerCrop" => Fit::CenterCrop,
                    _ => Fit::Stretch,
                },
                w: sw as u32,
                h: sh as u32,
            });
            if srcs.len() > MAX_FUSION_OBJECTS {
                return Err(VapError::Limits(format!(
                    "more than {MAX_FUSION_OBJECTS} fusion sources"
                )));
            }
        }
        let mut fusion: BTreeMap<u32, Vec<VapObj>> = BTreeMap::new();
        for set in cfg
            .get("frame")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let Some(i) = set.get("i").and_then(Value::as_u64) else {
                continue;
            };
            if i >= frames as u64 {
                continue;
            }
            let mut objs = Vec::new();
            for o in set
                .get("obj")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                objs.push(VapObj {
                    src_id: o
                        .get("srcId")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_owned(),
                    z: o.get("z").and_then(Value::as_i64).unwrap_or(0),
                    frame: Rect::from_json(o.get("frame"), &format!("frame {i} obj frame"))?,
                    mask: Rect::from_json(o.get("mFrame"), &format!("frame {i} obj mFrame"))?,
                    mt: o.get("mt").and_then(Value::as_u64).unwrap_or(0) as u32,
                });
                if objs.len() > MAX_FUSION_OBJECTS {
                    return Err(VapError::Limits(format!(
                        "frame {i} places more than {MAX_FUSION_OBJECTS} fusion sources"
                    )));
                }
            }
            objs.sort_by_key(|o| o.z);
            fusion.insert(i as u32, objs);
        }
        Ok(Self {
            from_vapc: true,
            frames: frames as u64,
            fps,
            width: w as u32,
            height: h as u32,
            video_w: vw as u32,
            video_h: vh as u32,
            rgb,
            alpha,
            srcs,
            fusion,
        })
    }

    /// The slot keys of the fusion sources, sorted, without repeats.
    #[must_use]
    pub fn slot_keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = self.srcs.iter().map(|s| s.tag.clone()).collect();
        keys.sort();
        keys.dedup();
        keys
    }
}

fn parse_color(s: &str) -> [u8; 4] {
    let hex = s.trim_start_matches('#');
    let byte = |i: usize| {
        hex.get(i..i + 2)
            .and_then(|h| u8::from_str_radix(h, 16).ok())
    };
    match hex.len() {
        6 => match (byte(0), byte(2), byte(4)) {
            (Some(r), Some(g), Some(b)) => [r, g, b, 255],
            _ => [0, 0, 0, 255],
        },
        // Android's Color.parseColor: #AARRGGBB.
        8 => match (byte(0), byte(2), byte(4), byte(6)) {
            (Some(a), Some(r), Some(g), Some(b)) => [r, g, b, a],
            _ => [0, 0, 0, 255],
        },
        _ => [0, 0, 0, 255],
    }
}

/// An opened VAP file: its bytes, video track and config. Cheap to share; decoding happens
/// frame by frame in an [`h264::H264Stream`].
#[derive(Debug)]
pub struct VapMovie {
    /// The whole file.
    pub bytes: Arc<[u8]>,
    /// The video track.
    pub track: VideoTrack,
    /// Layout, timing and fusion.
    pub config: VapConfig,
    /// Audio tracks in the file.
    pub audio_tracks: usize,
    /// Zero padding after the last box.
    pub trailing_padding: bool,
    /// For a version-1 file, the layout its pixels show (`None` when they do not tell).
    pub detected: Option<Layout>,
}

impl VapMovie {
    /// Frames to play: the track's samples (what the players decode), never more than the
    /// config states when it states fewer.
    #[must_use]
    pub fn frame_count(&self) -> u32 {
        let n = self.track.samples.len() as u64;
        (if self.config.from_vapc {
            n.min(self.config.frames)
        } else {
            n
        }) as u32
    }

    /// H.264 macroblocks one frame decodes (16 × 16 px each).
    #[must_use]
    pub fn macroblocks_per_frame(&self) -> u64 {
        u64::from(self.track.width_px.div_ceil(16)) * u64::from(self.track.height_px.div_ceil(16))
    }
}

/// Opens a VAP file: walks its boxes, reads the video track and the config.
///
/// # Errors
/// [`VapError::Codec`] for HEVC or another codec, [`VapError::Container`] for a broken file
/// (truncated, no `moov`), [`VapError::Config`] and [`VapError::Limits`] for a bad config.
pub fn open(
    bytes: Arc<[u8]>,
    layout: Option<Layout>,
    limits: &DecodeLimits,
) -> Result<VapMovie, VapError> {
    let scan = demux::prescan(&bytes, limits)?;
    if scan.top.first() != Some(b"ftyp") {
        return Err(VapError::Container("the first box is not ftyp".into()));
    }
    if !scan.top.contains(b"moov") {
        return Err(VapError::Container(
            "no moov box: the sample table is missing (a file cut before its index?)".into(),
        ));
    }
    if let Some(c) = scan
        .codecs
        .iter()
        .find(|c| matches!(c.as_str(), "hvc1" | "hev1"))
    {
        return Err(VapError::Codec(format!("HEVC ({c})")));
    }
    let (track, audio_tracks) = demux::video_track(&bytes, scan.moov_end, limits)?;
    if !track.is_h264() {
        return Err(VapError::Codec(track.codec.clone()));
    }
    if track.samples.is_empty() {
        return Err(VapError::Container("the video track has no samples".into()));
    }
    let mut detected = None;
    let config = if let Some(body) = &scan.vapc {
        VapConfig::parse(body, limits)?
    } else {
        if layout.is_none() {
            detected = detect_layout(&bytes, &track, limits)?;
        }
        VapConfig::default_for(&track, layout.or(detected).unwrap_or_default())
    };
    Ok(VapMovie {
        bytes,
        track,
        config,
        audio_tracks,
        trailing_padding: scan.trailing_padding,
        detected,
    })
}

/// The layout a version-1 file's pixels show: of the four halves, the alpha one carries no
/// chroma (VapTool writes alpha as grey), so the split whose one half is far more colourful
/// than the other is the layout. Reads the frames at a quarter, half and three quarters.
///
/// # Errors
/// [`VapError::Frame`] when those frames do not decode.
pub fn detect_layout(
    bytes: &[u8],
    track: &VideoTrack,
    limits: &DecodeLimits,
) -> Result<Option<Layout>, VapError> {
    let n = track.display_order.len();
    let mut stream = h264::H264Stream::new(track)?;
    // Chroma energy of the left, right, top and bottom halves.
    let mut e = [0u64; 4];
    for i in [n / 4, n / 2, 3 * n / 4] {
        let p = stream.frame(bytes, track, i, limits)?;
        let (cw, ch) = p.chroma_size();
        for y in 0..ch {
            for x in 0..cw {
                let k = (y * cw + x) as usize;
                let c = u64::from(p.u[k].abs_diff(128)) + u64::from(p.v[k].abs_diff(128));
                e[usize::from(x >= cw / 2)] += c;
                e[2 + usize::from(y >= ch / 2)] += c;
            }
        }
    }
    let ratio = |a: u64, b: u64| a as f64 / (b as f64 + 1.0);
    let candidates = [
        (ratio(e[1], e[0]), Layout::AlphaLeft),
        (ratio(e[0], e[1]), Layout::AlphaRight),
        (ratio(e[3], e[2]), Layout::AlphaTop),
        (ratio(e[2], e[3]), Layout::AlphaBottom),
    ];
    let best = candidates
        .iter()
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .copied();
    Ok(best.filter(|(r, _)| *r >= 8.0).map(|(_, l)| l))
}

/// Composites one decoded picture into the effect's straight-alpha RGBA canvas
/// (`config.width × config.height`): colour from `rgbFrame`, alpha from the red channel of
/// `aFrame`, each sampled linearly at the pixel centre (the players' fragment shaders:
/// Android `RenderConstant.FRAGMENT_SHADER`, iOS `hwd_yuvFragmentShader`).
#[must_use]
pub fn merge(pic: &h264::Yuv420, config: &VapConfig) -> RgbaImage {
    let (w, h) = (config.width.max(1), config.height.max(1));
    // The config's video size maps the regions; the decoded picture may differ (cropping).
    let sx = pic.width as f32 / config.video_w.max(1) as f32;
    let sy = pic.height as f32 / config.video_h.max(1) as f32;
    let (rgb, a) = (config.rgb, config.alpha);
    let mut out = RgbaImage::new(w, h);
    for (x, y, px) in out.enumerate_pixels_mut() {
        let (u, v) = ((x as f32 + 0.5) / w as f32, (y as f32 + 0.5) / h as f32);
        let c = pic.rgb_at((rgb.x + u * rgb.w) * sx, (rgb.y + v * rgb.h) * sy);
        let al = pic.rgb_at((a.x + u * a.w) * sx, (a.y + v * a.h) * sy)[0];
        let q = |f: f32| f.round().clamp(0.0, 255.0) as u8;
        *px = image::Rgba([q(c[0]), q(c[1]), q(c[2]), q(al)]);
    }
    out
}

/// The red channel of the video at a region of the picture, sampled at `(u, v)` (0–1) with
/// `mt` rotation: a fusion mask (Android `MixShader`, `TexCoordsUtil.rotate90`).
#[must_use]
pub fn mask_at(pic: &h264::Yuv420, config: &VapConfig, mask: Rect, mt: u32, u: f32, v: f32) -> f32 {
    let sx = pic.width as f32 / config.video_w.max(1) as f32;
    let sy = pic.height as f32 / config.video_h.max(1) as f32;
    // Rotating the texture coordinates 90° clockwise: the placement's (u, v) reads the mask
    // at (v, 1 − u).
    let (mu, mv) = if mt == 90 { (v, 1.0 - u) } else { (u, v) };
    (pic.rgb_at((mask.x + mu * mask.w) * sx, (mask.y + mv * mask.h) * sy)[0] / 255.0)
        .clamp(0.0, 1.0)
}

/// What `check` runs on a VAP file: opens it, decodes every frame, and reports the canvas,
/// timing, slots and the maintainers' advice.
///
/// # Errors
/// The [`VapError`] for `decode-failed` (HEVC is reported as `codec-unsupported` advice
/// instead).
pub fn decode(
    bytes: &[u8],
    layout: Option<Layout>,
    limits: &DecodeLimits,
) -> Result<AnimationInfo, VapError> {
    let movie = match open(Arc::from(bytes), layout, limits) {
        Ok(m) => m,
        Err(e @ VapError::Codec(_)) => {
            return Ok(AnimationInfo {
                notes: vec![e.to_string()],
                advice: vec![Advice {
                    code: Code::CodecUnsupported,
                    message: format!(
                        "{e}; VapTool's README: H.265 does not play on Android 4.x, on some low-end phones or in some browsers"
                    ),
                }],
                ..AnimationInfo::default()
            });
        }
        Err(e) => return Err(e),
    };
    let mut stream = h264::H264Stream::new(&movie.track)?;
    for i in 0..movie.track.display_order.len() {
        stream.frame(&movie.bytes, &movie.track, i, limits)?;
    }
    Ok(info(&movie))
}

/// The summary and advice of an opened file.
#[must_use]
pub fn info(movie: &VapMovie) -> AnimationInfo {
    let c = &movie.config;
    let t = &movie.track;
    let mut notes = Vec::new();
    let mut advice = Vec::new();
    if movie.trailing_padding {
        notes.push("zero padding after the last box".into());
    }
    if !c.from_vapc {
        notes.push("no vapc box: a version-1 VAP file".into());
        match movie.detected {
            Some(Layout::AlphaLeft) => {}
            Some(l) => advice.push(Advice {
                code: Code::VideoConfigMismatch,
                message: format!(
                    "no vapc box, and the pixels put the alpha {}: the players' default puts it on the left, so the app must call setVideoMode({}) or the effect shows its mask as colour",
                    match l {
                        Layout::AlphaRight => "on the right",
                        Layout::AlphaTop => "on top",
                        _ => "at the bottom",
                    },
                    match l {
                        Layout::AlphaRight => "VIDEO_MODE_SPLIT_HORIZONTAL_REVERSE",
                        Layout::AlphaTop => "VIDEO_MODE_SPLIT_VERTICAL",
                        _ => "VIDEO_MODE_SPLIT_VERTICAL_REVERSE",
                    }
                ),
            }),
            None => advice.push(Advice {
                code: Code::VideoConfigMismatch,
                message: "no vapc box, and the pixels do not show which half is alpha: the players assume alpha on the left".into(),
            }),
        }
    }
    let (vw, vh) = (t.width_px, t.height_px);
    if vw.max(vh) > 1504 {
        advice.push(Advice {
            code: Code::FrameTooLarge,
            message: format!(
                "the video is {vw} × {vh} px; VapTool keeps the longest side within 1504 px because phones' hardware decoders refuse larger frames (tool_Mac_Tool.md, 额外说明 2)"
            ),
        });
    }
    if vw % 16 != 0 || vh % 16 != 0 {
        advice.push(Advice {
            code: Code::VideoSizeUnaligned,
            message: format!(
                "the video is {vw} × {vh} px, not multiples of 16; VapTool rounds sizes to 16 for Android's hardware decoders, which pad or fail otherwise (tool_Mac_Tool.md, 额外说明 1)"
            ),
        });
    }
    if c.from_vapc {
        let n = t.samples.len() as u64;
        if c.frames != n {
            advice.push(Advice {
                code: Code::VideoConfigMismatch,
                message: format!(
                    "vapc states {} frames, the video track has {n}: the players stop at the track's end and fusion frames past it never show",
                    c.frames
                ),
            });
        }
        if t.fps > 0.0 && (c.fps - t.fps).abs() > 0.5 {
            advice.push(Advice {
                code: Code::VideoConfigMismatch,
                message: format!(
                    "vapc states {} fps, the video track runs at {:.2} fps: the players pace frames by vapc, so the effect plays at the wrong speed",
                    c.fps, t.fps
                ),
            });
        }
        if (c.video_w, c.video_h) != (vw, vh) {
            advice.push(Advice {
                code: Code::VideoConfigMismatch,
                message: format!(
                    "vapc states a {} × {} px video, the track is {vw} × {vh} px: the colour and alpha regions are read from the wrong place",
                    c.video_w, c.video_h
                ),
            });
        }
    }
    if movie.audio_tracks > 0 {
        advice.push(Advice {
            code: Code::VideoAudioTrack,
            message: format!(
                "the file carries {} audio track(s): Android's VAP player plays it, the web player mutes it, and it adds to the download",
                movie.audio_tracks
            ),
        });
    }
    // The count the file states: vapc's `f`, or the track's for version 1.
    let frames = c.frames;
    let fps = if c.fps > 0.0 { c.fps } else { t.fps.max(1.0) };
    AnimationInfo {
        width_px: c.width,
        height_px: c.height,
        fps,
        frame_count: frames,
        duration_ms: (frames as f64 * 1000.0 / fps).round() as u64,
        image_count: 0,
        decoded_bytes: u64::from(vw) * u64::from(vh) * 3 / 2
            + u64::from(c.width) * u64::from(c.height) * 4,
        slot_keys: c.slot_keys(),
        notes,
        audio: Vec::new(),
        advice,
        themes: Vec::new(),
        style_slots: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vapc_sources_and_placements_are_read_as_android_reads_them() {
        let body = br##"{"info":{"v":2,"f":10,"w":100,"h":50,"videoW":160,"videoH":80,"fps":20,
            "isVapx":1,"aFrame":[104,0,50,25],"rgbFrame":[0,0,100,50]},
            "src":[{"srcId":"1","srcType":"txt","srcTag":"[name]","color":"#FF0080","style":"b",
                    "w":80,"h":20,"fitType":"fitXY"},
                   {"srcId":"2","srcType":"img","srcTag":"[face]","w":30,"h":30,
                    "fitType":"centerFull"},
                   {"srcId":"3","srcType":"video","srcTag":"[x]","w":1,"h":1}],
            "frame":[{"i":4,"obj":[{"srcId":"2","z":2,"frame":[1,2,3,4],"mFrame":[5,6,7,8],"mt":90},
                                   {"srcId":"1","z":0,"frame":[0,0,80,20],"mFrame":[0,0,80,20],"mt":0}]},
                     {"i":99,"obj":[]}]}"##;
        let c = VapConfig::parse(body, &DecodeLimits::default()).unwrap();
        assert_eq!((c.width, c.height, c.video_w, c.frames), (100, 50, 160, 10));
        assert_eq!(c.srcs.len(), 2, "an unknown srcType is dropped");
        assert_eq!(c.srcs[0].tag, "name");
        assert_eq!(c.srcs[0].color, [255, 0, 128, 255]);
        assert!(c.srcs[0].bold && c.srcs[0].kind == SrcKind::Text);
        assert_eq!(c.srcs[1].fit, Fit::CenterCrop);
        assert_eq!(c.slot_keys(), ["face", "name"]);
        let objs = &c.fusion[&4];
        assert_eq!(objs[0].src_id, "1", "placements draw in z order");
        assert_eq!(objs[1].mt, 90);
        assert!(!c.fusion.contains_key(&99), "a frame past f is ignored");
        let huge = br#"{"info":{"v":2,"f":10,"w":100000,"h":50,"fps":20,"aFrame":[0,0,1,1],"rgbFrame":[0,0,1,1]}}"#;
        assert!(matches!(
            VapConfig::parse(huge, &DecodeLimits::default()),
            Err(VapError::Limit(_))
        ));
        assert!(VapConfig::parse(b"[1]", &DecodeLimits::default()).is_err());
        assert_eq!(parse_color("#80FF0000"), [255, 0, 0, 128]);
        assert_eq!(parse_color("nonsense"), [0, 0, 0, 255]);
    }

    #[test]
    fn merge_reads_colour_and_the_red_of_the_alpha_region() {
        // An 8 × 2 picture: left half colour (pure red in YUV full range), right half alpha
        // (grey 128 → alpha 128).
        let pic = h264::Yuv420 {
            width: 8,
            height: 2,
            y: [[76; 4], [128; 4]].concat().repeat(2),
            u: vec![85, 85, 128, 128],
            v: vec![255, 255, 128, 128],
        };
        let cfg = VapConfig {
            from_vapc: true,
            frames: 1,
            fps: 1.0,
            width: 2,
            height: 2,
            video_w: 8,
            video_h: 2,
            rgb: Rect {
                x: 0.0,
                y: 0.0,
                w: 4.0,
                h: 2.0,
            },
            alpha: Rect {
                x: 4.0,
                y: 0.0,
                w: 4.0,
                h: 2.0,
            },
            srcs: Vec::new(),
            fusion: BTreeMap::new(),
        };
        let out = merge(&pic, &cfg);
        let p = out.get_pixel(0, 0);
        assert!(p[0] > 240 && p[1] < 20 && p[2] < 20, "{p:?}");
        assert!((120..=136).contains(&p[3]), "{p:?}");
    }
}
