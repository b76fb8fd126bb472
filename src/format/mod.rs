//! GPU-free decoders, one per asset format (spec §2 "Formats"), with hard limits so a hostile
//! file yields an error instead of gigabytes of allocation.
//!
//! [`sniff`] names a file's container by its magic bytes (never by extension or version
//! string), [`check_magic`] compares that with the declared format (`format-mismatch`), and
//! [`decode_asset`] opens every frame and embedded image with its format's decoder and
//! summarises the result as an [`AnimationInfo`] (`decode-failed` on error).

pub mod animated;
pub mod lottie;
pub mod lottie_fx;
pub mod lottie_prop;
pub mod lottie_text;
pub mod lottie_text_anim;
pub mod lottie_theme;
pub mod lottie_web;
pub mod svga;
pub mod svga_proto;
pub mod vap;

use serde::{Deserialize, Serialize};

use crate::bundle::manifest::{Asset, AssetFormat};
use crate::bundle::source::{BundleSource, ReadError};

/// Largest coordinate a path or motion path may reach (and largest stroke width), in its own
/// units. Gift canvases are at most 8192 px; a Lottie ellipse of 1e38 would otherwise flatten
/// into more segments than memory holds, and a motion tangent of 1e38 would cost minutes of
/// arc-length work.
pub const MAX_COORD: f64 = 1e6;

/// A size, count or duration outside [`DecodeLimits`] (`docs/limits.md`).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LimitError {
    /// A frame, image or canvas with a zero, negative or non-finite side.
    #[error("{what} has an empty or invalid size {w} × {h}")]
    EmptySize {
        /// What was measured ("the canvas", "the image", …).
        what: String,
        /// Width, px.
        w: f64,
        /// Height, px.
        h: f64,
    },
    /// A frame, image or canvas over the side or area limit.
    #[error("{what} is {w} × {h} px, over the {max_side} px side / {max_area} px area limit")]
    TooLarge {
        /// What was measured.
        what: String,
        /// Width, px.
        w: f64,
        /// Height, px.
        h: f64,
        /// [`DecodeLimits::max_dimension_px`].
        max_side: u32,
        /// [`DecodeLimits::max_frame_px`].
        max_area: u64,
    },
    /// A frame rate that is zero, negative or not a number.
    #[error("frame rate {fps} is not positive")]
    Rate {
        /// Frames per second as declared.
        fps: f64,
    },
    /// Fewer than one frame, or not a number.
    #[error("declares {frames} frames")]
    NoFrames {
        /// The declared count.
        frames: f64,
    },
    /// More frames than [`DecodeLimits::max_frames`].
    #[error("declares {frames:.0} frames, over the {limit}-frame limit")]
    TooManyFrames {
        /// The declared count.
        frames: f64,
        /// The limit.
        limit: u64,
    },
    /// Longer than [`DecodeLimits::max_duration_s`].
    #[error("declares {secs:.1} s of animation, over the {limit:.0} s limit")]
    TooLong {
        /// Declared duration, s.
        secs: f64,
        /// The limit, s.
        limit: f64,
    },
}

/// Why an asset's file cannot be decoded: the message of its `decode-failed` finding (spec
/// §10), or of `format-mismatch` for [`DecodeError::WrongFormat`] and
/// [`DecodeError::UnknownFormat`].
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// A size, count or duration outside the limits.
    #[error(transparent)]
    Limit(#[from] LimitError),
    /// The magic bytes name another container than the declared format.
    #[error("declared {declared}, but the file is {found}")]
    WrongFormat {
        /// The manifest's `format`.
        declared: AssetFormat,
        /// What the bytes are ([`Magic::name`]).
        found: &'static str,
    },
    /// The magic bytes match no known container.
    #[error("declared {declared}, but the magic bytes match no known format")]
    UnknownFormat {
        /// The manifest's `format`.
        declared: AssetFormat,
    },
    /// The asset lists no files.
    #[error("no files")]
    NoFiles,
    /// A manifest `params` entry the format needs (spec §2 "Formats").
    #[error("params.{0} is missing")]
    MissingParam(&'static str),
    /// A file of the bundle could not be read.
    #[error("{path}: {source}")]
    Read {
        /// The file's bundle path.
        path: String,
        /// Why.
        source: ReadError,
    },
    /// One file of a multi-file asset (a sequence frame) failed.
    #[error("{file}: {source}")]
    InFile {
        /// The file's bundle path.
        file: String,
        /// What went wrong in it.
        source: Box<DecodeError>,
    },
    /// The VAP container, config or video.
    #[error(transparent)]
    Vap(#[from] vap::VapError),
    /// A third-party decoder panicked on the bytes (contained by [`contain`]).
    #[error("the decoder failed on this file ({0})")]
    Panicked(String),
    /// The bytes break their format's rules; the message names the part, and the frame or
    /// offset where there is one (the decoder's own words after a colon).
    #[error("{0}")]
    Invalid(String),
}

impl From<String> for DecodeError {
    fn from(message: String) -> Self {
        Self::Invalid(message)
    }
}

impl From<&str> for DecodeError {
    fn from(message: &str) -> Self {
        Self::Invalid(message.to_owned())
    }
}

impl DecodeError {
    /// The error inside one file of a multi-file asset.
    #[must_use]
    pub fn in_file(self, file: &str) -> Self {
        Self::InFile {
            file: file.to_owned(),
            source: Box::new(self),
        }
    }
}

/// Limits every decoder enforces.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DecodeLimits {
    /// Largest width or height of any frame or image, in px.
    pub max_dimension_px: u32,
    /// Largest frame or image, in px (width × height).
    pub max_frame_px: u64,
    /// Most frames an animation may declare.
    pub max_frames: u64,
    /// Longest declared duration, in seconds.
    pub max_duration_s: f64,
    /// Most bytes one decoder allocation may take.
    pub max_alloc_bytes: u64,
    /// Most bytes a compressed container (SVGA 2.x zlib, zip entries inside SVGA 1.x or
    /// dotLottie) may inflate to, in all.
    pub max_inflated_bytes: u64,
    /// Largest file read whole for decoding, in bytes.
    pub max_file_bytes: u64,
}

impl Default for DecodeLimits {
    fn default() -> Self {
        Self {
            max_dimension_px: 8192,
            max_frame_px: 4096 * 4096,
            max_frames: 20_000,
            max_duration_s: 600.0,
            max_alloc_bytes: 128 << 20,
            max_inflated_bytes: 128 << 20,
            max_file_bytes: 256 << 20,
        }
    }
}

impl DecodeLimits {
    /// `image` crate limits matching these.
    #[must_use]
    pub fn image_limits(&self) -> image::Limits {
        let mut l = image::Limits::default();
        l.max_image_width = Some(self.max_dimension_px);
        l.max_image_height = Some(self.max_dimension_px);
        l.max_alloc = Some(self.max_alloc_bytes);
        l
    }

    /// Checks a frame size against the limits.
    ///
    /// # Errors
    /// [`LimitError::EmptySize`] or [`LimitError::TooLarge`], naming `what`, the size and the
    /// limit.
    pub fn check_frame(&self, what: &str, w: f64, h: f64) -> Result<(), LimitError> {
        if !(w.is_finite() && h.is_finite()) || w <= 0.0 || h <= 0.0 {
            return Err(LimitError::EmptySize {
                what: what.to_owned(),
                w,
                h,
            });
        }
        let maxd = f64::from(self.max_dimension_px);
        if w > maxd || h > maxd || w * h > self.max_frame_px as f64 {
            return Err(LimitError::TooLarge {
                what: what.to_owned(),
                w,
                h,
                max_side: self.max_dimension_px,
                max_area: self.max_frame_px,
            });
        }
        Ok(())
    }

    /// Checks a declared frame count and rate against the limits.
    ///
    /// # Errors
    /// The [`LimitError`] naming the rate, count or duration and the limit.
    pub fn check_timing(&self, frames: f64, fps: f64) -> Result<(), LimitError> {
        if !(fps.is_finite() && fps > 0.0) {
            return Err(LimitError::Rate { fps });
        }
        if !(frames.is_finite() && frames >= 1.0) {
            return Err(LimitError::NoFrames { frames });
        }
        if frames > self.max_frames as f64 {
            return Err(LimitError::TooManyFrames {
                frames,
                limit: self.max_frames,
            });
        }
        let secs = frames / fps;
        if secs > self.max_duration_s {
            return Err(LimitError::TooLong {
                secs,
                limit: self.max_duration_s,
            });
        }
        Ok(())
    }
}

/// What a decoder learned about an asset.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AnimationInfo {
    /// Canvas width, px.
    pub width_px: u32,
    /// Canvas height, px.
    pub height_px: u32,
    /// Frames per second.
    pub fps: f64,
    /// Number of frames.
    pub frame_count: u64,
    /// Duration, ms.
    pub duration_ms: u64,
    /// Embedded bitmaps decoded (SVGA images, sequence frames, atlas sheets).
    pub image_count: u64,
    /// Estimated bytes of decoded RGBA a player holds to play it (every frame of a sequence,
    /// every bitmap of an SVGA, one canvas for vectors and video).
    pub decoded_bytes: u64,
    /// Dynamic-slot candidates the file names (SVGA image keys without bitmaps, VAP `srcTag`s).
    pub slot_keys: Vec<String>,
    /// Features found that are worth knowing (audio, vectors, mattes, text layers…).
    pub notes: Vec<String>,
    /// Sound the effect plays, with when (SVGA `audios`); players must have it to play it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub audio: Vec<AudioTrack>,
    /// Findings the decoder has for the file (its format's maintainers' advice, a codec the
    /// phones lack); `check` reports each against the asset.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub advice: Vec<Advice>,
    /// A dotLottie's v2 theme ids (`manifest.json` `themes`), in order; a designer previews
    /// the effect in each.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub themes: Vec<String>,
    /// A Lottie's colour, number and vector slots (lottie-spec "Slots"), by id: what
    /// `render --slot` and the app's style fields restyle.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub style_slots: Vec<StyleSlot>,
}

/// One colour, number or vector slot of a Lottie animation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StyleSlot {
    /// The slot id (`sid`).
    pub id: String,
    /// The kind of value it holds.
    pub kind: lottie::PropertyKind,
    /// How many properties name it.
    pub uses: usize,
}

/// A finding a decoder raises about a file that decoded (spec §10 code and its reason).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Advice {
    /// The finding code.
    pub code: crate::finding::Code,
    /// Why, in the user's terms.
    pub message: String,
}

/// One audio track of an effect (`svga.proto` `AudioEntity`): played from `start_frame` to
/// `end_frame`, starting `start_ms` into the sound.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AudioTrack {
    /// The audio key (its file in the movie's images map).
    pub key: String,
    /// First frame it sounds on.
    pub start_frame: u32,
    /// Last frame it sounds on.
    pub end_frame: u32,
    /// Offset into the sound where playback starts, ms.
    pub start_ms: u32,
    /// Length of the sound, ms (0 when the file does not say).
    pub total_ms: u32,
    /// Bytes of the sound in the file (0 when missing: it cannot play).
    pub bytes: u64,
}

/// Containers recognised by magic bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Magic {
    /// PNG without an `acTL` chunk.
    Png,
    /// PNG with an `acTL` chunk before the image data.
    Apng,
    /// `GIF87a` / `GIF89a`.
    Gif,
    /// RIFF WEBP.
    Webp,
    /// Zip local header.
    Zip,
    /// zlib stream header.
    Zlib,
    /// Text starting with `{` or `[`.
    Json,
    /// ISO-BMFF with `ftyp` first.
    Mp4,
    /// MP3 (ID3 tag or MPEG frame sync) or AAC ADTS.
    Mpeg,
    /// Ogg.
    Ogg,
}

impl Magic {
    /// A name for messages.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Png => "a still PNG",
            Self::Apng => "an animated PNG",
            Self::Gif => "a GIF",
            Self::Webp => "a WebP",
            Self::Zip => "a zip archive",
            Self::Zlib => "a zlib stream",
            Self::Json => "JSON text",
            Self::Mp4 => "an MP4",
            Self::Mpeg => "MPEG audio",
            Self::Ogg => "an Ogg stream",
        }
    }
}

fn png_has_actl(b: &[u8]) -> bool {
    let mut off = 8;
    while off + 8 <= b.len() {
        let len = u32::from_be_bytes([b[off], b[off + 1], b[off + 2], b[off + 3]]) as usize;
        let ty = &b[off + 4..off + 8];
        if ty == b"acTL" {
            return true;
        }
        if ty == b"IDAT" {
            return false;
        }
        off = off.saturating_add(12).saturating_add(len);
    }
    false
}

/// Names the container of `b` by its magic bytes (`b` needs its first few KiB; for PNG the
/// chunks before the first `IDAT`).
#[must_use]
pub fn sniff(b: &[u8]) -> Option<Magic> {
    if b.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Some(if png_has_actl(b) {
            Magic::Apng
        } else {
            Magic::Png
        });
    }
    if b.starts_with(b"GIF87a") || b.starts_with(b"GIF89a") {
        return Some(Magic::Gif);
    }
    if b.len() >= 12 && &b[..4] == b"RIFF" && &b[8..12] == b"WEBP" {
        return Some(Magic::Webp);
    }
    if b.starts_with(b"PK\x03\x04") {
        return Some(Magic::Zip);
    }
    if b.len() >= 2
        && b[0] & 0x0f == 8
        && b[0] >> 4 <= 7
        && (u16::from(b[0]) * 256 + u16::from(b[1])) % 31 == 0
    {
        return Some(Magic::Zlib);
    }
    if b.len() >= 8 && &b[4..8] == b"ftyp" {
        return Some(Magic::Mp4);
    }
    if b.starts_with(b"ID3") || (b.len() >= 2 && b[0] == 0xff && b[1] & 0xe0 == 0xe0) {
        return Some(Magic::Mpeg);
    }
    if b.starts_with(b"OggS") {
        return Some(Magic::Ogg);
    }
    let first = b.iter().find(|c| !c.is_ascii_whitespace()).copied();
    if b.starts_with(b"\xef\xbb\xbf{") || matches!(first, Some(b'{' | b'[')) {
        return Some(Magic::Json);
    }
    None
}

/// The containers a declared format accepts.
#[must_use]
pub fn accepted(format: AssetFormat) -> &'static [Magic] {
    match format {
        AssetFormat::PngSequence => &[Magic::Png, Magic::Apng],
        AssetFormat::SpriteAtlas => &[Magic::Png, Magic::Webp],
        AssetFormat::Apng => &[Magic::Apng],
        AssetFormat::Gif => &[Magic::Gif],
        AssetFormat::Webp => &[Magic::Webp],
        AssetFormat::Svga => &[Magic::Zip, Magic::Zlib],
        AssetFormat::Lottie => &[Magic::Json],
        AssetFormat::Dotlottie => &[Magic::Zip],
        AssetFormat::Vap => &[Magic::Mp4],
        AssetFormat::Audio => &[Magic::Mpeg, Magic::Ogg],
    }
}

/// Compares a file's magic bytes with its declared format.
///
/// # Errors
/// [`DecodeError::WrongFormat`] saying what the file is instead, or
/// [`DecodeError::UnknownFormat`].
pub fn check_magic(format: AssetFormat, head: &[u8]) -> Result<Magic, DecodeError> {
    match sniff(head) {
        Some(m) if accepted(format).contains(&m) => Ok(m),
        Some(m) => Err(DecodeError::WrongFormat {
            declared: format,
            found: m.name(),
        }),
        None => Err(DecodeError::UnknownFormat { declared: format }),
    }
}

/// Decodes every file of an asset from the bundle.
///
/// # Errors
/// The [`DecodeError`] for `decode-failed`, naming the file and the reason.
pub fn decode_asset(
    asset: &Asset,
    src: &BundleSource,
    limits: &DecodeLimits,
) -> Result<AnimationInfo, DecodeError> {
    contain(|| decode_asset_inner(asset, src, limits))
}

/// A panic inside a third-party decoder, caught by [`contain`]: its message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the decoder failed on this file ({0})")]
pub struct Panicked(pub String);

impl From<Panicked> for DecodeError {
    fn from(p: Panicked) -> Self {
        Self::Panicked(p.0)
    }
}

thread_local! {
    /// Whether this thread is inside [`contain`]: its panics are reported as findings, not
    /// printed.
    static IN_DECODER: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs a third-party decoder on untrusted bytes and turns a panic inside it into an error
/// (`decode-failed`), so a hostile file is a finding, never a crash. The `png` crate, for
/// one, panics on a palette whose length is not a multiple of 3 (png 0.18.1, the newest).
///
/// # Errors
/// `f`'s error, or the [`Panicked`] message converted into `E` ([`DecodeError::Panicked`]).
pub fn contain<T, E: From<Panicked>>(f: impl FnOnce() -> Result<T, E>) -> Result<T, E> {
    let prev = IN_DECODER.with(|c| c.replace(true));
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    IN_DECODER.with(|c| c.set(prev));
    r.unwrap_or_else(|p| {
        let why = p
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| p.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "no message".to_owned());
        Err(Panicked(why).into())
    })
}

/// Keeps the panics [`contain`] turns into findings off stderr; every other panic is
/// printed as before. Call once at start-up.
pub fn quiet_contained_panics() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !IN_DECODER.with(std::cell::Cell::get) {
            default(info);
        }
    }));
}

/// Reads the files an animation names by path (a Lottie image asset's `u` + `p`) from the
/// bundle, relative to the folder of `file` (the animation's bundle path), within the per-file
/// limit. A path that is not a vetted bundle file (one reaching outside the bundle among them)
/// reads as `None`.
pub fn files_beside<'a>(
    src: &'a BundleSource,
    file: &'a str,
    limits: &'a DecodeLimits,
) -> impl FnMut(&str) -> Option<Vec<u8>> + 'a {
    let dir = file.rsplit_once('/').map_or("", |(d, _)| d);
    move |p: &str| {
        let p = p.trim_start_matches("./");
        let path = if dir.is_empty() {
            p.to_owned()
        } else {
            format!("{dir}/{p}")
        };
        src.read(&path, limits.max_file_bytes).ok()
    }
}

fn decode_asset_inner(
    asset: &Asset,
    src: &BundleSource,
    limits: &DecodeLimits,
) -> Result<AnimationInfo, DecodeError> {
    let read = |path: &str| {
        src.read(path, limits.max_file_bytes)
            .map_err(|source| DecodeError::Read {
                path: path.to_owned(),
                source,
            })
    };
    let first = asset.files.first().ok_or(DecodeError::NoFiles)?;
    let rate = |k: &'static str| asset.param_f64(k).ok_or(DecodeError::MissingParam(k));
    let count = |k: &'static str| asset.param_u64(k).ok_or(DecodeError::MissingParam(k));
    match asset.format {
        AssetFormat::PngSequence => {
            let fps = rate("fps")?;
            animated::decode_png_sequence(&asset.files, fps, &read, limits)
        }
        AssetFormat::SpriteAtlas => {
            let bytes = read(&first.path)?;
            let columns = count("columns")?;
            let rows = count("rows")?;
            let frames = count("frame_count")?;
            let fps = rate("fps")?;
            animated::decode_atlas(&bytes, columns, rows, frames, fps, limits)
        }
        AssetFormat::Apng | AssetFormat::Gif | AssetFormat::Webp => {
            animated::decode_animated(asset.format, &read(&first.path)?, limits)
        }
        AssetFormat::Svga => svga::decode(&read(&first.path)?, limits).map(|m| m.info),
        AssetFormat::Lottie => {
            let mut fetch = files_beside(src, &first.path, limits);
            lottie::decode_lottie_in(&read(&first.path)?, limits, &mut fetch)
        }
        AssetFormat::Dotlottie => {
            let wanted = asset.params.get("animation").and_then(|v| v.as_str());
            lottie::decode_dotlottie(&read(&first.path)?, wanted, limits)
        }
        AssetFormat::Vap => Ok(vap::decode(&read(&first.path)?, None, limits)?),
        AssetFormat::Audio => Ok(AnimationInfo {
            notes: vec!["audio resource".into()],
            audio: Vec::new(),
            ..AnimationInfo::default()
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_containers() {
        assert_eq!(sniff(b"GIF89a...."), Some(Magic::Gif));
        assert_eq!(sniff(b"PK\x03\x04rest"), Some(Magic::Zip));
        assert_eq!(sniff(&[0x78, 0x9c, 0, 0]), Some(Magic::Zlib));
        assert_eq!(sniff(b"  {\"v\":1}"), Some(Magic::Json));
        assert_eq!(sniff(b"\0\0\0\x20ftypisom"), Some(Magic::Mp4));
        assert_eq!(sniff(b"ID3\x03"), Some(Magic::Mpeg));
        assert_eq!(sniff(b"hello"), None);
        assert!(check_magic(AssetFormat::Svga, b"GIF89a").is_err());
    }

    #[test]
    fn timing_limits() {
        let l = DecodeLimits::default();
        assert!(l.check_timing(60.0, 30.0).is_ok());
        assert!(l.check_timing(29_000_000.0, 23.98).is_err());
        assert!(l.check_timing(10.0, 0.0).is_err());
        assert!(l.check_frame("frame", 100_000.0, 100_000.0).is_err());
    }
}
