//! Geometry for exact-coverage vector shapes (`fs_cover` and `fs_shape` in
//! `shaders/quad.wgsl`): each triangle of a shape is drawn as its footprint (its pixel-aligned
//! bounding box, or the triangle pushed out half a pixel's diagonal when that is smaller), over
//! which the fragment shader adds the triangle's exact area in each pixel to a coverage
//! texture; the shape is then composited once over the union of the boxes, by its coverage.
//!
//! This is how the reference players' canvases anti-alias paths (Skia's analytic
//! anti-aliasing in Chromium and Android, Core Graphics on iOS): a pixel an edge crosses gets
//! the exact share of it the shape covers, and a shape is composited whole, per pixel, by its
//! own coverage, so the edge of a shape drawn over another of the same outline lets a little of
//! the lower one through, as theirs do. Multisampling (4 samples) gives only quarters and draws
//! coincident edges as one.

use crate::model::vector::twice_signed_area;

/// A pixel rectangle `[x, y, width, height]`.
pub type PixelRect = [u32; 4];

/// One triangle's coverage box: its corners (target px) and the pixel rectangle it may touch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CoverBox {
    /// The triangle's corners, target px.
    pub corners: [[f32; 2]; 3],
    /// Pixels whose squares the triangle's bounding box meets, clipped to the scissor.
    pub rect: PixelRect,
    /// The triangle pushed out [`REACH`] px along each edge's normal, when that covers fewer
    /// pixels than `rect` (a sliver's box is mostly empty): every pixel whose square meets the
    /// triangle has its centre inside it, so it is drawn instead of the box.
    pub dilated: Option<[[f32; 2]; 3]>,
}

/// Half a pixel's diagonal: a pixel's square meets a shape when its centre lies within this
/// distance of it.
pub const REACH: f32 = std::f32::consts::FRAC_1_SQRT_2;

/// The triangle `t` with each edge moved `REACH` px outwards, or `None` when it is degenerate.
fn dilate(t: [[f32; 2]; 3]) -> Option<[[f32; 2]; 3]> {
    let s = twice_signed_area(t[0], t[1], t[2]).signum();
    // Outward unit normal of edge i (from corner i to corner i + 1).
    let normal = |i: usize| {
        let (p, q) = (t[i], t[(i + 1) % 3]);
        let (dx, dy) = (q[0] - p[0], q[1] - p[1]);
        let len = dx.hypot(dy);
        (len > 0.0).then(|| [s * dy / len, -s * dx / len])
    };
    let n = [normal(0)?, normal(1)?, normal(2)?];
    let mut out = [[0.0f32; 2]; 3];
    for (i, corner) in out.iter_mut().enumerate() {
        // Corner i joins edges i − 1 and i.
        let (n1, n2) = (n[(i + 2) % 3], n[i]);
        let k = REACH / (1.0 + n1[0] * n2[0] + n1[1] * n2[1]).max(1e-6);
        *corner = [t[i][0] + k * (n1[0] + n2[0]), t[i][1] + k * (n1[1] + n2[1])];
    }
    out.iter().flatten().all(|v| v.is_finite()).then_some(out)
}

/// The coverage boxes of `points` (three corners a triangle; a trailing partial triangle is
/// ignored) within `scissor`, and the rectangle they span together. Triangles with a
/// non-finite corner or no area, and those wholly outside `scissor`, are left out; `None` when
/// none is left.
#[must_use]
pub fn cover_boxes(points: &[[f32; 2]], scissor: PixelRect) -> Option<(Vec<CoverBox>, PixelRect)> {
    let [sx, sy, sw, sh] = scissor;
    let (sx1, sy1) = (sx.saturating_add(sw), sy.saturating_add(sh));
    let mut boxes = Vec::with_capacity(points.len() / 3);
    let (mut x0, mut y0, mut x1, mut y1) = (u32::MAX, u32::MAX, 0u32, 0u32);
    for t in points.chunks_exact(3) {
        let [a, b, c] = [t[0], t[1], t[2]];
        if !t.iter().flatten().all(|v| v.is_finite()) {
            continue;
        }
        if twice_signed_area(a, b, c) == 0.0 {
            continue;
        }
        let lo_x = a[0].min(b[0]).min(c[0]).floor().max(sx as f32);
        let lo_y = a[1].min(b[1]).min(c[1]).floor().max(sy as f32);
        let hi_x = a[0].max(b[0]).max(c[0]).ceil().min(sx1 as f32);
        let hi_y = a[1].max(b[1]).max(c[1]).ceil().min(sy1 as f32);
        if hi_x <= lo_x || hi_y <= lo_y {
            continue;
        }
        // Within the scissor, so within u32.
        let rect = [
            lo_x as u32,
            lo_y as u32,
            (hi_x - lo_x) as u32,
            (hi_y - lo_y) as u32,
        ];
        x0 = x0.min(rect[0]);
        y0 = y0.min(rect[1]);
        x1 = x1.max(rect[0] + rect[2]);
        y1 = y1.max(rect[1] + rect[3]);
        let box_area = (hi_x - lo_x) * (hi_y - lo_y);
        let dilated = dilate([a, b, c])
            .filter(|d| twice_signed_area(d[0], d[1], d[2]).abs() * 0.5 < box_area);
        boxes.push(CoverBox {
            corners: [a, b, c],
            rect,
            dilated,
        });
    }
    (!boxes.is_empty()).then(|| (boxes, [x0, y0, x1 - x0, y1 - y0]))
}

/// The affine map from target px to gradient coordinates that the per-corner `uvs` of
/// triangles `points` follow (a gradient's coordinates are affine in position), taken from the
/// triangle of largest area: `uv = m · [x, y, 1]`, rows `m[0]` (u) and `m[1]` (v). `None` when
/// no triangle has area.
#[must_use]
pub fn affine_uv(points: &[[f32; 2]], uvs: &[[f32; 2]]) -> Option<[[f32; 3]; 2]> {
    let mut best: Option<(f32, usize)> = None;
    for (i, t) in points.chunks_exact(3).enumerate().take(uvs.len() / 3) {
        let twice = twice_signed_area(t[0], t[1], t[2]).abs();
        if twice.is_finite() && twice > 0.0 && best.is_none_or(|(b, _)| twice > b) {
            best = Some((twice, i));
        }
    }
    let (_, i) = best?;
    let p = &points[i * 3..i * 3 + 3];
    let q = &uvs[i * 3..i * 3 + 3];
    let (e1, e2) = (
        [p[1][0] - p[0][0], p[1][1] - p[0][1]],
        [p[2][0] - p[0][0], p[2][1] - p[0][1]],
    );
    let det = e1[0] * e2[1] - e1[1] * e2[0];
    if det == 0.0 {
        return None;
    }
    // Inverse of [e1 e2] (columns).
    let inv = [[e2[1] / det, -e2[0] / det], [-e1[1] / det, e1[0] / det]];
    let mut m = [[0.0f32; 3]; 2];
    for (k, row) in m.iter_mut().enumerate() {
        let (f1, f2) = (q[1][k] - q[0][k], q[2][k] - q[0][k]);
        // d(uv_k)/dx and d(uv_k)/dy.
        let gx = f1 * inv[0][0] + f2 * inv[1][0];
        let gy = f1 * inv[0][1] + f2 * inv[1][1];
        *row = [gx, gy, q[0][k] - gx * p[0][0] - gy * p[0][1]];
    }
    m.iter().flatten().all(|v| v.is_finite()).then_some(m)
}

/// Applies [`affine_uv`]'s map to `p`.
#[must_use]
pub fn apply(m: &[[f32; 3]; 2], p: [f32; 2]) -> [f32; 2] {
    [
        m[0][0] * p[0] + m[0][1] * p[1] + m[0][2],
        m[1][0] * p[0] + m[1][1] * p[1] + m[1][2],
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boxes_are_pixel_aligned_and_clipped() {
        let tri = [[1.5, 1.5], [10.2, 2.0], [3.0, 8.7]];
        let (boxes, span) = cover_boxes(&tri, [0, 0, 100, 100]).unwrap();
        assert_eq!(boxes[0].rect, [1, 1, 10, 8]);
        assert_eq!(span, [1, 1, 10, 8]);
        let (clipped, _) = cover_boxes(&tri, [4, 0, 3, 100]).unwrap();
        assert_eq!(clipped[0].rect, [4, 1, 3, 8]);
        assert!(cover_boxes(&tri, [50, 50, 10, 10]).is_none());
        // No area, or not finite: left out.
        assert!(cover_boxes(&[[0.0, 0.0], [1.0, 1.0], [2.0, 2.0]], [0, 0, 9, 9]).is_none());
        assert!(cover_boxes(&[[0.0, 0.0], [f32::NAN, 1.0], [2.0, 0.0]], [0, 0, 9, 9]).is_none());
    }

    #[test]
    fn a_sliver_is_drawn_dilated_and_every_touched_pixel_is_inside() {
        // A long thin diagonal sliver: its box is 40 × 40 px, the triangle 0.5 px wide.
        let tri = [[0.0, 0.0], [40.0, 40.0], [40.0, 39.5]];
        let (boxes, _) = cover_boxes(&tri, [0, 0, 64, 64]).unwrap();
        let d = boxes[0]
            .dilated
            .expect("the dilated sliver is smaller than its box");
        let inside = |p: [f32; 2]| {
            let e = |u: [f32; 2], v: [f32; 2]| {
                (v[0] - u[0]) * (p[1] - u[1]) - (v[1] - u[1]) * (p[0] - u[0])
            };
            let (x, y, z) = (e(d[0], d[1]), e(d[1], d[2]), e(d[2], d[0]));
            (x >= 0.0 && y >= 0.0 && z >= 0.0) || (x <= 0.0 && y <= 0.0 && z <= 0.0)
        };
        // Pixel (20, 20)'s square holds the point (20.2, 20.0) of the edge from (0, 0): its
        // centre must be drawn, as must the ends' pixels.
        for px in [[20.5, 20.5], [0.5, 0.5], [39.5, 39.5], [39.5, 38.5]] {
            assert!(inside(px), "{px:?} in {d:?}");
        }
        // A pixel well off the sliver is not.
        assert!(!inside([10.5, 30.5]));
        // A small triangle, which pushed out covers more than its box, is drawn as the box.
        let (boxes, _) = cover_boxes(&[[0.0, 0.0], [3.0, 0.0], [0.0, 3.0]], [0, 0, 9, 9]).unwrap();
        assert!(boxes[0].dilated.is_none());
        let (boxes, _) = cover_boxes(&[[0.0, 0.0], [8.0, 0.0], [0.0, 8.0]], [0, 0, 9, 9]).unwrap();
        assert!(boxes[0].dilated.is_some());
    }

    #[test]
    fn the_gradient_map_reproduces_every_corner() {
        // uv = (0.01 x + 0.002 y − 0.3, −0.02 x + 0.5)
        let f = |p: [f32; 2]| [0.01 * p[0] + 0.002 * p[1] - 0.3, -0.02 * p[0] + 0.5];
        let points = [
            [0.0, 0.0],
            [0.5, 0.0],
            [0.0, 0.5],
            [3.0, 4.0],
            [90.0, 7.0],
            [20.0, 80.0],
        ];
        let uvs: Vec<_> = points.iter().map(|p| f(*p)).collect();
        let m = affine_uv(&points, &uvs).unwrap();
        for p in [[0.0, 0.0], [100.0, 50.0], [-20.0, 300.0]] {
            let (got, want) = (apply(&m, p), f(p));
            assert!((got[0] - want[0]).abs() < 1e-4 && (got[1] - want[1]).abs() < 1e-4);
        }
        assert!(affine_uv(&[[0.0, 0.0], [1.0, 1.0], [2.0, 2.0]], &uvs[..3]).is_none());
    }
}
