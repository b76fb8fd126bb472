//! Comparing rendered frames with golden frames: PSNR over mid-grey, as the reference
//! players' README asks (compare with a tolerance, not bit for bit).
//!
//! Two figures per frame. The whole-frame figure averages over every pixel, so an effect that
//! covers a tenth of its canvas can be badly drawn and still score well: the transparent rest
//! compares equal. The content figure averages only over the pixels where either image has
//! alpha above [`CONTENT_ALPHA`], which is where the effect is (`docs/fidelity.md`).

use image::RgbaImage;

/// The mid-grey both images are composited over before comparing.
pub const MID_GREY: [u8; 3] = [128, 128, 128];

fn over(p: [u8; 4], bg: [u8; 3]) -> [f64; 3] {
    let a = f64::from(p[3]) / 255.0;
    [0, 1, 2].map(|c| f64::from(p[c]) * a + f64::from(bg[c]) * (1.0 - a))
}

/// The alpha, as a fraction of opaque, above which a pixel is content: where the effect is.
pub const CONTENT_ALPHA: f64 = 0.02;

/// Whether a straight-alpha pixel is content: alpha above [`CONTENT_ALPHA`].
fn is_content(p: [u8; 4]) -> bool {
    f64::from(p[3]) / 255.0 > CONTENT_ALPHA
}

/// PSNR in dB from a sum of squared channel differences over `n` channel samples.
fn psnr_of(sum: f64, n: f64) -> f64 {
    if sum == 0.0 {
        f64::INFINITY
    } else {
        10.0 * (255.0f64 * 255.0 / (sum / n)).log10()
    }
}

/// PSNR in dB of two straight-alpha RGBA images of equal size, each composited over
/// mid-grey, over the RGB channels of every pixel (the whole-frame figure). Identical images
/// give `f64::INFINITY`; different or empty sizes give `None`.
#[must_use]
pub fn psnr_over_grey(a: &RgbaImage, b: &RgbaImage) -> Option<f64> {
    compare(a, b).map(|s| s.whole_db)
}

/// Both figures for one pair of frames, in dB (`f64::INFINITY` where the pixels agree).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FrameScore {
    /// PSNR over the content only: the union of pixels where either image has alpha above
    /// [`CONTENT_ALPHA`], composited over mid-grey. Infinite when neither image has content.
    pub content_db: f64,
    /// PSNR over every pixel of the frame, composited over mid-grey.
    pub whole_db: f64,
    /// The share of the frame's pixels that are content, from 0 to 1.
    pub content_share: f64,
}

/// Compares two straight-alpha RGBA images of equal size over mid-grey: the content and the
/// whole-frame PSNR ([`FrameScore`]). Different or empty sizes give `None`.
#[must_use]
pub fn compare(a: &RgbaImage, b: &RgbaImage) -> Option<FrameScore> {
    if a.dimensions() != b.dimensions() || a.width() == 0 || a.height() == 0 {
        return None;
    }
    let (mut whole, mut content, mut content_px) = (0.0f64, 0.0f64, 0u64);
    for (pa, pb) in a.pixels().zip(b.pixels()) {
        let (ca, cb) = (over(pa.0, MID_GREY), over(pb.0, MID_GREY));
        let sq: f64 = (0..3).map(|c| (ca[c] - cb[c]) * (ca[c] - cb[c])).sum();
        whole += sq;
        if is_content(pa.0) || is_content(pb.0) {
            content += sq;
            content_px += 1;
        }
    }
    let px = f64::from(a.width()) * f64::from(a.height());
    Some(FrameScore {
        content_db: if content_px == 0 {
            f64::INFINITY
        } else {
            psnr_of(content, content_px as f64 * 3.0)
        },
        whole_db: psnr_of(whole, px * 3.0),
        content_share: content_px as f64 / px,
    })
}

/// Whether an image has no content: no pixel with alpha above [`CONTENT_ALPHA`]. A blank
/// golden frame judges nothing and counts as no golden.
#[must_use]
pub fn is_blank(img: &RgbaImage) -> bool {
    !img.pixels().any(|p| is_content(p.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn psnr_of_known_images() {
        let a = RgbaImage::from_pixel(4, 4, image::Rgba([10, 20, 30, 255]));
        assert_eq!(psnr_over_grey(&a, &a), Some(f64::INFINITY));
        let mut b = a.clone();
        b.put_pixel(0, 0, image::Rgba([20, 20, 30, 255]));
        // MSE = 100 / 48; PSNR = 10 log10(65025 · 48 / 100) = 44.94 dB.
        assert!((psnr_over_grey(&a, &b).unwrap() - 44.943).abs() < 1e-3);
        // Transparent pixels compare as mid-grey whatever their colour.
        let t1 = RgbaImage::from_pixel(2, 2, image::Rgba([0, 0, 0, 0]));
        let t2 = RgbaImage::from_pixel(2, 2, image::Rgba([255, 9, 9, 0]));
        assert_eq!(psnr_over_grey(&t1, &t2), Some(f64::INFINITY));
        assert_eq!(psnr_over_grey(&t1, &a), None);
    }

    #[test]
    fn the_content_figure_counts_only_where_either_image_has_alpha() {
        // A 10 × 10 canvas with a 2 × 2 effect, drawn one level off in red in one pixel.
        let mut a = RgbaImage::from_pixel(10, 10, image::Rgba([0, 0, 0, 0]));
        for (x, y) in [(4, 4), (4, 5), (5, 4), (5, 5)] {
            a.put_pixel(x, y, image::Rgba([200, 50, 50, 255]));
        }
        let mut b = a.clone();
        b.put_pixel(4, 4, image::Rgba([210, 50, 50, 255]));
        let s = compare(&a, &b).unwrap();
        // Content: 4 pixels, MSE = 100 / 12 → 38.92 dB. Whole: 100 pixels, MSE = 100 / 300
        // → 52.90 dB.
        assert!((s.content_db - 38.923).abs() < 1e-3, "{s:?}");
        assert!((s.whole_db - 52.902).abs() < 1e-3, "{s:?}");
        assert!((s.content_share - 0.04).abs() < 1e-12);
        // A stroke drawn where the golden has none counts too: the union of both images.
        let mut c = a.clone();
        c.put_pixel(0, 0, image::Rgba([255, 255, 255, 255]));
        let s = compare(&a, &c).unwrap();
        assert!((s.content_share - 0.05).abs() < 1e-12);
        assert!(s.content_db < 30.0 && s.whole_db > s.content_db, "{s:?}");
        // Alpha at or below 0.02 is not content; neither image with content scores infinite.
        let faint = RgbaImage::from_pixel(3, 3, image::Rgba([255, 0, 0, 5]));
        let clear = RgbaImage::from_pixel(3, 3, image::Rgba([0, 0, 0, 0]));
        assert!(is_blank(&faint) && is_blank(&clear) && !is_blank(&a));
        let s = compare(&faint, &clear).unwrap();
        assert!(s.content_db.is_infinite());
        assert!(s.whole_db.is_finite());
        assert_eq!(compare(&clear, &RgbaImage::new(0, 0)), None);
    }
}

/// One animation's golden frames: the source file, the dotLottie animation folder name when
/// the source is a `.lottie` archive, and `(frame index, PNG path)` in frame order.
#[derive(Debug, Clone, PartialEq)]
pub struct GoldenSet {
    /// The golden folder, relative to the reference root (`rlottie/example/resource/heart`).
    pub name: String,
    /// The animation file under the assets root.
    pub source: std::path::PathBuf,
    /// For `.lottie` archives: the animation's id as its folder spells it (characters other
    /// than `[A-Za-z0-9._-]` replaced by `_`).
    pub animation: Option<String>,
    /// Golden frames.
    pub frames: Vec<(u32, std::path::PathBuf)>,
}

/// A reference folder that cannot be read.
#[derive(Debug, thiserror::Error)]
#[error("{dir:?}: {source}")]
pub struct GoldenError {
    /// The folder.
    pub dir: std::path::PathBuf,
    /// The I/O error.
    pub source: std::io::Error,
}

/// The golden sets under a reference root made as `../shared/reference/lottie/README.md`
/// describes: every folder holding `frame_NNNN.png` files, whose path names its source
/// (`<path>.json`, or `<path>.lottie/<animation id>`) under `assets`. Sorted by name.
///
/// # Errors
/// [`GoldenError`] naming a folder that cannot be read.
pub fn golden_sets(
    reference: &std::path::Path,
    assets: &std::path::Path,
) -> Result<Vec<GoldenSet>, GoldenError> {
    let mut out = Vec::new();
    let mut stack = vec![reference.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let mut frames = Vec::new();
        let entries = std::fs::read_dir(&dir).map_err(|source| GoldenError {
            dir: dir.clone(),
            source,
        })?;
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if let Some(idx) = p
                .file_stem()
                .and_then(|s| s.to_str())
                .and_then(|s| s.strip_prefix("frame_"))
                .and_then(|s| s.parse::<u32>().ok())
            {
                frames.push((idx, p));
            }
        }
        if frames.is_empty() {
            continue;
        }
        frames.sort();
        let rel = dir
            .strip_prefix(reference)
            .unwrap_or(&dir)
            .to_string_lossy()
            .replace('\\', "/");
        let (source, animation) = match rel.split_once(".lottie/") {
            Some((file, id)) => (assets.join(format!("{file}.lottie")), Some(id.to_owned())),
            None => (assets.join(format!("{rel}.json")), None),
        };
        out.push(GoldenSet {
            name: rel,
            source,
            animation,
            frames,
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// A dotLottie animation id as the reference folders spell it: characters other than
/// `[A-Za-z0-9._-]` become `_`.
#[must_use]
pub fn sanitise_id(id: &str) -> String {
    id.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect()
}
