//! Brings velato's Lottie model in line with lottie-web, the player gift teams author against
//! and the one the golden frames in `../shared/reference/lottie/` come from.
//!
//! velato 0.12 departs from lottie-web in two places this module mends on the model after
//! parsing:
//!
//! - **Eased path keyframes.** velato interpolates animated paths (`sh` shapes and mask paths)
//!   linearly between keyframes and ignores the keyframe's easing handles (`i`/`o`), where
//!   lottie-web's `ShapeProperty.interpolateShape` eases them like any other property. Each
//!   eased segment is resampled into [`SAMPLES_PER_FRAME`] linear keyframes per frame, with the
//!   vertices placed at the eased fraction (velato's own cubic-bezier easing,
//!   [`velato::model::Tween`]).
//! - **Polystar geometry.** velato rounds star and polygon corners with its own tangent length
//!   and rounds the point count; lottie-web (`ShapeProperty.convertStarToPath` /
//!   `convertPolygonToPath`) floors the point count and uses a tangent of
//!   `2π·radius / (4·points) × roundness` at every vertex. Stars are rebuilt that way: a fixed
//!   path when nothing moves, else one linear keyframe per sample over the animated range.
//!   Static stars reach this pass because [`keep_star_animated`] marks them before parsing
//!   (velato would otherwise bake them into a fixed path with its own formula).
//!
//! Memory stays bounded: a composition gets at most [`MAX_BAKED_POINTS`] resampled points in
//! all; segments past that budget keep velato's linear interpolation.

use kurbo::{PathEl, Point};
use serde_json::Value;
use velato::Composition;
use velato::model::animated::{Spline, SplineKeyframeValues, Star};
use velato::model::{Content, Easing, EasingHandle, Geometry, Layer, Shape, Time, Tween};

/// Linear samples per frame that stand for one eased segment (4: quarter frames).
pub const SAMPLES_PER_FRAME: f64 = 4.0;
/// Most samples one keyframe segment or one animated star is cut into.
pub const MAX_SAMPLES_PER_RUN: usize = 4096;
/// Most resampled points (each 16 bytes) one composition may gain: 2 Mi points, 32 MiB.
pub const MAX_BAKED_POINTS: usize = 2 << 20;
/// How far an easing handle may sit off the diagonal and still count as linear.
const LINEAR_EPS: f64 = 1e-9;
/// Deepest group nesting walked (the JSON parser stops well before).
const MAX_DEPTH: usize = 256;

/// What [`conform`] changed, for reports and tests.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Conformed {
    /// Path keyframe segments resampled with their easing.
    pub eased_segments: usize,
    /// Stars and polygons rebuilt with lottie-web's geometry.
    pub polystars: usize,
    /// Eased segments left linear because the point budget ran out.
    pub over_budget: usize,
}

/// Rewrites `comp` in place where velato's model departs from lottie-web (see the module
/// docs). Touches every layer of the composition and of its precomposition assets.
pub fn conform(comp: &mut Composition) -> Conformed {
    let mut pass = Pass {
        done: Conformed::default(),
        budget: MAX_BAKED_POINTS,
    };
    for layers in std::iter::once(&mut comp.layers).chain(comp.assets.values_mut()) {
        for layer in layers.iter_mut() {
            pass.layer(layer);
        }
    }
    pass.done
}

/// Marks a fully static polystar (`"ty": "sr"`) of Lottie JSON as animated by giving its
/// point count two equal keyframes, so velato keeps it as a star for [`conform`] to rebuild.
/// Leaves anything else untouched.
pub fn keep_star_animated(shape: &mut serde_json::Map<String, Value>) {
    if shape.get("ty").and_then(Value::as_str) != Some("sr") {
        return;
    }
    let keyframed = |p: &Value| p.get("a").and_then(Value::as_u64) == Some(1);
    if ["p", "pt", "r", "or", "os", "ir", "is"]
        .iter()
        .filter_map(|k| shape.get(*k))
        .any(keyframed)
    {
        return;
    }
    let Some(points) = shape
        .get("pt")
        .and_then(|p| p.get("k"))
        .and_then(|k| k.as_f64().or_else(|| k.get(0).and_then(Value::as_f64)))
    else {
        return;
    };
    let key = |t: f64| serde_json::json!({ "t": t, "s": [points] });
    shape.insert(
        "pt".into(),
        serde_json::json!({ "a": 1, "k": [key(0.0), key(1.0)] }),
    );
}

struct Pass {
    done: Conformed,
    budget: usize,
}

impl Pass {
    fn layer(&mut self, layer: &mut Layer) {
        for mask in &mut layer.masks {
            self.geometry(&mut mask.geometry);
        }
        if let Content::Shape(shapes) = &mut layer.content {
            self.shapes(shapes, 0);
        }
    }

    fn shapes(&mut self, shapes: &mut [Shape], depth: usize) {
        if depth > MAX_DEPTH {
            return;
        }
        for shape in shapes {
            match shape {
                Shape::Group(children, _) => self.shapes(children, depth + 1),
                Shape::Geometry(g) => self.geometry(g),
                _ => {}
            }
        }
    }

    fn geometry(&mut self, g: &mut Geometry) {
        match g {
            Geometry::Spline(spline) => self.ease_spline(spline),
            Geometry::Star(star) => {
                if let Some(rebuilt) = self.star(star) {
                    *g = rebuilt;
                    self.done.polystars += 1;
                }
            }
            _ => {}
        }
    }

    /// Resamples each eased segment of an animated path into linear keyframes.
    fn ease_spline(&mut self, spline: &mut Spline) {
        let n = spline.times.len().min(spline.values.len());
        if n < 2 || !(0..n - 1).any(|k| eased(&spline.times[k])) {
            return;
        }
        let mut times = Vec::with_capacity(n);
        let mut values = Vec::with_capacity(n);
        for k in 0..n {
            let t0 = spline.times[k];
            let from = &spline.values[k];
            let next = (k + 1 < n).then(|| (spline.times[k + 1], &spline.values[k + 1]));
            let Some((t1, to)) = next.filter(|(t1, _)| eased(&t0) && t1.frame > t0.frame) else {
                times.push(t0);
                values.push(from.clone());
                continue;
            };
            let target = from.end.as_deref().unwrap_or(&to.start);
            let len = from.start.len().min(target.len());
            let steps = samples(t1.frame - t0.frame);
            if len == 0 || steps * len > self.budget {
                self.done.over_budget += 1;
                times.push(t0);
                values.push(from.clone());
                continue;
            }
            self.budget -= steps * len;
            self.done.eased_segments += 1;
            let easing = easing_of(&t0);
            for j in 0..steps {
                let u = j as f64 / steps as f64;
                let w = 0.0f64.tween(&1.0, u, &easing);
                let start = (0..len)
                    .map(|i| from.start[i].lerp(target[i], w))
                    .collect::<Vec<_>>();
                // The last sample runs to the segment's own target, which may differ from the
                // next keyframe's start when the file gives `e` values.
                let end = (j + 1 == steps && from.end.is_some()).then(|| target[..len].to_vec());
                times.push(linear(t0.frame + (t1.frame - t0.frame) * u));
                values.push(SplineKeyframeValues { start, end });
            }
        }
        spline.times = times;
        spline.values = values;
    }

    /// lottie-web's geometry for a star or polygon: a fixed path when it never changes, else
    /// a spline with one linear keyframe per sample over the frames its properties animate.
    fn star(&mut self, star: &Star) -> Option<Geometry> {
        let (first, last) = animated_range(star)?;
        let steps = samples(last - first).max(1);
        let mut times = Vec::new();
        let mut values: Vec<SplineKeyframeValues> = Vec::new();
        for j in 0..=steps {
            let frame = first + (last - first) * j as f64 / steps as f64;
            let points = star_points(star, frame);
            if values.last().is_some_and(|v| v.start == points) {
                continue;
            }
            if self.budget < points.len() {
                return None;
            }
            self.budget -= points.len();
            times.push(linear(frame));
            values.push(SplineKeyframeValues {
                start: points,
                end: None,
            });
        }
        // A change of vertex count cannot be interpolated: hold until the next sample.
        for k in 0..values.len().saturating_sub(1) {
            if values[k].start.len() != values[k + 1].start.len() {
                times[k].hold = true;
            }
        }
        if values.len() == 1 {
            let mut path = Vec::new();
            triples_to_path(&values[0].start, &mut path);
            return Some(Geometry::Fixed(path));
        }
        Some(Geometry::Spline(Spline {
            is_closed: true,
            times,
            values,
        }))
    }
}

/// Number of linear samples for a segment `frames` long.
fn samples(frames: f64) -> usize {
    ((frames * SAMPLES_PER_FRAME).ceil().max(1.0) as usize).min(MAX_SAMPLES_PER_RUN)
}

/// A keyframe with no easing (velato's defaults: out (0, 0), in (1, 1)).
fn linear(frame: f64) -> Time {
    Time {
        frame,
        in_tangent: None,
        out_tangent: None,
        hold: false,
    }
}

/// The easing velato would apply to the segment starting at `t`.
fn easing_of(t: &Time) -> Easing {
    Easing {
        o: t.out_tangent.unwrap_or(EasingHandle { x: 0.0, y: 0.0 }),
        i: t.in_tangent.unwrap_or(EasingHandle { x: 1.0, y: 1.0 }),
    }
}

/// True when the segment starting at `t` is eased, not linear or held.
fn eased(t: &Time) -> bool {
    if t.hold {
        return false;
    }
    let e = easing_of(t);
    (e.o.x - e.o.y).abs() > LINEAR_EPS || (e.i.x - e.i.y).abs() > LINEAR_EPS
}

/// The first and last keyframe frames over all of a star's animated properties, or `None`
/// when nothing is animated (velato has then already fixed its path).
fn animated_range(star: &Star) -> Option<(f64, f64)> {
    use velato::model::Value as V;
    fn times<T: Tween>(v: &V<T>) -> &[Time] {
        match v {
            V::Fixed(_) => &[],
            V::Animated(a) => &a.times,
        }
    }
    let all = [
        times(&star.position),
        times(&star.inner_radius),
        times(&star.inner_roundness),
        times(&star.outer_radius),
        times(&star.outer_roundness),
        times(&star.rotation),
        times(&star.points),
    ];
    let frames = all.iter().flat_map(|t| t.iter().map(|t| t.frame));
    let first = frames.clone().reduce(f64::min)?;
    let last = frames.reduce(f64::max)?;
    Some((first, last))
}

/// Vertices of a star or polygon at `frame` as velato's spline triples (vertex, in tangent,
/// out tangent; tangents relative to the vertex), after lottie-web's `convertStarToPath` and
/// `convertPolygonToPath`.
fn star_points(star: &Star, frame: f64) -> Vec<Point> {
    use std::f64::consts::{FRAC_PI_2, TAU};
    let count = star.points.evaluate(frame).floor();
    if !(1.0..=1000.0).contains(&count) {
        return Vec::new();
    }
    let count = count as usize;
    let centre = star.position.evaluate(frame);
    let outer = (
        star.outer_radius.evaluate(frame),
        star.outer_roundness.evaluate(frame) / 100.0,
    );
    let (vertices, inner) = if star.is_polygon {
        (count, outer)
    } else {
        (
            count * 2,
            (
                star.inner_radius.evaluate(frame),
                star.inner_roundness.evaluate(frame) / 100.0,
            ),
        )
    };
    let step = TAU / vertices as f64;
    let mut angle = star.rotation.evaluate(frame).to_radians() - FRAC_PI_2;
    let mut out = Vec::with_capacity(vertices * 3);
    for i in 0..vertices {
        let (radius, roundness) = if i % 2 == 0 { outer } else { inner };
        let (sin, cos) = angle.sin_cos();
        // lottie-web: perimSegment = 2πr / (4 × points), the same for stars and polygons.
        let tangent = TAU * radius / (4.0 * count as f64) * roundness;
        let (dx, dy) = if radius == 0.0 {
            (0.0, 0.0)
        } else {
            (-sin * tangent, cos * tangent)
        };
        out.push(Point::new(centre.x + radius * cos, centre.y + radius * sin));
        out.push(Point::new(-dx, -dy));
        out.push(Point::new(dx, dy));
        angle += step;
    }
    out
}

/// A closed path through spline triples (vertex, in, out; tangents relative).
fn triples_to_path(points: &[Point], path: &mut Vec<PathEl>) {
    let n = points.len() / 3;
    if n == 0 {
        return;
    }
    path.push(PathEl::MoveTo(points[0]));
    for i in 0..n {
        let (from, to) = (i, (i + 1) % n);
        let p0 = points[3 * from];
        let p1 = points[3 * to];
        let c0 = p0 + points[3 * from + 2].to_vec2();
        let c1 = p1 + points[3 * to + 1].to_vec2();
        if c0 == p0 && c1 == p1 {
            path.push(PathEl::LineTo(p1));
        } else {
            path.push(PathEl::CurveTo(c0, c1, p1));
        }
    }
    path.push(PathEl::ClosePath);
}

#[cfg(test)]
mod tests {
    use super::*;
    use velato::model::Value as V;

    fn star(points: f64, roundness: f64, polygon: bool) -> Star {
        Star {
            is_polygon: polygon,
            direction: 1.0,
            position: V::Fixed(Point::new(10.0, 20.0)),
            inner_radius: V::Fixed(15.0),
            inner_roundness: V::Fixed(0.0),
            outer_radius: V::Fixed(30.0),
            outer_roundness: V::Fixed(roundness),
            rotation: V::Fixed(0.0),
            points: V::Fixed(points),
        }
    }

    #[test]
    fn polystar_tangents_follow_lottie_web() {
        // A 5-point star, outer roundness 60 %: the first vertex is straight up from the
        // centre, its tangent 2π·30 / 20 × 0.6 = 5.655 px long, horizontal.
        let p = star_points(&star(5.9, 60.0, false), 0.0);
        assert_eq!(
            p.len(),
            10 * 3,
            "5.9 points floor to 5, a star has 10 vertices"
        );
        assert!((p[0].x - 10.0).abs() < 1e-9 && (p[0].y - (20.0 - 30.0)).abs() < 1e-9);
        let out = p[2];
        assert!((out.x - std::f64::consts::TAU * 30.0 / 20.0 * 0.6).abs() < 1e-9);
        assert!(out.y.abs() < 1e-9);
        assert_eq!(p[1], Point::new(-out.x, -out.y));
        // Inner vertices have roundness 0 here.
        assert_eq!(p[5], Point::ZERO);
        // A hexagon has 6 vertices, all on the outer radius.
        let h = star_points(&star(6.0, 100.0, true), 0.0);
        assert_eq!(h.len(), 6 * 3);
        for v in h.chunks(3) {
            assert!(((v[0] - Point::new(10.0, 20.0)).hypot() - 30.0).abs() < 1e-9);
        }
    }

    #[test]
    fn eased_spline_segments_are_resampled_on_the_easing_curve() {
        let square = |s: f64| {
            [(0.0, 0.0), (s, 0.0), (s, s), (0.0, s)]
                .into_iter()
                .flat_map(|(x, y)| [Point::new(x, y), Point::ZERO, Point::ZERO])
                .collect::<Vec<_>>()
        };
        let ease = Time {
            frame: 0.0,
            in_tangent: Some(EasingHandle { x: 0.515, y: 0.955 }),
            out_tangent: Some(EasingHandle { x: 0.455, y: 0.03 }),
            hold: false,
        };
        let mut spline = Spline {
            is_closed: true,
            times: vec![ease, linear(6.0)],
            values: vec![
                SplineKeyframeValues {
                    start: square(100.0),
                    end: None,
                },
                SplineKeyframeValues {
                    start: square(200.0),
                    end: None,
                },
            ],
        };
        let mut pass = Pass {
            done: Conformed::default(),
            budget: MAX_BAKED_POINTS,
        };
        pass.ease_spline(&mut spline);
        assert_eq!(pass.done.eased_segments, 1);
        assert_eq!(spline.times.len(), 6 * 4 + 1);
        let mut path = Vec::new();
        assert!(spline.evaluate(3.0, &mut path));
        let expected = 100.0 + 100.0 * 0.0f64.tween(&1.0, 0.5, &easing_of(&ease));
        let PathEl::LineTo(p) = path[1] else {
            panic!("{path:?}")
        };
        assert!((p.x - expected).abs() < 1e-9, "{} vs {expected}", p.x);
        // A quarter of the way in, velato's linear interpolation gives 125; the ease is slower.
        path.clear();
        spline.evaluate(1.5, &mut path);
        let PathEl::LineTo(q) = path[1] else {
            panic!("{path:?}")
        };
        let quarter = 100.0 + 100.0 * 0.0f64.tween(&1.0, 0.25, &easing_of(&ease));
        assert!(
            (q.x - quarter).abs() < 1e-9 && q.x < 115.0,
            "{} vs {quarter}",
            q.x
        );
    }
}
