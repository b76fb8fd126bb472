//! Playback, GPU-free: device tiers, burst scenarios and the scheduler, the texture-budget
//! accounting, and frame statistics. The wgpu side lives in `render`.

pub mod bench;
pub mod cache;
pub mod fidelity;
pub mod scenario;
pub mod stats;
pub mod tiers;

use crate::model::{Affine, DisplayList, DrawCmd};

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

/// Places a display list on a target through `fit` (canvas → target, see
/// [`tiers::fit_contain`]).
#[must_use]
pub fn place_quads(dl: &DisplayList, fit: Affine) -> Vec<PlacedQuad> {
    dl.cmds
        .iter()
        .map(
            |&DrawCmd::Image {
                 image,
                 uv,
                 size,
                 transform,
                 alpha,
             }| {
                let t = fit.then_after(transform);
                let c = |x: f32, y: f32| {
                    let (px, py) = t.apply(x, y);
                    [px, py]
                };
                PlacedQuad {
                    image,
                    corners: [
                        c(0.0, 0.0),
                        c(size[0], 0.0),
                        c(size[0], size[1]),
                        c(0.0, size[1]),
                    ],
                    uv,
                    alpha,
                }
            },
        )
        .collect()
}
