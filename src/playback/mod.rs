//! Playback, GPU-free: device tiers, burst scenarios and the scheduler, the texture-budget
//! accounting, and frame statistics. The wgpu side lives in `render`.

pub mod bench;
pub mod cache;
pub mod calibrate;
pub mod device;
pub mod engine;
pub mod fidelity;
pub mod host;
pub mod scenario;
pub mod stats;
pub mod tiers;

use std::sync::Arc;

use crate::model::vector::{GradientPaint, Mesh};
use crate::model::{Affine, Compose, DisplayList, DrawCmd};

/// A quad placed on the target: image index, corners in target px (top-left, top-right,
/// bottom-right, bottom-left), texture rect and opacity.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlacedQuad {
    /// Index into the animation's images.
    pub image: usize,
    /// Corners in target px.
    pub corners: [[f32; 2]; 4],
    /// Texture rect `[u0, v0, u1, v1]`.
    pub uv: [f32; 4],
    /// Opacity, 0–1.
    pub alpha: f32,
}

/// Filled triangles placed on the target: vertices in target px, three per triangle, and a
/// premultiplied colour.
#[derive(Debug, Clone, PartialEq)]
pub struct PlacedMesh {
    /// Triangle corners in target px.
    pub triangles: Vec<[f32; 2]>,
    /// Premultiplied RGBA, 0–1 (with a gradient: its opacity in all four channels).
    pub color: [f32; 4],
    /// A gradient and each corner's ramp coordinate (see
    /// [`crate::model::vector::GradientPaint::uv`]).
    pub gradient: Option<(Arc<GradientPaint>, Vec<[f32; 2]>)>,
    /// Path segments flattened to make the mesh (see [`crate::model::vector::Mesh::segments`]).
    pub segments: u32,
}

/// One display-list command placed on a target (see [`crate::model::DrawCmd`]).
#[derive(Debug, Clone, PartialEq)]
pub enum Placed {
    /// A textured quad.
    Image(PlacedQuad),
    /// Filled triangles.
    Mesh(PlacedMesh),
    /// Start a layer, composited at `alpha` with `compose`, inside `clip` (triangles in
    /// target px, three per triangle) when given.
    PushLayer {
        /// Layer opacity, 0–1.
        alpha: f32,
        /// Compositing operator.
        compose: Compose,
        /// Clip triangles.
        clip: Option<Vec<[f32; 2]>>,
    },
    /// End the innermost layer.
    PopLayer,
}

impl Placed {
    /// The image it samples, if any.
    #[must_use]
    pub fn image(&self) -> Option<usize> {
        match self {
            Self::Image(q) => Some(q.image),
            _ => None,
        }
    }

    /// Target px² it paints (a layer composite paints its clip, or the whole target).
    #[must_use]
    pub fn area(&self, target_area: f64) -> f64 {
        match self {
            Self::Image(q) => {
                let c = q.corners;
                let mut s = 0.0f64;
                for i in 0..4 {
                    let (a, b) = (c[i], c[(i + 1) % 4]);
                    s += f64::from(a[0]) * f64::from(b[1]) - f64::from(b[0]) * f64::from(a[1]);
                }
                s.abs() / 2.0
            }
            Self::Mesh(m) => triangles_area(&m.triangles),
            Self::PushLayer { clip, .. } => clip.as_deref().map_or(target_area, triangles_area),
            Self::PopLayer => 0.0,
        }
    }
}

fn triangles_area(t: &[[f32; 2]]) -> f64 {
    t.chunks_exact(3)
        .map(|t| {
            let (a, b, c) = (t[0], t[1], t[2]);
            f64::from(((b[0] - a[0]) * (c[1] - a[1]) - (c[0] - a[0]) * (b[1] - a[1])).abs()) / 2.0
        })
        .sum()
}

fn place_mesh(mesh: &Mesh, t: Affine) -> Vec<[f32; 2]> {
    mesh.indices
        .iter()
        .filter_map(|&i| mesh.vertices.get(i as usize))
        .map(|v| {
            let (x, y) = t.apply(v[0], v[1]);
            [x, y]
        })
        .collect()
}

/// Places a display list on a target through `fit` (canvas → target, see
/// [`tiers::fit_contain`]).
#[must_use]
pub fn place(dl: &DisplayList, fit: Affine) -> Vec<Placed> {
    dl.cmds
        .iter()
        .map(|cmd| match cmd {
            &DrawCmd::Image {
                image,
                uv,
                size,
                transform,
                alpha,
            } => {
                let t = fit.then_after(transform);
                let c = |x: f32, y: f32| {
                    let (px, py) = t.apply(x, y);
                    [px, py]
                };
                Placed::Image(PlacedQuad {
                    image,
                    corners: [
                        c(0.0, 0.0),
                        c(size[0], 0.0),
                        c(size[0], size[1]),
                        c(0.0, size[1]),
                    ],
                    uv,
                    alpha,
                })
            }
            DrawCmd::Mesh {
                mesh,
                transform,
                color,
                gradient,
            } => Placed::Mesh(PlacedMesh {
                triangles: place_mesh(mesh, fit.then_after(*transform)),
                segments: mesh.segments,
                color: *color,
                gradient: gradient.as_ref().map(|g| {
                    let uvs = mesh
                        .indices
                        .iter()
                        .filter_map(|&i| mesh.vertices.get(i as usize))
                        .map(|v| g.uv(*v))
                        .collect();
                    (Arc::clone(g), uvs)
                }),
            }),
            DrawCmd::PushLayer {
                alpha,
                compose,
                clip,
            } => Placed::PushLayer {
                alpha: *alpha,
                // Effect lengths (blur, shadow offset) are in canvas px: drawn at another
                // size, they scale with it.
                compose: compose.scaled(fit.area_scale().sqrt()),
                clip: clip
                    .as_ref()
                    .map(|(m, t)| place_mesh(m, fit.then_after(*t))),
            },
            DrawCmd::PopLayer => Placed::PopLayer,
        })
        .collect()
}
