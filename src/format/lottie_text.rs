//! Lottie text layers (`ty` 5; lottie-spec "Text Layer", lottie-web `TextProperty`): the text
//! document each one shows, the file's fonts (`fonts.list`) and its embedded glyph shapes
//! (`chars`), read from the JSON before velato sees it.
//!
//! velato has no text layers, so each one is handed to velato as an empty shape layer that
//! keeps its transform, parent, timing, masks and matte; [`TextLayer::place`] says where it
//! ended up in velato's model, and `model::lottie_text` fills it with the glyph outlines (the
//! embedded ones when every character has one, as lottie-web's canvas renderer draws text;
//! otherwise the installed fonts through cosmic-text).

use std::collections::HashMap;
use std::sync::Arc;

use kurbo::BezPath;
use serde_json::Value;

/// Longest text a document may hold, in characters (longer text is cut).
pub const MAX_TEXT_CHARS: usize = 4096;
/// Most embedded glyphs read from `chars`.
pub const MAX_GLYPHS: usize = 4096;
/// Most path points read from one embedded glyph.
pub const MAX_GLYPH_POINTS: usize = 4096;

/// One embedded glyph (`chars[]`): its advance and outline, in units where the font size is
/// 100 (lottie-web scales both by `size / 100`), y down, the baseline at y = 0.
#[derive(Debug, Clone)]
pub struct Glyph {
    /// Advance width (`w`).
    pub advance: f64,
    /// The outline: every `sh` of the glyph's first group, each closed.
    pub outline: BezPath,
}

/// The embedded glyphs of one font family and style, by character.
pub type GlyphTable = HashMap<char, Glyph>;

/// A text document (the first keyframe of `t.d.k`; lottie-spec "Text Document").
#[derive(Debug, Clone, PartialEq)]
pub struct TextDocument {
    /// The text (`t`); `\r`, `\n` and `\u{3}` break lines.
    pub text: String,
    /// Font size (`s`), px.
    pub size: f64,
    /// The font's name as the document gives it (`f`, a `fonts.list[].fName`).
    pub font_name: String,
    /// The font family (`fFamily` of that font; the name itself when the list lacks it).
    pub family: String,
    /// Fill colour (`fc`), RGBA 0–1; `None` when the document has none.
    pub fill: Option<[f64; 4]>,
    /// Stroke colour (`sc`) and width (`sw`, px).
    pub stroke: Option<([f64; 4], f64)>,
    /// Whether the stroke is drawn over the fill (`of`).
    pub stroke_over_fill: bool,
    /// Justification (`j`): 0 left, 1 right, 2 centre (others are drawn left).
    pub justify: u8,
    /// Tracking (`tr`), in thousandths of the font size.
    pub tracking: f64,
    /// Line height (`lh`), px; 0 means 1.2 × the size, as lottie-web does.
    pub line_height: f64,
    /// Baseline shift (`ls`), px, up.
    pub baseline_shift: f64,
    /// Paragraph box top-left (`ps`), px, when the text is boxed.
    pub box_pos: Option<[f64; 2]>,
    /// Paragraph box size (`sz`), px: the text wraps at its width.
    pub box_size: Option<[f64; 2]>,
    /// The font's ascent (`fonts.list[].ascent`), percent of the size.
    pub ascent: f64,
}

/// Most document keyframes read from one text layer after its first.
pub const MAX_LATER_DOCUMENTS: usize = 256;

/// A document a text layer shows from a later keyframe on (lottie-web's `TextProperty` shows
/// the last keyframe at or before the frame, held).
#[derive(Debug, Clone)]
pub struct LaterDocument {
    /// The frame it starts at (the keyframe's `t`, on the layer's clock).
    pub from_frame: f64,
    /// What it shows.
    pub doc: TextDocument,
    /// The embedded glyphs of its font.
    pub glyphs: Arc<GlyphTable>,
}

/// Where a text layer sits in velato's model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextPlace {
    /// The precomp asset whose layers hold it; `None` for the composition's own layers.
    pub asset: Option<String>,
    /// Its index in that layer list.
    pub index: usize,
}

/// One text layer: its name (what slots fill by), document and the glyphs its font embeds.
#[derive(Debug, Clone)]
pub struct TextLayer {
    /// The layer's name (`nm`).
    pub name: String,
    /// The slot id of its document (`t.d.sid`; lottie-spec "Slots"), when it has one.
    pub sid: Option<String>,
    /// What it shows.
    pub doc: TextDocument,
    /// The embedded glyphs of its font (empty when the file embeds none).
    pub glyphs: Arc<GlyphTable>,
    /// Where velato's model holds it (set once the model is built).
    pub place: Option<TextPlace>,
    /// The documents of its later keyframes (`t.d.k` after the first; text that changes over
    /// time), in order of time, at most [`MAX_LATER_DOCUMENTS`].
    pub later: Vec<LaterDocument>,
    /// Text animators (`t.a`), applied per character by `model::lottie_text`.
    pub animators: Vec<super::lottie_text_anim::TextAnimator>,
    /// What of the animators is not applied (`super::lottie_text_anim::read_animators`).
    pub animators_left: Vec<String>,
    /// What an animator's scale and rotation turn about (`t.m.g`): 1 each character, 2 its
    /// word, 3 its line (others read as 1).
    pub grouping: u8,
    /// Where in that group (`t.m.a`): percent of its width and of the line's height, from
    /// its centre on the baseline.
    pub alignment: Option<super::lottie_text_anim::Prop>,
    /// Whether the text follows a mask path (`t.p.m`), not applied.
    pub on_path: bool,
}

/// The fonts and embedded glyphs of a file (`fonts.list`, `chars`).
#[derive(Debug, Default)]
pub struct Fonts {
    /// `fName` → (`fFamily`, `fStyle`, `ascent`).
    fonts: HashMap<String, (String, String, f64)>,
    /// (`fFamily`, `style`) → glyphs.
    glyphs: HashMap<(String, String), Arc<GlyphTable>>,
}

/// Whether a character breaks the line (lottie-web: carriage return and ETX; line feeds too,
/// which some exporters write).
#[must_use]
pub fn is_line_break(c: char) -> bool {
    matches!(c, '\r' | '\n' | '\u{3}')
}

/// Whether embedded `glyphs` cover every character of `text` (line breaks aside), so it is
/// drawn from them as lottie-web's canvas renderer draws text.
#[must_use]
pub fn covers(glyphs: &GlyphTable, text: &str) -> bool {
    !glyphs.is_empty()
        && text
            .chars()
            .all(|c| is_line_break(c) || glyphs.contains_key(&c))
}

impl TextLayer {
    /// Whether a slot key names this layer: its name or its document's slot id.
    #[must_use]
    pub fn answers_to(&self, key: &str) -> bool {
        (!self.name.is_empty() && self.name == key) || self.sid.as_deref() == Some(key)
    }

    /// Whether the embedded glyphs cover every character of `text` (line breaks aside), so it
    /// is drawn from them as lottie-web's canvas renderer draws text.
    #[must_use]
    pub fn embedded_covers(&self, text: &str) -> bool {
        covers(&self.glyphs, text)
    }
}

/// The keys a Lottie file's slots answer to (`render --slot`, `check`): its text layers by
/// name and by their document's slot id, then its image assets by id (lottie-android's
/// `ImageAssetDelegate` and dotLottie image slots name them so), without repeats or empties.
#[must_use]
pub fn slot_keys<'a>(
    texts: &'a [TextLayer],
    image_ids: impl IntoIterator<Item = &'a String>,
) -> Vec<String> {
    let mut keys: Vec<String> = Vec::new();
    for k in texts
        .iter()
        .flat_map(|t| std::iter::once(&t.name).chain(t.sid.as_ref()))
        .chain(image_ids)
    {
        if !k.is_empty() && !keys.contains(k) {
            keys.push(k.clone());
        }
    }
    keys
}

/// The prefix of the name a text layer carries while velato parses it, so it can be found
/// again whatever layers velato leaves out; the name is put back afterwards.
const MARKER: &str = "\u{1}giftqa-text-";

fn f(v: &Value, key: &str) -> Option<f64> {
    v.get(key).and_then(Value::as_f64).filter(|x| x.is_finite())
}

fn colour(v: Option<&Value>) -> Option<[f64; 4]> {
    let a = v?.as_array()?;
    let c = |i: usize| a.get(i).and_then(Value::as_f64).filter(|x| x.is_finite());
    let (r, g, b) = (c(0)?, c(1)?, c(2)?);
    // Files that give colours as 0–255 (lottie-web treats any channel above 1 so).
    let scale = if r > 1.0 || g > 1.0 || b > 1.0 {
        255.0
    } else {
        1.0
    };
    Some([
        (r / scale).clamp(0.0, 1.0),
        (g / scale).clamp(0.0, 1.0),
        (b / scale).clamp(0.0, 1.0),
        c(3).map_or(1.0, |a| a.clamp(0.0, 1.0)),
    ])
}

/// Reads one `sh` item's static path (`ks.k` with `v`, `i`, `o`, `c`) into `out`, closed as
/// lottie-web's `CVTextElement` closes every glyph contour.
fn glyph_contour(sh: &Value, out: &mut BezPath, budget: &mut usize) {
    let Some(k) = sh.pointer("/ks/k") else { return };
    let pts = |key: &str| -> Vec<(f64, f64)> {
        k.get(key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|p| {
                let p = p.as_array()?;
                Some((p.first()?.as_f64()?, p.get(1)?.as_f64()?))
            })
            .collect()
    };
    let (v, i, o) = (pts("v"), pts("i"), pts("o"));
    let n = v.len();
    if n == 0 || i.len() != n || o.len() != n || n > *budget {
        return;
    }
    *budget -= n;
    let bound = |x: f64| x.clamp(-super::MAX_COORD, super::MAX_COORD);
    let p = |(x, y): (f64, f64)| kurbo::Point::new(bound(x), bound(y));
    out.move_to(p(v[0]));
    for s in 0..n {
        let e = (s + 1) % n;
        let c1 = (v[s].0 + o[s].0, v[s].1 + o[s].1);
        let c2 = (v[e].0 + i[e].0, v[e].1 + i[e].1);
        out.curve_to(p(c1), p(c2), p(v[e]));
    }
    out.close_path();
}

impl Fonts {
    /// Reads `fonts.list` and `chars` from the top level of a Lottie file. Malformed entries
    /// are skipped; at most [`MAX_GLYPHS`] glyphs of at most [`MAX_GLYPH_POINTS`] points.
    #[must_use]
    pub fn read(anim: &Value) -> Self {
        let mut out = Self::default();
        for font in anim
            .pointer("/fonts/list")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let s = |k: &str| font.get(k).and_then(Value::as_str).map(str::to_owned);
            let Some(name) = s("fName") else { continue };
            let family = s("fFamily").unwrap_or_else(|| name.clone());
            let style = s("fStyle").unwrap_or_default();
            let ascent = f(font, "ascent").unwrap_or(75.0);
            out.fonts.insert(name, (family, style, ascent));
        }
        let mut tables: HashMap<(String, String), GlyphTable> = HashMap::new();
        for c in anim
            .get("chars")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .take(MAX_GLYPHS)
        {
            let Some(ch) = c
                .get("ch")
                .and_then(Value::as_str)
                .and_then(|s| s.chars().next())
            else {
                continue;
            };
            let family = c
                .get("fFamily")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned();
            let style = c
                .get("style")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned();
            let mut outline = BezPath::new();
            let mut budget = MAX_GLYPH_POINTS;
            // lottie-web draws the items of the first group only (`shapes[0].it`).
            for sh in c
                .pointer("/data/shapes/0/it")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if sh.get("ty").and_then(Value::as_str) == Some("sh") {
                    glyph_contour(sh, &mut outline, &mut budget);
                }
            }
            let advance = f(c, "w").unwrap_or(0.0).clamp(0.0, 1e4);
            tables
                .entry((family, style))
                .or_default()
                .insert(ch, Glyph { advance, outline });
        }
        out.glyphs = tables.into_iter().map(|(k, t)| (k, Arc::new(t))).collect();
        out
    }

    /// Whether the file embeds any glyphs.
    #[must_use]
    pub fn has_glyphs(&self) -> bool {
        !self.glyphs.is_empty()
    }

    /// The families the file's fonts name, sorted, without repeats.
    #[must_use]
    pub fn families(&self) -> Vec<String> {
        let mut v: Vec<String> = self.fonts.values().map(|(f, ..)| f.clone()).collect();
        v.sort();
        v.dedup();
        v
    }

    /// A text document (`s` of a `t.d.k` keyframe) and the embedded glyphs of its font.
    fn document(&self, s: &Value) -> (TextDocument, Arc<GlyphTable>) {
        let font_name = s.get("f").and_then(Value::as_str).unwrap_or("").to_owned();
        let (family, style, ascent) = self
            .fonts
            .get(&font_name)
            .cloned()
            .unwrap_or_else(|| (font_name.clone(), String::new(), 75.0));
        let glyphs = self
            .glyphs
            .get(&(family.clone(), style))
            .cloned()
            .unwrap_or_default();
        let pair = |v: Option<&Value>| -> Option<[f64; 2]> {
            let a = v?.as_array()?;
            let x = a.first()?.as_f64()?;
            let y = a.get(1)?.as_f64()?;
            (x.is_finite() && y.is_finite()).then_some([x, y])
        };
        let size = f(s, "s").unwrap_or(12.0).clamp(0.0, 4096.0);
        let doc = TextDocument {
            text: s
                .get("t")
                .and_then(Value::as_str)
                .unwrap_or("")
                .chars()
                .take(MAX_TEXT_CHARS)
                .collect(),
            size,
            font_name,
            family,
            fill: colour(s.get("fc")),
            stroke: colour(s.get("sc"))
                .zip(f(s, "sw").filter(|w| *w > 0.0))
                .map(|(c, w)| (c, w.min(1e3))),
            stroke_over_fill: s.get("of").and_then(Value::as_bool).unwrap_or(true),
            justify: s
                .get("j")
                .and_then(Value::as_u64)
                .map_or(0, |j| u8::try_from(j).unwrap_or(0)),
            tracking: f(s, "tr").unwrap_or(0.0).clamp(-1e4, 1e4),
            line_height: f(s, "lh").unwrap_or(0.0).clamp(0.0, 1e4),
            baseline_shift: f(s, "ls").unwrap_or(0.0).clamp(-1e4, 1e4),
            box_pos: pair(s.get("ps")),
            box_size: pair(s.get("sz")).filter(|[w, h]| *w > 0.0 && *h > 0.0),
            ascent: ascent.clamp(-1e3, 1e3),
        };
        (doc, glyphs)
    }

    /// Turns a text layer (`ty` 5) into an empty shape layer velato keeps, named with a marker,
    /// and returns what it shows; `None` (the layer untouched) for other layers. `n` numbers
    /// the marker.
    pub fn take_text_layer(&self, layer: &mut Value, n: usize) -> Option<TextLayer> {
        if layer.get("ty").and_then(Value::as_u64) != Some(5) {
            return None;
        }
        let m = layer.as_object_mut()?;
        let t = m.remove("t").unwrap_or(Value::Null);
        let keyframes: &[Value] = t
            .pointer("/d/k")
            .and_then(Value::as_array)
            .map_or(&[], Vec::as_slice);
        let (doc, glyphs) = self.document(
            keyframes
                .first()
                .and_then(|k| k.get("s"))
                .unwrap_or(&Value::Null),
        );
        let mut later_docs: Vec<LaterDocument> = Vec::new();
        let mut last = keyframes
            .first()
            .and_then(|k| k.get("t"))
            .and_then(Value::as_f64)
            .unwrap_or(0.0);
        for k in keyframes.iter().skip(1).take(MAX_LATER_DOCUMENTS) {
            let (Some(from), Some(s)) = (k.get("t").and_then(Value::as_f64), k.get("s")) else {
                continue;
            };
            if !from.is_finite() || from <= last {
                continue;
            }
            last = from;
            let (doc, glyphs) = self.document(s);
            later_docs.push(LaterDocument {
                from_frame: from,
                doc,
                glyphs,
            });
        }
        let name = m.get("nm").and_then(Value::as_str).unwrap_or("").to_owned();
        let (animators, animators_left) = super::lottie_text_anim::read_animators(&t);
        m.insert("ty".into(), Value::from(4));
        m.insert("shapes".into(), Value::Array(Vec::new()));
        m.insert("nm".into(), Value::from(format!("{MARKER}{n}")));
        Some(TextLayer {
            name,
            sid: t
                .pointer("/d/sid")
                .and_then(Value::as_str)
                .map(str::to_owned),
            doc,
            glyphs,
            place: None,
            later: later_docs,
            animators,
            animators_left,
            grouping: t
                .pointer("/m/g")
                .and_then(Value::as_u64)
                .and_then(|g| u8::try_from(g).ok())
                .filter(|g| (1..=3).contains(g))
                .unwrap_or(1),
            alignment: t
                .pointer("/m/a")
                .and_then(super::lottie_text_anim::Prop::read),
            on_path: t.pointer("/p/m").is_some(),
        })
    }
}

/// The blend mode names of Lottie's `bm` values 0–17 (lottie-spec "Blend Mode").
pub const BLEND_MODES: [&str; 18] = [
    "normal",
    "multiply",
    "screen",
    "overlay",
    "darken",
    "lighten",
    "colour dodge",
    "colour burn",
    "hard light",
    "soft light",
    "difference",
    "exclusion",
    "hue",
    "saturation",
    "colour",
    "luminosity",
    "add",
    "hard mix",
];

/// The mark a layer with a blend mode carries at the end of its name in velato's model
/// (velato reads no `bm`): `"\u{2}bm"` and the mode's number. The drawing sink reads it back.
pub const BLEND_MARK: &str = "\u{2}bm";

/// A layer name as the file gives it, and the blend mode (`bm`, 1–17) its mark carries.
#[must_use]
pub fn split_blend(name: &str) -> (&str, Option<u8>) {
    let (plain, blend, _) = split_marks(name);
    (plain, blend)
}

/// A layer name as the file gives it, the blend mode its mark carries, and the index of its
/// effects (`super::lottie_fx::read_effects`). Marks follow the name, each after `\u{2}`.
#[must_use]
pub fn split_marks(name: &str) -> (&str, Option<u8>, Option<usize>) {
    let Some((plain, marks)) = name.split_once('\u{2}') else {
        return (name, None, None);
    };
    let (mut blend, mut fx) = (None, None);
    for m in marks.split('\u{2}') {
        if let Some(n) = m.strip_prefix("bm") {
            blend = n.parse().ok().filter(|b| (1..=17).contains(b));
        } else if let Some(n) = m.strip_prefix("fx") {
            fx = n.parse().ok();
        }
    }
    (plain, blend, fx)
}

/// Marks a layer (JSON) with a blend mode other than normal for [`split_blend`], and takes
/// its `bm` away; returns the mode.
pub fn mark_blend(layer: &mut Value) -> Option<u8> {
    let bm = layer
        .get("bm")
        .and_then(Value::as_u64)
        .filter(|b| (1..=17).contains(b))?;
    let m = layer.as_object_mut()?;
    m.remove("bm");
    let name = m.get("nm").and_then(Value::as_str).unwrap_or("").to_owned();
    m.insert("nm".into(), Value::from(format!("{name}{BLEND_MARK}{bm}")));
    u8::try_from(bm).ok()
}

/// Finds each marked layer in velato's model, puts its name back and records its place in
/// `texts` (indexed by the marker's number). A text layer velato left out keeps no place.
pub fn place_text_layers(comp: &mut velato::Composition, texts: &mut [TextLayer]) {
    let mut visit = |asset: Option<&String>, layers: &mut [velato::model::Layer]| {
        for (index, layer) in layers.iter_mut().enumerate() {
            let plain = split_marks(&layer.name).0;
            let Some(n) = plain
                .strip_prefix(MARKER)
                .and_then(|n| n.parse::<usize>().ok())
            else {
                continue;
            };
            if let Some(t) = texts.get_mut(n) {
                let marks = &layer.name[plain.len()..];
                layer.name = format!("{}{marks}", t.name);
                t.place = Some(TextPlace {
                    asset: asset.cloned(),
                    index,
                });
            }
        }
    };
    visit(None, &mut comp.layers);
    for (id, layers) in &mut comp.assets {
        visit(Some(id), layers);
    }
}

/// The layer list of velato's model that a place names.
pub fn layer_at<'a>(
    comp: &'a mut velato::Composition,
    place: &TextPlace,
) -> Option<&'a mut velato::model::Layer> {
    match &place.asset {
        None => comp.layers.get_mut(place.index),
        Some(id) => comp.assets.get_mut(id)?.get_mut(place.index),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_layer_becomes_an_empty_shape_layer_and_keeps_its_document() {
        let anim = serde_json::json!({
            "fonts": {"list": [{"fName": "Arboria-Black", "fFamily": "Arboria", "fStyle": "Black", "ascent": 70.5}]},
            "chars": [{"ch": "G", "size": 78, "style": "Black", "w": 71.2, "fFamily": "Arboria",
                "data": {"shapes": [{"ty": "gr", "it": [{"ty": "sh", "ks": {"a": 0, "k": {
                    "i": [[0, 0], [0, 0], [0, 0]], "o": [[0, 0], [0, 0], [0, 0]],
                    "v": [[0, 0], [50, -70], [100, 0]], "c": true}}}]}]}}]
        });
        let fonts = Fonts::read(&anim);
        assert!(fonts.has_glyphs());
        let mut layer = serde_json::json!({"ty": 5, "nm": "Name", "ind": 3, "t": {"d": {"k": [
            {"s": {"s": 78, "f": "Arboria-Black", "t": "Good\rMorning", "j": 2, "tr": -32, "lh": 73, "fc": [1, 1, 1]}, "t": 0},
            {"s": {"s": 78, "f": "Arboria-Black", "t": "Bye", "j": 2}, "t": 30}]}, "a": []}});
        let text = fonts.take_text_layer(&mut layer, 7).expect("a text layer");
        assert_eq!(layer["ty"], 4);
        assert_eq!(layer["nm"], format!("{MARKER}7"));
        assert!(layer.get("t").is_none());
        assert_eq!(text.name, "Name");
        assert_eq!(text.doc.text, "Good\rMorning");
        assert_eq!(text.doc.family, "Arboria");
        assert_eq!(text.doc.justify, 2);
        assert_eq!(text.doc.fill, Some([1.0, 1.0, 1.0, 1.0]));
        assert_eq!(text.later.len(), 1);
        assert_eq!(text.later[0].doc.text, "Bye");
        assert!((text.later[0].from_frame - 30.0).abs() < 1e-9);
        let g = text.glyphs.get(&'G').expect("G embedded");
        assert!((g.advance - 71.2).abs() < 1e-9);
        assert_eq!(g.outline.elements().len(), 5, "move, three curves, close");
        let mut shape = serde_json::json!({"ty": 4, "nm": "x"});
        assert!(fonts.take_text_layer(&mut shape, 0).is_none());
    }

    #[test]
    fn hostile_documents_are_bounded() {
        let fonts = Fonts::read(&serde_json::json!({"chars": "nope", "fonts": 3}));
        assert!(!fonts.has_glyphs());
        let long = "字".repeat(MAX_TEXT_CHARS * 2);
        let mut layer = serde_json::json!({"ty": 5, "t": {"d": {"k": [{"s": {
            "s": 1e300, "t": long, "tr": -1e300, "sz": [-1, 5], "fc": [300, 0, 0]}}]}}});
        let text = fonts.take_text_layer(&mut layer, 0).expect("a text layer");
        assert_eq!(text.doc.text.chars().count(), MAX_TEXT_CHARS);
        assert!(text.doc.size <= 4096.0);
        assert!(text.doc.tracking >= -1e4);
        assert_eq!(text.doc.box_size, None);
        assert_eq!(text.doc.fill, Some([1.0, 0.0, 0.0, 1.0]));
    }
}
