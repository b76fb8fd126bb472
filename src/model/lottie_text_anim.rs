//! Text animators drawn: each character of an animated text layer becomes a group in
//! velato's model whose transform, opacity and colours follow the layer's animators
//! (`format::lottie_text_anim`), as lottie-web's `TextAnimatorProperty.getMeasures` places
//! each letter:
//!
//! - the letter turns and scales about its anchor: the centre of its group (character, word
//!   or line, `t.m.g`) on the baseline, moved by the alignment (`t.m.a`) and by the
//!   animators' anchor (`a`);
//! - scale (`s`) multiplies, rotation (`r`) adds, position (`p`) adds, each in proportion to
//!   the selector's value for the letter;
//! - opacity (`o`), fill colour (`fc`) and stroke colour (`sc`) move towards the animator's
//!   value in that proportion, stroke width (`sw`) adds to the document's;
//! - tracking (`t`) widens the gap before every letter but a line's first, and right or
//!   centred lines move by the width it adds.
//!
//! Keyframed animators are sampled at every frame of their keyframes' span (fewer when a long
//! text would pass [`MAX_LETTER_SAMPLES`]) and interpolated linearly between samples; outside
//! the span they hold, as their keyframes do.

use kurbo::{Point, Vec2};
use velato::model::animated::{Position, Transform as AnimatedTransform};
use velato::model::{
    Animated, Brush, Draw, Geometry, GroupTransform, Shape, Stroke, Time, Transform, Value,
};

use super::lottie_text::Letter;
use crate::format::MAX_COORD;
use crate::format::lottie_text::{TextDocument, TextLayer};
use crate::format::lottie_text_anim::{Based, TextAnimator, bounded};

/// Most letter-frames sampled for one text layer (each some 200 bytes of keyframes).
pub const MAX_LETTER_SAMPLES: usize = 1 << 16;

/// What one letter looks like at one sample frame.
#[derive(Debug, Clone, Copy)]
struct Sample {
    anchor: Point,
    position: Point,
    /// Percent.
    scale: Vec2,
    /// Degrees, clockwise.
    rotation: f64,
    /// Percent.
    opacity: f64,
    fill: [f64; 4],
    stroke: [f64; 4],
    stroke_width: f64,
}

/// The index each animator counts a letter at (`anIndexes`), and how many it counts in all
/// (`totalChars`), as lottie-web's `TextProperty.completeTextData` counts.
fn counted(letters: &[Letter], based: Based) -> (Vec<f64>, usize) {
    let mut ind = 0usize;
    let mut out = Vec::with_capacity(letters.len());
    let last = letters.len().saturating_sub(1);
    for (i, l) in letters.iter().enumerate() {
        out.push(ind as f64);
        let counts = match based {
            Based::Characters => !l.newline,
            Based::NonSpace => !l.newline && !l.space,
            Based::Words => l.newline || l.space || i == last,
            Based::Lines => l.newline || i == last,
        };
        if counts {
            ind += 1;
        }
    }
    (out, ind)
}

/// Each letter's anchor group: its width (`an`) and the letter's offset in it (`add`).
fn groups(letters: &[Letter], grouping: u8) -> Vec<(f64, f64)> {
    let mut out: Vec<(f64, f64)> = letters.iter().map(|l| (l.advance, 0.0)).collect();
    if grouping != 2 && grouping != 3 {
        return out;
    }
    let (mut size, mut from) = (0.0, 0usize);
    let last = letters.len().saturating_sub(1);
    for (i, l) in letters.iter().enumerate() {
        out[i].1 = size;
        size += l.advance;
        let ends = l.newline || (grouping == 2 && l.space);
        if ends || i == last {
            if ends {
                size -= l.advance;
            }
            for g in &mut out[from..=i] {
                g.0 = size;
            }
            from = i + 1;
            size = 0.0;
        }
    }
    out
}

/// A letter's sample made finite and bounded (hostile files give values near the largest
/// doubles, whose sums and products are infinite or NaN), in velato's units: coordinates
/// within ±[`MAX_COORD`], scale within ±10⁶ percent, opacity 0–100 percent, colours 0–1,
/// stroke width 0–1000 px, rotation within ±10⁹ degrees.
fn finite(s: Sample) -> Sample {
    let point = |p: Point| Point::new(bounded(p.x, MAX_COORD), bounded(p.y, MAX_COORD));
    let unit = |c: [f64; 4]| c.map(|v| bounded(v, 1.0).max(0.0));
    Sample {
        anchor: point(s.anchor),
        position: point(s.position),
        scale: Vec2::new(
            bounded(s.scale.x * 100.0, 1e6),
            bounded(s.scale.y * 100.0, 1e6),
        ),
        rotation: bounded(s.rotation, 1e9),
        opacity: bounded(s.opacity * 100.0, 100.0).max(0.0),
        fill: unit(s.fill),
        stroke: unit(s.stroke),
        stroke_width: bounded(s.stroke_width, 1e3).max(0.0),
    }
}

/// A value from one sample per frame: fixed when there is one frame, else linear keyframes.
fn value<T: velato::model::Tween>(frames: &[f64], samples: impl Iterator<Item = T>) -> Value<T> {
    let mut values: Vec<T> = samples.collect();
    if values.len() == 1
        && let Some(v) = values.pop()
    {
        return Value::Fixed(v);
    }
    Value::Animated(Animated {
        times: frames
            .iter()
            .take(values.len())
            .map(|f| Time {
                frame: *f,
                in_tangent: None,
                out_tangent: None,
                hold: false,
            })
            .collect(),
        values,
    })
}

fn colour(c: [f64; 4]) -> peniko::Color {
    peniko::Color::new(c.map(|v| v.clamp(0.0, 1.0) as f32))
}

/// A letter's fill or stroke brush: its colour per sample when an animator colours it (the
/// document's alpha kept), else the document's colour `base`.
fn brush(
    animated: bool,
    frames: &[f64],
    samples: impl Iterator<Item = [f64; 4]>,
    base: [f64; 4],
) -> Brush {
    if animated {
        Brush::Animated(velato::model::animated::Brush::Solid(value(
            frames,
            samples.map(|c| colour([c[0], c[1], c[2], base[3]])),
        )))
    } else {
        Brush::Fixed(peniko::Brush::Solid(colour(base)))
    }
}

/// The frames to sample the animators at: one (any) when nothing is keyframed.
fn sample_frames(
    animators: &[TextAnimator],
    extra: Option<(f64, f64)>,
    letters: usize,
) -> Vec<f64> {
    let Some((a, b)) = animators
        .iter()
        .filter_map(TextAnimator::span)
        .chain(extra)
        .reduce(|x, y| (x.0.min(y.0), x.1.max(y.1)))
    else {
        return vec![0.0];
    };
    let (a, b) = (a.floor(), b.ceil());
    let span = (b - a).clamp(0.0, 1e9);
    let budget = (MAX_LETTER_SAMPLES / letters.max(1)).max(2) as f64;
    let step = ((span + 1.0) / budget).ceil().max(1.0);
    let n = (span / step).floor() as usize + 1;
    let mut frames: Vec<f64> = (0..n).map(|i| a + i as f64 * step).collect();
    if frames.last().is_some_and(|l| *l < b) {
        frames.push(b);
    }
    frames
}

/// The shapes of an animated text layer: one group per drawn letter, the last letter first
/// (velato draws a list's first shape on top, lottie-web each letter over the ones before).
/// `layer`'s animators place `letters`, laid out as document `doc` lays them out.
pub(super) fn animated_letters(
    layer: &TextLayer,
    doc: &TextDocument,
    letters: &[Letter],
) -> Vec<Shape> {
    let (animators, grouping, alignment) =
        (&layer.animators, layer.grouping, layer.alignment.as_ref());
    let tracking = doc.tracking / 1000.0 * doc.size;
    let widths = super::lottie_text::line_widths(letters, tracking);
    let line_step = super::lottie_text::line_step(doc);
    let box_at = super::lottie_text::box_at(doc);
    let indexes: Vec<(Vec<f64>, usize)> = animators
        .iter()
        .map(|a| counted(letters, a.selector.based))
        .collect();
    let anchor_groups = groups(letters, grouping);
    let frames = sample_frames(
        animators,
        alignment.and_then(crate::format::lottie_text_anim::Prop::span),
        letters.len(),
    );
    let y_off = doc.size * 1.2 * 0.714;
    let doc_fill = doc.fill.unwrap_or([0.0, 0.0, 0.0, 1.0]);
    let (doc_stroke, doc_sw) = doc.stroke.unwrap_or(([0.0, 0.0, 0.0, 1.0], 0.0));
    // samples[letter][frame], for the letters drawn (not line breaks)
    let mut samples: Vec<Vec<Sample>> = vec![Vec::with_capacity(frames.len()); letters.len()];
    for &frame in &frames {
        let ranges: Vec<_> = animators
            .iter()
            .zip(&indexes)
            .map(|(a, (_, total))| a.selector.range(frame, *total))
            .collect();
        let mult = |i: usize, j: usize| ranges[j].mult(indexes[j].0[i]);
        let values: Vec<_> = animators.iter().map(|a| a.props.at(frame)).collect();
        let align = alignment.map_or([0.0; 4], |a| a.at(frame));
        // What tracking animators add to each line's width moves right and centred lines
        // (`animatorJustifyOffset`); lottie-web carries the first letters' share on.
        let mut justify_extra = vec![0.0; letters.len()];
        if doc.justify == 1 || doc.justify == 2 {
            let half = if doc.justify == 2 { -0.5 } else { -1.0 };
            let (mut extra, mut first, mut from, mut new_line) = (0.0, 0.0, 0usize, true);
            for (i, l) in letters.iter().enumerate() {
                if l.newline {
                    if extra != 0.0 {
                        extra += first;
                    }
                    justify_extra[from..i].fill(extra);
                    from = i;
                    extra = 0.0;
                    new_line = true;
                    continue;
                }
                for (j, v) in values.iter().enumerate() {
                    if let Some(t) = v.tracking {
                        if new_line && doc.justify == 2 {
                            first += t[0] * half;
                        }
                        extra += t[0] * mult(i, j) * half;
                    }
                }
                new_line = false;
            }
            if extra != 0.0 {
                extra += first;
            }
            justify_extra[from..].fill(extra);
        }
        let (mut x, mut y, mut line, mut first_line) = (0.0, 0.0, 0usize, true);
        for (i, l) in letters.iter().enumerate() {
            if l.newline {
                x = 0.0;
                y += line_step + if first_line { 1.0 } else { 0.0 };
                first_line = false;
                line += 1;
                // A line break is not drawn: it has no samples.
                continue;
            }
            for (j, v) in values.iter().enumerate() {
                if let Some(t) = v.tracking
                    && (x != 0.0 || doc.justify != 0)
                {
                    x = bounded(x + t[0] * mult(i, j), MAX_COORD);
                }
            }
            let mut s = Sample {
                anchor: Point::ZERO,
                position: Point::ZERO,
                scale: Vec2::new(1.0, 1.0),
                rotation: 0.0,
                opacity: 1.0,
                fill: doc_fill,
                stroke: doc_stroke,
                stroke_width: doc_sw,
            };
            for (j, v) in values.iter().enumerate() {
                let m = mult(i, j);
                if let Some(a) = v.anchor {
                    s.anchor += Vec2::new(a[0] * m, a[1] * m);
                }
                if let Some(sc) = v.scale {
                    s.scale.x *= 1.0 + (sc[0] / 100.0 - 1.0) * m;
                    s.scale.y *= 1.0 + (sc[1] / 100.0 - 1.0) * m;
                }
                if let Some(r) = v.rotation {
                    s.rotation += r[0] * m;
                }
                if let Some(o) = v.opacity {
                    s.opacity += (o[0] / 100.0 * m - s.opacity) * m;
                }
                if let Some(c) = v.fill {
                    for (f, c) in s.fill.iter_mut().zip(c).take(3) {
                        *f += (c - *f) * m;
                    }
                }
                if let Some(c) = v.stroke {
                    for (f, c) in s.stroke.iter_mut().zip(c).take(3) {
                        *f += (c - *f) * m;
                    }
                }
                if let Some(w) = v.stroke_width {
                    s.stroke_width += w[0] * m;
                }
                if let Some(p) = v.position {
                    s.position += Vec2::new(p[0] * m, p[1] * m);
                }
            }
            let (an, add) = anchor_groups[i];
            let justify =
                super::lottie_text::justify_offset(doc, widths.get(line).copied().unwrap_or(0.0))
                    + justify_extra[i];
            // The group's anchor, from the letter's pen position on the baseline.
            let pivot = Vec2::new(
                an / 2.0 - add + align[0] * an * 0.005,
                align[1] * y_off * 0.01,
            );
            s.anchor += pivot;
            s.position +=
                Vec2::new(x + justify + box_at.0, y + box_at.1 - doc.baseline_shift) + pivot;
            samples[i].push(finite(s));
            x = bounded(x + l.advance + tracking, MAX_COORD);
        }
    }
    let fills = animators.iter().any(|a| a.props.fill.is_some());
    let strokes = animators.iter().any(|a| a.props.stroke.is_some());
    let widths_move = animators.iter().any(|a| a.props.stroke_width.is_some());
    let mut out = Vec::new();
    for (l, s) in letters.iter().zip(&samples).rev() {
        if l.newline || l.outline.elements().is_empty() {
            continue;
        }
        let fill = doc.fill.map(|c| {
            Shape::Draw(Draw {
                stroke: None,
                brush: brush(fills, &frames, s.iter().map(|s| s.fill), c),
                opacity: Value::Fixed(100.0),
            })
        });
        let stroke = doc.stroke.map(|(c, w)| {
            Shape::Draw(Draw {
                stroke: Some(if widths_move {
                    Stroke::Animated(velato::model::animated::Stroke {
                        width: value(&frames, s.iter().map(|s| s.stroke_width)),
                        join: kurbo::Join::Miter,
                        miter_limit: None,
                        cap: kurbo::Cap::Butt,
                    })
                } else {
                    Stroke::Fixed(
                        kurbo::Stroke::new(w)
                            .with_join(kurbo::Join::Miter)
                            .with_caps(kurbo::Cap::Butt),
                    )
                }),
                brush: brush(strokes, &frames, s.iter().map(|s| s.stroke), c),
                opacity: Value::Fixed(100.0),
            })
        });
        let (top, bottom) = if doc.stroke_over_fill {
            (stroke, fill)
        } else {
            (fill, stroke)
        };
        let mut shapes = vec![Shape::Geometry(Geometry::Fixed(
            l.outline.elements().to_vec(),
        ))];
        shapes.extend(top);
        shapes.extend(bottom);
        let transform = AnimatedTransform {
            anchor: value(&frames, s.iter().map(|s| s.anchor)),
            position: Position::Value(value(&frames, s.iter().map(|s| s.position))),
            rotation: value(&frames, s.iter().map(|s| s.rotation)),
            scale: value(&frames, s.iter().map(|s| s.scale)),
            skew: Value::Fixed(0.0),
            skew_angle: Value::Fixed(0.0),
        };
        out.push(Shape::Group(
            shapes,
            Some(GroupTransform {
                transform: Transform::Animated(transform),
                opacity: value(&frames, s.iter().map(|s| s.opacity)),
            }),
        ));
    }
    out
}
