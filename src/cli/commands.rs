//! The CLI's GPU commands: `giftqa render` (frames to PNG files) and the tessellation
//! benchmark, on the renderer.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};

use crate::bundle::manifest::Manifest;
use crate::bundle::source::BundleSource;
use crate::check::finding::{Code, Finding};
use crate::format::DecodeLimits;
use crate::fsutil::write_atomic;
use crate::model::load::{FrameDecoder, load_animation};
use crate::model::{Affine, Animation, Unsupported, frame_at};
use crate::playback::place;
use crate::playback::tiers::{Tier, fit_contain};
use crate::render::paint::{Painter, over_background};
use crate::render::{RenderContext, unpremultiply};

/// Which frames to render.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FrameSelection {
    /// Every frame.
    All,
    /// These frame indices.
    List(Vec<u32>),
}

impl std::str::FromStr for FrameSelection {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s == "all" {
            return Ok(Self::All);
        }
        s.split(',')
            .map(|p| {
                p.trim()
                    .parse::<u32>()
                    .map_err(|_| format!("{p:?} is not a frame index (use 0,10,20 or all)"))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Self::List)
    }
}

/// Parses a background: `#RRGGBB`, `grey`/`gray` (128), `black`, `white`.
///
/// # Errors
/// A message naming the accepted forms.
pub fn parse_background(s: &str) -> Result<[u8; 3], String> {
    match s {
        "grey" | "gray" => return Ok([128, 128, 128]),
        "black" => return Ok([0, 0, 0]),
        "white" => return Ok([255, 255, 255]),
        _ => {}
    }
    let hex = s
        .strip_prefix('#')
        .filter(|h| h.len() == 6 && h.is_ascii())
        .ok_or_else(|| format!("{s:?} is not #RRGGBB, grey, black or white"))?;
    let byte = |i: usize| {
        u8::from_str_radix(&hex[i..i + 2], 16).map_err(|_| format!("{s:?} is not #RRGGBB"))
    };
    Ok([byte(0)?, byte(2)?, byte(4)?])
}

/// What `render` was asked for.
#[derive(Debug, Clone)]
pub struct RenderRequest {
    /// Bundle directory or zip.
    pub bundle: PathBuf,
    /// Asset id.
    pub asset: String,
    /// Tier to render in (its viewport and texture limits); `None`: canvas size 1:1.
    pub tier: Option<Tier>,
    /// Frames.
    pub frames: FrameSelection,
    /// Output directory.
    pub out: PathBuf,
    /// Composite over this colour; `None`: transparent PNGs.
    pub background: Option<[u8; 3]>,
    /// Keyring, to check signatures before rendering.
    pub keys: Option<PathBuf>,
    /// Dynamic slots to fill: `KEY=VALUE`, the value a picture file for image slots and a
    /// text for text slots (the manifest's `slots` type decides; an undeclared key takes a
    /// picture when the value names an existing file).
    pub slots: Vec<(String, String)>,
    /// How slot text is drawn.
    pub text_style: crate::model::text::TextStyle,
    /// A dotLottie v2 theme to apply (`render --theme`).
    pub theme: Option<String>,
    /// The clock the verification uses.
    pub now: jiff::Timestamp,
}

/// What `render` did.
#[derive(Debug, Default)]
pub struct RenderOutcome {
    /// Files written.
    pub written: Vec<PathBuf>,
    /// Findings that stopped or qualify the render (sorted).
    pub findings: Vec<Finding>,
    /// What the model left out of the frames.
    pub unsupported: Unsupported,
    /// The animation's canvas, frames and fps, when it loaded.
    pub animation: Option<(u32, u32, u32, f64)>,
    /// The slots filled.
    pub slots: Vec<crate::model::slots::FilledSlot>,
}

/// Verifies a bundle on the wall clock (see [`crate::check::open_verified`]).
///
/// # Errors
/// When the bundle or keyring cannot be read at all.
pub fn open_verified(
    bundle: &Path,
    keys: Option<PathBuf>,
) -> anyhow::Result<Result<(Manifest, BundleSource), Vec<Finding>>> {
    let opts = crate::check::CheckOptions {
        keys,
        ..crate::check::CheckOptions::new(crate::bundle::time::now_utc())
    };
    Ok(crate::check::open_verified(bundle, &opts)?.map(|v| (v.manifest, v.source)))
}

/// Renders frames of one asset to `DIR/<asset>_<frame:04>.png`.
///
/// # Errors
/// When the bundle cannot be read, the asset or a frame index does not exist, no GPU
/// adapter is found, or a file cannot be written (exit code 2).
pub fn run_render(
    req: &RenderRequest,
    progress: &dyn Fn(u64, u64),
) -> anyhow::Result<RenderOutcome> {
    let opts = crate::check::CheckOptions {
        keys: req.keys.clone(),
        ..crate::check::CheckOptions::new(req.now)
    };
    let verified = crate::check::open_verified(&req.bundle, &opts)?.map(|v| (v.manifest, v.source));
    let (manifest, src) = match verified {
        Ok(v) => v,
        Err(findings) => {
            return Ok(RenderOutcome {
                findings,
                ..RenderOutcome::default()
            });
        }
    };
    let Some(asset) = manifest.asset(&req.asset) else {
        let ids: Vec<&str> = manifest.assets.iter().map(|a| a.id.as_str()).collect();
        bail!(
            "{}: no asset {:?}; the bundle has {}",
            req.bundle.display(),
            req.asset,
            ids.join(", ")
        );
    };
    let limits = DecodeLimits::default();
    let path = asset
        .files
        .first()
        .map(|f| f.path.clone())
        .unwrap_or_default();
    let anim = match load_animation(asset, &src, &limits) {
        Ok(a) => a,
        Err(why) => {
            let f = Finding::new(Code::DecodeFailed, why.to_string())
                .asset(&asset.id)
                .path(path);
            return Ok(RenderOutcome {
                findings: vec![f],
                ..RenderOutcome::default()
            });
        }
    };
    // The asset plays; from here a theme the archive does not have, or a slot value of the
    // wrong kind, is the request's fault, not the bundle's (exit code 2, no finding).
    let at = || format!("{}: asset {}", req.bundle.display(), asset.id);
    // Colour, number and vector slots of a Lottie effect are its properties' values, put in
    // before it is read; text and image slots are filled in the read animation.
    let kinds = if req.slots.is_empty() {
        std::collections::BTreeMap::new()
    } else {
        crate::model::load::property_slots(asset, &src, &limits)
            .map_err(|e| anyhow::anyhow!("{}: {e}", at()))?
    };
    let (props, rest): (Vec<_>, Vec<_>) = req
        .slots
        .iter()
        .cloned()
        .partition(|(k, _)| kinds.contains_key(k));
    let mut values = serde_json::Map::new();
    let mut filled = Vec::new();
    for (key, text) in &props {
        let (kind, uses) = kinds[key];
        let p = kind
            .parse(text)
            .map_err(|e| anyhow::anyhow!("{}: --slot {key}: {e}", at()))?;
        values.insert(key.clone(), serde_json::json!({ "p": p }));
        filled.push(crate::model::slots::FilledSlot::property(
            key,
            kind.name(),
            uses,
            text,
        ));
    }
    let anim = if req.theme.is_none() && values.is_empty() {
        anim
    } else {
        crate::model::load::load_animation_styled(
            asset,
            &src,
            &limits,
            req.theme.as_deref(),
            &values,
        )
        .map_err(|e| {
            let theme = req
                .theme
                .as_ref()
                .map_or(String::new(), |t| format!(" --theme {t}:"));
            anyhow::anyhow!("{}:{theme} {e}", at())
        })?
    };
    let (anim, mut more) = if rest.is_empty() {
        (anim, Vec::new())
    } else {
        let values = crate::model::slots::slot_values(asset, &rest)?;
        crate::model::slots::fill_slots(&anim, &values, &req.text_style).map_err(|e| {
            // The colour, number and vector slots are keys too.
            let e = match e {
                crate::model::slots::SlotError::UnknownLottieKey { key, mut keys } => {
                    keys.extend(
                        kinds
                            .keys()
                            .filter(|k| !keys.contains(k))
                            .cloned()
                            .collect::<Vec<_>>(),
                    );
                    crate::model::slots::SlotError::UnknownLottieKey { key, keys }
                }
                other => other,
            };
            anyhow::anyhow!("{}: {e}", at())
        })?
    };
    filled.append(&mut more);
    let mut outcome = RenderOutcome {
        unsupported: anim.unsupported(),
        animation: Some((anim.width_px, anim.height_px, anim.frame_count, anim.fps)),
        slots: filled,
        ..RenderOutcome::default()
    };
    let (target_px, fit, max_tex, budget, tier_name) = match &req.tier {
        Some(t) => (
            t.viewport_px,
            fit_contain(
                [anim.width_px as f32, anim.height_px as f32],
                [t.viewport_px[0] as f32, t.viewport_px[1] as f32],
            ),
            t.max_texture_px,
            t.texture_budget_bytes,
            t.name.clone(),
        ),
        None => (
            [anim.width_px.max(1), anim.height_px.max(1)],
            Affine::IDENTITY,
            16384,
            u64::MAX,
            "none".to_owned(),
        ),
    };
    let ctx = RenderContext::headless()?;
    let max_tex = max_tex.min(ctx.max_texture_px);
    outcome.findings =
        crate::check::budgets::oversized_images(&asset.id, &anim, max_tex, &tier_name);
    if !outcome.findings.is_empty() {
        return Ok(outcome);
    }
    let frames: Vec<u32> = match &req.frames {
        FrameSelection::All => (0..anim.frame_count).collect(),
        FrameSelection::List(l) => {
            let set: BTreeSet<u32> = l.iter().copied().collect();
            if let Some(bad) = set.iter().find(|f| **f >= anim.frame_count) {
                bail!(
                    "frame {bad} is past the last frame {} of {:?}",
                    anim.frame_count.saturating_sub(1),
                    req.asset
                );
            }
            set.into_iter().collect()
        }
    };
    std::fs::create_dir_all(&req.out).with_context(|| format!("creating {:?}", req.out))?;
    let target = ctx.target(target_px[0], target_px[1]);
    let mut painter = Painter::new(&ctx, budget, max_tex);
    let mut decoder = FrameDecoder::new();
    for (n, &f) in frames.iter().enumerate() {
        let dl = frame_at(&anim, f);
        let placed = place(&dl, fit);
        let work = crate::playback::device::draw_work(&placed, 1.0, 1);
        if let Some(why) = crate::playback::device::frame_problem(f, &dl, &work) {
            outcome
                .findings
                .push(Finding::new(Code::DecodeFailed, why).asset(&asset.id));
            return Ok(outcome);
        }
        let refused = |e: &dyn std::fmt::Display| {
            Finding::new(Code::DecodeFailed, format!("frame {f}: {e}")).asset(&asset.id)
        };
        if let Err(e) = painter.prepare(0, &asset.id, &anim, &placed, &mut decoder, &limits) {
            outcome.findings.push(refused(&e));
            return Ok(outcome);
        }
        // The GPU refusing the frame (out of memory: what a phone's GPU would also refuse)
        // is a finding for the effect, whether the upload, the draw or the readback saw it.
        let drawn = painter
            .draw(&target, [0.0; 4], &[(0, &placed)])
            .and_then(|_| ctx.read_pixels(&target));
        let mut pixels = match drawn {
            Ok(p) => p,
            Err(e @ crate::render::RenderError::Gpu(_)) => {
                outcome.findings.push(refused(&e));
                return Ok(outcome);
            }
            Err(e) => return Err(e.into()),
        };
        let pixels = if let Some(bg) = req.background {
            over_background(&pixels, bg)
        } else {
            unpremultiply(&mut pixels);
            pixels
        };
        let mut png = Vec::new();
        pixels.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)?;
        let file = req.out.join(format!("{}_{f:04}.png", asset.id));
        write_atomic(&file, &png, None).with_context(|| format!("writing {file:?}"))?;
        outcome.written.push(file);
        progress(n as u64 + 1, frames.len() as u64);
    }
    if painter.peak_bytes() > budget {
        outcome.findings.push(
            Finding::new(Code::MemoryOverBudget, format!("one frame needs {} bytes of textures, over tier {tier_name}'s {budget}-byte budget", painter.peak_bytes()))
                .asset(&asset.id)
                .expected_actual(format!("≤ {budget}"), painter.peak_bytes().to_string()),
        );
    }
    crate::check::finding::sort_findings(&mut outcome.findings);
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_selection_and_background_parse() {
        assert_eq!("all".parse::<FrameSelection>(), Ok(FrameSelection::All));
        assert_eq!(
            "0, 10,20".parse::<FrameSelection>(),
            Ok(FrameSelection::List(vec![0, 10, 20]))
        );
        assert!("0,x".parse::<FrameSelection>().is_err());
        assert_eq!(parse_background("#ff8000"), Ok([255, 128, 0]));
        assert_eq!(parse_background("grey"), Ok([128, 128, 128]));
        assert!(parse_background("#ff80").is_err());
        // Six bytes that are not six characters: an error, not a slice inside a character.
        assert!(parse_background("#aééb").is_err());
    }
}

/// Frames per second with and without the tessellation cache (see
/// [`tessellation_bench`]).
#[derive(Debug, Clone, serde::Serialize)]
pub struct TessellationBench {
    /// Frames in one play.
    pub frames: u32,
    /// Plays timed per mode.
    pub passes: u32,
    /// Distinct shapes (and clip paths) in the file: what the cache tessellates once.
    pub distinct_shapes: usize,
    /// Shapes drawn over one play: what is tessellated without the cache.
    pub shapes_per_play: usize,
    /// Triangles drawn over one play.
    pub triangles_per_play: usize,
    /// Display lists built and placed per second, cache on.
    pub cached_list_fps: f64,
    /// The same, every shape tessellated anew.
    pub uncached_list_fps: f64,
    /// Frames built, placed and drawn (GPU, waited for) per second, cache on.
    pub cached_render_fps: f64,
    /// The same, every shape tessellated anew.
    pub uncached_render_fps: f64,
    /// Target size, px.
    pub target_px: [u32; 2],
}

/// Times every frame of `anim` `passes` times in each mode: building the display list and
/// placing it (CPU), then also drawing it on the GPU; once with the shapes' tessellation
/// cache, once tessellating every shape on every frame. The cache is warmed by one untimed
/// play first.
///
/// # Errors
/// [`crate::render::paint::PaintError`] when an image fails to decode or the GPU fails.
pub fn tessellation_bench(
    ctx: &RenderContext,
    anim: &Animation,
    passes: u32,
) -> Result<TessellationBench, crate::render::paint::PaintError> {
    use crate::model::{Content, DrawCmd, frame_at_uncached};
    use std::time::Instant;
    let scale = (1080.0 / anim.width_px.max(anim.height_px).max(1) as f32).min(1.0);
    let target_px = [
        ((anim.width_px as f32 * scale).round() as u32).max(1),
        ((anim.height_px as f32 * scale).round() as u32).max(1),
    ];
    let fit = fit_contain(
        [anim.width_px as f32, anim.height_px as f32],
        [target_px[0] as f32, target_px[1] as f32],
    );
    let target = ctx.target(target_px[0], target_px[1]);
    let mut painter = Painter::new(ctx, u64::MAX, ctx.max_texture_px);
    let mut decoder = FrameDecoder::new();
    let limits = DecodeLimits::default();
    let (mut shapes_per_play, mut triangles_per_play) = (0, 0);
    for f in 0..anim.frame_count {
        let dl = frame_at(anim, f);
        for c in &dl.cmds {
            match c {
                DrawCmd::Mesh { mesh, .. } => {
                    shapes_per_play += 1;
                    triangles_per_play += mesh.indices.len() / 3;
                }
                DrawCmd::PushLayer { clip: Some(_), .. } => shapes_per_play += 1,
                _ => {}
            }
        }
        let placed = place(&dl, fit);
        painter.prepare(0, "bench", anim, &placed, &mut decoder, &limits)?;
    }
    let distinct_shapes = match &anim.content {
        Content::Sprites(sprites) => {
            let mut seen = std::collections::HashSet::new();
            for s in sprites {
                for v in s.shapes.iter().flat_map(|f| f.iter()) {
                    seen.insert(std::sync::Arc::as_ptr(&v.def));
                }
                for c in s.clips.iter().flatten() {
                    seen.insert(std::sync::Arc::as_ptr(c));
                }
            }
            seen.len()
        }
        _ => 0,
    };
    let mut time = |uncached: bool, draw: bool| -> Result<f64, crate::render::paint::PaintError> {
        let start = Instant::now();
        for _ in 0..passes {
            for f in 0..anim.frame_count {
                let dl = if uncached {
                    frame_at_uncached(anim, f)
                } else {
                    frame_at(anim, f)
                };
                let placed = place(&dl, fit);
                if draw {
                    painter.draw(&target, [0.0; 4], &[(0, &placed)])?;
                } else {
                    std::hint::black_box(&placed);
                }
            }
        }
        Ok(f64::from(anim.frame_count * passes) / start.elapsed().as_secs_f64().max(1e-9))
    };
    Ok(TessellationBench {
        frames: anim.frame_count,
        passes,
        distinct_shapes,
        shapes_per_play,
        triangles_per_play,
        cached_list_fps: time(false, false)?,
        uncached_list_fps: time(true, false)?,
        cached_render_fps: time(false, true)?,
        uncached_render_fps: time(true, true)?,
        target_px,
    })
}

/// One row of the device model's validation: a metric's simulated and measured totals.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ValidationRow {
    /// What is compared.
    pub metric: String,
    /// Simulated total, ms.
    pub simulated_ms: f64,
    /// Measured on this host, ms.
    pub measured_ms: f64,
    /// `(simulated - measured) / measured`.
    pub error: f64,
}

/// A sink that draws with the painter and keeps each presented frame's simulated costs.
struct ValidatingSink {
    inner: crate::render::sink::PainterSink,
    /// Per presented frame: simulated submission + GPU time, ms.
    draw_ms: Vec<f64>,
    device: crate::playback::device::DeviceConstants,
}

impl crate::playback::engine::FrameSink for ValidatingSink {
    fn wants_pixels(&self) -> bool {
        true
    }

    fn upload(
        &mut self,
        key: crate::playback::engine::TextureKey,
        image: image::RgbaImage,
    ) -> Result<(), crate::playback::engine::SinkError> {
        self.inner.upload(key, image)
    }

    fn evict(&mut self, key: crate::playback::engine::TextureKey) {
        self.inner.evict(key);
    }

    fn present(
        &mut self,
        frame: &crate::playback::engine::Presented<'_>,
    ) -> Result<(), crate::playback::engine::SinkError> {
        self.draw_ms
            .push(frame.gpu_ms + frame.work.draw_calls as f64 * self.device.draw_call_us / 1000.0);
        self.inner.present(frame)
    }
}

/// Compares what the device model predicts for `tier` (a calibrated host tier) with what this
/// host measures, effect by effect of the bundle: decode per codec, evaluation and
/// tessellation of every frame, and drawing every frame of the `single` scenario.
///
/// # Errors
/// When the bundle cannot be read or drawing fails.
pub fn validate_device_model(
    ctx: &RenderContext,
    bundle: &Path,
    tier: &Tier,
) -> anyhow::Result<Vec<ValidationRow>> {
    use std::collections::BTreeMap;
    use std::sync::Arc;
    use std::time::Instant;

    use crate::playback::device::{Codec, draw_work, properties_at};
    use crate::playback::engine::{Engine, Playlist, RunOptions};

    let (manifest, src) = match open_verified(bundle, None)? {
        Ok(v) => v,
        Err(f) => bail!(
            "{} does not verify ({} blocking findings)",
            bundle.display(),
            f.len()
        ),
    };
    let limits = DecodeLimits::default();
    let c = tier.device();
    let mut anims = BTreeMap::new();
    let mut effects = Vec::new();
    let mut decode: BTreeMap<Codec, (f64, f64)> = BTreeMap::new();
    let (mut eval_sim, mut eval_host) = (0.0, 0.0);
    let vp = [tier.viewport_px[0] as f32, tier.viewport_px[1] as f32];
    let area = f64::from(vp[0]) * f64::from(vp[1]);
    for a in manifest
        .assets
        .iter()
        .filter(|a| a.kind == crate::bundle::manifest::AssetKind::Effect)
    {
        let Ok(anim) = load_animation(a, &src, &limits) else {
            continue;
        };
        let mut decoder = FrameDecoder::new();
        for img in &anim.images {
            let codec = Codec::of(img);
            if codec == Codec::Raw {
                continue;
            }
            let t = Instant::now();
            if decoder.decode(img, &limits).is_err() {
                continue;
            }
            let host = t.elapsed().as_secs_f64() * 1000.0;
            let px = u64::from(img.width_px) * u64::from(img.height_px);
            let e = decode.entry(codec).or_default();
            e.0 += c.decode_ms(codec, px);
            e.1 += host;
        }
        let fit = fit_contain([anim.width_px as f32, anim.height_px as f32], vp);
        for f in 0..anim.frame_count {
            let t = Instant::now();
            let placed = place(&crate::model::frame_at_uncached(&anim, f), fit);
            eval_host += t.elapsed().as_secs_f64() * 1000.0;
            let mut w = draw_work(&placed, area, tier.msaa_samples());
            w.properties_evaluated = properties_at(&anim, f);
            w.draw_calls = 0;
            eval_sim += c.main_ms(&w) - c.frame_overhead_ms;
        }
        effects.push(a.id.clone());
        anims.insert(a.id.clone(), Arc::new(anim));
    }
    let playlist = Arc::new(Playlist::new(anims, effects.clone()));
    let scenario =
        crate::playback::scenario::builtin("single", &effects).context("the single scenario")?;
    let engine = Engine::new(playlist, tier, &scenario, RunOptions::default(), true);
    let mut sink = ValidatingSink {
        inner: crate::render::sink::PainterSink::new(ctx, tier.viewport_px, tier.max_texture_px),
        draw_ms: Vec::new(),
        device: c,
    };
    engine
        .run(&mut sink, &|_| {})
        .map_err(|e| anyhow::anyhow!("drawing failed: {e}"))?;
    let row = |metric: String, simulated_ms: f64, measured_ms: f64| ValidationRow {
        metric,
        simulated_ms,
        measured_ms,
        error: (simulated_ms - measured_ms) / measured_ms.max(1e-9),
    };
    let mut rows: Vec<ValidationRow> = decode
        .into_iter()
        .map(|(codec, (s, m))| row(format!("decode, {codec:?} images"), s, m))
        .collect();
    rows.push(row(
        "evaluation + tessellation, every frame of every effect".into(),
        eval_sim,
        eval_host,
    ));
    rows.push(row(
        format!(
            "drawing (upload, submission, fill, layers), {} frames of `single`",
            sink.draw_ms.len()
        ),
        sink.draw_ms.iter().sum(),
        sink.inner.cpu_ms.iter().sum(),
    ));
    Ok(rows)
}
