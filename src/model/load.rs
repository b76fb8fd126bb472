//! Building an [`Animation`] from a bundle asset, and decoding its images on demand.
//!
//! Loading reads headers only (image sizes, frame delays); pixels are decoded later, one image
//! at a time, by [`FrameDecoder`], so a long sequence streams instead of being decoded whole
//! up front (the out-of-memory crash players' users report most).

use std::collections::{BTreeMap, HashMap};
use std::io::Cursor;
use std::sync::Arc;

use image::codecs::gif::GifDecoder;
use image::codecs::png::PngDecoder;
use image::codecs::webp::WebPDecoder;
use image::{AnimationDecoder, ImageReader, RgbaImage};

use super::vector::{Cap, Geometry, Join, ShapeDef, ShapeInterner, Stroke};
use super::{
    Affine, Animation, Content, ImageAsset, ImageSource, Sprite, SpriteFrame, SpriteKind,
    VectorShape,
};
use crate::bundle::manifest::{Asset, AssetFormat};
use crate::bundle::source::BundleSource;
use crate::format::{DecodeError, DecodeLimits, svga};

use crate::format::animated::image_size as dims;

fn frames_of(
    format: AssetFormat,
    file: &Arc<[u8]>,
    limits: &DecodeLimits,
) -> Result<image::Frames<'static>, DecodeError> {
    let cursor = Cursor::new(Arc::clone(file));
    let il = limits.image_limits();
    match format {
        AssetFormat::Apng => {
            let mut d = PngDecoder::new(cursor).map_err(|e| e.to_string())?;
            image::ImageDecoder::set_limits(&mut d, il).map_err(|e| e.to_string())?;
            Ok(d.apng().map_err(|e| e.to_string())?.into_frames())
        }
        AssetFormat::Gif => {
            let mut d = GifDecoder::new(cursor).map_err(|e| e.to_string())?;
            image::ImageDecoder::set_limits(&mut d, il).map_err(|e| e.to_string())?;
            Ok(d.into_frames())
        }
        _ => {
            let mut d = WebPDecoder::new(cursor).map_err(|e| e.to_string())?;
            image::ImageDecoder::set_limits(&mut d, il).map_err(|e| e.to_string())?;
            Ok(d.into_frames())
        }
    }
}

/// Loads an asset of the bundle as an [`Animation`] (headers only; no pixels kept). A panic
/// inside a third-party decoder while reading it is contained ([`crate::format::contain`]).
///
/// # Errors
/// A message for `decode-failed`, naming the file and the reason.
pub fn load_animation(
    asset: &Asset,
    src: &BundleSource,
    limits: &DecodeLimits,
) -> Result<Animation, DecodeError> {
    crate::format::contain(|| load_animation_inner(asset, src, limits, None, None))
}

/// [`load_animation`] of a dotLottie asset with one of its v2 themes applied
/// ([`crate::format::lottie::dotlottie_themed`]), as a designer previews each.
///
/// # Errors
/// As [`load_animation`]; also when the asset is not a dotLottie, or the archive does not
/// list `theme` or its file does not read as a theme.
pub fn load_animation_themed(
    asset: &Asset,
    src: &BundleSource,
    limits: &DecodeLimits,
    theme: &str,
) -> Result<Animation, DecodeError> {
    load_animation_styled(asset, src, limits, Some(theme), &serde_json::Map::new())
}

/// [`load_animation`] of a Lottie or dotLottie asset restyled before drawing: the dotLottie
/// v2 `theme` applied, then `slots` (slot id → `{"p": property}`, made by
/// [`crate::format::lottie::PropertyKind::parse`]) put over the file's slot values, as
/// dotLottie players' `setSlots` does.
///
/// # Errors
/// As [`load_animation`]; also when a theme is asked of an asset that is not a dotLottie,
/// slots of one that is not Lottie, or the archive does not list `theme`.
pub fn load_animation_styled(
    asset: &Asset,
    src: &BundleSource,
    limits: &DecodeLimits,
    theme: Option<&str>,
    slots: &serde_json::Map<String, serde_json::Value>,
) -> Result<Animation, DecodeError> {
    let lottie = matches!(asset.format, AssetFormat::Lottie | AssetFormat::Dotlottie);
    if (theme.is_some() && asset.format != AssetFormat::Dotlottie) || (!slots.is_empty() && !lottie)
    {
        return Err(format!(
            "{} is {}: themes apply to dotLottie assets and colour, number and vector slots to Lottie ones",
            asset.id,
            asset.format.as_str()
        )
        .into());
    }
    let slots = Some(slots).filter(|s| !s.is_empty());
    crate::format::contain(|| load_animation_inner(asset, src, limits, theme, slots))
}

/// The colour, number and vector slots of a Lottie or dotLottie asset (slot id → the kind of
/// value and how many properties name it), which `render --slot` fills; empty for other
/// formats.
///
/// # Errors
/// As [`load_animation`].
pub fn property_slots(
    asset: &Asset,
    src: &BundleSource,
    limits: &DecodeLimits,
) -> Result<BTreeMap<String, (crate::format::lottie::PropertyKind, usize)>, DecodeError> {
    if !matches!(asset.format, AssetFormat::Lottie | AssetFormat::Dotlottie) {
        return Ok(BTreeMap::new());
    }
    // What `check` reads of the asset (the one dispatch on its format) lists them.
    Ok(crate::format::decode_asset(asset, src, limits)?
        .style_slots
        .into_iter()
        .map(|s| (s.id, (s.kind, s.uses)))
        .collect())
}

/// The model of a Lottie or dotLottie asset from `bytes`, its file at `path`: a Lottie with
/// `slots` put over its own, a dotLottie's chosen animation (`params.animation`) with `theme`
/// and then `slots` applied.
fn lottie_model(
    asset: &Asset,
    src: &BundleSource,
    path: &str,
    bytes: &[u8],
    limits: &DecodeLimits,
    theme: Option<&str>,
    slots: Option<&serde_json::Map<String, serde_json::Value>>,
) -> Result<crate::format::lottie::LottieModel, DecodeError> {
    if asset.format == AssetFormat::Lottie {
        let mut fetch = crate::format::files_beside(src, path, limits);
        match slots {
            None => crate::format::lottie::lottie_composition(bytes, limits, &mut fetch),
            Some(s) => {
                crate::format::lottie::lottie_composition_slotted(bytes, limits, &mut fetch, s)
            }
        }
    } else {
        let wanted = asset.params.get("animation").and_then(|v| v.as_str());
        crate::format::lottie::dotlottie_themed(bytes, wanted, theme, slots, limits)
    }
}

fn load_animation_inner(
    asset: &Asset,
    src: &BundleSource,
    limits: &DecodeLimits,
    theme: Option<&str>,
    slots: Option<&serde_json::Map<String, serde_json::Value>>,
) -> Result<Animation, DecodeError> {
    let read = |path: &str| -> Result<Arc<[u8]>, DecodeError> {
        src.read(path, limits.max_file_bytes)
            .map(Arc::from)
            .map_err(|source| DecodeError::Read {
                path: path.to_owned(),
                source,
            })
    };
    let first = asset.files.first().ok_or("no files")?;
    match asset.format {
        AssetFormat::PngSequence => {
            let fps = asset.param_f64("fps").ok_or("params.fps is missing")?;
            limits.check_timing(asset.files.len() as f64, fps)?;
            let mut images = Vec::with_capacity(asset.files.len());
            for f in &asset.files {
                let bytes = read(&f.path)?;
                let (w, h) = dims(&bytes, limits).map_err(|e| format!("{}: {e}", f.path))?;
                images.push(ImageAsset {
                    key: f.path.clone(),
                    width_px: w,
                    height_px: h,
                    source: ImageSource::Encoded(bytes),
                });
            }
            let (w, h) = (images[0].width_px, images[0].height_px);
            let frames = (0..images.len())
                .map(|i| (i, [0.0, 0.0, 1.0, 1.0]))
                .collect();
            Ok(Animation {
                width_px: w,
                height_px: h,
                fps,
                frame_count: images.len() as u32,
                frame_start_ms: None,
                images,
                content: Content::Frames(frames),
            })
        }
        AssetFormat::SpriteAtlas => {
            let bytes = read(&first.path)?;
            let (w, h) = dims(&bytes, limits)?;
            let columns = asset
                .param_u64("columns")
                .ok_or("params.columns is missing")?
                .max(1);
            let rows = asset
                .param_u64("rows")
                .ok_or("params.rows is missing")?
                .max(1);
            let n = asset
                .param_u64("frame_count")
                .ok_or("params.frame_count is missing")?;
            let fps = asset.param_f64("fps").ok_or("params.fps is missing")?;
            limits.check_timing(n as f64, fps)?;
            let (cw, ch) = (1.0 / columns as f32, 1.0 / rows as f32);
            let frames = (0..n)
                .map(|i| {
                    (
                        0,
                        [
                            (i % columns) as f32 * cw,
                            (i / columns) as f32 * ch,
                            (i % columns + 1) as f32 * cw,
                            (i / columns + 1) as f32 * ch,
                        ],
                    )
                })
                .collect();
            let images = vec![ImageAsset {
                key: first.path.clone(),
                width_px: w,
                height_px: h,
                source: ImageSource::Encoded(bytes),
            }];
            Ok(Animation {
                width_px: (u64::from(w) / columns) as u32,
                height_px: (u64::from(h) / rows) as u32,
                fps,
                frame_count: n as u32,
                frame_start_ms: None,
                images,
                content: Content::Frames(frames),
            })
        }
        AssetFormat::Apng | AssetFormat::Gif | AssetFormat::Webp => {
            let file = read(&first.path)?;
            let (w, h) = dims(&file, limits)?;
            let mut starts = Vec::new();
            let mut t = 0.0f64;
            let still = asset.format == AssetFormat::Webp
                && !WebPDecoder::new(Cursor::new(&file[..]))
                    .map_err(|e| e.to_string())?
                    .has_animation();
            if still {
                starts.push(0.0);
            } else {
                for frame in frames_of(asset.format, &file, limits)? {
                    let frame = frame.map_err(|e| format!("frame {}: {e}", starts.len()))?;
                    starts.push(t);
                    let (num, den) = frame.delay().numer_denom_ms();
                    let d = f64::from(num) / f64::from(den.max(1));
                    t += if d <= 0.0 { 100.0 } else { d };
                    if starts.len() as u64 > limits.max_frames || t > limits.max_duration_s * 1000.0
                    {
                        return Err(format!(
                            "more than {} frames or {:.0} s",
                            limits.max_frames, limits.max_duration_s
                        )
                        .into());
                    }
                }
            }
            if starts.is_empty() {
                return Err("no frames".into());
            }
            let n = starts.len() as u32;
            let images = (0..n)
                .map(|index| ImageAsset {
                    key: format!("frame_{index:04}"),
                    width_px: w,
                    height_px: h,
                    source: if still {
                        ImageSource::Encoded(Arc::clone(&file))
                    } else {
                        ImageSource::AnimatedFrame {
                            file: Arc::clone(&file),
                            format: asset.format,
                            index,
                        }
                    },
                })
                .collect();
            let total = t.max(1.0);
            let frames = (0..n as usize).map(|i| (i, [0.0, 0.0, 1.0, 1.0])).collect();
            Ok(Animation {
                width_px: w,
                height_px: h,
                fps: f64::from(n) * 1000.0 / total,
                frame_count: n,
                frame_start_ms: (!still).then_some(starts),
                images,
                content: Content::Frames(frames),
            })
        }
        AssetFormat::Svga => {
            let bytes = read(&first.path)?;
            svga_animation(&bytes, limits)
        }
        AssetFormat::Lottie | AssetFormat::Dotlottie => {
            let bytes = read(&first.path)?;
            let model = lottie_model(asset, src, &first.path, &bytes, limits, theme, slots)?;
            Ok(lottie_animation(model))
        }
        AssetFormat::Vap => {
            let bytes = read(&first.path)?;
            let movie = crate::format::vap::open(bytes, None, limits)
                .map_err(|e| format!("{}: {e}", first.path))?;
            Ok(super::vap::vap_animation(Arc::new(movie)))
        }
        AssetFormat::Audio => {
            let info = crate::format::decode_asset(asset, src, limits)?;
            Ok(timed_animation(
                &info,
                Content::NotDrawn(format!(
                    "{} is not drawn by the playback engine yet",
                    asset.format
                )),
            ))
        }
    }
}

/// An [`Animation`] of a Lottie composition: its image assets as the animation's images
/// (keyed by asset id, which image layers name), and the features velato leaves out (from the
/// decoder's notes) named as gaps.
#[must_use]
pub fn lottie_animation(model: crate::format::lottie::LottieModel) -> Animation {
    let crate::format::lottie::LottieModel {
        info,
        mut comp,
        images,
        texts,
        effects,
        ..
    } = model;
    let drawn = super::lottie_text::fill_text_layers(&mut comp, &texts, &|_| None);
    let mut gaps: Vec<String> = info
        .notes
        .iter()
        .filter(|n| {
            n.contains("does not draw")
                || n.contains("not evaluated")
                || n.contains("left out")
                || n.contains("no image asset")
        })
        .cloned()
        .collect();
    gaps.extend(super::lottie_text::fallback_notes(&drawn));
    let mut anim = timed_animation(
        &info,
        Content::Lottie(Arc::new(comp), gaps, Arc::from(texts), Arc::from(effects)),
    );
    anim.images = images
        .into_iter()
        .map(|i| ImageAsset {
            key: i.id,
            width_px: i.width_px,
            height_px: i.height_px,
            source: ImageSource::Encoded(i.bytes),
        })
        .collect();
    anim
}

/// An animation with no bitmaps of its own: the decoder's canvas and timing, and `content`.
fn timed_animation(info: &crate::format::AnimationInfo, content: Content) -> Animation {
    Animation {
        width_px: info.width_px,
        height_px: info.height_px,
        fps: info.fps.max(1.0),
        frame_count: info.frame_count.max(1) as u32,
        frame_start_ms: None,
        images: Vec::new(),
        content,
    }
}

fn affine(t: Option<crate::format::svga_proto::Transform>) -> Affine {
    t.map_or(Affine::IDENTITY, |t| {
        Affine([t.a, t.b, t.c, t.d, t.tx, t.ty])
    })
}

/// The shapes of each frame of a sprite, `keep` entries resolved to the previous frame's
/// shapes (`svga.proto` `ShapeType.KEEP`), equal shapes shared through `interner`.
fn sprite_shapes(
    frames: &[crate::format::svga_proto::FrameEntity],
    interner: &mut ShapeInterner,
) -> Vec<Arc<[VectorShape]>> {
    use crate::format::svga_proto::{LineCap, LineJoin, ShapeArgsKind, ShapeType};
    let mut out: Vec<Arc<[VectorShape]>> = Vec::with_capacity(frames.len());
    let mut last: Arc<[VectorShape]> = Arc::from(Vec::new());
    for f in frames {
        // Curves are flattened finely enough for the largest scale each shape is drawn at.
        let frame_scale = affine(f.transform).max_scale();
        if f.shapes
            .first()
            .is_some_and(|sh| sh.r#type == ShapeType::Keep as i32)
        {
            for shape in last.iter() {
                shape
                    .def
                    .refine_for(frame_scale * shape.transform.max_scale());
            }
            out.push(Arc::clone(&last));
            continue;
        }
        let mut shapes = Vec::with_capacity(f.shapes.len());
        for sh in &f.shapes {
            let geometry = match &sh.args {
                Some(ShapeArgsKind::Shape(a)) => Geometry::Path(a.d.clone()),
                Some(ShapeArgsKind::Rect(r)) => {
                    Geometry::Rect([r.x, r.y, r.width, r.height, r.corner_radius])
                }
                Some(ShapeArgsKind::Ellipse(e)) => {
                    Geometry::Ellipse([e.x, e.y, e.radius_x, e.radius_y])
                }
                None => continue,
            };
            let st = sh.styles.clone().unwrap_or_default();
            let rgba = |c: crate::format::svga_proto::RgbaColor| {
                [c.r, c.g, c.b, c.a].map(|v| v.clamp(0.0, 1.0))
            };
            let stroke = st.stroke.filter(|_| st.stroke_width > 0.0).map(|c| Stroke {
                color: rgba(c),
                width: st.stroke_width,
                cap: match LineCap::try_from(st.line_cap) {
                    Ok(LineCap::Round) => Cap::Round,
                    Ok(LineCap::Square) => Cap::Square,
                    _ => Cap::Butt,
                },
                join: match LineJoin::try_from(st.line_join) {
                    Ok(LineJoin::Round) => Join::Round,
                    Ok(LineJoin::Bevel) => Join::Bevel,
                    _ => Join::Miter,
                },
                miter_limit: if st.miter_limit > 0.0 {
                    st.miter_limit
                } else {
                    4.0
                },
                // SVGAPlayer-Android (`SVGACanvasDrawer.drawShape`): dashed when either
                // lineDashI or lineDashII is above 0, a dash of lineDashI (at least 1), a gap
                // of lineDashII (at least 0.1), offset lineDashIII. "Dash 0, gap 10" with
                // round caps is a dotted line, not a solid one.
                dash: if st.line_dash_i > 0.0 || st.line_dash_ii > 0.0 {
                    vec![st.line_dash_i.max(1.0), st.line_dash_ii.max(0.1)]
                } else {
                    Vec::new()
                },
                dash_offset: st.line_dash_iii,
            });
            let def = interner.intern(ShapeDef::new(geometry, st.fill.map(rgba), stroke));
            let transform = affine(sh.transform);
            def.refine_for(frame_scale * transform.max_scale());
            shapes.push(VectorShape { def, transform });
        }
        last = Arc::from(shapes);
        out.push(Arc::clone(&last));
    }
    out
}

/// Builds an [`Animation`] from SVGA bytes (1.x and 2.x): bitmaps, vector shapes (shared by
/// content), clip paths and matte layers per sprite; image keys with no bitmap are dynamic
/// slots.
///
/// # Errors
/// A message for `decode-failed`.
pub fn svga_animation(bytes: &[u8], limits: &DecodeLimits) -> Result<Animation, DecodeError> {
    let (movie, _major, _notes) = svga::parse(bytes, limits)?;
    let params = movie.params.unwrap_or_default();
    limits.check_timing(f64::from(params.frames), f64::from(params.fps))?;
    limits.check_frame(
        "the viewBox",
        f64::from(params.view_box_width),
        f64::from(params.view_box_height),
    )?;
    let mut images = Vec::new();
    let mut index: HashMap<&str, usize> = HashMap::new();
    let mut keys: Vec<&String> = movie.images.keys().collect();
    keys.sort();
    for key in keys {
        let data = &movie.images[key];
        if !matches!(
            crate::format::sniff(data),
            Some(crate::format::Magic::Png | crate::format::Magic::Apng)
        ) {
            continue;
        }
        let (w, h) = dims(data, limits).map_err(|e| format!("image {key:?}: {e}"))?;
        index.insert(key, images.len());
        images.push(ImageAsset {
            key: key.clone(),
            width_px: w,
            height_px: h,
            source: ImageSource::Encoded(Arc::from(&data[..])),
        });
    }
    let marker = |k: &str, m: &str| k.rsplit_once('.').is_some_and(|(_, s)| s == m);
    let matte_keys: std::collections::HashSet<&str> = movie
        .sprites
        .iter()
        .filter(|s| !s.matte_key.is_empty())
        .map(|s| s.matte_key.as_str())
        .collect();
    let mut interner = ShapeInterner::default();
    let sprites = movie
        .sprites
        .iter()
        .map(|s| {
            let has_shapes = s.frames.iter().any(|f| !f.shapes.is_empty());
            // 2.x files store a matte's bitmap under its key without the `.matte` suffix
            // (the players look both up).
            let image = index.get(s.image_key.as_str()).copied().or_else(|| {
                let (stem, _) = s.image_key.rsplit_once('.')?;
                index.get(stem).copied()
            });
            let kind = if marker(&s.image_key, "matte") || matte_keys.contains(s.image_key.as_str())
            {
                SpriteKind::Matte
            } else if image.is_some() {
                SpriteKind::Bitmap
            } else if has_shapes || marker(&s.image_key, "vector") {
                SpriteKind::Vector
            } else {
                SpriteKind::Slot
            };
            let frames = s
                .frames
                .iter()
                .map(|f| SpriteFrame {
                    alpha: f.alpha,
                    layout: f.layout.map_or([0.0; 4], |l| [l.x, l.y, l.width, l.height]),
                    transform: affine(f.transform),
                })
                .collect();
            let shapes = if has_shapes {
                sprite_shapes(&s.frames, &mut interner)
            } else {
                Vec::new()
            };
            let clips = if s.frames.iter().any(|f| !f.clip_path.is_empty()) {
                s.frames
                    .iter()
                    .map(|f| {
                        (!f.clip_path.is_empty()).then(|| {
                            let def = interner.intern(ShapeDef::new(
                                Geometry::Path(f.clip_path.clone()),
                                Some([1.0; 4]),
                                None,
                            ));
                            def.refine_for(affine(f.transform).max_scale());
                            def
                        })
                    })
                    .collect()
            } else {
                Vec::new()
            };
            Sprite {
                image_key: s.image_key.clone(),
                image,
                kind,
                matte_key: (!s.matte_key.is_empty()).then(|| s.matte_key.clone()),
                frames,
                shapes,
                clips,
                overlay: None,
            }
        })
        .collect();
    Ok(Animation {
        width_px: params.view_box_width.round() as u32,
        height_px: params.view_box_height.round() as u32,
        fps: f64::from(params.fps),
        frame_count: params.frames as u32,
        frame_start_ms: None,
        images,
        content: Content::Sprites(sprites),
    })
}

/// Decodes images to RGBA8, keeping one open stream per animated file so that frames asked
/// for in order decode in order (APNG/GIF/WebP frames depend on the frames before them).
#[derive(Default)]
pub struct FrameDecoder {
    streams: HashMap<usize, (u32, image::Frames<'static>)>,
    videos: HashMap<usize, crate::format::vap::h264::H264Stream>,
}

impl FrameDecoder {
    /// A decoder with no open streams.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Decodes one image.
    ///
    /// # Errors
    /// A message with the decoder's reason.
    pub fn decode(
        &mut self,
        img: &ImageAsset,
        limits: &DecodeLimits,
    ) -> Result<RgbaImage, DecodeError> {
        let r = crate::format::contain(|| self.decode_inner(img, limits));
        if r.is_err() {
            self.forget(&img.source);
        }
        r
    }

    /// Drops the stream an image decodes from, so that one that failed mid-way starts again
    /// next time.
    fn forget(&mut self, source: &ImageSource) {
        match source {
            ImageSource::AnimatedFrame { file, .. } => {
                self.streams
                    .remove(&(Arc::as_ptr(file).cast::<u8>() as usize));
            }
            ImageSource::VideoFrame { video, .. } => {
                self.videos.remove(&(Arc::as_ptr(&video.movie) as usize));
            }
            _ => {}
        }
    }

    /// Checks that an image decodes without converting it to RGBA (a video frame is decoded
    /// but not merged): what a run that needs no pixels asks.
    ///
    /// # Errors
    /// A message with the decoder's reason.
    pub fn verify(&mut self, img: &ImageAsset, limits: &DecodeLimits) -> Result<(), DecodeError> {
        if let ImageSource::VideoFrame { video, index } = &img.source {
            let r = crate::format::contain(|| self.video_frame(video, *index, limits).map(|_| ()));
            if r.is_err() {
                self.forget(&img.source);
            }
            return r;
        }
        self.decode(img, limits).map(|_| ())
    }

    fn video_frame(
        &mut self,
        video: &super::vap::VapVideo,
        index: u32,
        limits: &DecodeLimits,
    ) -> Result<&crate::format::vap::h264::Yuv420, DecodeError> {
        let movie = &video.movie;
        let id = Arc::as_ptr(movie) as usize;
        let stream = match self.videos.entry(id) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => e.insert(
                crate::format::vap::h264::H264Stream::new(&movie.track)
                    .map_err(|e| e.to_string())?,
            ),
        };
        stream
            .frame(&movie.bytes, &movie.track, index as usize, limits)
            .map_err(DecodeError::Vap)
    }

    fn decode_inner(
        &mut self,
        img: &ImageAsset,
        limits: &DecodeLimits,
    ) -> Result<RgbaImage, DecodeError> {
        match &img.source {
            ImageSource::Encoded(bytes) => {
                let mut r = ImageReader::new(Cursor::new(&bytes[..]))
                    .with_guessed_format()
                    .map_err(|e| e.to_string())?;
                r.limits(limits.image_limits());
                Ok(r.decode()
                    .map_err(|e| format!("{}: {e}", img.key))?
                    .into_rgba8())
            }
            ImageSource::Pixels(px) => Ok(px.as_ref().clone()),
            ImageSource::VideoFrame { video, index } => {
                let pic = self.video_frame(video, *index, limits)?;
                Ok(super::vap::compose(video, pic, *index))
            }
            ImageSource::AnimatedFrame {
                file,
                format,
                index,
            } => {
                let id = Arc::as_ptr(file).cast::<u8>() as usize;
                let needs_restart = self.streams.get(&id).is_none_or(|(next, _)| *next > *index);
                if needs_restart {
                    self.streams
                        .insert(id, (0, frames_of(*format, file, limits)?));
                }
                let (next, frames) = self.streams.get_mut(&id).ok_or("stream")?;
                loop {
                    let frame = frames
                        .next()
                        .ok_or_else(|| format!("frame {index} is past the end"))?
                        .map_err(|e| format!("frame {next}: {e}"))?;
                    *next += 1;
                    if *next > *index {
                        return Ok(frame.into_buffer());
                    }
                }
            }
        }
    }
}

/// Loads a Lottie JSON file, or one animation of a dotLottie archive picked by its id as the
/// reference folders spell it (see [`crate::playback::fidelity::sanitise_id`]).
///
/// # Errors
/// A message naming the file when it cannot be read or decoded, or the id is not in it.
pub fn lottie_file_animation(
    path: &std::path::Path,
    animation: Option<&str>,
    limits: &DecodeLimits,
) -> Result<Animation, DecodeError> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let dir = path.parent().unwrap_or(std::path::Path::new("."));
    // Image assets named by path: beside the file, never outside its folder.
    let mut fetch = |p: &str| {
        let rel = std::path::Path::new(p.trim_start_matches('/'));
        if rel.components().any(|c| {
            !matches!(
                c,
                std::path::Component::Normal(_) | std::path::Component::CurDir
            )
        }) {
            return None;
        }
        let file = dir.join(rel);
        let len = std::fs::metadata(&file).ok()?.len();
        (len <= limits.max_file_bytes)
            .then(|| std::fs::read(&file).ok())
            .flatten()
    };
    let decoded = match animation {
        None => crate::format::lottie::lottie_composition(&bytes, limits, &mut fetch),
        Some(folder) => {
            let ids = crate::format::lottie::dotlottie_ids(&bytes)?;
            let id = ids
                .iter()
                .find(|id| crate::playback::fidelity::sanitise_id(id) == folder)
                .ok_or_else(|| format!("{}: no animation {folder:?}", path.display()))?;
            crate::format::lottie::dotlottie_composition(&bytes, Some(id), limits)
        }
    };
    let model = decoded.map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(lottie_animation(model))
}
