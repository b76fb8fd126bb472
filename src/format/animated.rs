//! Bitmap animations: PNG sequences, sprite atlases, APNG, GIF and WebP, decoded with the
//! `image` crate (every frame, composited as the file's disposal and blend rules say).

use std::io::Cursor;

use image::codecs::gif::GifDecoder;
use image::codecs::png::PngDecoder;
use image::codecs::webp::WebPDecoder;
use image::{AnimationDecoder, ImageDecoder, ImageReader};

use super::{AnimationInfo, DecodeError, DecodeLimits};
use crate::bundle::manifest::{AssetFormat, FileEntry};

fn rgba_bytes(w: u32, h: u32) -> u64 {
    u64::from(w) * u64::from(h) * 4
}

/// Reads a still image's size from its header, checked against the limits.
///
/// # Errors
/// A message when the header is unreadable or the size is over the limits.
pub fn image_size(bytes: &[u8], limits: &DecodeLimits) -> Result<(u32, u32), DecodeError> {
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| e.to_string())?;
    reader.limits(limits.image_limits());
    let (w, h) = reader.into_dimensions().map_err(|e| e.to_string())?;
    limits.check_frame("the image", f64::from(w), f64::from(h))?;
    Ok((w, h))
}

/// Decodes one still image fully (PNG or WebP), returning its size in px. A panic inside the
/// image decoder is contained here ([`super::contain`]).
///
/// # Errors
/// A message with the decoder's reason; [`DecodeError::Panicked`] when the decoder panicked.
pub fn decode_still(bytes: &[u8], limits: &DecodeLimits) -> Result<(u32, u32), DecodeError> {
    super::contain(|| decode_still_inner(bytes, limits))
}

fn decode_still_inner(bytes: &[u8], limits: &DecodeLimits) -> Result<(u32, u32), DecodeError> {
    image_size(bytes, limits)?;
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| e.to_string())?;
    reader.limits(limits.image_limits());
    let img = reader.decode().map_err(|e| e.to_string())?;
    Ok((img.width(), img.height()))
}

/// Decodes every frame of a PNG sequence; all frames must share one size.
///
/// # Errors
/// A message naming the frame file and the reason.
pub fn decode_png_sequence(
    files: &[FileEntry],
    fps: f64,
    read: &dyn Fn(&str) -> Result<Vec<u8>, DecodeError>,
    limits: &DecodeLimits,
) -> Result<AnimationInfo, DecodeError> {
    limits.check_timing(files.len() as f64, fps)?;
    let mut size = None;
    for f in files {
        let bytes = read(&f.path)?;
        let (w, h) = decode_still(&bytes, limits).map_err(|e| e.in_file(&f.path))?;
        match size {
            None => size = Some((w, h)),
            Some(s) if s != (w, h) => {
                return Err(format!(
                    "{}: frame is {w} × {h} px, the first frame is {} × {} px",
                    f.path, s.0, s.1
                )
                .into());
            }
            Some(_) => {}
        }
    }
    let (w, h) = size.unwrap_or_default();
    let n = files.len() as u64;
    Ok(AnimationInfo {
        width_px: w,
        height_px: h,
        fps,
        frame_count: n,
        duration_ms: (n as f64 * 1000.0 / fps).round() as u64,
        image_count: n,
        decoded_bytes: rgba_bytes(w, h) * n,
        ..AnimationInfo::default()
    })
}

/// Decodes a sprite-atlas sheet and checks its grid.
///
/// # Errors
/// A message when the sheet does not decode or does not divide into the grid.
pub fn decode_atlas(
    bytes: &[u8],
    columns: u64,
    rows: u64,
    frames: u64,
    fps: f64,
    limits: &DecodeLimits,
) -> Result<AnimationInfo, DecodeError> {
    limits.check_timing(frames as f64, fps)?;
    let (w, h) = decode_still(bytes, limits)?;
    if columns == 0 || rows == 0 || u64::from(w) % columns != 0 || u64::from(h) % rows != 0 {
        return Err(format!(
            "the {w} × {h} px sheet does not divide into {columns} × {rows} equal cells"
        )
        .into());
    }
    if frames > columns * rows {
        return Err(format!("{frames} frames do not fit {columns} × {rows} cells").into());
    }
    let (cw, ch) = (
        (u64::from(w) / columns) as u32,
        (u64::from(h) / rows) as u32,
    );
    Ok(AnimationInfo {
        width_px: cw,
        height_px: ch,
        fps,
        frame_count: frames,
        duration_ms: (frames as f64 * 1000.0 / fps).round() as u64,
        image_count: 1,
        decoded_bytes: rgba_bytes(w, h),
        notes: vec![format!("sheet {w} × {h} px, {columns} × {rows} cells")],
        audio: Vec::new(),
        ..AnimationInfo::default()
    })
}

/// Decodes every frame of an APNG, GIF or WebP; timing comes from the file. A panic inside
/// the image decoders is contained here ([`super::contain`]): `image-webp` 0.2.4, the newest,
/// indexes past its buffer on some animated `WebP` files (`fill_rgb_buffer_fancy`).
///
/// # Errors
/// A message with the decoder's reason, or the limit crossed; [`DecodeError::Panicked`] when
/// a decoder panicked.
pub fn decode_animated(
    format: AssetFormat,
    bytes: &[u8],
    limits: &DecodeLimits,
) -> Result<AnimationInfo, DecodeError> {
    super::contain(|| decode_animated_inner(format, bytes, limits))
}

fn decode_animated_inner(
    format: AssetFormat,
    bytes: &[u8],
    limits: &DecodeLimits,
) -> Result<AnimationInfo, DecodeError> {
    let il = limits.image_limits();
    let (frames, (w, h)): (image::Frames<'_>, (u32, u32)) = match format {
        AssetFormat::Apng => {
            let mut d = PngDecoder::new(Cursor::new(bytes)).map_err(|e| e.to_string())?;
            d.set_limits(il).map_err(|e| e.to_string())?;
            let dims = d.dimensions();
            limits.check_frame("the canvas", f64::from(dims.0), f64::from(dims.1))?;
            (d.apng().map_err(|e| e.to_string())?.into_frames(), dims)
        }
        AssetFormat::Gif => {
            let mut d = GifDecoder::new(Cursor::new(bytes)).map_err(|e| e.to_string())?;
            d.set_limits(il).map_err(|e| e.to_string())?;
            let dims = d.dimensions();
            limits.check_frame("the canvas", f64::from(dims.0), f64::from(dims.1))?;
            (d.into_frames(), dims)
        }
        _ => {
            let mut d = WebPDecoder::new(Cursor::new(bytes)).map_err(|e| e.to_string())?;
            d.set_limits(il).map_err(|e| e.to_string())?;
            let dims = d.dimensions();
            limits.check_frame("the canvas", f64::from(dims.0), f64::from(dims.1))?;
            if !d.has_animation() {
                let mut buf =
                    vec![0u8; usize::try_from(d.total_bytes()).map_err(|e| e.to_string())?];
                d.read_image(&mut buf).map_err(|e| e.to_string())?;
                return Ok(AnimationInfo {
                    width_px: dims.0,
                    height_px: dims.1,
                    fps: 1.0,
                    frame_count: 1,
                    duration_ms: 1000,
                    image_count: 1,
                    decoded_bytes: rgba_bytes(dims.0, dims.1),
                    notes: vec!["a still WebP: one frame".into()],
                    audio: Vec::new(),
                    ..AnimationInfo::default()
                });
            }
            (d.into_frames(), dims)
        }
    };
    let mut n: u64 = 0;
    let mut total_ms = 0.0f64;
    for frame in frames {
        let frame = frame.map_err(|e| format!("frame {n}: {e}"))?;
        let (num, den) = frame.delay().numer_denom_ms();
        total_ms += f64::from(num) / f64::from(den.max(1));
        n += 1;
        if n > limits.max_frames {
            return Err(format!("more than {} frames", limits.max_frames).into());
        }
        if total_ms > limits.max_duration_s * 1000.0 {
            return Err(format!("plays longer than {:.0} s", limits.max_duration_s).into());
        }
    }
    if n == 0 {
        return Err("no frames".into());
    }
    let mut notes = Vec::new();
    // Players treat a zero delay as about 100 ms (browsers clamp delays under 20 ms for GIF).
    let duration_ms = if total_ms <= 0.0 {
        notes.push("frame delays are zero; players use about 100 ms per frame".into());
        n * 100
    } else {
        total_ms.round() as u64
    };
    Ok(AnimationInfo {
        width_px: w,
        height_px: h,
        fps: n as f64 * 1000.0 / duration_ms.max(1) as f64,
        frame_count: n,
        duration_ms,
        image_count: n,
        decoded_bytes: rgba_bytes(w, h) * n,
        notes,
        audio: Vec::new(),
        ..AnimationInfo::default()
    })
}
