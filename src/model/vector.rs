//! Vector shapes: geometry (SVG path data, rect with corner radius, ellipse), fill and stroke
//! styles, and their tessellation into triangle meshes with lyon.
//!
//! Geometry follows `svga.proto`'s `ShapeEntity` (SVGAPlayer's `SVGAVideoShapeEntity`): path
//! `d` strings in SVG path syntax, parsed with kurbo; fills use the non-zero rule as
//! SVGAPlayer-Android's `Path` and the canvas of SVGAPlayer-Web do; dashes (`lineDash`: dash,
//! gap, offset) are cut with kurbo before stroking. Shapes with the same content share one
//! [`ShapeDef`], whose meshes are tessellated once, on first use, and kept: a 600-frame file
//! that repeats its shapes is tessellated once per distinct shape, not per frame.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, OnceLock};

use kurbo::{BezPath, PathEl, Shape as _};
use lyon::tessellation::{
    BuffersBuilder, FillOptions, FillRule, FillTessellator, FillVertex, LineCap, LineJoin,
    StrokeOptions, StrokeTessellator, StrokeVertex, VertexBuffers,
};
use serde::Serialize;

/// Flattening tolerance in the shape's own units (px of the SVGA canvas before scaling).
pub const TOLERANCE: f32 = 0.1;

/// The finest flattening tolerance a shape is tessellated at (its own units), however far
/// its transform scales it up: bounds the segments a hostile transform can ask for.
pub const MIN_TOLERANCE: f32 = 1e-3;

/// The flattening tolerance, in a shape's own units, that keeps its curves within
/// [`TOLERANCE`] canvas px when it is drawn under a transform stretching lengths by `scale`
/// ([`super::Affine::max_scale`]), never finer than [`MIN_TOLERANCE`].
#[must_use]
pub fn tolerance_at(scale: f32) -> f32 {
    (TOLERANCE / scale).max(MIN_TOLERANCE)
}

/// Most path elements one shape may hold after parsing (hostile files).
pub const MAX_PATH_ELEMENTS: usize = 200_000;

pub use crate::format::MAX_COORD;

/// Most line segments one path may flatten into (estimated before tessellating).
pub const MAX_FLATTENED_SEGMENTS: u64 = 1 << 20;

/// Most dashes a dash pattern may cut one path into.
pub const MAX_DASHES: u64 = 100_000;

/// Why a shape's outline cannot be made into triangles. The messages name the limit (see
/// `docs/limits.md`).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ShapeError {
    /// SVG path data (an SVGA `d` string) that does not parse.
    #[error("path data: {0}")]
    PathData(String),
    /// More path elements than [`MAX_PATH_ELEMENTS`].
    #[error("a path of {elements} elements, over the {MAX_PATH_ELEMENTS}-element limit")]
    TooManyElements {
        /// Elements in the path.
        elements: usize,
    },
    /// A coordinate or stroke width beyond [`MAX_COORD`], or not finite.
    #[error("a path reaching {extent:.1e} units, beyond the ±1e6 coordinate limit")]
    OutOfRange {
        /// The largest magnitude found.
        extent: f64,
    },
    /// More flattened segments than [`MAX_FLATTENED_SEGMENTS`].
    #[error(
        "about {segments} segments once flattened, over the {MAX_FLATTENED_SEGMENTS}-segment limit"
    )]
    TooFine {
        /// The estimate.
        segments: u64,
    },
    /// A dash pattern cutting the path into more than [`MAX_DASHES`] dashes.
    #[error("a dash pattern making about {dashes} dashes, over the {MAX_DASHES}-dash limit")]
    TooManyDashes {
        /// The estimate.
        dashes: u64,
    },
    /// lyon refused the path.
    #[error("{kind} tessellation: {message}")]
    Tessellation {
        /// `fill` or `stroke`.
        kind: &'static str,
        /// lyon's error.
        message: String,
    },
}

impl ShapeError {
    /// Whether a limit refused the shape (hostile or broken input), rather than path data
    /// that does not parse or that lyon cannot tessellate (drawn without the shape, as the
    /// players skip it).
    #[must_use]
    pub fn is_limit(&self) -> bool {
        matches!(
            self,
            Self::TooManyElements { .. }
                | Self::OutOfRange { .. }
                | Self::TooFine { .. }
                | Self::TooManyDashes { .. }
        )
    }
}

/// Checks a path before it is flattened: finite coordinates within [`MAX_COORD`] (stroke
/// `width` included), at most [`MAX_FLATTENED_SEGMENTS`] segments at `tolerance` (each
/// curve's control polygon of length `L` flattens into about `sqrt(L / tolerance)` segments,
/// and each round join or cap of a stroke into about `sqrt(width / tolerance)`), and, with a
/// dash `period`, at most [`MAX_DASHES`] dashes along the control polygon.
///
/// # Errors
/// The first limit passed.
pub fn check_flattening(
    path: &BezPath,
    width: f64,
    period: Option<f64>,
    tolerance: f32,
) -> Result<(), ShapeError> {
    let tol = f64::from(tolerance.max(MIN_TOLERANCE));
    let mut extent = width.abs();
    let mut length = 0.0f64;
    let mut segments = 0.0f64;
    let mut last = kurbo::Point::ZERO;
    let mut start = kurbo::Point::ZERO;
    for el in path.elements() {
        let (buf, n) = match el {
            PathEl::MoveTo(p) | PathEl::LineTo(p) => ([*p; 3], 1),
            PathEl::QuadTo(a, b) => ([*a, *b, *b], 2),
            PathEl::CurveTo(a, b, c) => ([*a, *b, *c], 3),
            PathEl::ClosePath => ([start; 3], 1),
        };
        let pts = &buf[..n];
        let mut poly = 0.0;
        let mut prev = last;
        for p in pts {
            extent = extent.max(p.x.abs()).max(p.y.abs());
            if !(p.x.is_finite() && p.y.is_finite()) {
                extent = f64::INFINITY;
            }
            poly += prev.distance(*p);
            prev = *p;
        }
        if let PathEl::MoveTo(p) = el {
            start = *p;
        } else {
            length += poly;
            segments += 1.0
                + if pts.len() > 1 {
                    (poly / tol).sqrt()
                } else {
                    0.0
                };
        }
        last = prev;
    }
    if extent.is_nan() || extent > MAX_COORD {
        return Err(ShapeError::OutOfRange { extent });
    }
    if width > 0.0 {
        segments += path.elements().len() as f64 * 2.0 * (1.0 + (width / tol).sqrt());
    }
    if segments > MAX_FLATTENED_SEGMENTS as f64 {
        return Err(ShapeError::TooFine {
            segments: segments as u64,
        });
    }
    if let Some(period) = period.filter(|p| *p > 0.0) {
        let dashes = length / period;
        if dashes > MAX_DASHES as f64 {
            return Err(ShapeError::TooManyDashes {
                dashes: dashes as u64,
            });
        }
    }
    Ok(())
}

/// A triangle mesh in local coordinates: `vertices` `[x, y]`, `indices` three per triangle.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Mesh {
    /// Vertex positions.
    pub vertices: Vec<[f32; 2]>,
    /// Triangle list indices into `vertices`.
    pub indices: Vec<u32>,
    /// Path segments (lines and curves) flattened to make it: what the device model counts.
    pub segments: u32,
}

impl Mesh {
    /// Summed area of the triangles (local units²): what the mesh paints once.
    #[must_use]
    pub fn area(&self) -> f64 {
        self.indices
            .chunks_exact(3)
            .map(|t| {
                let [a, b, c] = [t[0], t[1], t[2]].map(|i| self.vertices[i as usize]);
                f64::from(twice_signed_area(a, b, c).abs()) / 2.0
            })
            .sum()
    }

    /// Whether it has no triangles.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.indices.is_empty()
    }
}

/// Twice the signed area of triangle `a`, `b`, `c` (the cross product of its edges from `a`):
/// positive when the corners turn counter-clockwise in y-up axes (clockwise on a y-down
/// canvas), zero when they are collinear.
#[must_use]
pub fn twice_signed_area(a: [f32; 2], b: [f32; 2], c: [f32; 2]) -> f32 {
    (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])
}

/// The outline of a shape.
#[derive(Debug, Clone, PartialEq)]
pub enum Geometry {
    /// SVG path data (`d`).
    Path(String),
    /// A rectangle `x, y, width, height` with a corner radius.
    Rect([f32; 5]),
    /// An ellipse: centre `x, y` and radii `rx, ry`.
    Ellipse([f32; 4]),
    /// An outline given as path elements (Lottie shapes through velato).
    Elements(BezPath),
}

impl Geometry {
    /// The outline as a kurbo path.
    ///
    /// # Errors
    /// [`ShapeError::PathData`] when SVG path data does not parse,
    /// [`ShapeError::TooManyElements`] when it is too long.
    pub fn to_path(&self) -> Result<BezPath, ShapeError> {
        let path = match self {
            Self::Path(d) => {
                BezPath::from_svg(d).map_err(|e| ShapeError::PathData(e.to_string()))?
            }
            Self::Rect([x, y, w, h, r]) => {
                let rect = kurbo::Rect::new(
                    f64::from(*x),
                    f64::from(*y),
                    f64::from(x + w),
                    f64::from(y + h),
                );
                let r =
                    f64::from(r.max(0.0)).min(rect.width().abs().min(rect.height().abs()) / 2.0);
                rect.to_rounded_rect(r).to_path(f64::from(TOLERANCE) / 4.0)
            }
            Self::Ellipse([x, y, rx, ry]) => kurbo::Ellipse::new(
                (f64::from(*x), f64::from(*y)),
                (f64::from(*rx), f64::from(*ry)),
                0.0,
            )
            .to_path(f64::from(TOLERANCE) / 4.0),
            Self::Elements(p) => p.clone(),
        };
        if path.elements().len() > MAX_PATH_ELEMENTS {
            return Err(ShapeError::TooManyElements {
                elements: path.elements().len(),
            });
        }
        Ok(path)
    }
}

/// How stroke ends are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Cap {
    /// Flat at the end point.
    Butt,
    /// Half a disc.
    Round,
    /// Half a square.
    Square,
}

/// How stroke corners are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Join {
    /// Sharp, up to the miter limit.
    Miter,
    /// Rounded.
    Round,
    /// Cut off.
    Bevel,
}

/// A stroke style.
#[derive(Debug, Clone, PartialEq)]
pub struct Stroke {
    /// Straight-alpha RGBA, 0–1.
    pub color: [f32; 4],
    /// Line width in local units.
    pub width: f32,
    /// Line ends.
    pub cap: Cap,
    /// Corners.
    pub join: Join,
    /// Miter limit (ratio), ≥ 1.
    pub miter_limit: f32,
    /// Dash pattern (lengths, alternating dash and gap) and offset; empty for solid.
    pub dash: Vec<f32>,
    /// Dash offset.
    pub dash_offset: f32,
}

/// What is drawn for a shape: its outline and styles. Shared by every frame that draws the
/// same shape; the meshes are tessellated once.
#[derive(Debug)]
pub struct ShapeDef {
    /// The outline.
    pub geometry: Geometry,
    /// Straight-alpha fill colour, 0–1, if filled.
    pub fill: Option<[f32; 4]>,
    /// Stroke, if stroked.
    pub stroke: Option<Stroke>,
    /// Flattening tolerance in the shape's own units (`f32` bits): [`TOLERANCE`], made finer
    /// by [`ShapeDef::refine_for`] for every transform the shape is drawn under.
    tolerance: AtomicU32,
    meshes: OnceLock<ShapeMeshes>,
    /// The stroke last tessellated as a hairline ([`ShapeDef::hairline_mesh`]): its local
    /// width (`f32` bits) and mesh.
    hairline: std::sync::Mutex<Option<(u32, Arc<Mesh>)>>,
}

/// Skia's rule for strokes thinner than a pixel (`SkDrawTreatAsHairline`, which the reference
/// players' canvases follow: Chromium's and Android's): a stroke of `width` local units whose
/// width vectors `transform` maps both to at most 1 canvas px (lengths measured as Skia's
/// `fast_len`, the larger coordinate plus half the smaller) is drawn as a hairline, one pixel
/// wide, at an opacity scaled by the mean of those two lengths. Returns the local width of
/// one canvas px under `transform` and that opacity factor, or `None` for a stroke drawn at its
/// own width (a non-finite or degenerate transform included).
#[must_use]
pub fn hairline(width: f32, transform: super::Affine) -> Option<(f32, f32)> {
    let [a, b, c, d, ..] = transform.0;
    let fast_len = |x: f32, y: f32| {
        let (x, y) = (x.abs(), y.abs());
        x.max(y) + x.min(y) / 2.0
    };
    let len0 = fast_len(a * width, b * width);
    let len1 = fast_len(c * width, d * width);
    let det = transform.area_scale();
    if !(width > 0.0 && len0 <= 1.0 && len1 <= 1.0 && det.is_normal()) {
        return None;
    }
    let local = 1.0 / det.sqrt();
    local
        .is_finite()
        .then_some((local, f32::midpoint(len0, len1)))
}

/// The stroke `s` drawn as a hairline `local_width` wide (see [`hairline`]): Skia draws a
/// hairline segment by segment, its ends extended half a pixel for round and square caps.
#[must_use]
pub fn hairline_stroke(s: &Stroke, local_width: f32) -> Stroke {
    Stroke {
        width: local_width,
        cap: match s.cap {
            Cap::Butt => Cap::Butt,
            Cap::Round | Cap::Square => Cap::Square,
        },
        join: Join::Bevel,
        ..s.clone()
    }
}

/// The tessellated fill and stroke of a [`ShapeDef`].
#[derive(Debug, Clone, Default)]
pub struct ShapeMeshes {
    /// The fill's triangles.
    pub fill: Option<Arc<Mesh>>,
    /// The stroke's triangles.
    pub stroke: Option<Arc<Mesh>>,
    /// Why the outline could not be tessellated, if it could not.
    pub error: Option<ShapeError>,
}

impl ShapeDef {
    /// A shape definition (not yet tessellated).
    #[must_use]
    pub fn new(geometry: Geometry, fill: Option<[f32; 4]>, stroke: Option<Stroke>) -> Self {
        Self {
            geometry,
            fill,
            stroke,
            tolerance: AtomicU32::new(TOLERANCE.to_bits()),
            meshes: OnceLock::new(),
            hairline: std::sync::Mutex::new(None),
        }
    }

    /// The stroke tessellated as a hairline `local_width` units wide ([`hairline`]); the last
    /// one is kept, so a shape drawn at one scale frame after frame is tessellated once, unless
    /// `fresh` asks for a new tessellation (as [`ShapeDef::tessellate`] does for benchmarks).
    /// `None` when the shape has no stroke or it cannot be tessellated (the stroke's own
    /// mesh then says why).
    pub fn hairline_mesh(&self, local_width: f32, fresh: bool) -> Option<Arc<Mesh>> {
        let stroke = self.stroke.as_ref()?;
        let tessellate = || {
            let path = self.geometry.to_path().ok()?;
            stroke_mesh(
                &path,
                &hairline_stroke(stroke, local_width),
                self.tolerance(),
            )
            .ok()
            .map(Arc::new)
        };
        if fresh {
            return tessellate();
        }
        let mut kept = self
            .hairline
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((w, m)) = kept.as_ref()
            && *w == local_width.to_bits()
        {
            return Some(Arc::clone(m));
        }
        let mesh = tessellate()?;
        *kept = Some((local_width.to_bits(), Arc::clone(&mesh)));
        Some(mesh)
    }

    /// Makes the tessellation fine enough that curves stay within [`TOLERANCE`] canvas px
    /// when the shape is drawn under a transform that stretches lengths by `scale` (the
    /// sprite's and the shape's transforms together, [`super::Affine::max_scale`]), down to
    /// [`MIN_TOLERANCE`]. Called while the file is read, before the meshes are first made;
    /// the finest of all calls wins.
    pub fn refine_for(&self, scale: f32) {
        if scale.is_finite() && scale > 1.0 {
            let tol = tolerance_at(scale);
            // Positive floats order as their bits do.
            self.tolerance.fetch_min(tol.to_bits(), Ordering::Relaxed);
        }
    }

    /// The flattening tolerance the meshes are made at, in the shape's own units.
    #[must_use]
    pub fn tolerance(&self) -> f32 {
        f32::from_bits(self.tolerance.load(Ordering::Relaxed))
    }

    /// The meshes, tessellated on first use and kept.
    pub fn meshes(&self) -> &ShapeMeshes {
        self.meshes.get_or_init(|| self.tessellate())
    }

    /// Tessellates the fill and the stroke anew (what the cache saves; benchmarks).
    #[must_use]
    pub fn tessellate(&self) -> ShapeMeshes {
        let path = match self.geometry.to_path() {
            Ok(p) => p,
            Err(e) => {
                return ShapeMeshes {
                    error: Some(e),
                    ..ShapeMeshes::default()
                };
            }
        };
        let mut out = ShapeMeshes::default();
        if self.fill.is_some_and(|c| c[3] > 0.0) {
            match fill_mesh(&path, self.tolerance()) {
                Ok(m) => out.fill = Some(Arc::new(m)),
                Err(e) => out.error = Some(e),
            }
        }
        if let Some(s) = self
            .stroke
            .as_ref()
            .filter(|s| s.width > 0.0 && s.color[3] > 0.0)
        {
            match stroke_mesh(&path, s, self.tolerance()) {
                Ok(m) => out.stroke = Some(Arc::new(m)),
                Err(e) => out.error = Some(e),
            }
        }
        out
    }

    /// A key equal for shapes with the same content (float bits compared exactly).
    fn key(&self) -> ShapeKey {
        let mut nums = Vec::new();
        let geometry = match &self.geometry {
            Geometry::Path(d) => d.clone(),
            Geometry::Rect(v) => {
                nums.extend(v.iter().map(|f| f.to_bits()));
                "rect".to_owned()
            }
            Geometry::Ellipse(v) => {
                nums.extend(v.iter().map(|f| f.to_bits()));
                "ellipse".to_owned()
            }
            Geometry::Elements(p) => p.to_svg(),
        };
        if let Some(f) = self.fill {
            nums.push(1);
            nums.extend(f.iter().map(|f| f.to_bits()));
        }
        if let Some(s) = &self.stroke {
            nums.push(2);
            nums.extend(s.color.iter().map(|f| f.to_bits()));
            nums.extend([
                s.width.to_bits(),
                s.cap as u32,
                s.join as u32,
                s.miter_limit.to_bits(),
                s.dash_offset.to_bits(),
            ]);
            nums.extend(s.dash.iter().map(|f| f.to_bits()));
        }
        (geometry, nums)
    }
}

type ShapeKey = (String, Vec<u32>);

/// Shares one [`ShapeDef`] among equal shapes while a file is read.
#[derive(Debug, Default)]
pub struct ShapeInterner {
    map: HashMap<ShapeKey, Arc<ShapeDef>>,
}

impl ShapeInterner {
    /// The shared definition equal to `def`.
    pub fn intern(&mut self, def: ShapeDef) -> Arc<ShapeDef> {
        Arc::clone(self.map.entry(def.key()).or_insert_with(|| Arc::new(def)))
    }

    /// Distinct shapes seen.
    #[must_use]
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether none was seen.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

fn lyon_path(els: impl Iterator<Item = PathEl>) -> lyon::path::Path {
    let p = |pt: kurbo::Point| lyon::math::point(pt.x as f32, pt.y as f32);
    let mut b = lyon::path::Path::builder();
    let mut open = false;
    for el in els {
        match el {
            PathEl::MoveTo(a) => {
                if open {
                    b.end(false);
                }
                b.begin(p(a));
                open = true;
            }
            PathEl::LineTo(a) if open => {
                b.line_to(p(a));
            }
            PathEl::QuadTo(a, c) if open => {
                b.quadratic_bezier_to(p(a), p(c));
            }
            PathEl::CurveTo(a, c, d) if open => {
                b.cubic_bezier_to(p(a), p(c), p(d));
            }
            PathEl::ClosePath if open => {
                b.end(true);
                open = false;
            }
            _ => {}
        }
    }
    if open {
        b.end(false);
    }
    b.build()
}

/// Tessellates the inside of a path (non-zero rule), curves flattened to within `tolerance`
/// of the shape's own units (at least [`MIN_TOLERANCE`]).
///
/// # Errors
/// A limit of [`check_flattening`] passed, or lyon's message when the path cannot be
/// tessellated.
pub fn fill_mesh(path: &BezPath, tolerance: f32) -> Result<Mesh, ShapeError> {
    let tolerance = tolerance.max(MIN_TOLERANCE);
    check_flattening(path, 0.0, None, tolerance)?;
    let lp = lyon_path(path.elements().iter().copied());
    let mut buffers: VertexBuffers<[f32; 2], u32> = VertexBuffers::new();
    FillTessellator::new()
        .tessellate_path(
            &lp,
            &FillOptions::tolerance(tolerance).with_fill_rule(FillRule::NonZero),
            &mut BuffersBuilder::new(&mut buffers, |v: FillVertex| v.position().to_array()),
        )
        .map_err(|e| ShapeError::Tessellation {
            kind: "fill",
            message: format!("{e:?}"),
        })?;
    Ok(Mesh {
        vertices: buffers.vertices,
        indices: buffers.indices,
        segments: u32::try_from(path.elements().len()).unwrap_or(u32::MAX),
    })
}

/// Tessellates a stroke along a path, dashed first when the stroke has a dash pattern, curves
/// and round joins flattened to within `tolerance` of the shape's own units (at least
/// [`MIN_TOLERANCE`]).
///
/// # Errors
/// A limit of [`check_flattening`] passed (the width and the dashes included), or lyon's
/// message when the path cannot be tessellated.
pub fn stroke_mesh(path: &BezPath, s: &Stroke, tolerance: f32) -> Result<Mesh, ShapeError> {
    let tolerance = tolerance.max(MIN_TOLERANCE);
    let dashes: Vec<f64> = s.dash.iter().map(|d| f64::from(d.max(0.0))).collect();
    let period = dashes.iter().sum::<f64>();
    let is_dashed = dashes.len() >= 2 && period > 0.0;
    check_flattening(
        path,
        f64::from(s.width),
        is_dashed.then_some(period),
        tolerance,
    )?;
    let lp = if is_dashed {
        lyon_path(kurbo::dash(
            path.elements().iter().copied(),
            f64::from(s.dash_offset),
            &dashes,
        ))
    } else {
        lyon_path(path.elements().iter().copied())
    };
    let cap = match s.cap {
        Cap::Butt => LineCap::Butt,
        Cap::Round => LineCap::Round,
        Cap::Square => LineCap::Square,
    };
    let join = match s.join {
        Join::Miter => LineJoin::Miter,
        Join::Round => LineJoin::Round,
        Join::Bevel => LineJoin::Bevel,
    };
    let opts = StrokeOptions::tolerance(tolerance)
        .with_line_width(s.width)
        .with_line_cap(cap)
        .with_line_join(join)
        .with_miter_limit(s.miter_limit.max(StrokeOptions::MINIMUM_MITER_LIMIT));
    let mut buffers: VertexBuffers<[f32; 2], u32> = VertexBuffers::new();
    StrokeTessellator::new()
        .tessellate_path(
            &lp,
            &opts,
            &mut BuffersBuilder::new(&mut buffers, |v: StrokeVertex| v.position().to_array()),
        )
        .map_err(|e| ShapeError::Tessellation {
            kind: "stroke",
            message: format!("{e:?}"),
        })?;
    Ok(Mesh {
        vertices: buffers.vertices,
        indices: buffers.indices,
        segments: u32::try_from(path.elements().len()).unwrap_or(u32::MAX),
    })
}

/// Texels of a gradient ramp (one row, premultiplied RGBA8).
pub const RAMP_TEXELS: usize = 256;

/// A linear or radial gradient in a mesh's local space (Lottie `gf`/`gs` through velato): colour
/// stops at offsets 0–1 along the line from `start` to `end`, or outwards from `start` (the
/// centre) to the circle through `end`; padded beyond the ends.
#[derive(Debug, Clone, PartialEq)]
pub struct GradientPaint {
    /// Radial (distance from `start`) instead of linear.
    pub radial: bool,
    /// Start point, or the centre.
    pub start: [f32; 2],
    /// End point, or a point on the outer circle.
    pub end: [f32; 2],
    /// `(offset, straight RGBA 0–1)`, offsets ascending.
    pub stops: Vec<(f32, [f32; 4])>,
}

impl GradientPaint {
    /// The colour ramp: [`RAMP_TEXELS`] premultiplied RGBA8 texels from offset 0 to 1,
    /// interpolated linearly between stops in straight sRGB (as lottie-web's canvas does).
    #[must_use]
    pub fn ramp(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(RAMP_TEXELS * 4);
        for i in 0..RAMP_TEXELS {
            let t = i as f32 / (RAMP_TEXELS - 1) as f32;
            let c = self.color_at(t);
            let a = c[3].clamp(0.0, 1.0);
            for v in [c[0] * a, c[1] * a, c[2] * a, a] {
                out.push((v.clamp(0.0, 1.0) * 255.0).round() as u8);
            }
        }
        out
    }

    fn color_at(&self, t: f32) -> [f32; 4] {
        let Some(first) = self.stops.first() else {
            return [0.0; 4];
        };
        if t <= first.0 {
            return first.1;
        }
        for w in self.stops.windows(2) {
            let ((t0, c0), (t1, c1)) = (w[0], w[1]);
            if t <= t1 {
                let f = if t1 > t0 { (t - t0) / (t1 - t0) } else { 1.0 };
                return [0, 1, 2, 3].map(|k| c0[k] + (c1[k] - c0[k]) * f);
            }
        }
        self.stops.last().map_or([0.0; 4], |s| s.1)
    }

    /// The texture coordinate of a local point: `(t, 0.5)` along a linear gradient (affine, so
    /// exact when interpolated across a triangle), or the offset from the centre in radii for a
    /// radial one (the shader takes its length per pixel).
    #[must_use]
    pub fn uv(&self, p: [f32; 2]) -> [f32; 2] {
        let d = [self.end[0] - self.start[0], self.end[1] - self.start[1]];
        let q = [p[0] - self.start[0], p[1] - self.start[1]];
        if self.radial {
            let r = (d[0] * d[0] + d[1] * d[1]).sqrt().max(1e-6);
            [q[0] / r, q[1] / r]
        } else {
            let len2 = (d[0] * d[0] + d[1] * d[1]).max(1e-12);
            [(q[0] * d[0] + q[1] * d[1]) / len2, 0.5]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strokes_under_a_pixel_are_hairlines_as_skia_draws_them() {
        use crate::model::Affine;
        // Half a pixel wide: a one-pixel hairline at half the opacity.
        assert_eq!(hairline(0.5, Affine::IDENTITY), Some((1.0, 0.5)));
        // Exactly one pixel is still a hairline, at full opacity; wider is drawn as it is.
        assert_eq!(hairline(1.0, Affine::IDENTITY), Some((1.0, 1.0)));
        assert_eq!(hairline(1.5, Affine::IDENTITY), None);
        // 2 units drawn at a quarter: half a pixel; one pixel is 4 units.
        assert_eq!(hairline(2.0, Affine::scale(0.25, 0.25)), Some((4.0, 0.5)));
        // Turned 45°: Skia's fast_len of (0.5, 0.5)·√½ overestimates the length by 6 %.
        let r = std::f32::consts::FRAC_1_SQRT_2;
        let (w, k) = hairline(0.5, Affine([r, r, -r, r, 0.0, 0.0])).unwrap();
        assert!(
            (w - 1.0).abs() < 1e-5 && (k - 0.75 * r).abs() < 1e-5,
            "{w} {k}"
        );
        // No width, or a transform that flattens everything: not a hairline.
        assert_eq!(hairline(0.0, Affine::IDENTITY), None);
        assert_eq!(hairline(0.5, Affine::scale(0.0, 1.0)), None);
        let s = Stroke {
            color: [1.0; 4],
            width: 0.5,
            cap: Cap::Round,
            join: Join::Miter,
            miter_limit: 4.0,
            dash: vec![2.0, 1.0],
            dash_offset: 0.5,
        };
        let h = hairline_stroke(&s, 1.0);
        assert_eq!((h.width, h.cap, h.join), (1.0, Cap::Square, Join::Bevel));
        assert_eq!((h.dash, h.dash_offset), (s.dash, s.dash_offset));
    }

    #[test]
    fn gradient_ramps_and_coordinates() {
        let g = GradientPaint {
            radial: false,
            start: [0.0, 0.0],
            end: [10.0, 0.0],
            stops: vec![(0.0, [1.0, 0.0, 0.0, 1.0]), (1.0, [0.0, 0.0, 1.0, 0.5])],
        };
        let ramp = g.ramp();
        assert_eq!(&ramp[..4], &[255, 0, 0, 255]);
        assert_eq!(&ramp[ramp.len() - 4..], &[0, 0, 128, 128], "premultiplied");
        let close = |a: [f32; 2], b: [f32; 2]| (a[0] - b[0]).abs() + (a[1] - b[1]).abs() < 1e-6;
        assert!(close(g.uv([5.0, 7.0]), [0.5, 0.5]));
        let r = GradientPaint { radial: true, ..g };
        assert!(close(r.uv([0.0, 20.0]), [0.0, 2.0]));
    }

    #[test]
    fn a_square_path_fills_its_area() {
        let def = ShapeDef::new(
            Geometry::Path("M0,0 L10,0 L10,10 L0,10 Z".into()),
            Some([1.0, 0.0, 0.0, 1.0]),
            None,
        );
        let m = def.meshes().fill.clone().unwrap();
        assert!((m.area() - 100.0).abs() < 1e-3, "{}", m.area());
    }

    #[test]
    fn ellipse_and_rounded_rect_areas() {
        let e = Geometry::Ellipse([0.0, 0.0, 10.0, 5.0]).to_path().unwrap();
        let area = fill_mesh(&e, TOLERANCE).unwrap().area();
        // Flattened within TOLERANCE: the inscribed polygon falls short by under 2 %.
        let exact = std::f64::consts::PI * 50.0;
        assert!(area < exact && area > exact * 0.98, "{area}");
        let r = Geometry::Rect([0.0, 0.0, 20.0, 10.0, 5.0])
            .to_path()
            .unwrap();
        let area = fill_mesh(&r, TOLERANCE).unwrap().area();
        // 200 − (4 − π)·25 for the rounded corners, flattened within 2 %.
        let exact = 200.0 - (4.0 - std::f64::consts::PI) * 25.0;
        assert!(area <= exact + 1e-3 && area > exact * 0.98, "{area}");
    }

    #[test]
    fn a_shape_drawn_scaled_up_is_flattened_finer() {
        // A circle of radius 2 units drawn 40× up (80 px on the canvas): at the default
        // tolerance its polygon misses the circle by up to 0.1 unit = 4 canvas px.
        let def = || {
            ShapeDef::new(
                Geometry::Ellipse([0.0, 0.0, 2.0, 2.0]),
                Some([1.0; 4]),
                None,
            )
        };
        let exact = std::f64::consts::PI * 4.0;
        let coarse = def();
        let coarse_area = coarse.meshes().fill.clone().unwrap().area();
        let fine = def();
        fine.refine_for(40.0);
        fine.refine_for(2.0); // a smaller use does not coarsen it again
        assert!((fine.tolerance() - TOLERANCE / 40.0).abs() < 1e-7);
        let fine_area = fine.meshes().fill.clone().unwrap().area();
        // Within 0.1 canvas px of the circle: area short by under 2 × 0.1 / 80 of it.
        assert!(
            fine_area < exact && fine_area > exact * (1.0 - 0.2 / 80.0),
            "{fine_area}"
        );
        assert!(coarse_area < exact * (1.0 - 0.2 / 80.0), "{coarse_area}");
        // However far a transform scales, the tolerance stops at MIN_TOLERANCE.
        let huge = def();
        huge.refine_for(1e9);
        assert_eq!(huge.tolerance().to_bits(), MIN_TOLERANCE.to_bits());
        huge.refine_for(f32::NAN);
        assert_eq!(huge.tolerance().to_bits(), MIN_TOLERANCE.to_bits());
    }

    #[test]
    fn strokes_cover_width_times_length_and_dashes_cover_less() {
        let line = Geometry::Path("M0,0 L100,0".into()).to_path().unwrap();
        let mut s = Stroke {
            color: [0.0, 0.0, 0.0, 1.0],
            width: 4.0,
            cap: Cap::Butt,
            join: Join::Miter,
            miter_limit: 4.0,
            dash: vec![],
            dash_offset: 0.0,
        };
        let solid = stroke_mesh(&line, &s, TOLERANCE).unwrap().area();
        assert!((solid - 400.0).abs() < 1e-2, "{solid}");
        s.dash = vec![10.0, 10.0];
        let dashed = stroke_mesh(&line, &s, TOLERANCE).unwrap().area();
        assert!((dashed - 200.0).abs() < 1e-2, "{dashed}");
    }

    #[test]
    fn equal_shapes_share_one_definition_and_bad_paths_say_why() {
        let mut i = ShapeInterner::default();
        let mk = || {
            ShapeDef::new(
                Geometry::Path("M0,0 L1,1 L0,1 Z".into()),
                Some([1.0; 4]),
                None,
            )
        };
        let a = i.intern(mk());
        let b = i.intern(mk());
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(i.len(), 1);
        let bad = ShapeDef::new(Geometry::Path("M0,0 L1,".into()), Some([1.0; 4]), None);
        assert!(bad.meshes().error.is_some());
    }
}
