//! Brings velato's Lottie model in line with lottie-web, the player gift teams author against
//! and the one the golden frames in `../shared/reference/lottie/` come from.
//!
//! velato 0.12 departs from lottie-web in four places this module mends on the model after
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
//! - **The last path keyframe.** Evaluated exactly at its last keyframe, velato's animated
//!   path divides 0 by 0 and comes out empty; the last keyframe is marked held instead.
//! - **Several masks on a layer.** velato clips by each in turn (their intersection); lottie-web
//!   joins them into one nonzero clip path ([`merge_masks`]).
//!
//! Two more are mended on the JSON before velato parses it, because velato's model drops the
//! data ([`bake_keyframes`]):
//!
//! - **Per-dimension easing.** A keyframe may give one easing handle per dimension
//!   (`"o": {"x": [0.054, 0.057]}`); lottie-web eases each dimension with its own curve, velato
//!   applies one of them to all.
//! - **Motion along curves.** velato reads a keyframe's spatial tangents (`to`/`ti`) but
//!   moves positions in straight lines; lottie-web moves them along the cubic bezier
//!   `s, s + to, e + ti, e`, at the eased fraction of its arc length
//!   (`PropertyFactory.interpolateValue`, `bez.buildBezierData`).
//!
//! Both are replaced by linear keyframes every quarter frame, sampled as lottie-web samples.
//!
//! Memory stays bounded: a composition gets at most [`MAX_BAKED_POINTS`] resampled path points
//! and [`MAX_BAKED_KEYFRAMES`] motion keyframes in all; segments past that budget keep velato's
//! straight interpolation, and the report says how many.

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
/// Most motion keyframes [`bake_keyframes`] may add to one file (each a small JSON object).
pub const MAX_BAKED_KEYFRAMES: usize = 1 << 16;
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
    /// Layers whose fixed masks were joined into one clip path.
    pub merged_masks: usize,
    /// Time-remapped precomp layers played through their remap curve.
    pub time_remapped: usize,
    /// Time-remapped precomp layers left as velato plays them (straight through), past the
    /// budget or used as a matte.
    pub time_remap_left: usize,
}

/// Most segments one time-remapped layer is cut into, and all of them in one file.
pub const MAX_REMAP_SEGMENTS: usize = 4096;
/// See [`MAX_REMAP_SEGMENTS`].
pub const MAX_REMAP_SEGMENTS_TOTAL: usize = 65_536;

/// Plays time-remapped precomp layers (`tm`) as lottie-web does, which velato ignores: the
/// remap curve (seconds, keyed on the composition's frames) says which precomp frame
/// each frame shows (`tm × fr`). velato plays an instance linearly (`(frame − st) / sr`), so
/// the layer is cut into one copy per frame of its range, each copy's `st` and `sr` set so that
/// its linear mapping passes through the curve at both ends of its frame; the copies share the
/// precomp and replace the layer in place (indices of parents and mattes after it move up).
/// Between whole frames the curve is followed linearly; holds become a stretch of 10⁹.
fn bake_time_remap(
    layers: &mut Vec<velato::model::Layer>,
    fr: f64,
    total: &mut usize,
    done: &mut Conformed,
) {
    let mut i = 0;
    while i < layers.len() {
        let velato::model::Content::Instance {
            time_remap: Some(tm),
            ..
        } = &layers[i].content
        else {
            i += 1;
            continue;
        };
        let layer = &layers[i];
        let (start, end) = (layer.frames.start, layer.frames.end);
        let span = (end - start).ceil();
        if layer.is_mask
            || !(span.is_finite() && span >= 1.0)
            || span as usize > MAX_REMAP_SEGMENTS
            || *total + span as usize > MAX_REMAP_SEGMENTS_TOTAL
        {
            done.time_remap_left += 1;
            i += 1;
            continue;
        }
        let n = span as usize;
        // Keyframe times are on the composition's clock (lottie-web compares
        // `frame − st` with `t − st`).
        let at = |f: f64| tm.evaluate(f) * fr;
        let mut copies = Vec::with_capacity(n);
        for k in 0..n {
            let f0 = start + k as f64;
            let f1 = (f0 + 1.0).min(end);
            let (p0, p1) = (at(f0), at(f0 + 1.0));
            let slope = p1 - p0;
            let stretch = if slope.abs() < 1e-9 { 1e9 } else { 1.0 / slope };
            let mut c = layer.clone();
            c.frames = f0..f1;
            c.stretch = stretch;
            c.start_frame = f0 - p0 * stretch;
            if let velato::model::Content::Instance { time_remap, .. } = &mut c.content {
                *time_remap = None;
            }
            copies.push(c);
        }
        *total += n;
        let extra = n - 1;
        for l in layers.iter_mut() {
            if let Some(p) = l.parent.as_mut()
                && *p > i
            {
                *p += extra;
            }
            if let Some((_, m)) = l.mask_layer.as_mut()
                && *m > i
            {
                *m += extra;
            }
        }
        layers.splice(i..=i, copies);
        done.time_remapped += 1;
        i += n;
    }
}

/// Rewrites `comp` in place where velato's model departs from lottie-web (see the module
/// docs). Touches every layer of the composition and of its precomposition assets.
pub fn conform(comp: &mut Composition) -> Conformed {
    let mut pass = Pass {
        done: Conformed::default(),
        budget: MAX_BAKED_POINTS,
    };
    let mut segments = 0;
    let fr = comp.frame_rate;
    for layers in std::iter::once(&mut comp.layers).chain(comp.assets.values_mut()) {
        for layer in layers.iter_mut() {
            pass.layer(layer);
        }
        bake_time_remap(layers, fr, &mut segments, &mut pass.done);
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

/// What [`bake_keyframes`] did with the segments of one keyframed property.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Baked {
    /// Segments now sampled along their spatial curve.
    pub curved: usize,
    /// Segments now sampled with one easing per dimension.
    pub per_dimension: usize,
    /// Such segments left to velato because the keyframe budget ran out.
    pub left: usize,
}

impl std::ops::AddAssign for Baked {
    fn add_assign(&mut self, other: Baked) {
        self.curved += other.curved;
        self.per_dimension += other.per_dimension;
        self.left += other.left;
    }
}

/// Replaces the keyframe segments of `kfs` that velato would move differently from lottie-web
/// by linear keyframes every quarter frame, sampled as lottie-web samples them:
///
/// - a segment that moves along a curve (non-zero `to`/`ti` off the straight line, not held)
///   follows the cubic bezier at the eased fraction of its arc length;
/// - a segment whose easing handles differ per dimension (`"o": {"x": [0.05, 0.06]}`) eases
///   each dimension with its own curve (velato applies one handle to all of them).
///
/// `budget` is the number of keyframes still allowed in this file; it is decreased by what is
/// added. Keyframe lists without numeric `t` are left as they are.
pub fn bake_keyframes(kfs: &mut Vec<Value>, budget: &mut usize) -> Baked {
    let mut done = Baked::default();
    let time = |k: &Value| k.get("t").and_then(Value::as_f64);
    if kfs.len() < 2 || kfs.iter().any(|k| time(k).is_none()) {
        return done;
    }
    if !(0..kfs.len() - 1).any(|k| Segment::of(&kfs[k], &kfs[k + 1]).is_some()) {
        return done;
    }
    let mut out = Vec::with_capacity(kfs.len());
    for k in 0..kfs.len() {
        let Some(segment) = kfs.get(k + 1).and_then(|next| Segment::of(&kfs[k], next)) else {
            out.push(kfs[k].clone());
            continue;
        };
        let steps = samples(segment.t1 - segment.t0);
        if steps > *budget {
            done.left += 1;
            out.push(kfs[k].clone());
            continue;
        }
        *budget -= steps;
        match segment.shape {
            Motion::Curve { .. } => done.curved += 1,
            Motion::PerDimension { .. } => done.per_dimension += 1,
        }
        let values = (0..=steps)
            .map(|j| segment.at(j as f64 / steps as f64))
            .collect::<Vec<_>>();
        for j in 0..steps {
            let u = j as f64 / steps as f64;
            out.push(serde_json::json!({
                "t": segment.t0 + (segment.t1 - segment.t0) * u,
                "s": values[j],
                "e": values[j + 1],
                "o": { "x": [0.0], "y": [0.0] },
                "i": { "x": [1.0], "y": [1.0] },
            }));
        }
    }
    *kfs = out;
    done
}

/// One keyframe segment velato would interpolate differently from lottie-web.
struct Segment {
    t0: f64,
    t1: f64,
    shape: Motion,
}

enum Motion {
    /// Along a cubic bezier by arc length, eased once.
    Curve {
        bez: kurbo::CubicBez,
        /// Arc length of `bez`, in px.
        length: f64,
        easing: Easing,
        /// Third and further dimensions (z), interpolated straight.
        rest: Vec<(f64, f64)>,
    },
    /// Straight, each dimension `(from, to)` with its own easing.
    PerDimension(Vec<(f64, f64, Easing)>),
}

impl Segment {
    /// The segment from keyframe `kf` to `next` when velato would get it wrong, else `None`
    /// (no tangents, or tangents along the line as lottie-web tests with `pointOnLine2D`, and
    /// one easing for all dimensions; a hold; values it cannot read).
    fn of(kf: &Value, next: &Value) -> Option<Segment> {
        let nums = |v: Option<&Value>| -> Option<Vec<f64>> {
            v?.as_array()?.iter().map(Value::as_f64).collect()
        };
        if kf.get("h").and_then(Value::as_u64) == Some(1) {
            return None;
        }
        let t0 = kf.get("t")?.as_f64()?;
        let t1 = next.get("t")?.as_f64()?;
        let from = nums(kf.get("s"))?;
        let to = nums(kf.get("e")).or_else(|| nums(next.get("s")))?;
        if t1 <= t0 || from.len() < 2 || to.len() < 2 {
            return None;
        }
        let easings = easings(kf, from.len().min(to.len()));
        let shape = if let Some((bez, length)) = curve(&from, &to, kf) {
            Motion::Curve {
                bez,
                length,
                easing: easings[0],
                rest: from
                    .iter()
                    .zip(&to)
                    .skip(2)
                    .map(|(a, b)| (*a, *b))
                    .collect(),
            }
        } else if easings.windows(2).any(|w| !same(&w[0], &w[1])) {
            Motion::PerDimension(
                from.iter()
                    .zip(&to)
                    .zip(easings)
                    .map(|((a, b), e)| (*a, *b, e))
                    .collect(),
            )
        } else {
            return None;
        };
        Some(Segment { t0, t1, shape })
    }

    /// The value at fraction `u` of the segment's time.
    fn at(&self, u: f64) -> Vec<f64> {
        use kurbo::{ParamCurve, ParamCurveArclen};
        match &self.shape {
            Motion::Curve {
                bez,
                length,
                easing,
                rest,
            } => {
                // lottie-web clamps overshooting easings on curved motion to the segment.
                let w = 0.0f64.tween(&1.0, u, easing).clamp(0.0, 1.0);
                let p = bez.eval(bez.inv_arclen(w * length, arclen_accuracy(bez)));
                let mut v = vec![p.x, p.y];
                v.extend(rest.iter().map(|(a, b)| a + (b - a) * w));
                v
            }
            Motion::PerDimension(dims) => dims.iter().map(|(a, b, e)| a.tween(b, u, e)).collect(),
        }
    }
}

/// The spatial curve from `from` to `to` with keyframe `kf`'s tangents, and its length, or
/// `None` when the motion is straight.
fn curve(from: &[f64], to: &[f64], kf: &Value) -> Option<(kurbo::CubicBez, f64)> {
    use kurbo::{ParamCurveArclen, Point};
    let pair = |key: &str| -> Option<Point> {
        let a = kf.get(key)?.as_array()?;
        Some(Point::new(a.first()?.as_f64()?, a.get(1)?.as_f64()?))
    };
    let (out_t, in_t) = (pair("to")?, pair("ti")?);
    let p0 = Point::new(from[0], from[1]);
    let p3 = Point::new(to[0], to[1]);
    let p1 = p0 + out_t.to_vec2();
    let p2 = p3 + in_t.to_vec2();
    // lottie-web's `pointOnLine2D`: twice the triangle's signed area within ±0.001.
    let on_line = |p: Point| {
        let (d, e) = (p3 - p0, p - p0);
        (d.x * e.y - d.y * e.x).abs() < 0.001
    };
    if p0 != p3 && on_line(p1) && on_line(p2) || p0 == p1 && p2 == p3 {
        return None;
    }
    // Past ±1e6 units a position is off any gift canvas and its arc length costs kurbo's
    // absolute accuracy minutes (a mutated file with 1e38 in a tangent): it moves straight.
    if [p0, p1, p2, p3]
        .iter()
        .any(|p| !(p.x.abs() <= super::MAX_COORD && p.y.abs() <= super::MAX_COORD))
    {
        return None;
    }
    let bez = kurbo::CubicBez::new(p0, p1, p2, p3);
    let length = bez.arclen(arclen_accuracy(&bez));
    (length.is_finite() && length > 0.0).then_some((bez, length))
}

/// Arc-length accuracy of curved motion: a thousandth of a pixel, or a millionth of the
/// curve's control polygon when that is larger, so the work stays bounded on long curves.
fn arclen_accuracy(bez: &kurbo::CubicBez) -> f64 {
    let polygon = bez.p0.distance(bez.p1) + bez.p1.distance(bez.p2) + bez.p2.distance(bez.p3);
    (polygon * 1e-6).max(1e-3)
}

/// The easing of each of `dims` dimensions of the segment starting at `kf`: its `o` and `i`
/// handles, whose coordinates are numbers or per-dimension arrays (a missing entry falls back
/// to the first, as in lottie-web's `interpolateValue`); linear where absent.
fn easings(kf: &Value, dims: usize) -> Vec<Easing> {
    let coord = |key: &str, axis: &str, i: usize| -> Option<f64> {
        let c = kf.get(key)?.get(axis)?;
        c.as_f64()
            .or_else(|| c.get(i).or_else(|| c.get(0))?.as_f64())
    };
    (0..dims.max(1))
        .map(|i| {
            let handle = |key, default: (f64, f64)| EasingHandle {
                x: coord(key, "x", i).unwrap_or(default.0),
                y: coord(key, "y", i).unwrap_or(default.1),
            };
            Easing {
                o: handle("o", (0.0, 0.0)),
                i: handle("i", (1.0, 1.0)),
            }
        })
        .collect()
}

/// Whether two easings are the same curve (handles within [`LINEAR_EPS`]).
fn same(a: &Easing, b: &Easing) -> bool {
    [a.o.x - b.o.x, a.o.y - b.o.y, a.i.x - b.i.x, a.i.y - b.i.y]
        .iter()
        .all(|d| d.abs() <= LINEAR_EPS)
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
        if merge_masks(&mut layer.masks) {
            self.done.merged_masks += 1;
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
            Geometry::Spline(spline) => {
                self.ease_spline(spline);
                hold_last(spline);
            }
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
        let mut spline = Spline {
            is_closed: true,
            times,
            values,
        };
        hold_last(&mut spline);
        Some(Geometry::Spline(spline))
    }
}

/// Joins a layer's masks into one clip path, as lottie-web's canvas renderer does
/// (`CVMaskElement`: every mask not in mode `n` is appended to one path, clipped with nonzero
/// winding, whatever its mode). velato clips by each mask in turn, which intersects them: an
/// outline made of an added shape and a subtracted inner one (rlottie's `like`) becomes the
/// filled inner shape. Only masks whose paths are fixed are joined; returns whether it did.
fn merge_masks(masks: &mut Vec<velato::model::Mask>) -> bool {
    if masks.len() < 2
        || !masks
            .iter()
            .all(|m| matches!(m.geometry, Geometry::Fixed(_)))
    {
        return false;
    }
    let mut path = Vec::new();
    for m in masks.iter() {
        if let Geometry::Fixed(els) = &m.geometry {
            path.extend_from_slice(els);
        }
    }
    masks.truncate(1);
    masks[0].geometry = Geometry::Fixed(path);
    true
}

/// Marks a path's last keyframe as held. At exactly that frame velato pairs the keyframe with
/// itself and interpolates by 0 / 0: the path turns to NaN and vanishes for one frame (Tiger's
/// front leg at frame 76). Held, it is drawn as the keyframe says.
fn hold_last(spline: &mut Spline) {
    if let Some(last) = spline.times.last_mut() {
        last.hold = true;
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

/// lottie-web's handle length for a rounded corner (`roundCorner`, ≈ 4/3·(√2 − 1)).
const ROUND_CORNER: f64 = 0.5519;

/// Round corners (`"ty": "rd"`, lottie-web's `RoundCornersModifier`) of spline triples
/// (vertex, in, out; tangents relative): every vertex without tangents becomes two, each
/// `min(radius, half the edge)` along its edge, joined by a cubic whose handles reach
/// `ROUND_CORNER` of the way back to the corner. The ends of an open path stay.
fn round_triples(points: &[Point], closed: bool, radius: f64) -> Vec<Point> {
    let n = points.len() / 3;
    let v = |k: usize| points[k * 3];
    let mut out = Vec::with_capacity(n * 6);
    for k in 0..n {
        let (here, tin, tout) = (v(k), points[k * 3 + 1], points[k * 3 + 2]);
        let sharp = tin == Point::ZERO && tout == Point::ZERO;
        if !sharp || (!closed && (k == 0 || k == n - 1)) {
            out.extend([here, tin, tout]);
            continue;
        }
        let toward = |other: Point| {
            let d = (other - here).hypot();
            let t = if d > 0.0 {
                (d / 2.0).min(radius) / d
            } else {
                0.0
            };
            here + (other - here) * t
        };
        let a = toward(v((k + n - 1) % n));
        let b = toward(v((k + 1) % n));
        // In at `a` with no handle, out toward the corner; in at `b` from the corner.
        out.extend([a, Point::ZERO, ((here - a) * ROUND_CORNER).to_point()]);
        out.extend([b, ((here - b) * ROUND_CORNER).to_point(), Point::ZERO]);
    }
    out
}

fn json_point(v: &Value) -> Option<Point> {
    let a = v.as_array()?;
    Some(Point::new(a.first()?.as_f64()?, a.get(1)?.as_f64()?))
}

/// A Lottie path object (`{"v", "i", "o", "c"}`) as triples, and whether it is closed.
fn json_triples(path: &Value) -> Option<(Vec<Point>, bool)> {
    let list = |key: &str| -> Option<Vec<Point>> {
        path.get(key)?.as_array()?.iter().map(json_point).collect()
    };
    let (v, i, o) = (list("v")?, list("i")?, list("o")?);
    if v.len() != i.len() || v.len() != o.len() || v.len() > 1 << 16 {
        return None;
    }
    let closed = path.get("c").and_then(Value::as_bool).unwrap_or(false);
    Some((
        v.iter()
            .zip(&i)
            .zip(&o)
            .flat_map(|((v, i), o)| [*v, *i, *o])
            .collect(),
        closed,
    ))
}

fn triples_json(points: &[Point], closed: bool) -> Value {
    let pick = |off: usize| -> Vec<Value> {
        points
            .chunks_exact(3)
            .map(|t| serde_json::json!([t[off].x, t[off].y]))
            .collect()
    };
    serde_json::json!({"v": pick(0), "i": pick(1), "o": pick(2), "c": closed})
}

/// A static value of a Lottie property (`{"a": 0, "k": …}`), first component when an array.
fn static_scalar(p: Option<&Value>) -> Option<f64> {
    let p = p?;
    if p.get("a").and_then(Value::as_u64) == Some(1) {
        return None;
    }
    let k = p.get("k")?;
    k.as_f64().or_else(|| k.get(0).and_then(Value::as_f64))
}

/// What [`round_corners`] did: shapes rounded, and shapes left sharp (animated stars and
/// rectangles, animated radii).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Rounded {
    /// Shapes whose corners were rounded.
    pub rounded: usize,
    /// Shapes a round-corners modifier applies to that are drawn sharp.
    pub left: usize,
}

/// Applies each round-corners modifier (`rd`) of a shape list to the shapes before it (and
/// in the groups before it), as lottie-web's modifiers apply, in the JSON before velato (which
/// drops `rd`): paths (every keyframe of an animated one), static stars and polygons (turned
/// into the path lottie-web builds for them, then rounded) and static rectangles (given the
/// radius as their own roundness). The modifier itself is removed.
pub fn round_corners(items: &mut Vec<Value>) -> Rounded {
    let mut done = Rounded::default();
    let mut k = 0;
    while k < items.len() {
        if items[k].get("ty").and_then(Value::as_str) != Some("rd") {
            k += 1;
            continue;
        }
        let radius = static_scalar(items[k].get("r")).filter(|r| r.is_finite() && *r > 0.0);
        items.remove(k);
        match radius {
            Some(r) => {
                for item in &mut items[..k] {
                    round_item(item, r.min(super::MAX_COORD), &mut done, 0);
                }
            }
            None => done.left += 1,
        }
    }
    done
}

fn round_item(item: &mut Value, r: f64, done: &mut Rounded, depth: usize) {
    if depth > 64 {
        return;
    }
    match item.get("ty").and_then(Value::as_str) {
        Some("gr") => {
            if let Some(Value::Array(it)) = item.get_mut("it") {
                for c in it.iter_mut() {
                    round_item(c, r, done, depth + 1);
                }
            }
        }
        Some("sh") => {
            let Some(ks) = item.get_mut("ks") else { return };
            let animated = ks.get("a").and_then(Value::as_u64) == Some(1);
            let Some(k) = ks.get_mut("k") else { return };
            let round = |path: &mut Value| {
                if let Some((t, closed)) = json_triples(path) {
                    *path = triples_json(&round_triples(&t, closed, r), closed);
                }
            };
            if animated {
                if let Value::Array(kfs) = k {
                    for kf in kfs {
                        for end in ["s", "e"] {
                            if let Some(Value::Array(v)) = kf.get_mut(end)
                                && let Some(path) = v.first_mut()
                            {
                                round(path);
                            }
                        }
                    }
                }
            } else {
                round(k);
            }
            done.rounded += 1;
        }
        Some("sr") => {
            let get = |key: &str| static_scalar(item.get(key));
            let centre = item
                .get("p")
                .filter(|p| p.get("a").and_then(Value::as_u64) != Some(1))
                .and_then(|p| p.get("k"))
                .and_then(json_point);
            let (Some(points), Some(or), Some(centre)) = (get("pt"), get("or"), centre) else {
                done.left += 1;
                return;
            };
            let polygon = item.get("sy").and_then(Value::as_u64) == Some(2);
            let star = Star {
                is_polygon: polygon,
                direction: 1.0,
                position: velato::model::Value::Fixed(centre),
                inner_radius: velato::model::Value::Fixed(get("ir").unwrap_or(0.0)),
                inner_roundness: velato::model::Value::Fixed(get("is").unwrap_or(0.0)),
                outer_radius: velato::model::Value::Fixed(or),
                outer_roundness: velato::model::Value::Fixed(get("os").unwrap_or(0.0)),
                rotation: velato::model::Value::Fixed(get("r").unwrap_or(0.0)),
                points: velato::model::Value::Fixed(points),
            };
            let triples = star_points(&star, 0.0);
            if triples.is_empty() {
                return;
            }
            let path = triples_json(&round_triples(&triples, true, r), true);
            let d = item.get("d").cloned().unwrap_or(Value::from(1));
            *item = serde_json::json!({"ty": "sh", "d": d, "ks": {"a": 0, "k": path}});
            done.rounded += 1;
        }
        Some("rc") => match item.get_mut("r") {
            Some(p) if static_scalar(Some(p)) == Some(0.0) => {
                *p = serde_json::json!({"a": 0, "k": r});
                done.rounded += 1;
            }
            _ => done.left += 1,
        },
        _ => {}
    }
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

    #[test]
    fn motion_paths_past_the_coordinate_cap_move_straight() {
        let kf = |t: f64| serde_json::json!({"to": [t, 0], "ti": [0, -t]});
        assert!(curve(&[0.0, 0.0], &[100.0, 100.0], &kf(55.2)).is_some());
        assert!(curve(&[0.0, 0.0], &[100.0, 100.0], &kf(1e38)).is_none());
        assert!(curve(&[0.0, 0.0], &[100.0, 100.0], &kf(f64::NAN)).is_none());
        // A long curve within the cap keeps a bounded accuracy: a millionth of its polygon.
        let bez = kurbo::CubicBez::new((0.0, 0.0), (9e5, 0.0), (9e5, 9e5), (0.0, 9e5));
        assert!((arclen_accuracy(&bez) - 2.7).abs() < 1e-9);
    }

    #[test]
    fn curved_motion_follows_the_bezier_by_arc_length() {
        // A quarter circle-ish arc from (0, 0) to (100, 100) bulging through (100, 0), linear
        // easing, 10 frames; then a held keyframe.
        let mut kfs = vec![
            serde_json::json!({"t": 0, "s": [0, 0], "to": [55.2, 0], "ti": [0, -55.2],
                "o": {"x": 0, "y": 0}, "i": {"x": 1, "y": 1}}),
            serde_json::json!({"t": 10, "s": [100, 100], "h": 1}),
            serde_json::json!({"t": 20, "s": [0, 0]}),
        ];
        let mut budget = 1000;
        let done = bake_keyframes(&mut kfs, &mut budget);
        assert_eq!(
            done,
            Baked {
                curved: 1,
                ..Baked::default()
            }
        );
        assert_eq!(
            kfs.len(),
            40 + 2,
            "40 quarter-frame samples, then the two others"
        );
        assert_eq!(budget, 1000 - 40);
        // Half way by arc length the point sits on the arc's middle, near (70.7, 29.3), far
        // from the straight line's (50, 50).
        let mid = &kfs[20];
        assert_eq!(mid["t"].as_f64(), Some(5.0));
        let (x, y) = (mid["s"][0].as_f64().unwrap(), mid["s"][1].as_f64().unwrap());
        assert!(
            (x - 70.7).abs() < 1.0 && (y - 29.3).abs() < 1.0,
            "({x}, {y})"
        );
        assert_eq!(kfs[41]["t"].as_f64(), Some(20.0));
        // With no budget left the segment stays straight and is counted.
        let mut again = vec![
            serde_json::json!({"t": 0, "s": [0, 0], "to": [55.2, 0], "ti": [0, -55.2]}),
            serde_json::json!({"t": 10, "s": [100, 100]}),
        ];
        let before = again.clone();
        assert_eq!(
            bake_keyframes(&mut again, &mut 0),
            Baked {
                left: 1,
                ..Baked::default()
            }
        );
        assert_eq!(again, before);
    }

    #[test]
    fn per_dimension_easing_eases_each_dimension_on_its_own() {
        // 5317-fireworkds' ray scale: x eases out fast, y slowly (lottie-web uses one curve
        // per dimension, velato one for all).
        let mut kfs = vec![
            serde_json::json!({"t": 9, "s": [50, 0], "e": [0, 100],
                "i": {"x": [0.194, 0.431], "y": [1, 1]}, "o": {"x": [0.054, 0.057], "y": [0, 0]}}),
            serde_json::json!({"t": 33}),
        ];
        let first = kfs[0].clone();
        assert_eq!(
            bake_keyframes(&mut kfs, &mut 1000),
            Baked {
                per_dimension: 1,
                ..Baked::default()
            }
        );
        assert_eq!(kfs.len(), 24 * 4 + 1);
        let at = |k: usize, d: usize| kfs[k]["s"][d].as_f64().unwrap();
        let ease = |dim| easings(&first, 2)[dim];
        let half = 0.5f64;
        assert!((at(48, 0) - 0.0f64.tween(&1.0, half, &ease(0)).mul_add(-50.0, 50.0)).abs() < 1e-9);
        assert!((at(48, 1) - 100.0 * 0.0f64.tween(&1.0, half, &ease(1))).abs() < 1e-9);
        assert!(
            (at(48, 0) - 50.0).abs() / 50.0 > at(48, 1) / 100.0 + 0.01,
            "x has moved further than y half way: {} {}",
            at(48, 0),
            at(48, 1)
        );
        // The same handle in every dimension is velato's business.
        let mut uniform = vec![
            serde_json::json!({"t": 0, "s": [0, 0], "i": {"x": [0.4, 0.4], "y": [1, 1]},
                "o": {"x": [0.6, 0.6], "y": [0, 0]}}),
            serde_json::json!({"t": 10, "s": [10, 10]}),
        ];
        assert_eq!(bake_keyframes(&mut uniform, &mut 1000), Baked::default());
    }

    #[test]
    fn a_path_is_drawn_at_its_last_keyframe() {
        let tri = |s: f64| {
            [(0.0, 0.0), (s, 0.0), (0.0, s)]
                .into_iter()
                .flat_map(|(x, y)| [Point::new(x, y), Point::ZERO, Point::ZERO])
                .collect::<Vec<_>>()
        };
        let key = |start| SplineKeyframeValues { start, end: None };
        let spline = Spline {
            is_closed: true,
            times: vec![linear(0.0), linear(76.0)],
            values: vec![key(tri(10.0)), key(tri(20.0))],
        };
        let finite = |g: &Geometry| {
            let mut path = Vec::new();
            g.evaluate(76.0, &mut path);
            !path.is_empty()
                && path.iter().all(|el| match el {
                    PathEl::MoveTo(p) | PathEl::LineTo(p) => p.x.is_finite(),
                    _ => true,
                })
        };
        let mut g = Geometry::Spline(spline);
        assert!(
            !finite(&g),
            "velato alone loses the path at its last keyframe"
        );
        let mut pass = Pass {
            done: Conformed::default(),
            budget: MAX_BAKED_POINTS,
        };
        pass.geometry(&mut g);
        assert!(finite(&g));
    }

    #[test]
    fn straight_tangents_are_left_to_velato() {
        let mut kfs = vec![
            serde_json::json!({"t": 0, "s": [0, 0], "to": [10, 10], "ti": [-10, -10]}),
            serde_json::json!({"t": 10, "s": [100, 100]}),
        ];
        let before = kfs.clone();
        assert_eq!(bake_keyframes(&mut kfs, &mut 1000), Baked::default());
        assert_eq!(kfs, before);
    }
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
    fn round_corners_cut_sharp_vertices_as_lottie_web() {
        let sq = [(0.0, 0.0), (100.0, 0.0), (100.0, 100.0), (0.0, 100.0)]
            .into_iter()
            .flat_map(|(x, y)| [Point::new(x, y), Point::ZERO, Point::ZERO])
            .collect::<Vec<_>>();
        let r = round_triples(&sq, true, 10.0);
        assert_eq!(r.len(), 8 * 3, "each corner becomes two vertices");
        // The corner at (0, 0): in from (0, 100), out to (100, 0).
        assert_eq!(r[0], Point::new(0.0, 10.0));
        assert!((r[2] - Point::new(0.0, -5.519)).hypot() < 1e-9);
        assert_eq!(r[3], Point::new(10.0, 0.0));
        assert!((r[4] - Point::new(-5.519, 0.0)).hypot() < 1e-9);
        // A radius past half an edge stops at the middle; open ends stay sharp.
        let open = round_triples(&sq, false, 80.0);
        assert_eq!(open.len(), 6 * 3);
        assert_eq!(open[0], Point::ZERO);
        assert_eq!(open[3], Point::new(50.0, 0.0));
        // A vertex with tangents is kept as it is.
        let mut smooth = sq.clone();
        smooth[2] = Point::new(5.0, 0.0);
        assert_eq!(round_triples(&smooth, true, 10.0)[..3], smooth[..3]);
        // In JSON: a static star under `rd` becomes the rounded path lottie-web draws.
        let mut items = vec![
            serde_json::json!({"ty": "gr", "it": [
                {"ty": "sr", "sy": 1, "d": 1, "pt": {"a": 0, "k": 5}, "p": {"a": 0, "k": [0, 0]},
                 "r": {"a": 0, "k": 0}, "ir": {"a": 0, "k": 20}, "is": {"a": 0, "k": 0},
                 "or": {"a": 0, "k": 50}, "os": {"a": 0, "k": 0}},
                {"ty": "st"}]}),
            serde_json::json!({"ty": "rd", "r": {"a": 0, "k": 10}}),
        ];
        assert_eq!(
            round_corners(&mut items),
            Rounded {
                rounded: 1,
                left: 0
            }
        );
        assert_eq!(items.len(), 1, "the modifier is gone");
        let path = &items[0]["it"][0];
        assert_eq!(path["ty"], "sh");
        assert_eq!(path["ks"]["k"]["v"].as_array().unwrap().len(), 20);
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
