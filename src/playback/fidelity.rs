//! Comparing rendered frames with golden frames: PSNR over mid-grey, as the reference
//! players' README asks (compare with a tolerance, not bit for bit).

use image::RgbaImage;

/// The mid-grey both images are composited over before comparing.
pub const MID_GREY: [u8; 3] = [128, 128, 128];

fn over(p: [u8; 4], bg: [u8; 3]) -> [f64; 3] {
    let a = f64::from(p[3]) / 255.0;
    [0, 1, 2].map(|c| f64::from(p[c]) * a + f64::from(bg[c]) * (1.0 - a))
}

/// PSNR in dB of two straight-alpha RGBA images of equal size, each composited over
/// mid-grey, over the RGB channels. Identical images give `f64::INFINITY`; different sizes
/// give `None`.
#[must_use]
pub fn psnr_over_grey(a: &RgbaImage, b: &RgbaImage) -> Option<f64> {
    if a.dimensions() != b.dimensions() {
        return None;
    }
    let mut sum = 0.0f64;
    for (pa, pb) in a.pixels().zip(b.pixels()) {
        let (ca, cb) = (over(pa.0, MID_GREY), over(pb.0, MID_GREY));
        for c in 0..3 {
            let d = ca[c] - cb[c];
            sum += d * d;
        }
    }
    let n = f64::from(a.width()) * f64::from(a.height()) * 3.0;
    if n == 0.0 {
        return None;
    }
    let mse = sum / n;
    Some(if mse == 0.0 {
        f64::INFINITY
    } else {
        10.0 * (255.0f64 * 255.0 / mse).log10()
    })
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
