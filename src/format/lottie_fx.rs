//! Lottie layer effects (`ef`; lottie-spec "Effects", After Effects' effect parameters as
//! lottie-web's SVG renderer reads them in `SVGEffects`): the ones gift files use — fill, tint,
//! tritone, Gaussian blur and drop shadow — read from the JSON before velato (which drops
//! them), with their parameters evaluated per frame, eased as the file's keyframes say.
//!
//! A layer with effects gets a mark in its name (as blend modes do, see
//! [`super::lottie_text::split_marks`]) that indexes the list [`read_effects`] returns; the
//! drawing sink evaluates the effects at the frame and draws the layer through them.

use serde_json::Value;

use super::lottie_prop::Prop;

/// One animatable parameter (`v` of an effect's control), read and eased as the file's other
/// properties ([`Prop`]); none when the control has no usable value.
#[derive(Debug, Clone)]
pub struct Param(Option<Prop>);

impl Param {
    fn read(v: Option<&Value>) -> Self {
        Self(v.and_then(Prop::read))
    }

    /// The value at `frame` (composition frames), component `i`, or `default`.
    #[must_use]
    pub fn at(&self, frame: f64, i: usize, default: f64) -> f64 {
        self.0
            .as_ref()
            .and_then(|p| p.get(frame, i))
            .filter(|x| x.is_finite())
            .unwrap_or(default)
    }
}

/// The effects After Effects gift files use that giftqa draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EffectKind {
    /// Fill (21): colour (2), opacity 0–1 (6).
    Fill,
    /// Tint (20): map black to (0), map white to (1), amount 0–100 (2).
    Tint,
    /// Tritone (23): highlights (0), midtones (1), shadows (2), blend with original 0–100 (3).
    Tritone,
    /// Gaussian blur (29): blurriness (0), dimensions 1 both, 2 horizontal, 3 vertical (1).
    GaussianBlur,
    /// Drop shadow (25): colour (0), opacity 0–255 (1), direction ° (2), distance (3),
    /// softness (4).
    DropShadow,
}

/// One effect of a layer with its parameters in the file's order.
#[derive(Debug, Clone)]
pub struct EffectSpec {
    /// What it does.
    pub kind: EffectKind,
    /// `ef[].ef[].v` of the effect, in order.
    pub params: Vec<Param>,
    /// Whether it is switched on (`en`, default on).
    pub enabled: bool,
}

/// The effects of one layer, in the order After Effects applies them (top first).
pub type LayerEffects = Vec<EffectSpec>;

/// The prefix of the mark a layer with drawn effects carries in its name.
pub const FX_MARK: &str = "\u{2}fx";

/// Reads a layer's drawn effects (those [`EffectKind`] covers and switched on), marks its
/// name with their index in `table`, and pushes them there. Returns whether it marked.
pub fn read_effects(layer: &mut Value, table: &mut Vec<LayerEffects>) -> bool {
    let Some(list) = layer.get("ef").and_then(Value::as_array) else {
        return false;
    };
    let effects: LayerEffects = list
        .iter()
        .take(32)
        .filter_map(|e| {
            let kind = match e.get("ty").and_then(Value::as_u64)? {
                20 => EffectKind::Tint,
                21 => EffectKind::Fill,
                23 => EffectKind::Tritone,
                25 => EffectKind::DropShadow,
                29 => EffectKind::GaussianBlur,
                _ => return None,
            };
            let params = e
                .get("ef")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .take(16)
                .map(|p| Param::read(p.get("v")))
                .collect();
            let enabled = e.get("en").and_then(Value::as_u64) != Some(0);
            Some(EffectSpec {
                kind,
                params,
                enabled,
            })
        })
        .filter(|e| e.enabled)
        .collect();
    if effects.is_empty() || table.len() >= 1 << 16 {
        return false;
    }
    let Some(m) = layer.as_object_mut() else {
        return false;
    };
    let name = m.get("nm").and_then(Value::as_str).unwrap_or("").to_owned();
    m.insert(
        "nm".into(),
        Value::from(format!("{name}{FX_MARK}{}", table.len())),
    );
    table.push(effects);
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn effects_are_read_marked_and_evaluated() {
        let mut layer = serde_json::json!({"nm": "glow", "ef": [
            {"ty": 29, "en": 1, "ef": [{"ty": 0, "v": {"a": 1, "k": [
                {"t": 0, "s": [0]}, {"t": 10, "s": [20]}]}}, {"ty": 7, "v": {"a": 0, "k": 1}}]},
            {"ty": 5, "ef": [{"ty": 0, "v": {"a": 0, "k": 3}}]},
            {"ty": 21, "en": 0, "ef": []}
        ]});
        let mut table = Vec::new();
        assert!(read_effects(&mut layer, &mut table));
        assert_eq!(layer["nm"], format!("glow{FX_MARK}0"));
        assert_eq!(
            table[0].len(),
            1,
            "the controller and the switched-off fill are left"
        );
        let blur = &table[0][0];
        assert_eq!(blur.kind, EffectKind::GaussianBlur);
        assert!((blur.params[0].at(5.0, 0, 0.0) - 10.0).abs() < 1e-9);
        assert!((blur.params[0].at(50.0, 0, 0.0) - 20.0).abs() < 1e-9);
        assert!((blur.params[1].at(0.0, 0, 0.0) - 1.0).abs() < 1e-9);
        assert!(
            (blur.params[1].at(0.0, 3, 7.0) - 7.0).abs() < 1e-9,
            "default past the end"
        );
        let mut plain = serde_json::json!({"nm": "x", "ef": [{"ty": 5}]});
        assert!(!read_effects(&mut plain, &mut table));
        assert_eq!(plain["nm"], "x");
    }
}
