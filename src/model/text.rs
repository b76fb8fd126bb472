//! Text for dynamic slots (the sender's name), drawn into a bitmap the size of the slot with a
//! real text stack: cosmic-text shapes it (HarfBuzz-compatible shaping, bidirectional text, so
//! Arabic joins and runs right to left) and falls back across the installed fonts per
//! character (CJK, Arabic, emoji), then swash rasterises the glyphs.
//!
//! As SVGAPlayer's `setDynamicText` does, the text is one line centred in the slot's layout
//! rect. When it is too wide it is shrunk (down to [`MIN_SHRINK`] of its size) or cut with an
//! ellipsis (`…`), as the slot's [`Overflow`] says; shrinking that reaches the floor then cuts.

use std::sync::{Mutex, OnceLock, PoisonError};

use cosmic_text::{Attrs, Buffer, Color, Family, FontSystem, Metrics, Shaping, SwashCache, Wrap};
use image::RgbaImage;

use super::slots::SlotError;

/// Smallest size shrinking goes to, as a share of the requested size.
pub const MIN_SHRINK: f32 = 0.6;

/// Longest text accepted, in characters (a name; longer input is cut first).
pub const MAX_CHARS: usize = 256;

/// What to do with text wider than its slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Overflow {
    /// Cut the end and add `…`.
    #[default]
    Ellipsis,
    /// Make the font smaller, down to [`MIN_SHRINK`], then cut.
    Shrink,
}

/// An overflow name that is neither `ellipsis` nor `shrink`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?}: expected ellipsis or shrink")]
pub struct UnknownOverflow(pub String);

impl std::str::FromStr for Overflow {
    type Err = UnknownOverflow;
    fn from_str(s: &str) -> Result<Self, UnknownOverflow> {
        match s {
            "ellipsis" => Ok(Self::Ellipsis),
            "shrink" => Ok(Self::Shrink),
            _ => Err(UnknownOverflow(s.to_owned())),
        }
    }
}

/// How slot text is drawn.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TextStyle {
    /// Straight-alpha RGBA8.
    pub color: [u8; 4],
    /// Font size as a share of the slot's height (SVGA name slots are one line tall).
    pub size_of_height: f32,
    /// Too-long text policy.
    pub overflow: Overflow,
    /// Bold weight (VAP `"style": "b"`).
    pub bold: bool,
    /// Smallest size shrinking goes to, as a share of the requested size ([`MIN_SHRINK`] for
    /// SVGA slots; VAP's `createTxtBitmap` goes from 0.8 of the height down to 0.1).
    pub min_shrink: f32,
}

impl Default for TextStyle {
    fn default() -> Self {
        Self {
            color: [255, 255, 255, 255],
            size_of_height: 0.6,
            overflow: Overflow::Ellipsis,
            bold: false,
            min_shrink: MIN_SHRINK,
        }
    }
}

/// Text drawn into a slot, with what it took.
#[derive(Debug, Clone)]
pub struct SlotText {
    /// Straight-alpha pixels, the slot's size.
    pub image: RgbaImage,
    /// Font size used, px.
    pub font_px: f32,
    /// The text as drawn (cut with `…` when it did not fit).
    pub shown: String,
    /// Whether it was cut.
    pub ellipsized: bool,
    /// Font families the shaper used, in order of first use (fallbacks included).
    pub fonts: Vec<String>,
    /// Characters no installed font has a glyph for (drawn as boxes on devices too).
    pub missing_glyphs: usize,
}

fn fonts() -> &'static Mutex<(FontSystem, SwashCache)> {
    static FONTS: OnceLock<Mutex<(FontSystem, SwashCache)>> = OnceLock::new();
    FONTS.get_or_init(|| Mutex::new((FontSystem::new(), SwashCache::new())))
}

/// One shaped line: its width and the buffer.
fn shape(fs: &mut FontSystem, text: &str, px: f32, height: f32, bold: bool) -> (Buffer, f32) {
    let mut buffer = Buffer::new(fs, Metrics::new(px, px * 1.25));
    buffer.set_wrap(Wrap::None);
    buffer.set_size(None, Some(height.max(px * 1.25)));
    buffer.set_text(
        text,
        &Attrs::new().family(Family::SansSerif).weight(if bold {
            cosmic_text::Weight::BOLD
        } else {
            cosmic_text::Weight::NORMAL
        }),
        Shaping::Advanced,
        None,
    );
    buffer.shape_until_scroll(fs, false);
    let w = buffer.layout_runs().map(|r| r.line_w).fold(0.0, f32::max);
    (buffer, w)
}

/// Draws `text` centred on one line in a `size_px` (width × height) bitmap.
///
/// # Errors
/// [`SlotError::TextArea`] when the slot has no area or is over 8192 px a side (its key left
/// empty; [`SlotError::in_slot`] names it).
pub fn draw_slot_text(
    text: &str,
    size_px: [u32; 2],
    style: &TextStyle,
) -> Result<SlotText, SlotError> {
    let [w, h] = size_px;
    if w == 0 || h == 0 || w > 8192 || h > 8192 {
        return Err(SlotError::TextArea {
            key: String::new(),
            w,
            h,
        });
    }
    let text: String = text
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_CHARS)
        .collect();
    let mut guard = fonts().lock().unwrap_or_else(PoisonError::into_inner);
    let (fs, cache) = &mut *guard;
    let (wf, hf) = (w as f32, h as f32);
    let mut px = (hf * style.size_of_height).max(1.0);
    let (mut buffer, mut line_w) = shape(fs, &text, px, hf, style.bold);
    if line_w > wf && style.overflow == Overflow::Shrink {
        px = (px * wf / line_w).max(px * style.min_shrink.clamp(0.05, 1.0));
        (buffer, line_w) = shape(fs, &text, px, hf, style.bold);
    }
    let mut shown = text.clone();
    let mut ellipsized = false;
    if line_w > wf {
        // The longest prefix (in characters) that fits with the ellipsis.
        let chars: Vec<char> = text.chars().collect();
        let (mut lo, mut hi) = (0usize, chars.len());
        while lo < hi {
            let mid = (lo + hi).div_ceil(2);
            let candidate: String = chars[..mid].iter().collect::<String>() + "…";
            if shape(fs, &candidate, px, hf, style.bold).1 <= wf {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        shown = chars[..lo].iter().collect::<String>().trim_end().to_owned() + "…";
        (buffer, line_w) = shape(fs, &shown, px, hf, style.bold);
        ellipsized = true;
    }
    let mut families = Vec::new();
    let mut missing_glyphs = 0;
    let mut line_top = 0.0f32;
    let mut line_h = px * 1.25;
    for run in buffer.layout_runs() {
        line_top = run.line_top;
        line_h = run.line_height;
        for g in run.glyphs {
            if g.glyph_id == 0 {
                missing_glyphs += 1;
            }
            if let Some(face) = fs.db().face(g.font_id) {
                let name = face
                    .families
                    .first()
                    .map_or_else(|| face.post_script_name.clone(), |f| f.0.clone());
                if !families.contains(&name) {
                    families.push(name);
                }
            }
        }
    }
    let dx = ((wf - line_w) / 2.0).round() as i32;
    let dy = ((hf - line_h) / 2.0 - line_top).round() as i32;
    let mut image = RgbaImage::new(w, h);
    let [r, g, b, a] = style.color;
    buffer.draw(fs, cache, Color::rgba(r, g, b, a), |x, y, gw, gh, color| {
        let alpha = u32::from(color.a());
        if alpha == 0 {
            return;
        }
        for yy in y..y + gh as i32 {
            for xx in x..x + gw as i32 {
                let (px_, py_) = (xx + dx, yy + dy);
                if px_ < 0 || py_ < 0 || px_ >= w as i32 || py_ >= h as i32 {
                    continue;
                }
                let p = image.get_pixel_mut(px_ as u32, py_ as u32);
                blend_over(p, [color.r(), color.g(), color.b()], alpha);
            }
        }
    });
    Ok(SlotText {
        image,
        font_px: px,
        shown,
        ellipsized,
        fonts: families,
        missing_glyphs,
    })
}

/// One glyph of a shaped line, as an outline: its advance and its path, in px at the size
/// asked for, y down, the origin on the baseline at the glyph's pen position.
#[derive(Debug, Clone)]
pub struct OutlineGlyph {
    /// The text it stands for (a cluster; `" "` for a space).
    pub text: String,
    /// Advance, px.
    pub advance: f32,
    /// The outline (empty for spaces and glyphs no installed font has).
    pub outline: kurbo::BezPath,
}

/// A line shaped into outlines, with the fonts it took.
#[derive(Debug, Clone, Default)]
pub struct OutlineLine {
    /// Glyphs in visual order.
    pub glyphs: Vec<OutlineGlyph>,
    /// Font families used, fallbacks included, in order of first use.
    pub fonts: Vec<String>,
    /// Characters no installed font has a glyph for.
    pub missing_glyphs: usize,
    /// Whether `family` itself is installed.
    pub family_installed: bool,
}

/// Shapes one line of `text` in `family` at `size_px` with cosmic-text (falling back across
/// the installed fonts per character) and returns its glyph outlines (swash), for text drawn as
/// vector shapes: Lottie text layers whose file embeds no glyphs for it. At most
/// [`MAX_CHARS`] × 16 characters.
#[must_use]
pub fn outline_line(text: &str, family: &str, size_px: f32) -> OutlineLine {
    let text: String = text
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_CHARS * 16)
        .collect();
    let size_px = size_px.clamp(0.5, 4096.0);
    let mut guard = fonts().lock().unwrap_or_else(PoisonError::into_inner);
    let (fs, cache) = &mut *guard;
    let family_installed = fs.db().faces().any(|f| {
        f.families
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case(family))
    });
    let mut buffer = Buffer::new(fs, Metrics::new(size_px, size_px * 1.25));
    buffer.set_wrap(Wrap::None);
    buffer.set_size(None, None);
    let attrs = if family.is_empty() {
        Attrs::new().family(Family::SansSerif)
    } else {
        Attrs::new().family(Family::Name(family))
    };
    buffer.set_text(&text, &attrs, Shaping::Advanced, None);
    buffer.shape_until_scroll(fs, false);
    let mut out = OutlineLine {
        family_installed,
        ..OutlineLine::default()
    };
    let mut placed = Vec::new();
    for run in buffer.layout_runs() {
        for g in run.glyphs {
            placed.push((g.clone(), run.text[g.start..g.end].to_owned()));
        }
    }
    for (g, cluster) in placed {
        if g.glyph_id == 0 {
            out.missing_glyphs += 1;
        }
        if let Some(face) = fs.db().face(g.font_id) {
            let name = face
                .families
                .first()
                .map_or_else(|| face.post_script_name.clone(), |f| f.0.clone());
            if !out.fonts.contains(&name) {
                out.fonts.push(name);
            }
        }
        let key = g.physical((0.0, 0.0), 1.0).cache_key;
        let mut outline = kurbo::BezPath::new();
        if let Some(commands) = cache.get_outline_commands(fs, key) {
            let p = |v: zeno::Vector| kurbo::Point::new(f64::from(v.x), -f64::from(v.y));
            for c in commands {
                match *c {
                    zeno::Command::MoveTo(a) => outline.move_to(p(a)),
                    zeno::Command::LineTo(a) => outline.line_to(p(a)),
                    zeno::Command::QuadTo(a, b) => outline.quad_to(p(a), p(b)),
                    zeno::Command::CurveTo(a, b, c) => outline.curve_to(p(a), p(b), p(c)),
                    zeno::Command::Close => outline.close_path(),
                }
            }
        }
        out.glyphs.push(OutlineGlyph {
            text: cluster,
            advance: g.w,
            outline,
        });
    }
    out
}

/// Straight-alpha source-over of one colour at `alpha` (0–255) onto a pixel.
fn blend_over(p: &mut image::Rgba<u8>, rgb: [u8; 3], alpha: u32) {
    let da = u32::from(p[3]);
    let out_a = alpha * 255 + da * (255 - alpha);
    if out_a == 0 {
        return;
    }
    for c in 0..3 {
        let v = u32::from(rgb[c]) * alpha * 255 + u32::from(p[c]) * da * (255 - alpha);
        p[c] = ((v + out_a / 2) / out_a).min(255) as u8;
    }
    p[3] = ((out_a + 127) / 255).min(255) as u8;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ink(img: &RgbaImage) -> usize {
        img.pixels().filter(|p| p[3] > 0).count()
    }

    #[test]
    fn short_latin_text_fits_and_is_centred() {
        let t = draw_slot_text("Ann", [200, 40], &TextStyle::default()).unwrap();
        assert!(!t.ellipsized && t.shown == "Ann" && ink(&t.image) > 50);
        let cols: Vec<u32> = t
            .image
            .enumerate_pixels()
            .filter(|(_, _, p)| p[3] > 0)
            .map(|(x, _, _)| x)
            .collect();
        let (lo, hi) = (*cols.iter().min().unwrap(), *cols.iter().max().unwrap());
        assert!(
            (i64::from(lo) - (200 - i64::from(hi))).abs() <= 3,
            "{lo}..{hi}"
        );
    }

    #[test]
    fn long_text_is_cut_or_shrunk_as_asked() {
        let long = "A very long sender name that cannot possibly fit";
        let cut = draw_slot_text(long, [120, 30], &TextStyle::default()).unwrap();
        assert!(cut.ellipsized && cut.shown.ends_with('…') && cut.shown.len() < long.len());
        let style = TextStyle {
            overflow: Overflow::Shrink,
            ..TextStyle::default()
        };
        let shrunk = draw_slot_text("Medium name!", [90, 30], &style).unwrap();
        assert!(shrunk.font_px < 18.0, "{}", shrunk.font_px);
        assert!(draw_slot_text("x", [0, 10], &style).is_err());
    }
}
