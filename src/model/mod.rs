//! The renderer-neutral animation model (GPU-free): an [`Animation`] (canvas size in px, frame
//! rate, frame count, images, content) and [`frame_at`], which turns one frame into a
//! [`DisplayList`] of plain data — image quads and tessellated vector meshes with a 2D affine
//! transform, and layers (clip paths, alpha mattes) — for any renderer to draw. What it cannot
//! draw is counted and named in [`Unsupported`], never hidden.
//!
//! Sources: SVGA `svga.proto` (sprite frames: alpha, layout, transform, clip path, shapes;
//! `matteKey`), the SVGA players' drawing order (sprites in list order, later ones on top; in a
//! sprite the bitmap, then its shapes, inside its clip path; a matte drawn with `DST_IN` over
//! the run of sprites that name it, as SVGAPlayer-Android's `SVGACanvasDrawer` does), and the
//! `image` crate's compositing of APNG/GIF/WebP frames (disposal and blending as the file says).

pub mod load;
pub mod lottie;
pub mod lottie_text;
pub mod lottie_text_anim;
pub mod pixels;
pub mod slots;
pub mod text;
pub mod vap;
pub mod vector;

use std::sync::Arc;

use serde::Serialize;

/// A 2D affine transform `[a, b, c, d, tx, ty]` (SVGA and CSS order):
/// `x' = a·x + c·y + tx`, `y' = b·x + d·y + ty`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Affine(pub [f32; 6]);

impl Affine {
    /// The identity.
    pub const IDENTITY: Self = Self([1.0, 0.0, 0.0, 1.0, 0.0, 0.0]);

    /// A translation.
    #[must_use]
    pub fn translate(x: f32, y: f32) -> Self {
        Self([1.0, 0.0, 0.0, 1.0, x, y])
    }

    /// A scale.
    #[must_use]
    pub fn scale(sx: f32, sy: f32) -> Self {
        Self([sx, 0.0, 0.0, sy, 0.0, 0.0])
    }

    /// `self ∘ other`: applies `other` first, then `self`.
    #[must_use]
    pub fn then_after(self, other: Self) -> Self {
        let [a, b, c, d, tx, ty] = self.0;
        let [e, f, g, h, ux, uy] = other.0;
        Self([
            a * e + c * f,
            b * e + d * f,
            a * g + c * h,
            b * g + d * h,
            a * ux + c * uy + tx,
            b * ux + d * uy + ty,
        ])
    }

    /// Maps a point.
    #[must_use]
    pub fn apply(self, x: f32, y: f32) -> (f32, f32) {
        let [a, b, c, d, tx, ty] = self.0;
        (a * x + c * y + tx, b * x + d * y + ty)
    }

    /// The absolute determinant: how much the transform scales areas.
    #[must_use]
    pub fn area_scale(self) -> f32 {
        let [a, b, c, d, ..] = self.0;
        (a * d - b * c).abs()
    }

    /// The most the transform stretches a length (its larger singular value): a curve
    /// flattened within `t` local units lies within `t × max_scale` canvas px.
    #[must_use]
    pub fn max_scale(self) -> f32 {
        let [a, b, c, d, ..] = self.0.map(f64::from);
        let s = a * a + b * b + c * c + d * d;
        let det = a * d - b * c;
        f64::midpoint(s, (s * s - 4.0 * det * det).max(0.0).sqrt()).sqrt() as f32
    }
}

/// Where an image's pixels come from; decoded on demand by [`load::decode_image`].
#[derive(Debug, Clone)]
pub enum ImageSource {
    /// A complete encoded still image (PNG or WebP bytes).
    Encoded(Arc<[u8]>),
    /// Frame `index` of an animated file (APNG, GIF, WebP), composited from its start.
    AnimatedFrame {
        /// The whole file.
        file: Arc<[u8]>,
        /// Its container.
        format: crate::bundle::manifest::AssetFormat,
        /// Zero-based frame index.
        index: u32,
    },
    /// Pixels already decoded (straight alpha): a dynamic slot's avatar or text.
    Pixels(Arc<image::RgbaImage>),
    /// Frame `index` (presentation order) of a VAP video, merged and fused (see [`vap`]).
    VideoFrame {
        /// The video and its fusion fills.
        video: Arc<vap::VapVideo>,
        /// Zero-based frame index.
        index: u32,
    },
}

/// One image of an animation: a bitmap the renderer uploads as a texture.
#[derive(Debug, Clone)]
pub struct ImageAsset {
    /// The key the content refers to (SVGA image key, `frame_0007`, file path…).
    pub key: String,
    /// Width in px.
    pub width_px: u32,
    /// Height in px.
    pub height_px: u32,
    /// Pixels, decoded on demand.
    pub source: ImageSource,
}

impl ImageAsset {
    /// Bytes of the decoded texture on the device: RGBA8, or a VAP frame's YUV 4:2:0.
    #[must_use]
    pub fn texture_bytes(&self) -> u64 {
        match &self.source {
            // The hardware decoder's output buffer, YUV 4:2:0 in GPU memory (Android's
            // SurfaceTexture, iOS's CVMetalTextureCache): what a phone holds per frame.
            ImageSource::VideoFrame { video, .. } => {
                let t = &video.movie.track;
                u64::from(t.width_px) * u64::from(t.height_px) * 3 / 2
            }
            _ => u64::from(self.width_px) * u64::from(self.height_px) * 4,
        }
    }

    /// Bytes a phone uploads to show it: the texture, except for a video frame, which the
    /// hardware decoder writes into GPU memory itself (zero-copy).
    #[must_use]
    pub fn upload_bytes(&self) -> u64 {
        match &self.source {
            ImageSource::VideoFrame { .. } => 0,
            _ => self.texture_bytes(),
        }
    }
}

/// One frame of an SVGA sprite.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SpriteFrame {
    /// Opacity, 0–1.
    pub alpha: f32,
    /// Layout rect `[x, y, width, height]` in sprite space.
    pub layout: [f32; 4],
    /// Sprite space → canvas.
    pub transform: Affine,
}

/// What kind of drawing a sprite needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SpriteKind {
    /// A bitmap from the file's images.
    Bitmap,
    /// A bitmap key with no image in the file: a dynamic slot (sender avatar…).
    Slot,
    /// Vector shapes.
    Vector,
    /// A matte layer (`.matte` key), drawn only into its matted sprites.
    Matte,
}

/// An SVGA sprite: one layer, one [`SpriteFrame`] per movie frame.
#[derive(Debug, Clone)]
pub struct Sprite {
    /// The image key.
    pub image_key: String,
    /// Index into [`Animation::images`] for bitmap sprites.
    pub image: Option<usize>,
    /// What it needs to be drawn.
    pub kind: SpriteKind,
    /// The key of the matte layer this sprite is masked by, if any.
    pub matte_key: Option<String>,
    /// Frames; missing frames are hidden.
    pub frames: Vec<SpriteFrame>,
    /// Vector shapes per frame (same indices as `frames`; empty when the sprite has none).
    pub shapes: Vec<Arc<[VectorShape]>>,
    /// Clip path per frame (same indices as `frames`; empty when the sprite has none), in
    /// sprite space.
    pub clips: Vec<Option<Arc<vector::ShapeDef>>>,
    /// A dynamic slot's text, drawn over the bitmap in the same layout rect (index into
    /// [`Animation::images`]).
    pub overlay: Option<usize>,
}

/// One vector shape of a sprite frame: a shared definition placed by a transform (shape
/// space → sprite space).
#[derive(Debug, Clone)]
pub struct VectorShape {
    /// Outline and styles, shared by equal shapes.
    pub def: Arc<vector::ShapeDef>,
    /// Shape space → sprite space.
    pub transform: Affine,
}

/// What the animation is made of.
#[derive(Debug, Clone)]
pub enum Content {
    /// One full-canvas image per frame (sequences, atlases, APNG/GIF/WebP): frame `i` draws
    /// image `frames[i].0` through the UV rect `frames[i].1` (`[u0, v0, u1, v1]`).
    Frames(Vec<(usize, [f32; 4])>),
    /// SVGA sprites, drawn in order.
    Sprites(Vec<Sprite>),
    /// A Lottie composition (velato's model), drawn through [`lottie::lottie_cmds`]; the
    /// features it leaves out, one line each; its text layers, which slots refill
    /// ([`lottie_text::fill_text_layers`]).
    Lottie(
        Arc<velato::Composition>,
        Vec<String>,
        Arc<[crate::format::lottie_text::TextLayer]>,
        Arc<[crate::format::lottie_fx::LayerEffects]>,
    ),
    /// A format the model cannot draw yet (Lottie, VAP): its canvas, timing and reason.
    NotDrawn(String),
}

/// A decoded animation, ready to be turned into display lists frame by frame.
#[derive(Debug, Clone)]
pub struct Animation {
    /// Canvas width, px.
    pub width_px: u32,
    /// Canvas height, px.
    pub height_px: u32,
    /// Nominal frames per second.
    pub fps: f64,
    /// Number of frames.
    pub frame_count: u32,
    /// Start time of each frame in ms, when the file gives variable delays (GIF/APNG/WebP).
    pub frame_start_ms: Option<Vec<f64>>,
    /// Bitmaps.
    pub images: Vec<ImageAsset>,
    /// The content.
    pub content: Content,
}

impl Animation {
    /// Duration of one play, ms.
    #[must_use]
    pub fn duration_ms(&self) -> f64 {
        match &self.frame_start_ms {
            Some(starts) => starts.last().copied().unwrap_or(0.0) + self.last_delay_ms(),
            None => f64::from(self.frame_count) * 1000.0 / self.fps.max(1e-3),
        }
    }

    fn last_delay_ms(&self) -> f64 {
        match &self.frame_start_ms {
            Some(s) if s.len() >= 2 => s[s.len() - 1] - s[s.len() - 2],
            _ => 1000.0 / self.fps.max(1e-3),
        }
    }

    /// The frame shown `t_ms` after the start of one play (clamped to the last frame).
    #[must_use]
    pub fn frame_at_time(&self, t_ms: f64) -> u32 {
        let last = self.frame_count.saturating_sub(1);
        match &self.frame_start_ms {
            Some(starts) => {
                (starts.partition_point(|s| *s <= t_ms).saturating_sub(1) as u32).min(last)
            }
            None => ((t_ms.max(0.0) * self.fps / 1000.0).floor() as u32).min(last),
        }
    }

    /// Indices of the images frame `frame_idx` draws (what a player decodes ahead). Content
    /// without bitmaps (Lottie with no image assets, formats not drawn) answers without
    /// building the frame.
    #[must_use]
    pub fn images_at(&self, frame_idx: u32) -> Vec<usize> {
        match &self.content {
            Content::NotDrawn(_) => Vec::new(),
            Content::Lottie(..) if self.images.is_empty() => Vec::new(),
            Content::Frames(_) | Content::Sprites(_) | Content::Lottie(..) => {
                frame_at(self, frame_idx).images().collect()
            }
        }
    }

    /// Sum of all images' decoded bytes: what a player that decodes everything up front
    /// holds (the SVGA players' out-of-memory case).
    #[must_use]
    pub fn all_images_bytes(&self) -> u64 {
        self.images.iter().map(ImageAsset::texture_bytes).sum()
    }

    /// Sprites the model cannot draw yet, by reason (empty for other content).
    #[must_use]
    pub fn unsupported(&self) -> Unsupported {
        let mut u = Unsupported::default();
        match &self.content {
            Content::Sprites(sprites) => {
                let mattes: std::collections::HashSet<&str> = sprites
                    .iter()
                    .filter(|s| s.kind == SpriteKind::Matte)
                    .map(|s| s.image_key.as_str())
                    .collect();
                for s in sprites {
                    let name = s.image_key.clone();
                    if s.kind == SpriteKind::Slot {
                        u.slot_sprites.push(name.clone());
                    }
                    if s.shapes
                        .iter()
                        .flat_map(|f| f.iter())
                        .any(|v| v.def.meshes().error.is_some())
                    {
                        u.vector_sprites.push(name.clone());
                    }
                    if s.matte_key.as_deref().is_some_and(|k| !mattes.contains(k)) {
                        u.matted_sprites.push(name.clone());
                    }
                    if s.clips.iter().flatten().any(|c| c.meshes().fill.is_none()) {
                        u.clipped_sprites.push(name);
                    }
                }
            }
            Content::NotDrawn(why) => u.not_drawn = Some(why.clone()),
            Content::Lottie(_, gaps, ..) => u.features.clone_from(gaps),
            Content::Frames(_) => {}
        }
        u
    }
}

/// What [`frame_at`] leaves out or draws differently, by name, for reports.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Unsupported {
    /// Sprites with vector shapes that could not be tessellated (bad path data): left out.
    pub vector_sprites: Vec<String>,
    /// Sprites naming a matte that no sprite provides: drawn unmasked.
    pub matted_sprites: Vec<String>,
    /// Sprites whose clip path could not be tessellated: hidden on those frames.
    pub clipped_sprites: Vec<String>,
    /// Dynamic-slot sprites with no image yet.
    pub slot_sprites: Vec<String>,
    /// What a format's drawing leaves out, one line each (Lottie features velato lacks).
    pub features: Vec<String>,
    /// Why the whole animation is not drawn, for formats without a model yet.
    pub not_drawn: Option<String>,
}

impl Unsupported {
    /// Whether everything is drawn.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// One human line per gap, e.g. `3 vector sprite(s) not drawn: a, b, c`.
    #[must_use]
    pub fn describe(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (names, what) in [
            (
                &self.vector_sprites,
                "sprite(s) with shapes that could not be tessellated",
            ),
            (
                &self.matted_sprites,
                "sprite(s) naming a missing matte, drawn unmasked",
            ),
            (
                &self.clipped_sprites,
                "sprite(s) whose clip path could not be tessellated",
            ),
            (&self.slot_sprites, "empty dynamic slot(s)"),
        ] {
            if !names.is_empty() {
                let shown: Vec<&str> = names.iter().take(8).map(String::as_str).collect();
                let more = if names.len() > 8 {
                    format!(", … {} more", names.len() - 8)
                } else {
                    String::new()
                };
                out.push(format!(
                    "{} {what}: {}{more}",
                    names.len(),
                    shown.join(", ")
                ));
            }
        }
        out.extend(self.features.iter().cloned());
        if let Some(why) = &self.not_drawn {
            out.push(why.clone());
        }
        out
    }

    /// Whether the frames drawn are the whole picture (empty slots are reported but the rest
    /// is exact).
    #[must_use]
    pub fn drawn_whole(&self) -> bool {
        self.vector_sprites.is_empty()
            && self.matted_sprites.is_empty()
            && self.clipped_sprites.is_empty()
            && self.features.is_empty()
            && self.not_drawn.is_none()
    }
}

/// How a layer is composited onto what lies under it (Porter–Duff, premultiplied alpha).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Compose {
    /// The layer over what is there (normal drawing).
    SrcOver,
    /// The layer where what is there is opaque (alpha matte: the matte drawn first).
    SrcIn,
    /// The layer where what is there is transparent (inverted alpha matte).
    SrcOut,
    /// What is there, kept where the layer is opaque.
    DestIn,
    /// What is there, kept where the layer is transparent.
    DestOut,
    /// The layer blended with what is there by a separable or non-separable blend mode
    /// (W3C Compositing and Blending Level 1 §10), numbered as Lottie's `bm` is: 1 multiply,
    /// 2 screen, 3 overlay, 4 darken, 5 lighten, 6 colour dodge, 7 colour burn, 8 hard light,
    /// 9 soft light, 10 difference, 11 exclusion, 12 hue, 13 saturation, 14 colour,
    /// 15 luminosity, 16 add, 17 hard mix; then source-over.
    Blend(u8),
    /// The layer drawn through a layer effect, then source-over.
    Effect(EffectParams),
}

/// A layer effect as the renderer applies it when compositing a layer ([`Compose::Effect`]):
/// its kind and twelve parameters at this frame, kept as `f32` bit patterns so operators stay
/// comparable and hashable. Colours are straight RGB 0–1; lengths are canvas px.
///
/// | kind | values |
/// |---|---|
/// | [`Self::FILL`] | colour RGB, opacity |
/// | [`Self::TINT`] | black RGB, amount 0–1, white RGB |
/// | [`Self::TRITONE`] | highlights RGB, blend with original 0–1, midtones RGB, —, shadows RGB |
/// | [`Self::BLUR`] | σ x, σ y (px) |
/// | [`Self::SHADOW`] | colour RGB, opacity 0–1, offset x, y (px), σ (px) |
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct EffectParams {
    /// Which effect.
    pub kind: u8,
    /// Its parameters (`f32::to_bits`).
    pub values: [u32; 12],
}

impl EffectParams {
    /// Fill (After Effects' Fill; lottie-web `SVGFillFilter`).
    pub const FILL: u8 = 1;
    /// Tint (`SVGTintFilter`).
    pub const TINT: u8 = 2;
    /// Tritone (`SVGTritoneFilter`).
    pub const TRITONE: u8 = 3;
    /// Gaussian blur (`SVGGaussianBlurEffect`).
    pub const BLUR: u8 = 4;
    /// Drop shadow (`SVGDropShadowEffect`).
    pub const SHADOW: u8 = 5;

    /// An effect of `kind` with these values (non-finite ones become 0).
    #[must_use]
    pub fn new(kind: u8, values: [f32; 12]) -> Self {
        Self {
            kind,
            values: values.map(|v| if v.is_finite() { v } else { 0.0 }.to_bits()),
        }
    }

    /// Value `i` as `f32`.
    #[must_use]
    pub fn value(&self, i: usize) -> f32 {
        self.values.get(i).map_or(0.0, |b| f32::from_bits(*b))
    }

    /// All twelve values as `f32`.
    #[must_use]
    pub fn floats(&self) -> [f32; 12] {
        self.values.map(f32::from_bits)
    }

    /// The effect with its lengths scaled by `s` (the frame drawn at another size).
    #[must_use]
    pub fn scaled(self, s: f32) -> Self {
        let mut v = self.floats();
        let lengths: &[usize] = match self.kind {
            Self::BLUR => &[0, 1],
            Self::SHADOW => &[4, 5, 6],
            _ => &[],
        };
        for &i in lengths {
            v[i] *= s;
        }
        Self::new(self.kind, v)
    }
}

impl Compose {
    /// The operator with its lengths scaled by `s` (effects; the others are unchanged).
    #[must_use]
    pub fn scaled(self, s: f32) -> Self {
        match self {
            Self::Effect(e) => Self::Effect(e.scaled(s)),
            other => other,
        }
    }
}

/// One drawing command.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum DrawCmd {
    /// Draw `image` stretched over the rect `[0, 0, size]` in local space, mapped to the
    /// canvas by `transform`, sampling the UV rect `uv` (`[u0, v0, u1, v1]`), at `alpha`.
    Image {
        /// Index into [`Animation::images`].
        image: usize,
        /// Texture rect to sample.
        uv: [f32; 4],
        /// Quad size in local px.
        size: [f32; 2],
        /// Local → canvas.
        transform: Affine,
        /// Opacity, 0–1.
        alpha: f32,
    },
    /// Fill the triangles of `mesh`, mapped to the canvas by `transform`, with one colour or
    /// a gradient.
    Mesh {
        /// Triangles in local space.
        #[serde(skip)]
        mesh: Arc<vector::Mesh>,
        /// Local → canvas.
        transform: Affine,
        /// Premultiplied RGBA, 0–1, the opacity included; with a gradient, its opacity in all
        /// four channels.
        color: [f32; 4],
        /// A gradient in local space, instead of the flat colour.
        #[serde(skip)]
        gradient: Option<Arc<vector::GradientPaint>>,
    },
    /// Start an offscreen layer: what follows up to the matching [`DrawCmd::PopLayer`] is drawn
    /// into it, then composited with `compose` at `alpha`, only inside `clip` when given.
    PushLayer {
        /// Opacity of the whole layer, 0–1.
        alpha: f32,
        /// How the layer meets what is under it.
        compose: Compose,
        /// Clip region: triangles in local space and local → canvas.
        #[serde(skip)]
        clip: Option<(Arc<vector::Mesh>, Affine)>,
    },
    /// End the innermost layer.
    PopLayer,
}

/// Plain data for one frame: what to draw on a canvas of `canvas_px`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DisplayList {
    /// Canvas size, px.
    pub canvas_px: [f32; 2],
    /// Commands in painter's order.
    pub cmds: Vec<DrawCmd>,
    /// The first shape or clip path of the frame that could not be tessellated within the
    /// limits ([`vector::ShapeError`]); it is left out of `cmds`.
    #[serde(skip)]
    pub refused: Option<vector::ShapeError>,
}

impl DisplayList {
    /// Images the frame needs.
    pub fn images(&self) -> impl Iterator<Item = usize> + '_ {
        self.cmds.iter().filter_map(|c| match c {
            DrawCmd::Image { image, .. } => Some(*image),
            _ => None,
        })
    }

    /// Screen fills this frame paints: the summed canvas area of all quads, meshes and layer
    /// composites over the canvas area (1.0 = every pixel painted once).
    #[must_use]
    pub fn overdraw(&self) -> f64 {
        let canvas = f64::from(self.canvas_px[0]) * f64::from(self.canvas_px[1]);
        if canvas <= 0.0 {
            return 0.0;
        }
        self.cmds
            .iter()
            .map(|c| match c {
                DrawCmd::Image {
                    size, transform, ..
                } => f64::from(size[0] * size[1] * transform.area_scale()),
                DrawCmd::Mesh {
                    mesh, transform, ..
                } => mesh.area() * f64::from(transform.area_scale()),
                DrawCmd::PushLayer { clip, .. } => clip
                    .as_ref()
                    .map_or(canvas, |(m, t)| m.area() * f64::from(t.area_scale())),
                DrawCmd::PopLayer => 0.0,
            })
            .sum::<f64>()
            / canvas
    }
}

/// The display list of frame `frame_idx` (clamped to the last frame).
///
/// Sprite frames with alpha ≤ 0 are hidden. A sprite's bitmap is a quad of its layout size
/// (its image's size when the layout has none) at the sprite origin, mapped by the frame's
/// transform, as SVGAPlayer-Android and SVGAPlayer-Web draw it; its vector shapes follow
/// (shape transform, then the frame's), all inside the frame's clip path when it has one.
/// Matte sprites are drawn only as the alpha matte of the run of consecutive sprites whose
/// `matte_key` names them; a matte hidden on this frame hides the run. Empty dynamic slots
/// draw nothing (see [`Animation::unsupported`]).
#[must_use]
pub fn frame_at(anim: &Animation, frame_idx: u32) -> DisplayList {
    let idx = frame_idx.min(anim.frame_count.saturating_sub(1)) as usize;
    let canvas_px = [anim.width_px as f32, anim.height_px as f32];
    let mut cmds = Vec::new();
    let mut refused = None;
    match &anim.content {
        Content::Frames(frames) => {
            if let Some(&(image, uv)) = frames.get(idx) {
                cmds.push(DrawCmd::Image {
                    image,
                    uv,
                    size: canvas_px,
                    transform: Affine::IDENTITY,
                    alpha: 1.0,
                });
            }
        }
        Content::Sprites(sprites) => {
            sprite_cmds(anim, sprites, idx, false, &mut cmds, &mut refused);
        }
        Content::Lottie(comp, _, _, effects) => {
            (cmds, refused) = lottie::lottie_cmds(comp, idx as u32, &anim.images, effects);
        }
        Content::NotDrawn(_) => {}
    }
    DisplayList {
        canvas_px,
        cmds,
        refused,
    }
}

/// [`frame_at`] with every shape and clip path tessellated anew instead of taken from the
/// shapes' cache: what each frame would cost without it (the tessellation benchmark).
#[must_use]
pub fn frame_at_uncached(anim: &Animation, frame_idx: u32) -> DisplayList {
    match &anim.content {
        Content::Sprites(sprites) => {
            let idx = frame_idx.min(anim.frame_count.saturating_sub(1)) as usize;
            let mut cmds = Vec::new();
            let mut refused = None;
            sprite_cmds(anim, sprites, idx, true, &mut cmds, &mut refused);
            DisplayList {
                canvas_px: [anim.width_px as f32, anim.height_px as f32],
                cmds,
                refused,
            }
        }
        _ => frame_at(anim, frame_idx),
    }
}

/// The meshes of a shape: cached, or tessellated anew when `fresh`.
fn meshes_of(def: &vector::ShapeDef, fresh: bool) -> vector::ShapeMeshes {
    if fresh {
        def.tessellate()
    } else {
        def.meshes().clone()
    }
}

/// The commands of one SVGA frame (see [`frame_at`]).
fn sprite_cmds(
    anim: &Animation,
    sprites: &[Sprite],
    idx: usize,
    fresh: bool,
    cmds: &mut Vec<DrawCmd>,
    refused: &mut Option<vector::ShapeError>,
) {
    let mattes: std::collections::HashMap<&str, &Sprite> = sprites
        .iter()
        .filter(|s| s.kind == SpriteKind::Matte)
        .map(|s| (s.image_key.as_str(), s))
        .collect();
    let mut i = 0;
    while i < sprites.len() {
        let s = &sprites[i];
        if s.kind == SpriteKind::Matte {
            i += 1;
            continue;
        }
        let Some(key) = s.matte_key.as_deref() else {
            sprite_frame_cmds(anim, s, idx, fresh, cmds, refused);
            i += 1;
            continue;
        };
        // The run of consecutive sprites masked by the same matte, in one layer.
        let end = sprites[i..]
            .iter()
            .position(|t| t.matte_key.as_deref() != Some(key))
            .map_or(sprites.len(), |n| i + n);
        if let Some(m) = mattes.get(key) {
            let start = cmds.len();
            cmds.push(DrawCmd::PushLayer {
                alpha: 1.0,
                compose: Compose::SrcOver,
                clip: None,
            });
            sprite_frame_cmds(anim, m, idx, fresh, cmds, refused);
            if cmds.len() == start + 1 {
                // The matte shows nothing on this frame: nor does the run.
                cmds.truncate(start);
            } else {
                cmds.push(DrawCmd::PushLayer {
                    alpha: 1.0,
                    compose: Compose::SrcIn,
                    clip: None,
                });
                for t in &sprites[i..end] {
                    sprite_frame_cmds(anim, t, idx, fresh, cmds, refused);
                }
                cmds.extend([DrawCmd::PopLayer, DrawCmd::PopLayer]);
            }
        } else {
            // A matte key naming no sprite: drawn unmasked, as the players do.
            for t in &sprites[i..end] {
                sprite_frame_cmds(anim, t, idx, fresh, cmds, refused);
            }
        }
        i = end;
    }
}

/// One sprite on one frame: bitmap, then shapes, inside the clip path.
fn sprite_frame_cmds(
    anim: &Animation,
    s: &Sprite,
    idx: usize,
    fresh: bool,
    cmds: &mut Vec<DrawCmd>,
    refused: &mut Option<vector::ShapeError>,
) {
    let Some(f) = s.frames.get(idx) else { return };
    if f.alpha <= 0.0 {
        return;
    }
    let alpha = f.alpha.min(1.0);
    let clip = s
        .clips
        .get(idx)
        .and_then(Option::as_ref)
        .and_then(|c| meshes_of(c, fresh).fill);
    let clipped = s.clips.get(idx).is_some_and(Option::is_some);
    if clipped {
        let Some(mesh) = clip else {
            // An empty or broken clip path leaves nothing visible.
            return;
        };
        cmds.push(DrawCmd::PushLayer {
            alpha: 1.0,
            compose: Compose::SrcOver,
            clip: Some((mesh, f.transform)),
        });
    }
    for image in [s.image, s.overlay].into_iter().flatten() {
        let img = &anim.images[image];
        let w = if f.layout[2] > 0.0 {
            f.layout[2]
        } else {
            img.width_px as f32
        };
        let h = if f.layout[3] > 0.0 {
            f.layout[3]
        } else {
            img.height_px as f32
        };
        cmds.push(DrawCmd::Image {
            image,
            uv: [0.0, 0.0, 1.0, 1.0],
            size: [w, h],
            transform: f.transform,
            alpha,
        });
    }
    if let Some(shapes) = s.shapes.get(idx) {
        for shape in shapes.iter() {
            let meshes = meshes_of(&shape.def, fresh);
            if let Some(e) = &meshes.error {
                refused.get_or_insert_with(|| e.clone());
            }
            let transform = f.transform.then_after(shape.transform);
            // A stroke under a pixel wide is drawn as Skia draws it: a hairline.
            let thin = shape
                .def
                .stroke
                .as_ref()
                .and_then(|st| vector::hairline(st.width, transform))
                .and_then(|(w, k)| Some((shape.def.hairline_mesh(w, fresh)?, k)));
            let stroke = match &thin {
                Some((m, _)) => Some(m),
                None => meshes.stroke.as_ref(),
            };
            let paint = [
                (meshes.fill.as_ref(), shape.def.fill, 1.0),
                (
                    stroke,
                    shape.def.stroke.as_ref().map(|st| st.color),
                    thin.as_ref().map_or(1.0, |t| t.1),
                ),
            ];
            for (mesh, color, cover) in paint {
                if let (Some(mesh), Some(c)) = (mesh, color) {
                    let a = c[3] * alpha * cover;
                    cmds.push(DrawCmd::Mesh {
                        mesh: Arc::clone(mesh),
                        transform,
                        color: [c[0] * a, c[1] * a, c[2] * a, a],
                        gradient: None,
                    });
                }
            }
        }
    }
    if clipped {
        cmds.push(DrawCmd::PopLayer);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_scale_is_the_longest_stretch() {
        assert!((Affine::scale(3.0, 0.5).max_scale() - 3.0).abs() < 1e-6);
        // A rotation stretches nothing; a shear stretches along its diagonal.
        let r = Affine([0.6, 0.8, -0.8, 0.6, 5.0, 5.0]);
        assert!((r.max_scale() - 1.0).abs() < 1e-6);
        let shear = Affine([1.0, 0.0, 1.0, 1.0, 0.0, 0.0]);
        assert!((shear.max_scale() - 1.618_034).abs() < 1e-5);
    }

    #[test]
    fn affine_composes_like_matrices() {
        let t = Affine::translate(10.0, 5.0).then_after(Affine::scale(2.0, 3.0));
        assert_eq!(t.apply(1.0, 1.0), (12.0, 8.0));
        assert!((Affine([0.0, 1.0, -1.0, 0.0, 0.0, 0.0]).area_scale() - 1.0).abs() < 1e-6);
    }

    fn anim(starts: Option<Vec<f64>>) -> Animation {
        let img = ImageAsset {
            key: "a".into(),
            width_px: 10,
            height_px: 20,
            source: ImageSource::Encoded(Arc::from(&[][..])),
        };
        Animation {
            width_px: 100,
            height_px: 100,
            fps: 10.0,
            frame_count: 3,
            frame_start_ms: starts,
            images: vec![img],
            content: Content::Sprites(vec![Sprite {
                image_key: "a".into(),
                image: Some(0),
                kind: SpriteKind::Bitmap,
                matte_key: None,
                shapes: vec![],
                clips: vec![],
                overlay: None,
                frames: vec![
                    SpriteFrame {
                        alpha: 0.5,
                        layout: [0.0, 0.0, 0.0, 0.0],
                        transform: Affine::translate(5.0, 5.0),
                    },
                    SpriteFrame {
                        alpha: 0.0,
                        layout: [0.0, 0.0, 10.0, 20.0],
                        transform: Affine::IDENTITY,
                    },
                ],
            }]),
        }
    }

    #[test]
    fn sprites_become_quads_and_hidden_frames_vanish() {
        let a = anim(None);
        let d = frame_at(&a, 0);
        assert_eq!(d.cmds.len(), 1);
        let DrawCmd::Image {
            size,
            alpha,
            transform,
            ..
        } = d.cmds[0]
        else {
            panic!("an image quad")
        };
        assert_eq!(
            (size, alpha, transform),
            ([10.0, 20.0], 0.5, Affine::translate(5.0, 5.0))
        );
        assert!((d.overdraw() - 0.02).abs() < 1e-9);
        assert!(frame_at(&a, 1).cmds.is_empty(), "alpha 0 hides the sprite");
        assert!(frame_at(&a, 2).cmds.is_empty(), "no frame entry: hidden");
    }

    #[test]
    fn timing_with_and_without_delays() {
        let a = anim(None);
        assert_eq!(
            (
                a.frame_at_time(0.0),
                a.frame_at_time(150.0),
                a.frame_at_time(10_000.0)
            ),
            (0, 1, 2)
        );
        assert!((a.duration_ms() - 300.0).abs() < 1e-9);
        let b = anim(Some(vec![0.0, 40.0, 240.0]));
        assert_eq!(
            (
                b.frame_at_time(39.0),
                b.frame_at_time(40.0),
                b.frame_at_time(239.0),
                b.frame_at_time(500.0)
            ),
            (0, 1, 1, 2)
        );
        assert!((b.duration_ms() - 440.0).abs() < 1e-9);
    }
}
