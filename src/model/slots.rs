//! Dynamic slots: the sender's avatar and name put into an effect at send time, as
//! SVGAPlayer's `SVGADynamicEntity` does (`setDynamicImage(forKey:)`,
//! `setDynamicText(forKey:)`).
//!
//! An image replaces the bitmap of every sprite whose image key is the slot key (or the key
//! without its `.suffix`); SVGAPlayer stretches it to the sprite's layout rect, so giftqa first
//! crops it to the layout's aspect around its centre, which keeps faces round. A text is drawn
//! in one line centred in the layout rect, over the sprite's bitmap when it has one (see
//! [`super::text`]). The manifest's `slots` (bundle-format §3) say which keys a bundle expects.

use std::sync::Arc;

use image::RgbaImage;
use serde::Serialize;

use super::text::{TextStyle, draw_slot_text};
use super::{Animation, Content, ImageAsset, ImageSource, Sprite, SpriteKind};

/// Largest side of a slot's bitmap, px (slots are drawn at twice their layout size for
/// sharpness, up to this).
pub const MAX_SLOT_PX: u32 = 1024;

/// What fills a slot.
#[derive(Debug, Clone)]
pub enum SlotValue {
    /// A picture (straight-alpha pixels), e.g. the sender's avatar.
    Image(RgbaImage),
    /// A text, e.g. the sender's name.
    Text(String),
}

/// What filling one slot did, for reports.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FilledSlot {
    /// The slot key.
    pub key: String,
    /// `image` or `text`; for a Lottie property slot `colour`, `number` or `vector`.
    pub kind: &'static str,
    /// Sprites (SVGA), layers (Lottie) or, for a property slot, properties that show it.
    pub sprites: usize,
    /// The bitmap made for it, px (width, height).
    pub size_px: [u32; 2],
    /// For text: what was drawn (cut with `…` when too long).
    pub shown: Option<String>,
    /// For text: whether it was cut.
    pub ellipsized: bool,
    /// For text: the font size used, px.
    pub font_px: Option<f32>,
    /// For text: font families used, fallbacks included.
    pub fonts: Vec<String>,
    /// For text: characters no installed font can draw.
    pub missing_glyphs: usize,
}

impl FilledSlot {
    /// A Lottie property slot (a colour, number or vector: `kind`) set to `value` in `uses`
    /// properties.
    #[must_use]
    pub fn property(key: &str, kind: &'static str, uses: usize, value: &str) -> Self {
        Self {
            key: key.to_owned(),
            kind,
            sprites: uses,
            size_px: [0, 0],
            shown: Some(value.to_owned()),
            ellipsized: false,
            font_px: None,
            fonts: Vec::new(),
            missing_glyphs: 0,
        }
    }

    /// Records what drawing a text did, and hands back its bitmap.
    pub fn record_text(&mut self, t: super::text::SlotText) -> RgbaImage {
        self.kind = "text";
        self.shown = Some(t.shown);
        self.ellipsized = t.ellipsized;
        self.font_px = Some(t.font_px);
        self.fonts = t.fonts;
        self.missing_glyphs = t.missing_glyphs;
        t.image
    }
}

/// The keys of an animation that can be filled: every image key of a non-matte sprite, in
/// sprite order, without repeats; a VAP file's fusion tags; a Lottie file's text layers (by
/// name and slot id) and image assets (by id). Empty for formats without keys.
#[must_use]
pub fn slot_keys(anim: &Animation) -> Vec<String> {
    if let Some(video) = super::vap::video_of(anim) {
        return video.movie.config.slot_keys();
    }
    if let Content::Lottie(_, _, texts, _) = &anim.content {
        return crate::format::lottie_text::slot_keys(texts, anim.images.iter().map(|i| &i.key));
    }
    let Content::Sprites(sprites) = &anim.content else {
        return Vec::new();
    };
    let mut keys: Vec<String> = Vec::new();
    for s in sprites {
        if s.kind != SpriteKind::Matte && !s.image_key.is_empty() && !keys.contains(&s.image_key) {
            keys.push(s.image_key.clone());
        }
    }
    keys
}

fn matches_key(s: &Sprite, key: &str) -> bool {
    s.kind != SpriteKind::Matte
        && (s.image_key == key
            || s.image_key
                .rsplit_once('.')
                .is_some_and(|(stem, _)| stem == key))
}

/// The layout size of a sprite: its first visible frame's layout, else its bitmap's size.
fn layout_size(images: &[ImageAsset], s: &Sprite) -> Option<[f32; 2]> {
    s.frames
        .iter()
        .find(|f| f.alpha > 0.0 && f.layout[2] > 0.0 && f.layout[3] > 0.0)
        .map(|f| [f.layout[2], f.layout[3]])
        .or_else(|| {
            let img = images.get(s.image?)?;
            Some([img.width_px as f32, img.height_px as f32])
        })
}

/// The slot bitmap size for a layout: twice the layout, within [`MAX_SLOT_PX`].
fn bitmap_size(layout: [f32; 2]) -> [u32; 2] {
    let scale = (f32::from(u16::try_from(MAX_SLOT_PX).unwrap_or(u16::MAX))
        / layout[0].max(layout[1]).max(1.0))
    .min(2.0);
    [
        ((layout[0] * scale).round() as u32).max(1),
        ((layout[1] * scale).round() as u32).max(1),
    ]
}

/// Crops `img` around its centre to the aspect of `size`, then resizes it to `size`.
#[must_use]
pub fn fit_image(img: &RgbaImage, size: [u32; 2]) -> RgbaImage {
    let (w, h) = (img.width().max(1), img.height().max(1));
    let target = f64::from(size[0]) / f64::from(size[1].max(1));
    let (cw, ch) = if f64::from(w) / f64::from(h) > target {
        (((f64::from(h) * target).round() as u32).clamp(1, w), h)
    } else {
        (w, ((f64::from(w) / target).round() as u32).clamp(1, h))
    };
    let crop = image::imageops::crop_imm(img, (w - cw) / 2, (h - ch) / 2, cw, ch).to_image();
    image::imageops::resize(
        &crop,
        size[0],
        size[1],
        image::imageops::FilterType::CatmullRom,
    )
}

impl SlotError {
    /// The error with the slot's key filled in.
    #[must_use]
    pub fn in_slot(self, slot: &str) -> Self {
        match self {
            Self::TextArea { w, h, .. } => Self::TextArea {
                key: slot.to_owned(),
                w,
                h,
            },
            other => other,
        }
    }
}

/// Why a slot cannot be filled (`render --slot`, the app's slot fields).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SlotError {
    /// No sprite has the image key; `keys` are the ones there are.
    #[error("no sprite has the image key {key:?}; the keys are: {}", keys.join(", "))]
    UnknownKey {
        /// The key asked for.
        key: String,
        /// The animation's slot keys.
        keys: Vec<String>,
    },
    /// No text layer (by name or slot id) or image asset (by id, or by an image layer's name)
    /// of a Lottie effect has the key; `keys` are the ones there are.
    #[error("no text layer, image asset or slot of the Lottie effect has the key {key:?}; the keys are: {}", keys.join(", "))]
    UnknownLottieKey {
        /// The key asked for.
        key: String,
        /// The effect's slot keys.
        keys: Vec<String>,
    },
    /// No VAP fusion source has the tag; `tags` are the ones there are.
    #[error("no fusion source has the tag {tag:?}; the tags are: {}", tags.join(", "))]
    UnknownTag {
        /// The tag asked for.
        tag: String,
        /// The file's `srcTag`s.
        tags: Vec<String>,
    },
    /// The format has no slots (only SVGA image keys, VAP fusion sources and Lottie text
    /// layers and image assets do).
    #[error("only SVGA, VAP and Lottie effects have slots to fill")]
    NoSlots,
    /// A picture given for an image slot cannot be read or decoded (within the decode
    /// limits).
    #[error("slot {key}: {path:?}: {reason}")]
    Picture {
        /// The slot key.
        key: String,
        /// The picture's path as given.
        path: String,
        /// The reader's or decoder's reason.
        reason: String,
    },
    /// A text slot without area, or over 8192 px a side.
    #[error("slot {key:?}: a text slot of {w}×{h} px cannot be drawn")]
    TextArea {
        /// The slot key (empty when drawn outside a slot).
        key: String,
        /// Width, px.
        w: u32,
        /// Height, px.
        h: u32,
    },
}

/// Turns `KEY=VALUE` slot arguments (`render --slot`, the app's slot fields) into slot values
/// for an asset: a declared `image` slot, or an undeclared key whose value names a file, reads
/// the picture (PNG, JPEG, WebP, GIF; within [`crate::format::DecodeLimits`]); anything else
/// is text.
///
/// # Errors
/// [`SlotError::Picture`] when a picture cannot be read or decoded.
pub fn slot_values(
    asset: &crate::bundle::manifest::Asset,
    slots: &[(String, String)],
) -> Result<Vec<(String, SlotValue)>, SlotError> {
    use crate::bundle::manifest::SlotType;
    let limits = crate::format::DecodeLimits::default().image_limits();
    slots
        .iter()
        .map(|(key, value)| {
            let declared = asset
                .slots
                .iter()
                .find(|s| &s.key == key)
                .map(|s| s.slot_type);
            let is_image = match declared {
                Some(SlotType::Image) => true,
                Some(SlotType::Text) => false,
                None => std::path::Path::new(value).is_file(),
            };
            let v = if is_image {
                let picture = |reason: String| SlotError::Picture {
                    key: key.clone(),
                    path: value.clone(),
                    reason,
                };
                let mut reader = image::ImageReader::open(value)
                    .and_then(image::ImageReader::with_guessed_format)
                    .map_err(|e| picture(e.to_string()))?;
                reader.limits(limits.clone());
                let img = reader.decode().map_err(|e| picture(e.to_string()))?;
                SlotValue::Image(img.into_rgba8())
            } else {
                SlotValue::Text(value.clone())
            };
            Ok((key.clone(), v))
        })
        .collect()
}

/// A copy of `anim` with `fills` put into its slots.
///
/// # Errors
/// [`SlotError::UnknownKey`] (or [`SlotError::UnknownTag`] for VAP,
/// [`SlotError::UnknownLottieKey`] for Lottie) naming the key when no sprite has it, [`SlotError::NoSlots`] for formats other than SVGA and VAP, or
/// [`SlotError::TextArea`] when a text slot has no area.
pub fn fill_slots(
    anim: &Animation,
    fills: &[(String, SlotValue)],
    style: &TextStyle,
) -> Result<(Animation, Vec<FilledSlot>), SlotError> {
    if let Some(video) = super::vap::video_of(anim) {
        return super::vap::fill_vap_slots(anim, video, fills);
    }
    if let Content::Lottie(..) = &anim.content {
        return fill_lottie_slots(anim, fills);
    }
    let mut out = anim.clone();
    let Content::Sprites(mut sprites) =
        std::mem::replace(&mut out.content, Content::Frames(Vec::new()))
    else {
        return Err(SlotError::NoSlots);
    };
    let mut report = Vec::new();
    for (key, value) in fills {
        let hits: Vec<usize> = (0..sprites.len())
            .filter(|&i| matches_key(&sprites[i], key))
            .collect();
        let Some(&first) = hits.first() else {
            return Err(SlotError::UnknownKey {
                key: key.clone(),
                keys: slot_keys(anim),
            });
        };
        let layout = layout_size(&out.images, &sprites[first]).unwrap_or([100.0, 100.0]);
        let size = bitmap_size(layout);
        let index = out.images.len();
        let mut filled = FilledSlot {
            key: key.clone(),
            kind: "image",
            sprites: hits.len(),
            size_px: size,
            shown: None,
            ellipsized: false,
            font_px: None,
            fonts: Vec::new(),
            missing_glyphs: 0,
        };
        let pixels = match value {
            SlotValue::Image(img) => fit_image(img, size),
            SlotValue::Text(text) => {
                let t = draw_slot_text(text, size, style).map_err(|e| e.in_slot(key))?;
                filled.record_text(t)
            }
        };
        out.images.push(ImageAsset {
            key: format!("{key} (slot)"),
            width_px: size[0],
            height_px: size[1],
            source: ImageSource::Pixels(Arc::new(pixels)),
        });
        for &i in &hits {
            let s = &mut sprites[i];
            match value {
                SlotValue::Image(_) => s.image = Some(index),
                SlotValue::Text(_) => s.overlay = Some(index),
            }
            if s.kind == SpriteKind::Slot {
                s.kind = SpriteKind::Bitmap;
            }
        }
        report.push(filled);
    }
    out.content = Content::Sprites(sprites);
    Ok((out, report))
}

/// [`fill_slots`] for a Lottie composition: a text replaces the text of every text layer whose
/// name or document slot id (`sid`) is the key, drawn in the layer's own font, size, colour
/// and layout (falling back to the installed fonts for characters the file does not embed),
/// as lottie-web's `updateDocumentData` and rlottie's text property do; a picture replaces the
/// image asset of that id, or the asset of every image layer of that name, cropped to the
/// asset's aspect around its centre.
fn fill_lottie_slots(
    anim: &Animation,
    fills: &[(String, SlotValue)],
) -> Result<(Animation, Vec<FilledSlot>), SlotError> {
    let Content::Lottie(comp, gaps, texts, effects) = &anim.content else {
        return Err(SlotError::NoSlots);
    };
    let mut out = anim.clone();
    let mut comp = (**comp).clone();
    let mut report = Vec::new();
    let mut texts_wanted: Vec<(&str, String)> = Vec::new();
    for (key, value) in fills {
        let mut filled = FilledSlot {
            key: key.clone(),
            kind: "image",
            sprites: 0,
            size_px: [0, 0],
            shown: None,
            ellipsized: false,
            font_px: None,
            fonts: Vec::new(),
            missing_glyphs: 0,
        };
        match value {
            SlotValue::Text(text) => {
                let hits: Vec<&crate::format::lottie_text::TextLayer> =
                    texts.iter().filter(|t| t.answers_to(key)).collect();
                if hits.is_empty() {
                    return Err(SlotError::UnknownLottieKey {
                        key: key.clone(),
                        keys: slot_keys(anim),
                    });
                }
                let text: String = text
                    .chars()
                    .filter(|c| !c.is_control())
                    .take(super::text::MAX_CHARS)
                    .collect();
                filled.kind = "text";
                filled.sprites = hits.len();
                filled.font_px = Some(hits[0].doc.size as f32);
                filled.shown = Some(text.clone());
                texts_wanted.push((key.as_str(), text));
            }
            SlotValue::Image(img) => {
                // The asset ids the key names: an asset id, or the assets of image layers of
                // that name.
                let mut ids: Vec<String> = Vec::new();
                if anim.images.iter().any(|i| &i.key == key) {
                    ids.push(key.clone());
                }
                let mut by_layer = |layers: &[velato::model::Layer]| {
                    for l in layers {
                        if let velato::model::Content::Image { asset_id } = &l.content
                            && crate::format::lottie_text::split_blend(&l.name).0 == key
                            && !ids.contains(asset_id)
                        {
                            ids.push(asset_id.clone());
                        }
                    }
                };
                by_layer(&comp.layers);
                for layers in comp.assets.values() {
                    by_layer(layers);
                }
                if ids.is_empty() {
                    return Err(SlotError::UnknownLottieKey {
                        key: key.clone(),
                        keys: slot_keys(anim),
                    });
                }
                for id in &ids {
                    let Some(asset) = out.images.iter_mut().find(|i| &i.key == id) else {
                        continue;
                    };
                    let declared = comp.images.get(id);
                    let w = declared
                        .and_then(|d| d.width)
                        .unwrap_or(f64::from(asset.width_px));
                    let h = declared
                        .and_then(|d| d.height)
                        .unwrap_or(f64::from(asset.height_px));
                    let size = bitmap_size([w as f32 / 2.0, h as f32 / 2.0]);
                    let pixels = fit_image(img, size);
                    asset.width_px = size[0];
                    asset.height_px = size[1];
                    asset.source = ImageSource::Pixels(Arc::new(pixels));
                    filled.size_px = size;
                    filled.sprites += 1;
                }
            }
        }
        report.push(filled);
    }
    let mut gaps = gaps.clone();
    if !texts_wanted.is_empty() {
        let replace = |name: &str| {
            texts_wanted
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, t)| t.clone())
        };
        // Only the layers a slot names change; the others keep the shapes they have.
        let named = texts
            .iter()
            .filter(|t| texts_wanted.iter().any(|(k, _)| t.answers_to(k)));
        let drawn = super::lottie_text::fill_text_layers(&mut comp, named, &replace);
        for f in &mut report {
            if f.kind != "text" {
                continue;
            }
            for d in drawn.iter().filter(|d| {
                texts
                    .iter()
                    .any(|t| t.name == d.layer && t.answers_to(&f.key))
            }) {
                for font in &d.fonts {
                    if !f.fonts.contains(font) {
                        f.fonts.push(font.clone());
                    }
                }
                if d.embedded && f.fonts.is_empty() {
                    f.fonts.push("embedded glyphs".to_owned());
                }
                f.missing_glyphs += d.missing_glyphs;
            }
        }
        for note in super::lottie_text::fallback_notes(&drawn) {
            if !gaps.contains(&note) {
                gaps.push(note);
            }
        }
    }
    out.content = Content::Lottie(Arc::new(comp), gaps, Arc::clone(texts), Arc::clone(effects));
    Ok((out, report))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_are_cropped_to_the_slot_aspect_around_their_centre() {
        let mut img = RgbaImage::new(300, 100);
        for (x, _, p) in img.enumerate_pixels_mut() {
            *p = if (100..200).contains(&x) {
                image::Rgba([255, 0, 0, 255])
            } else {
                image::Rgba([0, 0, 255, 255])
            };
        }
        let out = fit_image(&img, [50, 50]);
        assert_eq!(out.dimensions(), (50, 50));
        assert!(
            out.pixels().all(|p| p[0] > 200 && p[2] < 60),
            "the red centre only"
        );
        assert_eq!(bitmap_size([100.0, 40.0]), [200, 80]);
        assert_eq!(bitmap_size([2000.0, 1000.0]), [1024, 512]);
    }
}
