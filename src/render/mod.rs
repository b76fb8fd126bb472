//! The wgpu renderer: one [`RenderContext`] owns the device, queue and the textured-quad
//! pipeline, built headless for the CLI and tests (and later shared with the desktop app).
//!
//! Textures and targets are RGBA8 with premultiplied alpha, blended `One, OneMinusSrcAlpha` in
//! gamma space, as a browser canvas composites. Readback pads rows to 256 bytes (wgpu's
//! `COPY_BYTES_PER_ROW_ALIGNMENT`). GPU time comes from timestamp queries when the adapter
//! has `TIMESTAMP_QUERY`, scaled by the queue's timestamp period; CPU wall time is always
//! measured by the caller.

pub mod calibrate;
pub mod cover;
pub mod paint;
pub mod sink;

use image::RgbaImage;
use std::sync::{Arc, Mutex};

use crate::model::Compose;
use wgpu::util::DeviceExt as _;

/// The quad shader (`shaders/quad.wgsl`).
pub const QUAD_WGSL: &str = include_str!("../../shaders/quad.wgsl");

/// Errors of the renderer.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// No adapter could be found (exit code 2 for commands that need one).
    #[error(
        "no GPU adapter found (wgpu: {0}); install Mesa's lavapipe (mesa-vulkan-drivers) for a software one"
    )]
    NoAdapter(String),
    /// The device could not be created.
    #[error("the GPU device could not be created: {0}")]
    Device(String),
    /// An image is larger than the device allows.
    #[error("{width} × {height} px is larger than the {max} px texture limit")]
    TooLarge {
        /// Width, px.
        width: u32,
        /// Height, px.
        height: u32,
        /// The limit, px.
        max: u32,
    },
    /// Reading pixels back failed.
    #[error("reading pixels back failed: {0}")]
    Readback(String),
    /// wgpu reported a validation or out-of-memory error (through the uncaptured-error
    /// handler) for work already submitted.
    #[error("the GPU refused the work: {0}")]
    Gpu(String),
}

pub use crate::playback::host::AdapterSummary;

/// A texture uploaded to the GPU, ready to draw.
#[derive(Debug)]
pub struct GpuTexture {
    bind_group: wgpu::BindGroup,
    /// Bytes it occupies (width × height × 4).
    pub bytes: u64,
}

/// One quad to draw: corners in target px (top-left, top-right, bottom-right, bottom-left),
/// the texture rect `[u0, v0, u1, v1]` and an opacity.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Quad {
    /// Corners in target px.
    pub corners: [[f32; 2]; 4],
    /// Texture rect.
    pub uv: [f32; 4],
    /// Opacity, 0–1.
    pub alpha: f32,
}

/// An offscreen render target with its readback buffer.
#[derive(Debug)]
pub struct Target {
    texture: wgpu::Texture,
    view: wgpu::TextureView,
    readback: wgpu::Buffer,
    /// Width, px.
    pub width: u32,
    /// Height, px.
    pub height: u32,
    padded_row: u32,
    /// Offscreen layer textures, one per nesting depth, made on first use.
    layers: std::sync::Mutex<Vec<LayerTexture>>,
    /// Drawn into, resolved into `texture`.
    msaa: wgpu::TextureView,
    /// A copy of what lies under a blended layer (the parent's resolved texture), which the
    /// blend composite samples; made on first use.
    backdrop: std::sync::Mutex<Option<(wgpu::Texture, wgpu::BindGroup)>>,
    /// The coverage texture of vector shapes (four channels, so four shapes a pass; see
    /// [`cover`]) and the bind group `fs_shape` reads it through; made on first use.
    coverage: std::sync::Mutex<Option<(wgpu::TextureView, wgpu::BindGroup)>>,
}

impl Target {
    /// The resolved frame (premultiplied RGBA8, gamma-encoded): what a UI samples to show the
    /// frame without reading it back.
    #[must_use]
    pub fn view(&self) -> &wgpu::TextureView {
        &self.view
    }
}

/// An offscreen layer the size of its target: drawn into, then sampled when composited.
#[derive(Debug)]
struct LayerTexture {
    texture: wgpu::Texture,
    view: wgpu::TextureView,
    bind_group: wgpu::BindGroup,
    /// Drawn into, resolved into `view`.
    msaa: wgpu::TextureView,
}

struct Timestamps {
    set: wgpu::QuerySet,
    resolve: wgpu::Buffer,
    read: wgpu::Buffer,
    period_ns: f32,
}

/// Milliseconds between two raw GPU timestamps, given the queue's period in ns per tick.
/// Counters may wrap, so the difference is taken with `wrapping_sub`.
#[must_use]
pub fn timestamp_delta_ms(start: u64, end: u64, period_ns: f32) -> f64 {
    end.wrapping_sub(start) as f64 * f64::from(period_ns) / 1e6
}

/// Bytes per row of a readback buffer for `width` RGBA8 px: padded to 256.
#[must_use]
pub fn padded_bytes_per_row(width: u32) -> u32 {
    let unpadded = width * 4;
    let align = wgpu::COPY_BYTES_PER_ROW_ALIGNMENT;
    unpadded.div_ceil(align) * align
}

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Vertex {
    position: [f32; 2],
    uv: [f32; 2],
    /// Premultiplied tint the texel is multiplied by.
    color: [f32; 4],
    /// 0: texture at `uv`; 1: linear gradient ramp at `uv.x`; 2: radial ramp at `|uv|`.
    mode: f32,
}

/// One thing to draw, in painter's order (see [`RenderContext::draw`]).
#[derive(Debug, Clone, Copy)]
pub enum DrawItem<'a> {
    /// A textured quad.
    Quad(&'a GpuTexture, Quad),
    /// Triangles in target px (three corners each) filled with a premultiplied colour.
    Triangles(&'a [[f32; 2]], [f32; 4]),
    /// Triangles filled with a gradient: corners in target px, each corner's ramp coordinate,
    /// radial or linear, the ramp texture (256 × 1) and an opacity tint.
    Gradient {
        /// Corners, three per triangle.
        points: &'a [[f32; 2]],
        /// Ramp coordinates, one per corner.
        uvs: &'a [[f32; 2]],
        /// Radial (else linear).
        radial: bool,
        /// The colour ramp.
        ramp: &'a GpuTexture,
        /// Premultiplied tint.
        color: [f32; 4],
    },
    /// Start an offscreen layer, composited at `alpha` with `compose` on the matching
    /// [`DrawItem::PopLayer`], only inside `clip` (triangles in target px) when given.
    PushLayer {
        /// Layer opacity, 0–1.
        alpha: f32,
        /// Compositing operator.
        compose: Compose,
        /// Clip triangles.
        clip: Option<&'a [[f32; 2]]>,
    },
    /// End the innermost layer.
    PopLayer,
}

/// The device, queue and pipelines; one per process. A clone shares the device, queue and
/// pipelines and has timestamp queries of its own, so clones may draw on different threads
/// (the app's preview and a burst).
pub struct RenderContext {
    /// The wgpu device.
    pub device: wgpu::Device,
    /// Its queue.
    pub queue: wgpu::Queue,
    /// Adapter facts for reports.
    pub adapter: AdapterSummary,
    /// Largest 2D texture side, px.
    pub max_texture_px: u32,
    /// One pipeline per Porter–Duff [`Compose`] operator, in [`compose_index`] order, then the
    /// blend-mode composite ([`BLEND_PIPELINE`]), the layer-effect one ([`EFFECT_PIPELINE`]),
    /// and the two of exact-coverage shapes ([`COVER_PIPELINE`], [`SHAPE_PIPELINE`]).
    pipelines: Vec<wgpu::RenderPipeline>,
    layout: wgpu::BindGroupLayout,
    /// The coverage texture `fs_shape` reads (group 1).
    coverage_layout: wgpu::BindGroupLayout,
    /// One uniform buffer (an effect's parameters) at binding 0.
    effect_layout: wgpu::BindGroupLayout,
    sampler: wgpu::Sampler,
    /// A 1 × 1 white texture: triangles sample it and take their colour from the vertices.
    white: wgpu::BindGroup,
    timestamps: Option<Timestamps>,
    /// Errors wgpu reported through the uncaptured-error handler, oldest first (at most 16),
    /// taken by [`RenderContext::take_gpu_error`].
    gpu_errors: Arc<Mutex<Vec<String>>>,
}

/// The pixel rectangle `[x, y, width, height]` (within `target`) that clip triangles cover
/// exactly, when they form one axis-aligned rectangle.
fn scissor_rect(clip: &[[f32; 2]], size: [u32; 2]) -> Option<[u32; 4]> {
    if clip.len() < 3 {
        return Some([0, 0, 0, 0]);
    }
    let (mut x0, mut y0, mut x1, mut y1) = (f32::MAX, f32::MAX, f32::MIN, f32::MIN);
    for p in clip {
        x0 = x0.min(p[0]);
        y0 = y0.min(p[1]);
        x1 = x1.max(p[0]);
        y1 = y1.max(p[1]);
    }
    let near = |a: f32, b: f32| (a - b).abs() < 1e-3;
    let corners = clip
        .iter()
        .all(|p| (near(p[0], x0) || near(p[0], x1)) && (near(p[1], y0) || near(p[1], y1)));
    let area: f32 = clip
        .chunks_exact(3)
        .map(|t| {
            ((t[1][0] - t[0][0]) * (t[2][1] - t[0][1]) - (t[2][0] - t[0][0]) * (t[1][1] - t[0][1]))
                .abs()
                / 2.0
        })
        .sum();
    let bbox = (x1 - x0) * (y1 - y0);
    if !corners || (area - bbox).abs() > bbox.max(1.0) * 1e-4 {
        return None;
    }
    let clamp = |v: f32, max: u32| v.round().clamp(0.0, max as f32) as u32;
    let (ax, ay) = (clamp(x0, size[0]), clamp(y0, size[1]));
    let (bx, by) = (clamp(x1, size[0]), clamp(y1, size[1]));
    Some([ax, ay, bx.saturating_sub(ax), by.saturating_sub(ay)])
}

/// A bitmap quad's corners and texture coordinates as drawn. A quad whose edges lie along the
/// pixel grid's axes (scaled, translated, turned by quarter turns) and that is at least a pixel
/// across both ways is drawn without edge anti-aliasing: its edges move to the nearest pixel
/// boundary (`floor(x + 0.5)`, Skia's rounding of a non-anti-aliased rect), covering exactly
/// the pixels whose centres it covers, and the texture coordinates move with them so the
/// picture stays where it was. This is how Chromium's canvas draws such images
/// (`BaseRenderingContext2D::ShouldDrawImageAntialiased`: no anti-aliasing when the transform
/// keeps rects rects and the image is a pixel or more across), which SVGAPlayer-Web's and
/// lottie-web's goldens show, and how iOS's `CALayer` draws by default
/// (`allowsEdgeAntialiasing` off). Other quads keep their corners (multisampled edges).
fn pixel_snapped(q: &Quad) -> ([[f32; 2]; 4], [[f32; 2]; 4]) {
    let [u0, v0, u1, v1] = q.uv;
    let c = q.corners;
    let uv = [[u0, v0], [u1, v0], [u1, v1], [u0, v1]];
    let same = |a: f32, b: f32| (a - b).abs() <= 1e-3;
    let straight = (same(c[0][1], c[1][1])
        && same(c[1][0], c[2][0])
        && same(c[2][1], c[3][1])
        && same(c[3][0], c[0][0]))
        || (same(c[0][0], c[1][0])
            && same(c[1][1], c[2][1])
            && same(c[2][0], c[3][0])
            && same(c[3][1], c[0][1]));
    let xs = c.map(|p| p[0]);
    let ys = c.map(|p| p[1]);
    let (x0, x1) = (
        xs.iter().copied().fold(f32::INFINITY, f32::min),
        xs.iter().copied().fold(f32::NEG_INFINITY, f32::max),
    );
    let (y0, y1) = (
        ys.iter().copied().fold(f32::INFINITY, f32::min),
        ys.iter().copied().fold(f32::NEG_INFINITY, f32::max),
    );
    // A NaN or infinite corner fails `same`, so a straight quad a pixel or more across is a
    // finite rectangle whose map below is invertible (its determinant is ± its area, ≥ 1).
    if !(straight && x1 - x0 >= 1.0 && y1 - y0 >= 1.0) {
        return (c, uv);
    }
    // The quad's map from (s, t) in the unit square to target px, inverted.
    let e1 = [c[1][0] - c[0][0], c[1][1] - c[0][1]];
    let e2 = [c[3][0] - c[0][0], c[3][1] - c[0][1]];
    let det = e1[0] * e2[1] - e1[1] * e2[0];
    let round = |v: f32| (v + 0.5).floor();
    let snap = |p: [f32; 2]| {
        let x = if same(p[0], x0) { round(x0) } else { round(x1) };
        let y = if same(p[1], y0) { round(y0) } else { round(y1) };
        let d = [x - c[0][0], y - c[0][1]];
        let s = (d[0] * e2[1] - d[1] * e2[0]) / det;
        let t = (e1[0] * d[1] - e1[1] * d[0]) / det;
        ([x, y], [u0 + s * (u1 - u0), v0 + t * (v1 - v0)])
    };
    let snapped = c.map(snap);
    (snapped.map(|p| p.0), snapped.map(|p| p.1))
}

/// For each item, whether it is a `PushLayer` whose content holds a layer composited with an
/// operator other than source-over (a matte): such content must be drawn in isolation, so the
/// layer cannot be replaced by a scissor.
fn needs_isolation(items: &[DrawItem<'_>]) -> Vec<bool> {
    let mut out = vec![false; items.len()];
    let mut open: Vec<usize> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        match item {
            DrawItem::PushLayer { compose, .. } => {
                if *compose != Compose::SrcOver {
                    for &o in &open {
                        out[o] = true;
                    }
                }
                open.push(i);
            }
            DrawItem::PopLayer => {
                open.pop();
            }
            _ => {}
        }
    }
    out
}

/// A point in target px as normalised device coordinates on a target of `size` px (y up).
fn to_ndc(p: [f32; 2], size: [f32; 2]) -> [f32; 2] {
    [p[0] / size[0] * 2.0 - 1.0, 1.0 - p[1] / size[1] * 2.0]
}

/// The intersection of two scissor rects `[x, y, width, height]`.
fn intersect(a: [u32; 4], b: [u32; 4]) -> [u32; 4] {
    let x = a[0].max(b[0]);
    let y = a[1].max(b[1]);
    let r = (a[0] + a[2]).min(b[0] + b[2]);
    let btm = (a[1] + a[3]).min(b[1] + b[3]);
    [x, y, r.saturating_sub(x), btm.saturating_sub(y)]
}

/// A bind group sampling `view` bilinearly.
fn bind_group(
    device: &wgpu::Device,
    layout: &wgpu::BindGroupLayout,
    sampler: &wgpu::Sampler,
    view: &wgpu::TextureView,
) -> wgpu::BindGroup {
    device.create_bind_group(&wgpu::BindGroupDescriptor {
        label: Some("image"),
        layout,
        entries: &[
            wgpu::BindGroupEntry {
                binding: 0,
                resource: wgpu::BindingResource::TextureView(view),
            },
            wgpu::BindGroupEntry {
                binding: 1,
                resource: wgpu::BindingResource::Sampler(sampler),
            },
        ],
    })
}

/// The pipeline that composites a layer with a blend mode: it samples the layer and a copy of
/// its backdrop and writes the blended result (W3C Compositing §10, in `fs_blend`).
const BLEND_PIPELINE: usize = 5;

/// The pipeline that composites a layer through a layer effect (`fs_effect`), source-over.
const EFFECT_PIPELINE: usize = 6;

/// The pipeline that adds each triangle's exact area per pixel to a channel of the coverage
/// texture (`fs_cover`, additive, single-sampled, 16-bit float).
const COVER_PIPELINE: usize = 7;

/// The pipeline that composites a vector shape by its coverage (`fs_shape`), source-over.
const SHAPE_PIPELINE: usize = 8;

/// The first of four pipelines that zero one channel of the coverage texture over a shape's
/// box before its coverage is added (`fs_zero`, channel `k` at `ZERO_PIPELINE + k`): cheaper
/// than clearing the whole texture for each batch.
const ZERO_PIPELINE: usize = 9;

/// Format of the coverage texture: four channels (a shape each), blendable, summing areas
/// exactly enough (11-bit mantissa: 1/2048 of a pixel).
const COVERAGE_FORMAT: wgpu::TextureFormat = wgpu::TextureFormat::Rgba16Float;

/// Index of a compositing operator in the context's pipelines.
fn compose_index(c: Compose) -> usize {
    match c {
        Compose::SrcOver => 0,
        Compose::SrcIn => 1,
        Compose::SrcOut => 2,
        Compose::DestIn => 3,
        Compose::DestOut => 4,
        Compose::Blend(_) => BLEND_PIPELINE,
        Compose::Effect(_) => EFFECT_PIPELINE,
    }
}

/// Premultiplied-alpha blend factors (source, destination) of a Porter–Duff operator (a blend
/// mode's composite writes its result as it is).
fn blend_factors(c: Compose) -> (wgpu::BlendFactor, wgpu::BlendFactor) {
    use wgpu::BlendFactor as F;
    match c {
        // An effect composites its result source-over.
        Compose::SrcOver | Compose::Effect(_) => (F::One, F::OneMinusSrcAlpha),
        Compose::SrcIn => (F::DstAlpha, F::Zero),
        Compose::SrcOut => (F::OneMinusDstAlpha, F::Zero),
        Compose::DestIn => (F::Zero, F::SrcAlpha),
        Compose::DestOut => (F::Zero, F::OneMinusSrcAlpha),
        Compose::Blend(_) => (F::One, F::Zero),
    }
}

impl Timestamps {
    fn new(device: &wgpu::Device, queue: &wgpu::Queue) -> Self {
        Self {
            set: device.create_query_set(&wgpu::QuerySetDescriptor {
                label: Some("frame"),
                ty: wgpu::QueryType::Timestamp,
                count: 2,
            }),
            resolve: device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("ts-resolve"),
                size: 16,
                usage: wgpu::BufferUsages::QUERY_RESOLVE | wgpu::BufferUsages::COPY_SRC,
                mapped_at_creation: false,
            }),
            read: device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("ts-read"),
                size: 16,
                usage: wgpu::BufferUsages::COPY_DST | wgpu::BufferUsages::MAP_READ,
                mapped_at_creation: false,
            }),
            period_ns: queue.get_timestamp_period(),
        }
    }
}

impl Clone for RenderContext {
    fn clone(&self) -> Self {
        Self {
            device: self.device.clone(),
            queue: self.queue.clone(),
            adapter: self.adapter.clone(),
            max_texture_px: self.max_texture_px,
            pipelines: self.pipelines.clone(),
            layout: self.layout.clone(),
            coverage_layout: self.coverage_layout.clone(),
            effect_layout: self.effect_layout.clone(),
            sampler: self.sampler.clone(),
            white: self.white.clone(),
            timestamps: self
                .timestamps
                .as_ref()
                .map(|_| Timestamps::new(&self.device, &self.queue)),
            gpu_errors: Arc::clone(&self.gpu_errors),
        }
    }
}

impl std::fmt::Debug for RenderContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RenderContext")
            .field("adapter", &self.adapter)
            .finish_non_exhaustive()
    }
}

/// Samples per pixel of targets and layers: edges of paths and quads are anti-aliased as the
/// reference players' (Skia, Android canvas) are.
pub const SAMPLES: u32 = 4;

/// A multisampled colour texture of `width` × `height` that resolves into a target or layer.
fn msaa_view(device: &wgpu::Device, width: u32, height: u32) -> wgpu::TextureView {
    device
        .create_texture(&wgpu::TextureDescriptor {
            label: Some("msaa"),
            size: wgpu::Extent3d {
                width,
                height,
                depth_or_array_layers: 1,
            },
            mip_level_count: 1,
            sample_count: SAMPLES,
            dimension: wgpu::TextureDimension::D2,
            format: FORMAT,
            usage: wgpu::TextureUsages::RENDER_ATTACHMENT,
            view_formats: &[],
        })
        .create_view(&wgpu::TextureViewDescriptor::default())
}

/// The texture format of images and targets.
pub const FORMAT: wgpu::TextureFormat = wgpu::TextureFormat::Rgba8Unorm;

impl RenderContext {
    /// Creates a headless context on the first adapter wgpu finds (Vulkan, Metal or DX12, or
    /// the backend `WGPU_BACKEND` names), with GPU timestamps when the adapter supports them.
    ///
    /// # Errors
    /// [`RenderError::NoAdapter`] or [`RenderError::Device`].
    pub fn headless() -> Result<Self, RenderError> {
        let instance =
            wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env());
        let adapter =
            pollster::block_on(instance.request_adapter(&wgpu::RequestAdapterOptions::default()))
                .map_err(|e| RenderError::NoAdapter(e.to_string()))?;
        let info = adapter.get_info();
        let ts = adapter.features().contains(wgpu::Features::TIMESTAMP_QUERY);
        let required_features = if ts {
            wgpu::Features::TIMESTAMP_QUERY
        } else {
            wgpu::Features::empty()
        };
        let limits = adapter.limits();
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("giftqa"),
            required_features,
            required_limits: wgpu::Limits {
                max_texture_dimension_2d: limits.max_texture_dimension_2d,
                ..wgpu::Limits::downlevel_defaults()
            },
            ..Default::default()
        }))
        .map_err(|e| RenderError::Device(e.to_string()))?;
        let adapter_summary = AdapterSummary {
            name: info.name.clone(),
            backend: format!("{:?}", info.backend),
            device_type: format!("{:?}", info.device_type),
            timestamps: ts,
        };
        Ok(Self::from_device(
            device,
            queue,
            adapter_summary,
            limits.max_texture_dimension_2d,
        ))
    }

    /// Builds the pipelines on an existing device (the desktop app passes eframe's).
    #[must_use]
    pub fn from_device(
        device: wgpu::Device,
        queue: wgpu::Queue,
        adapter: AdapterSummary,
        max_texture_px: u32,
    ) -> Self {
        // Without a handler wgpu panics on a validation or out-of-memory error; with it, the
        // error is kept and the next draw or upload returns it, so the effect gets a finding
        // and the run goes on.
        let gpu_errors = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&gpu_errors);
        device.on_uncaptured_error(Arc::new(move |e: wgpu::Error| {
            let mut v = sink
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if v.len() < 16 {
                v.push(e.to_string());
            }
        }));
        let shader = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some("quad"),
            source: wgpu::ShaderSource::Wgsl(QUAD_WGSL.into()),
        });
        let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("image"),
            entries: &[
                wgpu::BindGroupLayoutEntry {
                    binding: 0,
                    visibility: wgpu::ShaderStages::FRAGMENT,
                    ty: wgpu::BindingType::Texture {
                        sample_type: wgpu::TextureSampleType::Float { filterable: true },
                        view_dimension: wgpu::TextureViewDimension::D2,
                        multisampled: false,
                    },
                    count: None,
                },
                wgpu::BindGroupLayoutEntry {
                    binding: 1,
                    visibility: wgpu::ShaderStages::FRAGMENT,
                    ty: wgpu::BindingType::Sampler(wgpu::SamplerBindingType::Filtering),
                    count: None,
                },
            ],
        });
        let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some("quad"),
            bind_group_layouts: &[Some(&layout)],
            immediate_size: 0,
        });
        let blend_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some("blend"),
            bind_group_layouts: &[Some(&layout), Some(&layout)],
            immediate_size: 0,
        });
        let effect_layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("effect"),
            entries: &[wgpu::BindGroupLayoutEntry {
                binding: 0,
                visibility: wgpu::ShaderStages::FRAGMENT,
                ty: wgpu::BindingType::Buffer {
                    ty: wgpu::BufferBindingType::Uniform,
                    has_dynamic_offset: false,
                    min_binding_size: None,
                },
                count: None,
            }],
        });
        let effect_pipeline_layout =
            device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
                label: Some("effect"),
                bind_group_layouts: &[Some(&layout), Some(&effect_layout)],
                immediate_size: 0,
            });
        let mut pipelines: Vec<wgpu::RenderPipeline> = [
            Compose::SrcOver,
            Compose::SrcIn,
            Compose::SrcOut,
            Compose::DestIn,
            Compose::DestOut,
            Compose::Blend(1),
            Compose::Effect(crate::model::EffectParams::new(0, [0.0; 12])),
        ]
        .map(|c| {
            let blended = matches!(c, Compose::Blend(_));
            let effect = matches!(c, Compose::Effect(_));
            let (src_factor, dst_factor) = blend_factors(c);
            let blend = wgpu::BlendComponent {
                src_factor,
                dst_factor,
                operation: wgpu::BlendOperation::Add,
            };
            device.create_render_pipeline(&wgpu::RenderPipelineDescriptor {
                label: Some("quad"),
                layout: Some(if blended {
                    &blend_layout
                } else if effect {
                    &effect_pipeline_layout
                } else {
                    &pipeline_layout
                }),
                vertex: wgpu::VertexState {
                    module: &shader,
                    entry_point: Some("vs_main"),
                    compilation_options: wgpu::PipelineCompilationOptions::default(),
                    buffers: &[Some(wgpu::VertexBufferLayout {
                        array_stride: std::mem::size_of::<Vertex>() as u64,
                        step_mode: wgpu::VertexStepMode::Vertex,
                        attributes: &wgpu::vertex_attr_array![0 => Float32x2, 1 => Float32x2, 2 => Float32x4, 3 => Float32],
                    })],
                },
                primitive: wgpu::PrimitiveState::default(),
                depth_stencil: None,
                multisample: wgpu::MultisampleState {
                    count: SAMPLES,
                    ..wgpu::MultisampleState::default()
                },
                fragment: Some(wgpu::FragmentState {
                    module: &shader,
                    entry_point: Some(if blended {
                        "fs_blend"
                    } else if effect {
                        "fs_effect"
                    } else {
                        "fs_main"
                    }),
                    compilation_options: wgpu::PipelineCompilationOptions::default(),
                    targets: &[Some(wgpu::ColorTargetState {
                        format: FORMAT,
                        blend: Some(wgpu::BlendState {
                            color: blend,
                            alpha: blend,
                        }),
                        write_mask: wgpu::ColorWrites::ALL,
                    })],
                }),
                multiview_mask: None,
                cache: None,
            })
        })
        .into();
        let coverage_layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("coverage"),
            entries: &[wgpu::BindGroupLayoutEntry {
                binding: 0,
                visibility: wgpu::ShaderStages::FRAGMENT,
                ty: wgpu::BindingType::Texture {
                    sample_type: wgpu::TextureSampleType::Float { filterable: false },
                    view_dimension: wgpu::TextureViewDimension::D2,
                    multisampled: false,
                },
                count: None,
            }],
        });
        let vertex_layout = [Some(wgpu::VertexBufferLayout {
            array_stride: std::mem::size_of::<Vertex>() as u64,
            step_mode: wgpu::VertexStepMode::Vertex,
            attributes: &wgpu::vertex_attr_array![0 => Float32x2, 1 => Float32x2, 2 => Float32x4, 3 => Float32],
        })];
        let add = wgpu::BlendComponent {
            src_factor: wgpu::BlendFactor::One,
            dst_factor: wgpu::BlendFactor::One,
            operation: wgpu::BlendOperation::Add,
        };
        let over = wgpu::BlendComponent {
            src_factor: wgpu::BlendFactor::One,
            dst_factor: wgpu::BlendFactor::OneMinusSrcAlpha,
            operation: wgpu::BlendOperation::Add,
        };
        let cover_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some("cover"),
            bind_group_layouts: &[],
            immediate_size: 0,
        });
        let shape_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some("shape"),
            bind_group_layouts: &[Some(&layout), Some(&coverage_layout)],
            immediate_size: 0,
        });
        let zero = |mask| {
            (
                "zero",
                &cover_layout,
                "vs_main",
                "fs_zero",
                COVERAGE_FORMAT,
                None,
                1,
                mask,
            )
        };
        for (label, layout, vs, fs, format, blend, samples, write_mask) in [
            (
                "cover",
                &cover_layout,
                "vs_cover",
                "fs_cover",
                COVERAGE_FORMAT,
                Some(add),
                1,
                wgpu::ColorWrites::ALL,
            ),
            (
                "shape",
                &shape_layout,
                "vs_main",
                "fs_shape",
                FORMAT,
                Some(over),
                SAMPLES,
                wgpu::ColorWrites::ALL,
            ),
            zero(wgpu::ColorWrites::RED),
            zero(wgpu::ColorWrites::GREEN),
            zero(wgpu::ColorWrites::BLUE),
            zero(wgpu::ColorWrites::ALPHA),
        ] {
            pipelines.push(
                device.create_render_pipeline(&wgpu::RenderPipelineDescriptor {
                    label: Some(label),
                    layout: Some(layout),
                    vertex: wgpu::VertexState {
                        module: &shader,
                        entry_point: Some(vs),
                        compilation_options: wgpu::PipelineCompilationOptions::default(),
                        buffers: &vertex_layout,
                    },
                    primitive: wgpu::PrimitiveState::default(),
                    depth_stencil: None,
                    multisample: wgpu::MultisampleState {
                        count: samples,
                        ..wgpu::MultisampleState::default()
                    },
                    fragment: Some(wgpu::FragmentState {
                        module: &shader,
                        entry_point: Some(fs),
                        compilation_options: wgpu::PipelineCompilationOptions::default(),
                        targets: &[Some(wgpu::ColorTargetState {
                            format,
                            blend: blend.map(|b| wgpu::BlendState { color: b, alpha: b }),
                            write_mask,
                        })],
                    }),
                    multiview_mask: None,
                    cache: None,
                }),
            );
        }
        let sampler = device.create_sampler(&wgpu::SamplerDescriptor {
            label: Some("bilinear"),
            address_mode_u: wgpu::AddressMode::ClampToEdge,
            address_mode_v: wgpu::AddressMode::ClampToEdge,
            mag_filter: wgpu::FilterMode::Linear,
            min_filter: wgpu::FilterMode::Linear,
            ..Default::default()
        });
        let timestamps = adapter.timestamps.then(|| Timestamps::new(&device, &queue));
        let white = {
            let texture = device.create_texture_with_data(
                &queue,
                &wgpu::TextureDescriptor {
                    label: Some("white"),
                    size: wgpu::Extent3d {
                        width: 1,
                        height: 1,
                        depth_or_array_layers: 1,
                    },
                    mip_level_count: 1,
                    sample_count: 1,
                    dimension: wgpu::TextureDimension::D2,
                    format: FORMAT,
                    usage: wgpu::TextureUsages::TEXTURE_BINDING,
                    view_formats: &[],
                },
                wgpu::util::TextureDataOrder::LayerMajor,
                &[255; 4],
            );
            bind_group(
                &device,
                &layout,
                &sampler,
                &texture.create_view(&wgpu::TextureViewDescriptor::default()),
            )
        };
        Self {
            device,
            queue,
            adapter,
            max_texture_px,
            pipelines,
            layout,
            coverage_layout,
            effect_layout,
            sampler,
            white,
            timestamps,
            gpu_errors,
        }
    }

    /// The oldest error wgpu reported since the last call, if any (the others are dropped).
    ///
    /// # Errors
    /// [`RenderError::Gpu`] with wgpu's message.
    pub fn take_gpu_error(&self) -> Result<(), RenderError> {
        let mut v = self
            .gpu_errors
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if v.is_empty() {
            return Ok(());
        }
        let first = v.remove(0);
        v.clear();
        Err(RenderError::Gpu(first))
    }

    /// The target's layer textures, at least `depth` of them.
    fn layer_textures<'t>(
        &self,
        target: &'t Target,
        depth: usize,
    ) -> std::sync::MutexGuard<'t, Vec<LayerTexture>> {
        let mut layers = target
            .layers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        while layers.len() < depth {
            let texture = self.target_sized(
                target,
                "layer",
                wgpu::TextureUsages::RENDER_ATTACHMENT
                    | wgpu::TextureUsages::TEXTURE_BINDING
                    | wgpu::TextureUsages::COPY_SRC,
                FORMAT,
            );
            let view = texture.create_view(&wgpu::TextureViewDescriptor::default());
            let bind_group = bind_group(&self.device, &self.layout, &self.sampler, &view);
            layers.push(LayerTexture {
                texture,
                view,
                bind_group,
                msaa: msaa_view(&self.device, target.width, target.height),
            });
        }
        layers
    }

    /// Uploads a premultiplied RGBA8 image as a texture.
    ///
    /// # Errors
    /// [`RenderError::TooLarge`] when a side exceeds `max_px` or the device limit.
    pub fn upload(&self, image: &RgbaImage, max_px: u32) -> Result<GpuTexture, RenderError> {
        let (w, h) = image.dimensions();
        let max = max_px.min(self.max_texture_px);
        if w > max || h > max || w == 0 || h == 0 {
            return Err(RenderError::TooLarge {
                width: w,
                height: h,
                max,
            });
        }
        let texture = self.device.create_texture_with_data(
            &self.queue,
            &wgpu::TextureDescriptor {
                label: Some("image"),
                size: wgpu::Extent3d {
                    width: w,
                    height: h,
                    depth_or_array_layers: 1,
                },
                mip_level_count: 1,
                sample_count: 1,
                dimension: wgpu::TextureDimension::D2,
                format: FORMAT,
                usage: wgpu::TextureUsages::TEXTURE_BINDING | wgpu::TextureUsages::COPY_DST,
                view_formats: &[],
            },
            wgpu::util::TextureDataOrder::LayerMajor,
            image.as_raw(),
        );
        let view = texture.create_view(&wgpu::TextureViewDescriptor::default());
        let bind_group = bind_group(&self.device, &self.layout, &self.sampler, &view);
        self.take_gpu_error()?;
        Ok(GpuTexture {
            bind_group,
            bytes: u64::from(w) * u64::from(h) * 4,
        })
    }

    /// Creates an offscreen target of `width` × `height` px.
    #[must_use]
    pub fn target(&self, width: u32, height: u32) -> Target {
        let texture = self.device.create_texture(&wgpu::TextureDescriptor {
            label: Some("target"),
            size: wgpu::Extent3d {
                width,
                height,
                depth_or_array_layers: 1,
            },
            mip_level_count: 1,
            sample_count: 1,
            dimension: wgpu::TextureDimension::D2,
            format: FORMAT,
            usage: wgpu::TextureUsages::RENDER_ATTACHMENT
                | wgpu::TextureUsages::COPY_SRC
                | wgpu::TextureUsages::TEXTURE_BINDING,
            view_formats: &[],
        });
        let view = texture.create_view(&wgpu::TextureViewDescriptor::default());
        let padded_row = padded_bytes_per_row(width);
        let readback = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("readback"),
            size: u64::from(padded_row) * u64::from(height),
            usage: wgpu::BufferUsages::COPY_DST | wgpu::BufferUsages::MAP_READ,
            mapped_at_creation: false,
        });
        Target {
            texture,
            view,
            readback,
            width,
            height,
            padded_row,
            layers: std::sync::Mutex::new(Vec::new()),
            msaa: msaa_view(&self.device, width, height),
            backdrop: std::sync::Mutex::new(None),
            coverage: std::sync::Mutex::new(None),
        }
    }

    /// A buffer holding `bytes` (a multiple of 4 long), written through the queue. Unlike
    /// `create_buffer_init`, which maps the buffer and panics when the device refused it (a
    /// lost device, memory exhausted), a refused buffer here is an error the render's error
    /// scope reports.
    fn buffer_with(&self, label: &str, bytes: &[u8], usage: wgpu::BufferUsages) -> wgpu::Buffer {
        let buffer = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(label),
            size: bytes.len() as u64,
            usage: usage | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        self.queue.write_buffer(&buffer, 0, bytes);
        buffer
    }

    /// A uniform buffer and bind group holding an effect's parameters for `fs_effect`: the
    /// kind and the texel size, then the twelve values.
    fn effect_params(
        &self,
        e: &crate::model::EffectParams,
        width: f32,
        height: f32,
    ) -> wgpu::BindGroup {
        let mut data = [0f32; 16];
        data[0] = f32::from(e.kind);
        data[1] = 1.0 / width.max(1.0);
        data[2] = 1.0 / height.max(1.0);
        data[4..].copy_from_slice(&e.floats());
        let buffer = self.buffer_with(
            "effect",
            bytemuck::cast_slice(&data),
            wgpu::BufferUsages::UNIFORM,
        );
        self.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("effect"),
            layout: &self.effect_layout,
            entries: &[wgpu::BindGroupEntry {
                binding: 0,
                resource: buffer.as_entire_binding(),
            }],
        })
    }

    /// A single-sampled texture of the target's size in `format`.
    fn target_sized(
        &self,
        target: &Target,
        label: &str,
        usage: wgpu::TextureUsages,
        format: wgpu::TextureFormat,
    ) -> wgpu::Texture {
        self.device.create_texture(&wgpu::TextureDescriptor {
            label: Some(label),
            size: wgpu::Extent3d {
                width: target.width,
                height: target.height,
                depth_or_array_layers: 1,
            },
            mip_level_count: 1,
            sample_count: 1,
            dimension: wgpu::TextureDimension::D2,
            format,
            usage,
            view_formats: &[],
        })
    }

    /// The target's backdrop texture and its bind group (made on first use).
    fn backdrop<'t>(
        &self,
        target: &'t Target,
    ) -> std::sync::MutexGuard<'t, Option<(wgpu::Texture, wgpu::BindGroup)>> {
        let mut b = target
            .backdrop
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if b.is_none() {
            let texture = self.target_sized(
                target,
                "backdrop",
                wgpu::TextureUsages::TEXTURE_BINDING | wgpu::TextureUsages::COPY_DST,
                FORMAT,
            );
            let view = texture.create_view(&wgpu::TextureViewDescriptor::default());
            let group = bind_group(&self.device, &self.layout, &self.sampler, &view);
            *b = Some((texture, group));
        }
        b
    }

    /// The target's coverage texture and its bind group (made on first use).
    fn coverage<'t>(
        &self,
        target: &'t Target,
    ) -> std::sync::MutexGuard<'t, Option<(wgpu::TextureView, wgpu::BindGroup)>> {
        let mut c = target
            .coverage
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if c.is_none() {
            let view = self
                .target_sized(
                    target,
                    "coverage",
                    wgpu::TextureUsages::RENDER_ATTACHMENT | wgpu::TextureUsages::TEXTURE_BINDING,
                    COVERAGE_FORMAT,
                )
                .create_view(&wgpu::TextureViewDescriptor::default());
            let group = self.device.create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some("coverage"),
                layout: &self.coverage_layout,
                entries: &[wgpu::BindGroupEntry {
                    binding: 0,
                    resource: wgpu::BindingResource::TextureView(&view),
                }],
            });
            *c = Some((view, group));
        }
        c
    }

    /// Clears `target` to `clear` (premultiplied RGBA, 0–1) and draws the items in order,
    /// then waits for the GPU. Returns the GPU time in ms when timestamps are measured.
    ///
    /// Layers are drawn into offscreen textures of the target's size (one per nesting depth,
    /// kept with the target) and composited with the layer's Porter–Duff operator when popped;
    /// a clipped layer is composited through its clip triangles only. Unbalanced pops are
    /// ignored and unclosed layers are closed at the end.
    ///
    /// # Errors
    /// [`RenderError::Readback`] when the timestamp buffer cannot be read.
    pub fn draw(
        &self,
        target: &Target,
        clear: [f64; 4],
        items: &[DrawItem<'_>],
    ) -> Result<Option<f64>, RenderError> {
        #[derive(Clone, Copy)]
        enum Bind<'b> {
            Texture(&'b wgpu::BindGroup),
            White,
            Layer(usize),
            /// No group 0 (the coverage pipeline).
            None,
        }
        struct Op<'b> {
            range: std::ops::Range<u32>,
            bind: Bind<'b>,
            pipeline: usize,
            /// Scissor rect `[x, y, width, height]` in target px.
            scissor: [u32; 4],
            /// A layer effect's parameters (group 1 of the effect pipeline).
            params: Option<wgpu::BindGroup>,
        }
        /// An open `PushLayer`: an offscreen layer (composite vertices, operator, the scissor
        /// of its parent), or a rectangular clip done with the scissor alone.
        enum Open {
            Layer(std::ops::Range<u32>, Compose, [u32; 4]),
            Scissor,
        }
        struct Pass<'b> {
            /// 0: the target; d ≥ 1: layer texture d − 1.
            depth: usize,
            /// Whether its texture is first copied to the backdrop (a blend composite).
            backdrop: bool,
            clear: Option<wgpu::Color>,
            ops: Vec<Op<'b>>,
            /// Draws into the coverage texture (exact-coverage shapes), not a target or layer.
            cover: bool,
        }
        /// A vector shape: triangles (three corners each, target px), gradient coordinates per
        /// corner when it is a gradient, its premultiplied colour, `fs_main`'s mode and what
        /// group 0 samples.
        #[derive(Clone, Copy)]
        struct Fill<'b> {
            points: &'b [[f32; 2]],
            uvs: Option<&'b [[f32; 2]]>,
            color: [f32; 4],
            mode: f32,
            bind: Bind<'b>,
        }
        /// Draws `fill` with exact coverage ([`cover`]): its triangles' areas are added to a
        /// free channel of the coverage texture (zeroed over the shape's box first) in the open
        /// batch's coverage pass (a new one,
        /// followed by a pass that goes on with the current target, when all four channels
        /// are taken), and its bounding box is composited by that channel in the current pass.
        fn push_shape<'b>(
            passes: &mut Vec<Pass<'b>>,
            vertices: &mut Vec<Vertex>,
            batch: &mut Option<(usize, usize)>,
            depth: usize,
            scissor: [u32; 4],
            size: [f32; 2],
            fill: Fill<'b>,
        ) {
            let Some((boxes, span)) = cover::cover_boxes(fill.points, scissor) else {
                return;
            };
            let map = match fill.uvs {
                Some(uvs) => {
                    let Some(m) = cover::affine_uv(fill.points, uvs) else {
                        return;
                    };
                    Some(m)
                }
                None => None,
            };
            let ndc = |p: [f32; 2]| to_ndc(p, size);
            let (cover_pass, channel) = match batch {
                Some((i, used)) if *used < 4 => {
                    *used += 1;
                    (*i, *used - 1)
                }
                _ => {
                    passes.push(Pass {
                        depth,
                        backdrop: false,
                        clear: None,
                        ops: Vec::new(),
                        cover: true,
                    });
                    let i = passes.len() - 1;
                    passes.push(Pass {
                        depth,
                        backdrop: false,
                        clear: None,
                        ops: Vec::new(),
                        cover: false,
                    });
                    *batch = Some((i, 1));
                    (i, 0)
                }
            };
            let rect_corners = |r: [u32; 4]| {
                let (x0, y0) = (r[0] as f32, r[1] as f32);
                let (x1, y1) = ((r[0] + r[2]) as f32, (r[1] + r[3]) as f32);
                [[x0, y0], [x1, y0], [x1, y1], [x0, y0], [x1, y1], [x0, y1]]
            };
            // The channel is zeroed over the shape's box, then its triangles' areas added.
            let start = vertices.len() as u32;
            vertices.extend(rect_corners(span).map(|p| Vertex {
                position: ndc(p),
                uv: [0.0; 2],
                color: [0.0; 4],
                mode: 0.0,
            }));
            passes[cover_pass].ops.push(Op {
                range: start..vertices.len() as u32,
                bind: Bind::None,
                pipeline: ZERO_PIPELINE + channel,
                scissor,
                params: None,
            });
            let start = vertices.len() as u32;
            for b in &boxes {
                let [a, bb, c] = b.corners;
                let vertex = |p: [f32; 2]| Vertex {
                    position: ndc(p),
                    uv: a,
                    color: [bb[0], bb[1], c[0], c[1]],
                    mode: channel as f32,
                };
                match b.dilated {
                    Some(d) => vertices.extend(d.map(vertex)),
                    None => vertices.extend(rect_corners(b.rect).map(vertex)),
                }
            }
            passes[cover_pass].ops.push(Op {
                range: start..vertices.len() as u32,
                bind: Bind::None,
                pipeline: COVER_PIPELINE,
                scissor,
                params: None,
            });
            let start = vertices.len() as u32;
            vertices.extend(rect_corners(span).map(|p| Vertex {
                position: ndc(p),
                uv: map.map_or([0.5, 0.5], |m| cover::apply(&m, p)),
                color: fill.color,
                mode: fill.mode + 4.0 * channel as f32,
            }));
            if let Some(p) = passes.last_mut() {
                p.ops.push(Op {
                    range: start..vertices.len() as u32,
                    bind: fill.bind,
                    pipeline: SHAPE_PIPELINE,
                    scissor,
                    params: None,
                });
            }
        }
        let (w, h) = (target.width as f32, target.height as f32);
        let ndc = |p: [f32; 2]| to_ndc(p, [w, h]);
        let mut vertices: Vec<Vertex> = Vec::new();
        let mut passes = vec![Pass {
            depth: 0,
            backdrop: false,
            clear: Some(wgpu::Color {
                r: clear[0],
                g: clear[1],
                b: clear[2],
                a: clear[3],
            }),
            ops: Vec::new(),
            cover: false,
        }];
        // The pass that composites layer `depth` onto its parent (at `depth`, which is its
        // index among the layer textures).
        let composite = |depth: usize,
                         range: std::ops::Range<u32>,
                         compose: Compose,
                         scissor: [u32; 4]|
         -> Pass<'_> {
            Pass {
                depth,
                backdrop: matches!(compose, Compose::Blend(_)),
                clear: None,
                cover: false,
                ops: vec![Op {
                    range,
                    bind: Bind::Layer(depth),
                    pipeline: compose_index(compose),
                    scissor,
                    params: match compose {
                        Compose::Effect(e) => Some(self.effect_params(&e, w, h)),
                        _ => None,
                    },
                }],
            }
        };
        let full_rect = [0, 0, target.width, target.height];
        let mut open: Vec<Open> = Vec::new();
        // Offscreen layers open (the depth of the current pass).
        let mut depth = 0usize;
        let mut scissors: Vec<[u32; 4]> = vec![full_rect];
        let mut max_depth = 0;
        let isolated = needs_isolation(items);
        // The open batch of exact-coverage shapes: its coverage pass and the channels taken.
        let mut batch: Option<(usize, usize)> = None;
        for (index, item) in items.iter().enumerate() {
            let start = vertices.len() as u32;
            match item {
                DrawItem::Quad(tex, q) => {
                    let (c, uv) = pixel_snapped(q);
                    let corner = |i: usize| Vertex {
                        position: ndc(c[i]),
                        uv: uv[i],
                        color: [q.alpha; 4],
                        mode: 0.0,
                    };
                    vertices.extend_from_slice(&[
                        corner(0),
                        corner(1),
                        corner(2),
                        corner(0),
                        corner(2),
                        corner(3),
                    ]);
                    if let Some(p) = passes.last_mut() {
                        p.ops.push(Op {
                            range: start..vertices.len() as u32,
                            bind: Bind::Texture(&tex.bind_group),
                            pipeline: 0,
                            scissor: *scissors.last().unwrap_or(&full_rect),
                            params: None,
                        });
                    }
                }
                DrawItem::Triangles(points, color) => push_shape(
                    &mut passes,
                    &mut vertices,
                    &mut batch,
                    depth,
                    *scissors.last().unwrap_or(&full_rect),
                    [w, h],
                    Fill {
                        points,
                        uvs: None,
                        color: *color,
                        mode: 0.0,
                        bind: Bind::White,
                    },
                ),
                DrawItem::Gradient {
                    points,
                    uvs,
                    radial,
                    ramp,
                    color,
                } => {
                    let n = points.len().min(uvs.len()) / 3 * 3;
                    push_shape(
                        &mut passes,
                        &mut vertices,
                        &mut batch,
                        depth,
                        *scissors.last().unwrap_or(&full_rect),
                        [w, h],
                        Fill {
                            points: &points[..n],
                            uvs: Some(&uvs[..n]),
                            color: *color,
                            mode: if *radial { 2.0 } else { 1.0 },
                            bind: Bind::Texture(&ramp.bind_group),
                        },
                    );
                }
                DrawItem::PushLayer {
                    alpha,
                    compose,
                    clip,
                } => {
                    let parent = *scissors.last().unwrap_or(&full_rect);
                    // An opaque, normal layer clipped to an axis-aligned rectangle needs no
                    // offscreen texture: the scissor does it (the root clip of every Lottie
                    // frame, image bounds).
                    if *alpha >= 1.0
                        && *compose == Compose::SrcOver
                        && !isolated[index]
                        && let Some(r) =
                            clip.and_then(|c| scissor_rect(c, [target.width, target.height]))
                    {
                        scissors.push(intersect(parent, r));
                        open.push(Open::Scissor);
                        continue;
                    }
                    // The composite: the clip triangles (or the whole target), sampling the
                    // layer at the same place.
                    let full = [[0.0, 0.0], [w, 0.0], [w, h], [0.0, 0.0], [w, h], [0.0, h]];
                    let points: &[[f32; 2]] = clip.unwrap_or(&full);
                    let n = points.len() / 3 * 3;
                    let mode = match compose {
                        Compose::Blend(m) => f32::from(*m),
                        _ => 0.0,
                    };
                    vertices.extend(points[..n].iter().map(|p| Vertex {
                        position: ndc(*p),
                        uv: [p[0] / w, p[1] / h],
                        color: [*alpha; 4],
                        mode,
                    }));
                    open.push(Open::Layer(start..vertices.len() as u32, *compose, parent));
                    depth += 1;
                    max_depth = max_depth.max(depth);
                    scissors.push(full_rect);
                    passes.push(Pass {
                        depth,
                        backdrop: false,
                        clear: Some(wgpu::Color::TRANSPARENT),
                        ops: Vec::new(),
                        cover: false,
                    });
                }
                DrawItem::PopLayer => match open.pop() {
                    Some(Open::Scissor) => {
                        scissors.pop();
                    }
                    Some(Open::Layer(range, compose, parent)) => {
                        scissors.pop();
                        depth -= 1;
                        passes.push(composite(depth, range, compose, parent));
                    }
                    None => {}
                },
            }
        }
        while let Some(o) = open.pop() {
            if let Open::Layer(range, compose, parent) = o {
                depth -= 1;
                passes.push(composite(depth, range, compose, parent));
            }
        }
        // Passes that load and draw nothing do nothing.
        passes.retain(|p| p.clear.is_some() || !p.ops.is_empty());
        let layers = self.layer_textures(target, max_depth);
        let backdrop = passes
            .iter()
            .any(|p| p.backdrop)
            .then(|| self.backdrop(target));
        let buffer = (!vertices.is_empty()).then(|| {
            self.buffer_with(
                "vertices",
                bytemuck::cast_slice(&vertices),
                wgpu::BufferUsages::VERTEX,
            )
        });
        let mut encoder = self
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("frame"),
            });
        let coverage = passes
            .iter()
            .any(|p| p.cover)
            .then(|| self.coverage(target));
        // A multisampled pass resolves into its single-sampled texture only when that texture
        // is read next (a composite of the layer, a backdrop copy, the frame itself), not when
        // the next pass at its depth goes on drawing (after a coverage pass).
        let resolves: Vec<bool> = (0..passes.len())
            .map(|i| {
                let d = passes[i].depth;
                for p in &passes[i + 1..] {
                    if p.cover || p.depth > d {
                        continue;
                    }
                    return p.depth < d || p.backdrop || p.clear.is_some();
                }
                true
            })
            .collect();
        let last = passes.len().saturating_sub(1);
        for (i, pass) in passes.iter().enumerate() {
            if pass.backdrop
                && let Some(Some((copy, _))) = backdrop.as_deref()
            {
                let from = if pass.depth == 0 {
                    &target.texture
                } else {
                    &layers[pass.depth - 1].texture
                };
                encoder.copy_texture_to_texture(
                    from.as_image_copy(),
                    copy.as_image_copy(),
                    wgpu::Extent3d {
                        width: target.width,
                        height: target.height,
                        depth_or_array_layers: 1,
                    },
                );
            }
            let (msaa, single) = if pass.depth == 0 {
                (&target.msaa, &target.view)
            } else {
                let l = &layers[pass.depth - 1];
                (&l.msaa, &l.view)
            };
            let (view, resolve) = if pass.cover {
                let Some(Some((view, _))) = coverage.as_deref() else {
                    continue;
                };
                (view, None)
            } else if SAMPLES > 1 {
                (msaa, resolves[i].then_some(single))
            } else {
                (single, None)
            };
            let mut rp = encoder.begin_render_pass(&wgpu::RenderPassDescriptor {
                label: Some("frame"),
                color_attachments: &[Some(wgpu::RenderPassColorAttachment {
                    view,
                    depth_slice: None,
                    resolve_target: resolve,
                    ops: wgpu::Operations {
                        load: pass.clear.map_or(wgpu::LoadOp::Load, wgpu::LoadOp::Clear),
                        store: wgpu::StoreOp::Store,
                    },
                })],
                depth_stencil_attachment: None,
                timestamp_writes: self.timestamps.as_ref().and_then(|t| {
                    (i == 0 || i == last).then(|| wgpu::RenderPassTimestampWrites {
                        query_set: &t.set,
                        beginning_of_pass_write_index: (i == 0).then_some(0),
                        end_of_pass_write_index: (i == last).then_some(1),
                    })
                }),
                occlusion_query_set: None,
                multiview_mask: None,
            });
            let Some(buffer) = &buffer else { continue };
            rp.set_vertex_buffer(0, buffer.slice(..));
            for op in &pass.ops {
                let [x, y, sw, sh] = op.scissor;
                if sw == 0 || sh == 0 {
                    continue;
                }
                rp.set_scissor_rect(x, y, sw, sh);
                rp.set_pipeline(&self.pipelines[op.pipeline]);
                let bg = match op.bind {
                    Bind::Texture(b) => Some(b),
                    Bind::White => Some(&self.white),
                    Bind::Layer(d) => Some(&layers[d].bind_group),
                    Bind::None => None,
                };
                if let Some(bg) = bg {
                    rp.set_bind_group(0, bg, &[]);
                }
                if op.pipeline == SHAPE_PIPELINE {
                    let Some(Some((_, group))) = coverage.as_deref() else {
                        continue;
                    };
                    rp.set_bind_group(1, group, &[]);
                }
                if op.pipeline == BLEND_PIPELINE {
                    let Some(Some((_, group))) = backdrop.as_deref() else {
                        continue;
                    };
                    rp.set_bind_group(1, group, &[]);
                }
                if op.pipeline == EFFECT_PIPELINE {
                    let Some(group) = &op.params else { continue };
                    rp.set_bind_group(1, group, &[]);
                }
                rp.draw(op.range.clone(), 0..1);
            }
        }
        drop(layers);
        drop(backdrop);
        drop(coverage);
        if let Some(t) = &self.timestamps {
            encoder.resolve_query_set(&t.set, 0..2, &t.resolve, 0);
            encoder.copy_buffer_to_buffer(&t.resolve, 0, &t.read, 0, 16);
        }
        self.queue.submit(Some(encoder.finish()));
        let Some(t) = &self.timestamps else {
            self.device
                .poll(wgpu::PollType::wait_indefinitely())
                .map_err(|e| RenderError::Gpu(e.to_string()))?;
            self.take_gpu_error()?;
            return Ok(None);
        };
        let raw = self.map_read(&t.read, 16)?;
        let start = u64::from_le_bytes(
            raw[0..8]
                .try_into()
                .map_err(|_| RenderError::Readback("timestamps".into()))?,
        );
        let end = u64::from_le_bytes(
            raw[8..16]
                .try_into()
                .map_err(|_| RenderError::Readback("timestamps".into()))?,
        );
        Ok(Some(timestamp_delta_ms(start, end, t.period_ns)))
    }

    /// Maps `buffer` and copies its first `len` bytes out. When the map fails because wgpu
    /// refused earlier work (the device out of memory or lost, as on a GL adapter asked for
    /// more texture memory than it has), that error is what is returned
    /// ([`RenderError::Gpu`]), not the failed map.
    fn map_read(&self, buffer: &wgpu::Buffer, len: usize) -> Result<Vec<u8>, RenderError> {
        self.map_read_once(buffer, len)
            .map_err(|e| match self.take_gpu_error() {
                Err(gpu) => gpu,
                Ok(()) => e,
            })
    }

    fn map_read_once(&self, buffer: &wgpu::Buffer, len: usize) -> Result<Vec<u8>, RenderError> {
        let slice = buffer.slice(..);
        let (tx, rx) = std::sync::mpsc::channel();
        slice.map_async(wgpu::MapMode::Read, move |r| {
            let _ = tx.send(r);
        });
        self.device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| RenderError::Readback(e.to_string()))?;
        rx.recv()
            .map_err(|e| RenderError::Readback(e.to_string()))?
            .map_err(|e| RenderError::Readback(e.to_string()))?;
        let out = {
            let view = slice
                .get_mapped_range()
                .map_err(|e| RenderError::Readback(e.to_string()))?;
            view[..len.min(view.len())].to_vec()
        };
        buffer.unmap();
        Ok(out)
    }

    /// Copies the target back to the CPU: premultiplied RGBA8, rows unpadded.
    ///
    /// # Errors
    /// [`RenderError::Readback`] when mapping fails.
    pub fn read_pixels(&self, target: &Target) -> Result<RgbaImage, RenderError> {
        let mut encoder = self
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("readback"),
            });
        encoder.copy_texture_to_buffer(
            wgpu::TexelCopyTextureInfo {
                texture: &target.texture,
                mip_level: 0,
                origin: wgpu::Origin3d::ZERO,
                aspect: wgpu::TextureAspect::All,
            },
            wgpu::TexelCopyBufferInfo {
                buffer: &target.readback,
                layout: wgpu::TexelCopyBufferLayout {
                    offset: 0,
                    bytes_per_row: Some(target.padded_row),
                    rows_per_image: Some(target.height),
                },
            },
            wgpu::Extent3d {
                width: target.width,
                height: target.height,
                depth_or_array_layers: 1,
            },
        );
        self.queue.submit(Some(encoder.finish()));
        let raw = self.map_read(
            &target.readback,
            (target.padded_row * target.height) as usize,
        )?;
        let row = (target.width * 4) as usize;
        let mut pixels = Vec::with_capacity(row * target.height as usize);
        for y in 0..target.height as usize {
            let start = y * target.padded_row as usize;
            pixels.extend_from_slice(&raw[start..start + row]);
        }
        RgbaImage::from_raw(target.width, target.height, pixels)
            .ok_or_else(|| RenderError::Readback("size".into()))
    }
}

pub use crate::model::pixels::{premultiply, unpremultiply};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shader_validates_through_naga() {
        let module = naga::front::wgsl::parse_str(QUAD_WGSL).expect("WGSL parses");
        naga::valid::Validator::new(
            naga::valid::ValidationFlags::all(),
            naga::valid::Capabilities::empty(),
        )
        .validate(&module)
        .expect("WGSL validates");
    }

    #[test]
    fn rectangular_clips_become_scissors_and_mattes_stay_layers() {
        let rect = [
            [10.0, 20.0],
            [110.0, 20.0],
            [110.0, 70.0],
            [10.0, 20.0],
            [110.0, 70.0],
            [10.0, 70.0],
        ];
        assert_eq!(scissor_rect(&rect, [100, 100]), Some([10, 20, 90, 50]));
        let tri = [[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]];
        assert_eq!(
            scissor_rect(&tri, [100, 100]),
            None,
            "a triangle is not a rectangle"
        );
        assert_eq!(
            intersect([0, 0, 50, 50], [25, 40, 100, 100]),
            [25, 40, 25, 10]
        );
        assert_eq!(intersect([0, 0, 10, 10], [20, 20, 5, 5])[2], 0);
        let push = |compose| DrawItem::PushLayer {
            alpha: 1.0,
            compose,
            clip: None,
        };
        let items = [
            push(Compose::SrcOver),
            push(Compose::SrcOver),
            DrawItem::PopLayer,
            push(Compose::SrcIn),
            DrawItem::PopLayer,
            DrawItem::PopLayer,
            push(Compose::SrcOver),
            DrawItem::PopLayer,
        ];
        assert_eq!(
            needs_isolation(&items),
            [true, false, false, false, false, false, false, false]
        );
    }

    /// Axis-aligned bitmap quads cover the pixels whose centres they cover (Chromium's
    /// non-anti-aliased `drawImage`); the picture keeps its place; turned quads keep theirs.
    #[test]
    fn axis_aligned_quads_snap_to_pixel_centres() {
        let q = Quad {
            corners: [[10.25, 20.75], [30.5, 20.75], [30.5, 40.4], [10.25, 40.4]],
            uv: [0.0, 0.0, 1.0, 1.0],
            alpha: 1.0,
        };
        let (c, uv) = pixel_snapped(&q);
        let bits = |v: [[f32; 2]; 4]| v.map(|p| p.map(f32::to_bits));
        // 10.25 → 10, 30.5 → 31 (Skia rounds halves up), 20.75 → 21, 40.4 → 40.
        assert_eq!(
            bits(c),
            bits([[10.0, 21.0], [31.0, 21.0], [31.0, 40.0], [10.0, 40.0]])
        );
        // The texture moves with the edges: u at x = 10 lies 0.25 px before the old edge.
        let du = 0.25 / 20.25;
        assert!((uv[0][0] + du).abs() < 1e-5, "{uv:?}");
        assert!((uv[1][0] - (1.0 + 0.5 / 20.25)).abs() < 1e-5, "{uv:?}");
        assert!((uv[0][1] - (0.25 / 19.65)).abs() < 1e-5, "{uv:?}");
        // A quarter turn (corners listed from the picture's top-left) snaps too.
        let turned = Quad {
            corners: [[30.5, 20.75], [30.5, 40.4], [10.25, 40.4], [10.25, 20.75]],
            ..q
        };
        let (c, _) = pixel_snapped(&turned);
        assert_eq!(
            bits(c),
            bits([[31.0, 21.0], [31.0, 40.0], [10.0, 40.0], [10.0, 21.0]])
        );
        // Rotated, or under a pixel across: multisampled edges, corners untouched.
        let rotated = Quad {
            corners: [[10.0, 10.0], [20.0, 12.0], [18.0, 22.0], [8.0, 20.0]],
            ..q
        };
        assert_eq!(bits(pixel_snapped(&rotated).0), bits(rotated.corners));
        let thin = Quad {
            corners: [[10.2, 10.0], [10.8, 10.0], [10.8, 30.0], [10.2, 30.0]],
            ..q
        };
        assert_eq!(bits(pixel_snapped(&thin).0), bits(thin.corners));
    }

    #[test]
    fn rows_pad_to_256() {
        assert_eq!(padded_bytes_per_row(64), 256);
        assert_eq!(padded_bytes_per_row(65), 512);
        assert_eq!(padded_bytes_per_row(500), 2048);
    }

    #[test]
    fn timestamp_deltas_wrap() {
        assert!((timestamp_delta_ms(1_000, 3_000_000, 1.0) - 2.999).abs() < 1e-9);
        assert!((timestamp_delta_ms(u64::MAX - 9, 10, 2.0) - 40e-6).abs() < 1e-12);
    }
}
