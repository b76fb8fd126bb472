//! Lottie text layers drawn as vector shapes in velato's model, laid out as lottie-web lays
//! them out (`TextProperty.completeTextData`, `TextAnimatorProperty.getMeasures`; a layer
//! with text animators is drawn letter by letter by `super::lottie_text_anim`):
//!
//! - each character advances by its width (`w × size / 100` for an embedded glyph, the
//!   shaper's advance otherwise) plus the tracking `tr / 1000 × size`;
//! - lines break at `\r` (and `\n`, ETX); boxed text (`sz`) also wraps at the last space
//!   before the box's width;
//! - a line's width leaves out trailing spaces and the last tracking; justification moves it
//!   by its width (right) or half its width (centre), within the box when boxed;
//! - lines are `lh` apart (1.2 × the size when 0), plus 1 px after the first as lottie-web
//!   adds; boxed text starts at `ps` plus the font's ascent; `ls` shifts the baseline up.
//!
//! Glyph outlines come from the file's embedded glyphs (`chars`) when they cover the text, as
//! lottie-web's canvas renderer draws text (it draws no font text at all); otherwise from the
//! installed fonts through cosmic-text (the document's family, falling back per character),
//! and a family that is not installed is reported.

use kurbo::{Affine, BezPath};
use velato::model::{Brush, Draw, Geometry, Shape, Stroke, Value};

use crate::format::lottie_text::{
    GlyphTable, TextDocument, TextLayer, covers, is_line_break, layer_at,
};

/// One character (or shaped cluster) to place.
#[derive(Debug, Clone)]
pub(super) struct Letter {
    /// Advance, px.
    pub(super) advance: f64,
    /// Outline in px, origin at the pen on the baseline, y down.
    pub(super) outline: BezPath,
    pub(super) space: bool,
    pub(super) newline: bool,
}

impl Letter {
    fn newline() -> Self {
        Self {
            advance: 0.0,
            outline: BezPath::new(),
            space: false,
            newline: true,
        }
    }
}

/// How one text layer was drawn, for reports.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DrawnText {
    /// The layer's name.
    pub layer: String,
    /// Whether its file's embedded glyphs drew it.
    pub embedded: bool,
    /// Installed font families used (empty when embedded).
    pub fonts: Vec<String>,
    /// Characters no installed font can draw.
    pub missing_glyphs: usize,
    /// The family the document asks for, when it is neither embedded nor installed.
    pub fell_back_from: Option<String>,
}

/// The letters of `text` from the embedded glyphs, scaled to the document's size.
fn embedded_letters(glyphs: &GlyphTable, doc: &TextDocument, text: &str) -> Vec<Letter> {
    let k = doc.size / 100.0;
    text.chars()
        .map(|c| {
            if is_line_break(c) {
                return Letter::newline();
            }
            let g = glyphs.get(&c);
            let mut outline = g.map(|g| g.outline.clone()).unwrap_or_default();
            outline.apply_affine(Affine::scale(k));
            Letter {
                advance: g.map_or(0.0, |g| g.advance * k),
                outline,
                space: c == ' ',
                newline: false,
            }
        })
        .collect()
}

/// The letters of `text` shaped with the installed fonts, line by line.
fn shaped_letters(doc: &TextDocument, text: &str, drawn: &mut DrawnText) -> Vec<Letter> {
    let mut letters = Vec::new();
    for (i, line) in text.split(is_line_break).enumerate() {
        if i > 0 {
            letters.push(Letter::newline());
        }
        if line.is_empty() {
            continue;
        }
        let shaped = super::text::outline_line(line, &doc.family, doc.size as f32);
        if !shaped.family_installed && drawn.fell_back_from.is_none() {
            drawn.fell_back_from = Some(doc.family.clone());
        }
        for f in shaped.fonts {
            if !drawn.fonts.contains(&f) {
                drawn.fonts.push(f);
            }
        }
        drawn.missing_glyphs += shaped.missing_glyphs;
        letters.extend(shaped.glyphs.into_iter().map(|g| Letter {
            advance: f64::from(g.advance),
            outline: g.outline,
            space: g.text == " ",
            newline: false,
        }));
    }
    letters
}

/// Wraps boxed text at `width` as lottie-web does: at the last space of the line (which
/// becomes the break), else before the letter that overflows.
fn wrap(letters: Vec<Letter>, width: f64, tracking: f64) -> Vec<Letter> {
    let mut out = letters;
    let mut i = 0;
    let mut line_w = 0.0;
    let mut last_space: Option<usize> = None;
    while i < out.len() {
        if out[i].newline {
            line_w = 0.0;
            last_space = None;
            i += 1;
            continue;
        }
        if out[i].space {
            last_space = Some(i);
        }
        if line_w > 0.0 && line_w + out[i].advance > width && !out[i].space {
            match last_space.take() {
                Some(s) => {
                    out[s] = Letter::newline();
                    i = s;
                }
                None => out.insert(i, Letter::newline()),
            }
            line_w = 0.0;
        } else {
            line_w += out[i].advance + tracking;
        }
        i += 1;
    }
    out
}

/// Each line's width: its letters up to the last non-space, each with its tracking, less one.
pub(super) fn line_widths(letters: &[Letter], tracking: f64) -> Vec<f64> {
    let mut widths = Vec::new();
    let (mut w, mut spaces) = (-tracking, 0.0);
    for l in letters {
        if l.newline {
            widths.push(w);
            (w, spaces) = (-tracking, 0.0);
        } else if l.space {
            spaces += l.advance + tracking;
        } else {
            w += l.advance + tracking + spaces;
            spaces = 0.0;
        }
    }
    widths.push(w);
    widths
}

/// The distance between baselines: `lh`, or 1.2 × the size when 0.
pub(super) fn line_step(doc: &TextDocument) -> f64 {
    if doc.line_height > 0.0 {
        doc.line_height
    } else {
        doc.size * 1.2
    }
}

/// Where the first baseline starts: the box's top-left plus the font's ascent when boxed.
pub(super) fn box_at(doc: &TextDocument) -> (f64, f64) {
    doc.box_pos.map_or((0.0, 0.0), |[px, py]| {
        (px, py + doc.ascent * doc.size / 100.0)
    })
}

/// How far justification moves a line of width `lw`: by its width (right) or half of it
/// (centre), within the paragraph box when the text is boxed.
pub(super) fn justify_offset(doc: &TextDocument, lw: f64) -> f64 {
    match (doc.justify, doc.box_size) {
        (1, Some([bw, _])) => bw - lw,
        (2, Some([bw, _])) => (bw - lw) / 2.0,
        (1, None) => -lw,
        (2, None) => -lw / 2.0,
        _ => 0.0,
    }
}

/// Lays out a document's letters and returns every glyph outline in the layer's space.
fn lay_out(doc: &TextDocument, letters: &[Letter]) -> BezPath {
    let tracking = doc.tracking / 1000.0 * doc.size;
    let widths = line_widths(letters, tracking);
    let step = line_step(doc);
    let (bx, by) = box_at(doc);
    let (mut x, mut y, mut line) = (0.0, 0.0, 0usize);
    let mut out = BezPath::new();
    for l in letters {
        if l.newline {
            x = 0.0;
            y += step + if line == 0 { 1.0 } else { 0.0 };
            line += 1;
            continue;
        }
        let justify = justify_offset(doc, widths.get(line).copied().unwrap_or(0.0));
        let at = Affine::translate((x + justify + bx, y + by - doc.baseline_shift));
        for el in l.outline.elements() {
            out.push(at * *el);
        }
        x += l.advance + tracking;
    }
    out
}

/// The shapes that draw a text layer: `text` (its own, or a slot's) in each of its documents
/// (font, size, colours, layout), with how they were drawn. A layer whose document changes
/// over time (later `t.d.k` keyframes) draws each document in a group shown from its
/// keyframe to the next, held, as lottie-web's `TextProperty` picks the keyframe at or
/// before the frame; `text` replaces the text of each.
#[must_use]
pub fn text_shapes(layer: &TextLayer, text: Option<&str>) -> (Vec<Shape>, DrawnText) {
    let mut drawn = DrawnText {
        layer: layer.name.clone(),
        embedded: true,
        ..DrawnText::default()
    };
    let first = text.unwrap_or(&layer.doc.text);
    let shapes = document_shapes(layer, &layer.doc, &layer.glyphs, first, &mut drawn);
    if layer.later.is_empty() {
        return (shapes, drawn);
    }
    let shown = |from: Option<f64>, to: Option<f64>| -> Value<f64> {
        // Hidden before `from` (a frame earlier holds 0), shown from it, hidden from `to`.
        let mut keys: Vec<(f64, f64)> = Vec::new();
        if let Some(from) = from {
            keys.extend([(from - 1.0, 0.0), (from, 100.0)]);
        } else if let Some(to) = to {
            keys.push((to - 1.0, 100.0));
        }
        if let Some(to) = to {
            keys.push((to, 0.0));
        }
        Value::Animated(velato::model::Animated {
            times: keys
                .iter()
                .map(|(f, _)| velato::model::Time {
                    frame: *f,
                    in_tangent: None,
                    out_tangent: None,
                    hold: true,
                })
                .collect(),
            values: keys.iter().map(|(_, v)| *v).collect(),
        })
    };
    let group = |shapes: Vec<Shape>, opacity: Value<f64>| {
        Shape::Group(
            shapes,
            Some(velato::model::GroupTransform {
                transform: velato::model::Transform::Fixed(Affine::IDENTITY),
                opacity,
            }),
        )
    };
    let mut out = vec![group(shapes, shown(None, Some(layer.later[0].from_frame)))];
    for (i, l) in layer.later.iter().enumerate() {
        let to = layer.later.get(i + 1).map(|n| n.from_frame);
        let shapes = document_shapes(
            layer,
            &l.doc,
            &l.glyphs,
            text.unwrap_or(&l.doc.text),
            &mut drawn,
        );
        out.push(group(shapes, shown(Some(l.from_frame), to)));
    }
    (out, drawn)
}

/// The shapes that draw `text` as one document `doc` (its embedded `glyphs` when they cover
/// the text) lays it out; how it was drawn is added to `drawn`.
fn document_shapes(
    layer: &TextLayer,
    doc: &TextDocument,
    glyphs: &GlyphTable,
    text: &str,
    drawn: &mut DrawnText,
) -> Vec<Shape> {
    let embedded = covers(glyphs, text);
    drawn.embedded &= embedded;
    let letters = if embedded {
        embedded_letters(glyphs, doc, text)
    } else {
        shaped_letters(doc, text, drawn)
    };
    let tracking = doc.tracking / 1000.0 * doc.size;
    let letters = match doc.box_size {
        Some([bw, _]) => wrap(letters, bw, tracking),
        None => letters,
    };
    if !layer.animators.is_empty() {
        return super::lottie_text_anim::animated_letters(layer, doc, &letters);
    }
    let path = lay_out(doc, &letters);
    if path.elements().is_empty() {
        return Vec::new();
    }
    let colour = |c: [f64; 4]| {
        Brush::Fixed(peniko::Brush::Solid(peniko::Color::new(
            c.map(|v| v as f32),
        )))
    };
    let fill = doc.fill.map(|c| {
        Shape::Draw(Draw {
            stroke: None,
            brush: colour(c),
            opacity: Value::Fixed(100.0),
        })
    });
    let stroke = doc.stroke.map(|(c, w)| {
        Shape::Draw(Draw {
            stroke: Some(Stroke::Fixed(
                kurbo::Stroke::new(w)
                    .with_join(kurbo::Join::Miter)
                    .with_caps(kurbo::Cap::Butt),
            )),
            brush: colour(c),
            opacity: Value::Fixed(100.0),
        })
    });
    // velato draws a list's last style first: the one on top comes first.
    let (top, bottom) = if doc.stroke_over_fill {
        (stroke, fill)
    } else {
        (fill, stroke)
    };
    let mut shapes = vec![Shape::Geometry(Geometry::Fixed(path.elements().to_vec()))];
    shapes.extend(top);
    shapes.extend(bottom);
    shapes
}

/// Fills each of `texts` in `comp` with the shapes of its text, or of the text `replace`
/// gives for its name or slot id (a slot), and returns how each was drawn.
#[must_use]
pub fn fill_text_layers<'a>(
    comp: &mut velato::Composition,
    texts: impl IntoIterator<Item = &'a TextLayer>,
    replace: &dyn Fn(&str) -> Option<String>,
) -> Vec<DrawnText> {
    let mut drawn = Vec::new();
    for t in texts {
        let Some(place) = &t.place else { continue };
        let text = replace_for(t, replace);
        let (shapes, how) = text_shapes(t, text.as_deref());
        if let Some(layer) = layer_at(comp, place) {
            layer.content = velato::model::Content::Shape(shapes);
        }
        drawn.push(how);
    }
    drawn
}

fn replace_for(t: &TextLayer, replace: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    (!t.name.is_empty())
        .then(|| replace(&t.name))
        .flatten()
        .or_else(|| t.sid.as_deref().and_then(replace))
}

/// What a report says of text drawn with fonts other than the document's: one line per
/// layer whose family is neither embedded nor installed, or that has characters no font has.
#[must_use]
pub fn fallback_notes(drawn: &[DrawnText]) -> Vec<String> {
    let mut notes = Vec::new();
    for d in drawn {
        if let Some(family) = &d.fell_back_from {
            notes.push(format!(
                "text layer {:?}: font {family:?} is not installed and the file embeds no glyphs for its text; drawn with {} instead",
                d.layer,
                if d.fonts.is_empty() {
                    "no font".to_owned()
                } else {
                    d.fonts.join(", ")
                }
            ));
        }
        if d.missing_glyphs > 0 {
            notes.push(format!(
                "text layer {:?}: {} character(s) no installed font has, left out",
                d.layer, d.missing_glyphs
            ));
        }
    }
    notes
}
