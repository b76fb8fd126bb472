//! Lottie text animators (`t.a` of a text layer; lottie-spec "Text Animator", lottie-web
//! `TextAnimatorDataProperty`, `TextSelectorProperty`, `TextAnimatorProperty.getMeasures`):
//! what each animator changes per character, and the range selector that says by how much.
//!
//! An animator has properties (anchor `a`, position `p`, scale `s`, rotation `r`, opacity
//! `o`, fill colour `fc`, stroke colour `sc`, stroke width `sw`, tracking `t`) and one range
//! selector (`s`): start `s`, end `e` and offset `o` over the text in percent (`r` 1) or in
//! characters (`r` 2), counted by characters (`b` 1), characters without spaces (2), words
//! (3) or lines (4), a shape (`sh`: square, ramp up, ramp down, triangle, round, smooth), an
//! amount (`a`, percent) and ease high/low (`xe`, `ne`). Each property is applied to a
//! character in proportion to the selector's value for it ([`Selector::mult`]).
//!
//! Properties and selector values may be keyframed; they are evaluated as velato evaluates
//! every other property of the file (its [`velato::model::Value`]), on the layer's clock.
//! Not applied, and named by [`TextAnimator::left`]: 3D rotation (`rx`, `ry`), skew (`sk`,
//! `sa`), hue, saturation and brightness (`fh`, `fs`, `fb`), random order (`rn`, which
//! lottie-web draws with `Math.random`, differently on every load) and expression selectors.

use serde_json::Value;
use velato::model::{Easing, EasingHandle, Tween};

pub use super::lottie_prop::Prop;

/// Most animators read from one text layer (more are left out and named).
pub const MAX_ANIMATORS: usize = 32;

/// What a range selector's start, end and offset count in (`r`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Units {
    /// Percent of the text (`r` 1, the default).
    Percent,
    /// Characters (`r` 2).
    Index,
}

/// What a range selector counts (`b`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Based {
    /// Every character, spaces too (1, the default).
    Characters,
    /// Characters other than spaces (2).
    NonSpace,
    /// Words (3).
    Words,
    /// Lines (4).
    Lines,
}

/// A range selector's shape (`sh`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SelectorShape {
    /// 1, the default.
    Square,
    /// 2.
    RampUp,
    /// 3.
    RampDown,
    /// 4.
    Triangle,
    /// 5.
    Round,
    /// 6.
    Smooth,
}

/// A range selector (`s`).
#[derive(Debug, Clone)]
pub struct Selector {
    start: Prop,
    end: Option<Prop>,
    offset: Prop,
    /// Amount, percent (`a`; 100 when absent).
    amount: Prop,
    ease_high: Prop,
    ease_low: Prop,
    /// What start, end and offset count in.
    pub units: Units,
    /// What the selector counts.
    pub based: Based,
    /// How the selection ramps.
    pub shape: SelectorShape,
}

/// The properties an animator changes (each `None` when it does not), in the file's units:
/// anchor and position px, scale percent, rotation degrees clockwise, opacity percent,
/// colours 0–1 (0–255 files are scaled), stroke width px, tracking px.
#[derive(Debug, Clone, Default)]
pub struct AnimatorProps {
    /// `a`.
    pub anchor: Option<Prop>,
    /// `p`.
    pub position: Option<Prop>,
    /// `s`.
    pub scale: Option<Prop>,
    /// `r`.
    pub rotation: Option<Prop>,
    /// `o`.
    pub opacity: Option<Prop>,
    /// `fc`.
    pub fill: Option<Prop>,
    /// `sc`.
    pub stroke: Option<Prop>,
    /// `sw`.
    pub stroke_width: Option<Prop>,
    /// `t`.
    pub tracking: Option<Prop>,
}

/// An animator's properties at one frame ([`AnimatorProps::at`]), each `None` when it does
/// not change it; units as [`AnimatorProps`].
#[derive(Debug, Clone, Copy, Default)]
pub struct AnimatorValues {
    /// `a`.
    pub anchor: Option<[f64; 4]>,
    /// `p`.
    pub position: Option<[f64; 4]>,
    /// `s`.
    pub scale: Option<[f64; 4]>,
    /// `r`.
    pub rotation: Option<[f64; 4]>,
    /// `o`.
    pub opacity: Option<[f64; 4]>,
    /// `fc`.
    pub fill: Option<[f64; 4]>,
    /// `sc`.
    pub stroke: Option<[f64; 4]>,
    /// `sw`.
    pub stroke_width: Option<[f64; 4]>,
    /// `t`.
    pub tracking: Option<[f64; 4]>,
}

impl AnimatorProps {
    /// Every property's value at `frame` (the layer's clock).
    #[must_use]
    pub fn at(&self, frame: f64) -> AnimatorValues {
        let at = |p: &Option<Prop>| p.as_ref().map(|p| p.at(frame));
        AnimatorValues {
            anchor: at(&self.anchor),
            position: at(&self.position),
            scale: at(&self.scale),
            rotation: at(&self.rotation),
            opacity: at(&self.opacity),
            fill: at(&self.fill),
            stroke: at(&self.stroke),
            stroke_width: at(&self.stroke_width),
            tracking: at(&self.tracking),
        }
    }
}

/// One text animator: what it changes and where.
#[derive(Debug, Clone)]
pub struct TextAnimator {
    /// Its properties.
    pub props: AnimatorProps,
    /// Its range selector.
    pub selector: Selector,
    /// What of it is not applied (property names), for reports.
    pub left: Vec<&'static str>,
}

impl TextAnimator {
    /// Reads one animator (`{"a": {...properties}, "s": {...selector}}`); `None` when it is
    /// not an object.
    #[must_use]
    pub fn read(v: &Value) -> Option<Self> {
        let a = v.get("a")?.as_object()?;
        let s = v.get("s").cloned().unwrap_or(Value::Null);
        let prop = |k: &str| a.get(k).and_then(Prop::read);
        let mut left = Vec::new();
        for (k, what) in [
            ("rx", "3D rotation"),
            ("ry", "3D rotation"),
            ("sk", "skew"),
            ("fh", "fill hue"),
            ("fs", "fill saturation"),
            ("fb", "fill brightness"),
        ] {
            if a.contains_key(k) && !left.contains(&what) {
                left.push(what);
            }
        }
        if s.get("rn").and_then(Value::as_u64) == Some(1) {
            left.push("random order");
        }
        // lottie-spec: selector type 0 is a range, 1 an expression.
        if s.get("t").and_then(Value::as_u64) == Some(1) {
            left.push("expression selector");
        }
        let sel = |k: &str, default: f64| {
            s.get(k)
                .and_then(Prop::read)
                .unwrap_or_else(|| Prop::fixed(&[default]))
        };
        let code = |k: &str, default: u64| s.get(k).and_then(Value::as_u64).unwrap_or(default);
        let colour = |k: &str| {
            prop(k).map(|mut p| {
                // Files that give colours as 0–255 (as `format::lottie_text::colour` reads).
                let first = p.at(p.span().map_or(0.0, |s| s.0));
                if first[..3].iter().any(|c| *c > 1.0) {
                    p.scale(1.0 / 255.0);
                }
                p
            })
        };
        Some(Self {
            props: AnimatorProps {
                anchor: prop("a"),
                position: prop("p"),
                scale: prop("s"),
                rotation: prop("r"),
                opacity: prop("o"),
                fill: colour("fc"),
                stroke: colour("sc"),
                stroke_width: prop("sw"),
                tracking: prop("t"),
            },
            selector: Selector {
                start: sel("s", 0.0),
                end: s.get("e").and_then(Prop::read),
                offset: sel("o", 0.0),
                amount: sel("a", 100.0),
                ease_high: sel("xe", 0.0),
                ease_low: sel("ne", 0.0),
                units: if code("r", 1) == 2 {
                    Units::Index
                } else {
                    Units::Percent
                },
                based: match code("b", 1) {
                    2 => Based::NonSpace,
                    3 => Based::Words,
                    4 => Based::Lines,
                    _ => Based::Characters,
                },
                shape: match code("sh", 1) {
                    2 => SelectorShape::RampUp,
                    3 => SelectorShape::RampDown,
                    4 => SelectorShape::Triangle,
                    5 => SelectorShape::Round,
                    6 => SelectorShape::Smooth,
                    _ => SelectorShape::Square,
                },
            },
            left,
        })
    }

    /// The first and last keyframe times of everything it animates, when anything is keyframed.
    #[must_use]
    pub fn span(&self) -> Option<(f64, f64)> {
        let p = &self.props;
        let s = &self.selector;
        [
            &p.anchor,
            &p.position,
            &p.scale,
            &p.rotation,
            &p.opacity,
            &p.fill,
            &p.stroke,
            &p.stroke_width,
            &p.tracking,
            &s.end,
        ]
        .into_iter()
        .flatten()
        .chain([&s.start, &s.offset, &s.amount, &s.ease_high, &s.ease_low])
        .filter_map(Prop::span)
        .reduce(|a, b| (a.0.min(b.0), a.1.max(b.1)))
    }
}

/// A selector's start and end at one frame, in characters counted its way.
#[derive(Debug, Clone, Copy)]
pub struct Range {
    start: f64,
    end: f64,
    /// Amount, 0–1 (may exceed 1 or be negative, as the file gives it).
    amount: f64,
    easing: Option<Easing>,
    shape: SelectorShape,
}

/// Largest start, end or offset of a selection, in characters.
const RANGE_LIMIT: f64 = 1e7;

/// `v` within ±`limit`; 0 for a NaN (a sum of infinities).
#[must_use]
pub fn bounded(v: f64, limit: f64) -> f64 {
    if v.is_nan() {
        0.0
    } else {
        v.clamp(-limit, limit)
    }
}

impl Selector {
    /// The selection at `frame` over `total` counted characters (`TextSelectorProperty.getValue`).
    #[must_use]
    pub fn range(&self, frame: f64, total: usize) -> Range {
        let total = total as f64;
        let divisor = match self.units {
            Units::Index => 1.0,
            Units::Percent => 100.0 / total.max(1.0),
        };
        let end = self.end.as_ref().map_or(
            match self.units {
                Units::Index => total,
                Units::Percent => 100.0,
            },
            |e| e.at(frame)[0],
        );
        // Bounded so that no sum or difference of them overflows (a range past the text
        // selects all of it or none either way).
        let bound = |v: f64| bounded(v, RANGE_LIMIT);
        let o = bound(self.offset.at(frame)[0] / divisor);
        let (mut s, mut e) = (
            bound(self.start.at(frame)[0] / divisor + o),
            bound(end / divisor + o),
        );
        if s > e {
            std::mem::swap(&mut s, &mut e);
        }
        let (ne, xe) = (
            bounded(self.ease_low.at(frame)[0], 100.0),
            bounded(self.ease_high.at(frame)[0], 100.0),
        );
        let easing = (ne != 0.0 || xe != 0.0).then(|| {
            let (mut x1, mut y1, mut x2, mut y2) = (0.0, 0.0, 1.0, 1.0);
            if ne > 0.0 {
                x1 = ne / 100.0;
            } else {
                y1 = -ne / 100.0;
            }
            if xe > 0.0 {
                x2 = 1.0 - xe / 100.0;
            } else {
                y2 = 1.0 + xe / 100.0;
            }
            Easing {
                o: EasingHandle { x: x1, y: y1 },
                i: EasingHandle { x: x2, y: y2 },
            }
        });
        Range {
            start: s,
            end: e,
            amount: bounded(self.amount.at(frame)[0] / 100.0, 100.0),
            easing,
            shape: self.shape,
        }
    }
}

impl Range {
    /// How much of an animator applies to the character counted `ind` (0-based), as
    /// lottie-web's `TextSelectorProperty.getMult` computes it: 0 outside the range, 1 inside,
    /// shaped at its ends, eased, times the amount.
    #[must_use]
    pub fn mult(&self, ind: f64) -> f64 {
        let (s, e) = (self.start, self.end);
        let ramp = || (0.5 / (e - s) + (ind - s) / (e - s)).clamp(0.0, 1.0);
        // An empty range (lottie-web compares the two for equality).
        let empty = e.to_bits() == s.to_bits();
        let m = match self.shape {
            SelectorShape::RampUp if empty => f64::from(u8::from(ind >= e)),
            SelectorShape::RampUp => ramp(),
            SelectorShape::RampDown if empty => f64::from(u8::from(ind < e)),
            SelectorShape::RampDown => 1.0 - ramp(),
            SelectorShape::Triangle | SelectorShape::Round | SelectorShape::Smooth if empty => 0.0,
            SelectorShape::Triangle => {
                let m = ramp();
                if m < 0.5 {
                    m * 2.0
                } else {
                    1.0 - 2.0 * (m - 0.5)
                }
            }
            SelectorShape::Round => {
                let at = (ind + 0.5 - s).max(0.0).min(e - s);
                let (x, a) = (at - (e - s) / 2.0, (e - s) / 2.0);
                (1.0 - (x * x) / (a * a)).max(0.0).sqrt()
            }
            SelectorShape::Smooth => {
                let at = (ind + 0.5 - s).max(0.0).min(e - s);
                f64::midpoint(
                    1.0,
                    (std::f64::consts::PI + std::f64::consts::TAU * at / (e - s)).cos(),
                )
            }
            SelectorShape::Square => {
                if ind >= s.floor() {
                    if ind - s < 0.0 {
                        (e.min(1.0) - (s - ind)).clamp(0.0, 1.0)
                    } else {
                        (e - ind).clamp(0.0, 1.0)
                    }
                } else {
                    0.0
                }
            }
        };
        let m = match &self.easing {
            Some(easing) => 0.0f64.tween(&1.0, m, easing),
            None => m,
        };
        bounded(m * self.amount, 100.0)
    }
}

/// Reads a text layer's animators (`t.a`), at most [`MAX_ANIMATORS`]; returns them and what
/// of them is not applied, without repeats.
#[must_use]
pub fn read_animators(t: &Value) -> (Vec<TextAnimator>, Vec<String>) {
    let list = t.get("a").and_then(Value::as_array);
    let mut left: Vec<String> = Vec::new();
    let animators: Vec<TextAnimator> = list
        .into_iter()
        .flatten()
        .take(MAX_ANIMATORS)
        .filter_map(TextAnimator::read)
        .collect();
    for a in &animators {
        for l in &a.left {
            if !left.iter().any(|x| x == l) {
                left.push((*l).to_owned());
            }
        }
    }
    if let Some(n) = list.map(Vec::len).filter(|n| *n > MAX_ANIMATORS) {
        left.push(format!(
            "{} animator(s) past the first {MAX_ANIMATORS}",
            n - MAX_ANIMATORS
        ));
    }
    (animators, left)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn same(a: &[f64], b: &[f64]) -> bool {
        a.len() == b.len() && a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-9)
    }

    fn mults(r: &Range, n: u32) -> Vec<f64> {
        (0..n).map(|i| r.mult(f64::from(i))).collect()
    }

    fn range(sel: &Value, frame: f64, total: usize) -> Range {
        TextAnimator::read(&json!({"a": {"o": {"a": 0, "k": 0}}, "s": sel}))
            .unwrap()
            .selector
            .range(frame, total)
    }

    #[test]
    fn a_square_selector_covers_its_percent_of_the_characters() {
        // The first half of eight characters, the fifth partly when the end falls inside it.
        let r = range(
            &json!({"s": {"k": 0}, "e": {"k": 50}, "a": {"k": 100}}),
            0.0,
            8,
        );
        let m = mults(&r, 8);
        assert!(same(&m, &[1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0]), "{m:?}");
        let r = range(&json!({"s": {"k": 0}, "e": {"k": 56.25}}), 0.0, 8);
        assert!((r.mult(4.0) - 0.5).abs() < 1e-9, "{}", r.mult(4.0));
        // Offset moves it; the amount scales it.
        let r = range(
            &json!({"s": {"k": 0}, "e": {"k": 25}, "o": {"k": 50}, "a": {"k": 40}}),
            0.0,
            8,
        );
        let m = mults(&r, 8);
        assert!(same(&m, &[0.0, 0.0, 0.0, 0.0, 0.4, 0.4, 0.0, 0.0]), "{m:?}");
    }

    #[test]
    fn keyframed_selectors_sweep_over_time_on_the_files_easing() {
        // A typewriter: the end runs 0 → 100 % over frames 0–10, linearly.
        let sel = json!({"e": {"a": 1, "k": [
            {"t": 0, "s": [0], "o": {"x": [0], "y": [0]}, "i": {"x": [1], "y": [1]}},
            {"t": 10, "s": [100]}]}, "r": 1});
        let covered = |frame: f64| {
            let r = range(&sel, frame, 10);
            (0..10).filter(|i| r.mult(f64::from(*i)) > 0.99).count()
        };
        assert_eq!(covered(0.0), 0);
        assert_eq!(covered(5.0), 5);
        assert_eq!(covered(10.0), 10);
        assert_eq!(covered(99.0), 10, "held after the last keyframe");
    }

    #[test]
    fn shaped_selectors_follow_lottie_web() {
        let r = range(&json!({"sh": 2}), 0.0, 4);
        let up = mults(&r, 4);
        assert!(same(&up, &[0.125, 0.375, 0.625, 0.875]), "{up:?}");
        let r = range(&json!({"sh": 3}), 0.0, 4);
        assert!((r.mult(0.0) - 0.875).abs() < 1e-9);
        let r = range(&json!({"sh": 4}), 0.0, 4);
        let tri = mults(&r, 4);
        assert!(same(&tri, &[0.25, 0.75, 0.75, 0.25]), "{tri:?}");
        let r = range(&json!({"sh": 5}), 0.0, 4);
        assert!(r.mult(0.0) < r.mult(1.0) && (r.mult(1.0) - r.mult(2.0)).abs() < 1e-9);
        // Index units count characters: 1 to 3 of 4.
        let r = range(&json!({"r": 2, "s": {"k": 1}, "e": {"k": 3}}), 0.0, 4);
        let idx = mults(&r, 4);
        assert!(same(&idx, &[0.0, 1.0, 1.0, 0.0]), "{idx:?}");
    }

    #[test]
    fn what_is_not_applied_is_named_and_hostile_animators_are_bounded() {
        let many: Vec<Value> = (0..40)
            .map(|_| json!({"a": {"sk": {"k": 10}, "r": {"k": 5}}, "s": {"rn": 1}}))
            .collect();
        let (a, left) = read_animators(&json!({"a": many}));
        assert_eq!(a.len(), MAX_ANIMATORS);
        assert_eq!(left[..2], ["skew", "random order"]);
        assert!(left[2].starts_with("8 animator(s)"), "{left:?}");
    }
}
