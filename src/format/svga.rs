//! SVGA 1.x and 2.x (`shared/spec/formats/svga/`): 1.x is a zip holding `movie.spec` JSON
//! (or `movie.binary` protobuf, preferred as SVGAPlayer-Android does) and `<key>.png` files;
//! 2.x is a zlib stream of the `MovieEntity` protobuf. The kind is decided by magic bytes,
//! never by the version string (`rose_2.0.0.svga` says "1.0.1" and is 2.x).

use std::collections::HashMap;
use std::io::{Cursor, Read};

use prost::Message;
use serde::Deserialize;

pub use super::svga_proto as proto;
use super::{AnimationInfo, AudioTrack, DecodeError, DecodeLimits, Magic, animated, sniff};
use proto::{FrameEntity, MovieEntity, MovieParams, ShapeEntity, SpriteEntity};

/// Frame rates `svga.proto` allows.
pub const ALLOWED_FPS: [i32; 11] = [1, 2, 3, 5, 6, 10, 12, 15, 20, 30, 60];
/// Most sprite frames and shapes one movie may hold in all (each costs ~100 bytes decoded).
pub const MAX_ENTITIES: u64 = 2_000_000;
/// Largest `movie.spec` read, in bytes.
pub const MAX_SPEC_BYTES: u64 = 16 << 20;

/// A decoded SVGA movie.
#[derive(Debug, Clone)]
pub struct SvgaMovie {
    /// The movie, 1.x converted to the 2.x model.
    pub movie: MovieEntity,
    /// 1.x (zip) or 2.x (zlib).
    pub major: u8,
    /// Summary for reports.
    pub info: AnimationInfo,
}

/// Whether an SVGA image key carries a marker suffix (`.vector`, `.matte`, per svga.proto).
fn key_marker(key: &str, marker: &str) -> bool {
    key.rsplit_once('.').is_some_and(|(_, m)| m == marker)
}

fn read_varint(b: &[u8], i: &mut usize) -> Result<u64, DecodeError> {
    let mut v: u64 = 0;
    for shift in (0..64).step_by(7) {
        let byte = *b.get(*i).ok_or("truncated protobuf varint")?;
        *i += 1;
        v |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Ok(v);
        }
    }
    Err("protobuf varint longer than 10 bytes".into())
}

/// Walks protobuf fields of one message, calling `f(field, payload)` for length-delimited ones.
fn walk(
    b: &[u8],
    mut f: impl FnMut(u64, &[u8]) -> Result<(), DecodeError>,
) -> Result<(), DecodeError> {
    let mut i = 0;
    while i < b.len() {
        let key = read_varint(b, &mut i)?;
        let (field, wire) = (key >> 3, key & 7);
        match wire {
            0 => {
                read_varint(b, &mut i)?;
            }
            1 => i += 8,
            5 => i += 4,
            2 => {
                let len = usize::try_from(read_varint(b, &mut i)?).map_err(|e| e.to_string())?;
                let end = i
                    .checked_add(len)
                    .filter(|e| *e <= b.len())
                    .ok_or("truncated protobuf field")?;
                f(field, &b[i..end])?;
                i = end;
            }
            _ => return Err(format!("protobuf wire type {wire} is not valid here").into()),
        }
        if i > b.len() {
            return Err("truncated protobuf field".into());
        }
    }
    Ok(())
}

/// Counts sprite frames and shapes in an encoded `MovieEntity` without decoding it, so a
/// small hostile stream cannot expand into gigabytes of structs.
///
/// # Errors
/// When the wire format is broken or the count passes [`MAX_ENTITIES`].
pub fn count_entities(b: &[u8]) -> Result<u64, DecodeError> {
    let mut n: u64 = 0;
    walk(b, |field, sprite| {
        if field != 4 {
            return Ok(());
        }
        walk(sprite, |field, frame| {
            if field != 2 {
                return Ok(());
            }
            n += 1;
            walk(frame, |field, _| {
                if field == 5 {
                    n += 1;
                }
                Ok(())
            })?;
            if n > MAX_ENTITIES {
                return Err(format!("more than {MAX_ENTITIES} sprite frames and shapes").into());
            }
            Ok(())
        })
    })?;
    Ok(n)
}

fn decode_binary(bytes: &[u8]) -> Result<MovieEntity, DecodeError> {
    count_entities(bytes)?;
    Ok(MovieEntity::decode(bytes).map_err(|e| format!("MovieEntity protobuf: {e}"))?)
}

/// Reads the movie of an SVGA file (1.x or 2.x by magic bytes) without decoding its bitmaps.
/// Returns the movie (1.x images already resolved to their PNG bytes), the major version and
/// notes.
///
/// # Errors
/// A message for `decode-failed`: corrupt or truncated containers, limits crossed.
pub fn parse(
    bytes: &[u8],
    limits: &DecodeLimits,
) -> Result<(MovieEntity, u8, Vec<String>), DecodeError> {
    match sniff(bytes) {
        Some(Magic::Zlib) => {
            let mut out = Vec::new();
            flate2::read::ZlibDecoder::new(bytes)
                .take(limits.max_inflated_bytes + 1)
                .read_to_end(&mut out)
                .map_err(|e| format!("zlib stream is corrupt or truncated: {e}"))?;
            if out.len() as u64 > limits.max_inflated_bytes {
                return Err(format!("inflates past {} bytes", limits.max_inflated_bytes).into());
            }
            Ok((decode_binary(&out)?, 2u8, Vec::new()))
        }
        Some(Magic::Zip) => decode_1x(bytes, limits),
        _ => Err("neither a zip (SVGA 1.x) nor a zlib stream (SVGA 2.x)".into()),
    }
}

/// Decodes an SVGA file and every bitmap it embeds.
///
/// # Errors
/// A message for `decode-failed`: truncated or corrupt data, limits crossed, an image that
/// does not decode.
pub fn decode(bytes: &[u8], limits: &DecodeLimits) -> Result<SvgaMovie, DecodeError> {
    let (mut movie, major, mut notes) = parse(bytes, limits)?;
    let params = movie.params.unwrap_or_default();
    let fps = params.fps;
    limits.check_timing(f64::from(params.frames), f64::from(fps))?;
    limits.check_frame(
        "the viewBox",
        f64::from(params.view_box_width),
        f64::from(params.view_box_height),
    )?;
    if !ALLOWED_FPS.contains(&fps) {
        notes.push(format!(
            "fps {fps} is not one of svga.proto's {ALLOWED_FPS:?}"
        ));
    }
    let mut decoded_bytes: u64 = 0;
    let mut image_count = 0;
    let mut audio_keys = Vec::new();
    let mut keys: Vec<&String> = movie.images.keys().collect();
    keys.sort();
    for key in keys {
        let data = &movie.images[key];
        match sniff(data) {
            Some(Magic::Png | Magic::Apng) => {
                let (w, h) = animated::decode_still(data, limits)
                    .map_err(|e| format!("image {key:?}: {e}"))?;
                decoded_bytes += u64::from(w) * u64::from(h) * 4;
                image_count += 1;
            }
            Some(Magic::Mpeg | Magic::Ogg) => audio_keys.push(key.clone()),
            _ => return Err(format!("image {key:?} is neither PNG nor audio").into()),
        }
    }
    let total_frames = params.frames.max(0) as usize;
    let mut vectors = 0;
    let mut mattes = 0;
    let mut clips = 0;
    let mut slot_keys = Vec::new();
    for s in &movie.sprites {
        if s.frames.len() > total_frames {
            return Err(format!(
                "sprite {:?} has {} frames, the movie {total_frames}",
                s.image_key,
                s.frames.len()
            )
            .into());
        }
        if s.frames.iter().any(|f| !f.shapes.is_empty()) || key_marker(&s.image_key, "vector") {
            vectors += 1;
        }
        if !s.matte_key.is_empty() || key_marker(&s.image_key, "matte") {
            mattes += 1;
        }
        if s.frames.iter().any(|f| !f.clip_path.is_empty()) {
            clips += 1;
        }
        let has_bitmap = movie.images.contains_key(&s.image_key);
        let is_vector = s.frames.iter().any(|f| !f.shapes.is_empty())
            || key_marker(&s.image_key, "vector")
            || key_marker(&s.image_key, "matte");
        if !has_bitmap && !is_vector && !s.image_key.is_empty() && !slot_keys.contains(&s.image_key)
        {
            slot_keys.push(s.image_key.clone());
        }
    }
    for a in &movie.audios {
        if !movie.images.contains_key(&a.audio_key) {
            return Err(format!("audio {:?} has no data in the file", a.audio_key).into());
        }
    }
    if vectors > 0 {
        notes.push(format!("{vectors} sprite(s) with vector shapes"));
    }
    if mattes > 0 {
        notes.push(format!("{mattes} matte sprite(s)"));
    }
    if clips > 0 {
        notes.push(format!("{clips} sprite(s) with clip paths"));
    }
    if !movie.audios.is_empty() {
        notes.push(format!("{} audio track(s)", movie.audios.len()));
    }
    slot_keys.sort();
    movie.params = Some(params);
    let info = AnimationInfo {
        width_px: params.view_box_width.round() as u32,
        height_px: params.view_box_height.round() as u32,
        fps: f64::from(fps),
        frame_count: params.frames as u64,
        duration_ms: (f64::from(params.frames) * 1000.0 / f64::from(fps)).round() as u64,
        image_count,
        decoded_bytes: decoded_bytes.max(
            u64::from(params.view_box_width.max(0.0) as u32)
                * u64::from(params.view_box_height.max(0.0) as u32)
                * 4,
        ),
        slot_keys,
        notes,
        audio: movie
            .audios
            .iter()
            .map(|a| AudioTrack {
                key: a.audio_key.clone(),
                start_frame: a.start_frame.max(0) as u32,
                end_frame: a.end_frame.max(0) as u32,
                start_ms: a.start_time.max(0) as u32,
                total_ms: a.total_time.max(0) as u32,
                bytes: movie.images.get(&a.audio_key).map_or(0, |b| b.len() as u64),
            })
            .collect(),
        advice: Vec::new(),
        themes: Vec::new(),
        style_slots: Vec::new(),
    };
    Ok(SvgaMovie { movie, major, info })
}

fn decode_1x(
    bytes: &[u8],
    limits: &DecodeLimits,
) -> Result<(MovieEntity, u8, Vec<String>), DecodeError> {
    let mut zip =
        zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| format!("SVGA 1.x zip: {e}"))?;
    let mut notes = Vec::new();
    let mut budget = limits.max_inflated_bytes;
    let mut read_entry = |zip: &mut zip::ZipArchive<Cursor<&[u8]>>,
                          name: &str,
                          cap: u64|
     -> Result<Option<Vec<u8>>, DecodeError> {
        let Ok(e) = zip.by_name(name) else {
            return Ok(None);
        };
        let cap = cap.min(budget);
        let mut out = Vec::new();
        e.take(cap + 1)
            .read_to_end(&mut out)
            .map_err(|err| format!("{name}: {err}"))?;
        if out.len() as u64 > cap {
            return Err(format!("{name} inflates past {cap} bytes").into());
        }
        budget -= out.len() as u64;
        Ok(Some(out))
    };
    let names: Vec<String> = zip.file_names().map(str::to_owned).collect();
    for n in &names {
        if n.contains("..") || n.starts_with('/') {
            return Err(format!("entry {n:?} escapes the archive").into());
        }
    }
    if names.iter().any(|n| n.starts_with("__MACOSX/")) {
        notes.push("carries __MACOSX/ junk entries".into());
    }
    let mut movie = if let Some(bin) =
        read_entry(&mut zip, "movie.binary", limits.max_inflated_bytes)?
    {
        decode_binary(&bin)?
    } else if let Some(spec) = read_entry(&mut zip, "movie.spec", MAX_SPEC_BYTES)? {
        let spec: Spec1x = serde_json::from_slice(&spec).map_err(|e| format!("movie.spec: {e}"))?;
        spec.into_movie(&mut notes)?
    } else {
        return Err("SVGA 1.x zip has neither movie.binary nor movie.spec".into());
    };
    // In 1.x the images map names files: key → "<name>" stored as "<name>.png".
    let mut images = HashMap::new();
    let refs: Vec<(String, String)> = movie
        .images
        .iter()
        .map(|(k, v)| (k.clone(), String::from_utf8_lossy(v).into_owned()))
        .collect();
    for (key, file) in refs {
        let candidates = [format!("{file}.png"), file.clone(), format!("{key}.png")];
        let mut found = None;
        for c in &candidates {
            if let Some(data) = read_entry(&mut zip, c, limits.max_file_bytes)? {
                found = Some(data);
                break;
            }
        }
        let data = found
            .ok_or_else(|| format!("image {key:?} names {file:?}, which is not in the archive"))?;
        images.insert(key, data);
    }
    // 1.x audio files are stored beside the images as "<audioKey>.mp3".
    let audio_keys: Vec<String> = movie.audios.iter().map(|a| a.audio_key.clone()).collect();
    for key in audio_keys {
        if images.contains_key(&key) {
            continue;
        }
        if let Some(data) = read_entry(&mut zip, &format!("{key}.mp3"), limits.max_file_bytes)? {
            images.insert(key, data);
        }
    }
    movie.images = images;
    Ok((movie, 1, notes))
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct Spec1x {
    ver: String,
    movie: SpecMovie,
    images: HashMap<String, String>,
    sprites: Vec<SpecSprite>,
    audios: Vec<SpecAudio>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct SpecMovie {
    view_box: SpecSize,
    fps: f64,
    frames: f64,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct SpecSize {
    width: f32,
    height: f32,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct SpecSprite {
    image_key: String,
    matte_key: String,
    frames: Vec<SpecFrame>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct SpecAudio {
    audio_key: String,
    start_frame: i32,
    end_frame: i32,
    start_time: i32,
    total_time: i32,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct SpecFrame {
    alpha: f32,
    layout: Option<proto::Layout>,
    transform: Option<SpecTransform>,
    clip_path: String,
    shapes: Vec<SpecShape>,
}

#[derive(Deserialize, Clone, Copy)]
#[serde(default)]
struct SpecTransform {
    a: f32,
    b: f32,
    c: f32,
    d: f32,
    tx: f32,
    ty: f32,
}

impl Default for SpecTransform {
    fn default() -> Self {
        Self {
            a: 1.0,
            b: 0.0,
            c: 0.0,
            d: 1.0,
            tx: 0.0,
            ty: 0.0,
        }
    }
}

impl From<SpecTransform> for proto::Transform {
    fn from(t: SpecTransform) -> Self {
        Self {
            a: t.a,
            b: t.b,
            c: t.c,
            d: t.d,
            tx: t.tx,
            ty: t.ty,
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct SpecShape {
    r#type: String,
    args: serde_json::Map<String, serde_json::Value>,
    styles: Option<SpecStyle>,
    transform: Option<SpecTransform>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct SpecStyle {
    fill: Option<Vec<f32>>,
    stroke: Option<Vec<f32>>,
    stroke_width: f32,
    line_cap: String,
    line_join: String,
    miter_limit: f32,
    line_dash: Option<Vec<f32>>,
}

// 1.x layouts are JSON objects with x, y, width, height, which serde reads into the prost
// struct through this impl.
impl<'de> Deserialize<'de> for proto::Layout {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize, Default)]
        #[serde(default)]
        struct L {
            x: f32,
            y: f32,
            width: f32,
            height: f32,
        }
        let l = L::deserialize(d)?;
        Ok(Self {
            x: l.x,
            y: l.y,
            width: l.width,
            height: l.height,
        })
    }
}

fn color(v: Option<&Vec<f32>>) -> Option<proto::RgbaColor> {
    v.filter(|c| c.len() == 4).map(|c| proto::RgbaColor {
        r: c[0],
        g: c[1],
        b: c[2],
        a: c[3],
    })
}

fn num(m: &serde_json::Map<String, serde_json::Value>, k: &str) -> f32 {
    m.get(k).and_then(serde_json::Value::as_f64).unwrap_or(0.0) as f32
}

impl SpecShape {
    fn into_proto(self) -> ShapeEntity {
        use proto::{
            EllipseArgs, LineCap, LineJoin, RectArgs, ShapeArgs, ShapeArgsKind, ShapeStyle,
            ShapeType,
        };
        let (ty, args) = match self.r#type.to_ascii_lowercase().as_str() {
            "rect" => (
                ShapeType::Rect,
                Some(ShapeArgsKind::Rect(RectArgs {
                    x: num(&self.args, "x"),
                    y: num(&self.args, "y"),
                    width: num(&self.args, "width"),
                    height: num(&self.args, "height"),
                    corner_radius: num(&self.args, "cornerRadius"),
                })),
            ),
            "ellipse" => (
                ShapeType::Ellipse,
                Some(ShapeArgsKind::Ellipse(EllipseArgs {
                    x: num(&self.args, "x"),
                    y: num(&self.args, "y"),
                    radius_x: num(&self.args, "radiusX"),
                    radius_y: num(&self.args, "radiusY"),
                })),
            ),
            "keep" => (ShapeType::Keep, None),
            _ => (
                ShapeType::Shape,
                Some(ShapeArgsKind::Shape(ShapeArgs {
                    d: self
                        .args
                        .get("d")
                        .and_then(serde_json::Value::as_str)
                        .unwrap_or_default()
                        .to_owned(),
                })),
            ),
        };
        let styles = self.styles.map(|s| {
            let dash = s.line_dash.unwrap_or_default();
            ShapeStyle {
                fill: color(s.fill.as_ref()),
                stroke: color(s.stroke.as_ref()),
                stroke_width: s.stroke_width,
                line_cap: match s.line_cap.as_str() {
                    "round" => LineCap::Round,
                    "square" => LineCap::Square,
                    _ => LineCap::Butt,
                } as i32,
                line_join: match s.line_join.as_str() {
                    "round" => LineJoin::Round,
                    "bevel" => LineJoin::Bevel,
                    _ => LineJoin::Miter,
                } as i32,
                miter_limit: s.miter_limit,
                line_dash_i: dash.first().copied().unwrap_or(0.0),
                line_dash_ii: dash.get(1).copied().unwrap_or(0.0),
                line_dash_iii: dash.get(2).copied().unwrap_or(0.0),
            }
        });
        ShapeEntity {
            r#type: ty as i32,
            args,
            styles,
            transform: self.transform.map(Into::into),
        }
    }
}

impl Spec1x {
    fn into_movie(self, notes: &mut Vec<String>) -> Result<MovieEntity, DecodeError> {
        if self.movie.fps.fract() != 0.0
            || self.movie.frames.fract() != 0.0
            || self.movie.frames > f64::from(i32::MAX)
            || self.movie.fps > f64::from(i32::MAX)
        {
            return Err(format!(
                "movie.spec fps {} / frames {} are not whole numbers",
                self.movie.fps, self.movie.frames
            )
            .into());
        }
        let mut entities: u64 = 0;
        let sprites = self
            .sprites
            .into_iter()
            .map(|s| SpriteEntity {
                image_key: s.image_key,
                matte_key: s.matte_key,
                frames: s
                    .frames
                    .into_iter()
                    .map(|f| {
                        entities += 1 + f.shapes.len() as u64;
                        FrameEntity {
                            alpha: f.alpha,
                            layout: f.layout,
                            transform: f.transform.map(Into::into),
                            clip_path: f.clip_path,
                            shapes: f.shapes.into_iter().map(SpecShape::into_proto).collect(),
                        }
                    })
                    .collect(),
            })
            .collect();
        if entities > MAX_ENTITIES {
            return Err(format!("more than {MAX_ENTITIES} sprite frames and shapes").into());
        }
        if !self.ver.is_empty() {
            notes.push(format!("1.x movie.spec, ver {}", self.ver));
        }
        Ok(MovieEntity {
            version: self.ver,
            params: Some(MovieParams {
                view_box_width: self.movie.view_box.width,
                view_box_height: self.movie.view_box.height,
                fps: self.movie.fps as i32,
                frames: self.movie.frames as i32,
            }),
            images: self
                .images
                .into_iter()
                .map(|(k, v)| (k, v.into_bytes()))
                .collect(),
            sprites,
            audios: self
                .audios
                .into_iter()
                .map(|a| proto::AudioEntity {
                    audio_key: a.audio_key,
                    start_frame: a.start_frame,
                    end_frame: a.end_frame,
                    start_time: a.start_time,
                    total_time: a.total_time,
                })
                .collect(),
        })
    }
}
