//! Decode throughput (`giftqa bench decode`): the playback engine's decode path — one
//! [`FrameDecoder`] per worker, animations spread over workers, premultiplied for upload —
//! against a plain single-thread `image` decode of the same files, in megapixels per second.

use std::collections::BTreeMap;
use std::io::Cursor;
use std::time::Instant;

use image::{AnimationDecoder, ImageReader};
use serde::Serialize;

use crate::bundle::manifest::{AssetFormat, Manifest};
use crate::bundle::source::BundleSource;
use crate::format::{DecodeError, DecodeLimits};
use crate::model::load::{FrameDecoder, load_animation};
use crate::model::pixels::premultiply;
use crate::model::{Animation, ImageSource};

/// The median of `runs` (at least 1) wall-clock timings of `f`, in milliseconds, after one
/// warm-up call: how the benchmarks in `examples/` time one operation.
pub fn median_ms(runs: usize, mut f: impl FnMut()) -> f64 {
    f();
    let mut t: Vec<f64> = (0..runs.max(1))
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    t.sort_by(f64::total_cmp);
    t[t.len() / 2]
}

/// The number of runs a benchmark example was given as its first argument, at least 1, or
/// `default` without one.
///
/// # Errors
/// The argument when it is not a whole number.
pub fn runs_from_args(default: usize) -> Result<usize, std::num::ParseIntError> {
    Ok(std::env::args()
        .nth(1)
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(default)
        .max(1))
}

/// Throughput of one format.
#[derive(Debug, Clone, Serialize)]
pub struct FormatThroughput {
    /// The format.
    pub format: AssetFormat,
    /// Assets of that format.
    pub assets: usize,
    /// Megapixels decoded in one pass.
    pub megapixels: f64,
    /// Single-thread plain `image` decode, MP/s.
    pub baseline_mp_per_s: f64,
    /// The engine's decode path with `threads` workers, MP/s.
    pub engine_mp_per_s: f64,
    /// Workers used.
    pub threads: usize,
}

/// Why a decode benchmark could not run.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// An asset of the bundle does not load.
    #[error("{asset}: {source}")]
    Asset {
        /// The asset id.
        asset: String,
        /// Why.
        source: DecodeError,
    },
    /// A file does not decode in giftqa's path.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// A file does not decode with the `image` crate alone (the baseline).
    #[error(transparent)]
    Image(#[from] image::ImageError),
    /// A VAP file does not open or decode.
    #[error(transparent)]
    Vap(#[from] crate::format::vap::VapError),
    /// A worker thread panicked.
    #[error("a decode worker panicked")]
    WorkerPanicked,
}

fn baseline(anim: &Animation) -> Result<f64, BenchError> {
    // Decode each distinct file once, every frame, with the image crate alone.
    let mut mp = 0.0;
    let mut seen = std::collections::HashSet::new();
    for img in &anim.images {
        match &img.source {
            ImageSource::Encoded(bytes) => {
                let d = ImageReader::new(Cursor::new(&bytes[..]))
                    .with_guessed_format()
                    .map_err(image::ImageError::IoError)?
                    .decode()?;
                mp += f64::from(d.width()) * f64::from(d.height()) / 1e6;
            }
            ImageSource::Pixels(px) => {
                mp += f64::from(px.width()) * f64::from(px.height()) / 1e6;
            }
            ImageSource::AnimatedFrame { file, format, .. } => {
                if !seen.insert(std::sync::Arc::as_ptr(file).cast::<u8>() as usize) {
                    continue;
                }
                let c = Cursor::new(&file[..]);
                let frames: Vec<image::Frame> = match format {
                    AssetFormat::Apng => image::codecs::png::PngDecoder::new(c)?
                        .apng()?
                        .into_frames()
                        .collect_frames(),
                    AssetFormat::Gif => image::codecs::gif::GifDecoder::new(c)?
                        .into_frames()
                        .collect_frames(),
                    _ => image::codecs::webp::WebPDecoder::new(c)?
                        .into_frames()
                        .collect_frames(),
                }?;
                mp += frames
                    .iter()
                    .map(|f| f64::from(f.buffer().width()) * f64::from(f.buffer().height()) / 1e6)
                    .sum::<f64>();
            }
            ImageSource::VideoFrame { video, .. } => {
                // The video decoded alone (OpenH264, no merge), each file once.
                if !seen.insert(std::sync::Arc::as_ptr(&video.movie) as usize) {
                    continue;
                }
                let m = &video.movie;
                let mut s = crate::format::vap::h264::H264Stream::new(&m.track)?;
                for i in 0..m.track.display_order.len() {
                    let p = s.frame(&m.bytes, &m.track, i, &DecodeLimits::default())?;
                    mp += f64::from(p.width) * f64::from(p.height) / 1e6;
                }
            }
        }
    }
    Ok(mp)
}

fn engine(anims: &[&Animation], threads: usize, reps: u32) -> Result<(), BenchError> {
    let limits = DecodeLimits::default();
    let chunks: Vec<Vec<&Animation>> = (0..threads)
        .map(|t| {
            anims
                .iter()
                .enumerate()
                .filter(|(i, _)| i % threads == t)
                .map(|(_, a)| *a)
                .collect()
        })
        .collect();
    std::thread::scope(|s| {
        let handles: Vec<_> = chunks
            .iter()
            .map(|chunk| {
                s.spawn(move || -> Result<(), BenchError> {
                    let mut d = FrameDecoder::new();
                    for _ in 0..reps {
                        for a in chunk {
                            for img in &a.images {
                                let mut rgba = d.decode(img, &limits)?;
                                premultiply(&mut rgba);
                            }
                        }
                    }
                    Ok(())
                })
            })
            .collect();
        handles
            .into_iter()
            .try_for_each(|h| h.join().map_err(|_| BenchError::WorkerPanicked)?)
    })
}

/// Measures decode throughput per format over a bundle's assets, best of `runs`.
///
/// # Errors
/// [`BenchError::Asset`] naming an asset that fails to load, or the decode error.
pub fn decode_throughput(
    m: &Manifest,
    src: &BundleSource,
    threads: usize,
    runs: u32,
) -> Result<Vec<FormatThroughput>, BenchError> {
    let limits = DecodeLimits::default();
    let mut by_format: BTreeMap<AssetFormat, Vec<Animation>> = BTreeMap::new();
    for a in &m.assets {
        let anim = load_animation(a, src, &limits).map_err(|source| BenchError::Asset {
            asset: a.id.clone(),
            source,
        })?;
        if !anim.images.is_empty() {
            by_format.entry(a.format).or_default().push(anim);
        }
    }
    let mut out = Vec::new();
    for (format, anims) in by_format {
        // Repeat the work so each timed run lasts about 250 ms: small gifts decode in well
        // under a millisecond, where thread start-up would dominate.
        let t = Instant::now();
        let mp = anims
            .iter()
            .map(baseline)
            .sum::<Result<f64, BenchError>>()?;
        let repeats = (0.25 / t.elapsed().as_secs_f64().max(1e-6))
            .ceil()
            .clamp(1.0, 10_000.0) as u32;
        let refs: Vec<&Animation> = anims.iter().collect();
        let (mut best_base, mut best_engine) = (f64::INFINITY, f64::INFINITY);
        for _ in 0..runs.max(1) {
            let t = Instant::now();
            for _ in 0..repeats {
                anims
                    .iter()
                    .map(baseline)
                    .sum::<Result<f64, BenchError>>()?;
            }
            best_base = best_base.min(t.elapsed().as_secs_f64());
            let t = Instant::now();
            engine(&refs, threads.max(1), repeats)?;
            best_engine = best_engine.min(t.elapsed().as_secs_f64());
        }
        let total = mp * f64::from(repeats);
        out.push(FormatThroughput {
            format,
            assets: anims.len(),
            megapixels: mp,
            baseline_mp_per_s: total / best_base,
            engine_mp_per_s: total / best_engine,
            threads: threads.max(1),
        });
    }
    Ok(out)
}

/// H.264 decode throughput of one VAP file (`giftqa bench h264`).
#[derive(Debug, Clone, Serialize)]
pub struct H264Throughput {
    /// Frames decoded in one pass.
    pub frames: usize,
    /// Coded size, px.
    pub size_px: [u32; 2],
    /// Best wall time of one pass, s.
    pub best_s: f64,
}

impl H264Throughput {
    /// Frames per second.
    #[must_use]
    pub fn fps(&self) -> f64 {
        self.frames as f64 / self.best_s.max(1e-9)
    }

    /// Megapixels per second.
    #[must_use]
    pub fn mp_per_s(&self) -> f64 {
        self.fps() * f64::from(self.size_px[0]) * f64::from(self.size_px[1]) / 1e6
    }
}

/// Decodes every frame of a VAP file with OpenH264 on one thread (planes copied out, no
/// colour conversion: what `ffmpeg -threads 1 -f rawvideo` does), best of `runs`.
///
/// # Errors
/// [`BenchError::Vap`] when the file does not open or a frame does not decode.
pub fn h264_throughput(bytes: &[u8], runs: u32) -> Result<H264Throughput, BenchError> {
    let limits = DecodeLimits::default();
    let movie = crate::format::vap::open(std::sync::Arc::from(bytes), None, &limits)?;
    let frames = movie.track.display_order.len();
    let mut best = f64::INFINITY;
    for _ in 0..runs.max(1) {
        let t = Instant::now();
        let mut s = crate::format::vap::h264::H264Stream::new(&movie.track)?;
        for i in 0..frames {
            s.frame(&movie.bytes, &movie.track, i, &limits)?;
        }
        best = best.min(t.elapsed().as_secs_f64());
    }
    Ok(H264Throughput {
        frames,
        size_px: [movie.track.width_px, movie.track.height_px],
        best_s: best,
    })
}
