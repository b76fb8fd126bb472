//! dotLottie v2 themes (`t/<id>.json`, `shared/spec/formats/dotlottie/`): rules that restyle an
//! animation's slots. A theme is `{"rules": [{"id", "type", "value" | "keyframes",
//! "animations"?}]}`; each rule names a slot id (`sid` in the animation) and gives it a new
//! value. They are turned into Lottie slot values (`{"p": property}`) as dotlottie-rs's
//! `transform_theme_to_lottie_slots` does, and put over the file's own `slots` before drawing.

use serde_json::{Map, Value, json};

/// Most rules read from one theme; past it the rest are left out and named.
pub const MAX_RULES: usize = 4096;

/// Most keyframes read from one rule.
pub const MAX_RULE_KEYFRAMES: usize = 4096;

/// A theme turned into slot values for one animation.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct ThemeSlots {
    /// Slot id → `{"p": property}`, the shape of a Lottie file's top-level `slots` entries.
    pub slots: Map<String, Value>,
    /// Rules left out, each with why (an unknown type, no value, another animation's).
    pub skipped: Vec<String>,
}

/// Turns a theme's rules into slot values for the animation `animation` (rules with an
/// `animations` list apply only to the animations it names).
///
/// Colour values are `[r, g, b]` or `[r, g, b, a]` in 0–1; scalars a number; vectors and
/// positions arrays; gradients a list of `{"offset", "color"}` stops (written as Lottie's
/// flat colour-then-alpha array, with `p` the stop count); images `{"width", "height",
/// "path" | "dataUrl"}`. Keyframes are `{"frame", "value", "inTangent"?, "outTangent"?,
/// "hold"?}`. Text rules are named, not applied.
///
/// # Errors
/// A message when the theme is not an object with a `rules` array.
pub fn theme_slots(theme: &Value, animation: &str) -> Result<ThemeSlots, String> {
    let rules = theme
        .get("rules")
        .and_then(Value::as_array)
        .ok_or("the theme has no \"rules\" array")?;
    let mut out = ThemeSlots::default();
    if rules.len() > MAX_RULES {
        out.skipped.push(format!(
            "{} rule(s) past the first {MAX_RULES}",
            rules.len() - MAX_RULES
        ));
    }
    for (i, rule) in rules.iter().take(MAX_RULES).enumerate() {
        let Some(id) = rule.get("id").and_then(Value::as_str) else {
            out.skipped.push(format!("rule {i}: no slot id"));
            continue;
        };
        if let Some(list) = rule.get("animations").and_then(Value::as_array)
            && !list.iter().any(|a| a.as_str() == Some(animation))
        {
            continue;
        }
        let kind = rule.get("type").and_then(Value::as_str).unwrap_or("");
        let p = match kind {
            "Color" | "Vector" | "Position" | "Scalar" => property(rule, kind),
            "Gradient" => gradient(rule),
            "Image" => image(rule),
            "Text" => Err("text rules are not applied".to_owned()),
            other => Err(format!("unknown type {other:?}")),
        };
        match p {
            Ok(p) => {
                out.slots.insert(id.to_owned(), json!({ "p": p }));
            }
            Err(why) => out.skipped.push(format!("slot {id:?}: {why}")),
        }
    }
    Ok(out)
}

/// A number or array value as Lottie writes it: colours keep at most four components.
fn value_of(v: &Value, kind: &str) -> Option<Value> {
    match (kind, v) {
        ("Scalar", Value::Number(_)) => Some(v.clone()),
        ("Scalar", Value::Array(a)) => a.first().filter(|x| x.is_number()).cloned(),
        ("Color", Value::Array(a)) if (3..=4).contains(&a.len()) => {
            a.iter().all(Value::is_number).then(|| v.clone())
        }
        ("Vector" | "Position", Value::Array(a)) if !a.is_empty() && a.len() <= 3 => {
            a.iter().all(Value::is_number).then(|| v.clone())
        }
        _ => None,
    }
}

/// A colour, scalar, vector or position rule as an animated or static property.
fn property(rule: &Value, kind: &str) -> Result<Value, String> {
    if let Some(kfs) = rule.get("keyframes").and_then(Value::as_array) {
        let mut out = Vec::new();
        for kf in kfs.iter().take(MAX_RULE_KEYFRAMES) {
            let s = kf
                .get("value")
                .and_then(|v| value_of(v, kind))
                .ok_or_else(|| format!("a keyframe's value is not a {kind} value"))?;
            // Lottie keyframes hold arrays, scalars included (`"s": [v]`).
            let s = if s.is_array() { s } else { json!([s]) };
            out.push(keyframe(kf, &s, true)?);
        }
        if out.is_empty() {
            return Err("no keyframes".into());
        }
        return Ok(json!({ "a": 1, "k": out }));
    }
    let v = rule
        .get("value")
        .and_then(|v| value_of(v, kind))
        .ok_or_else(|| format!("no {kind} value"))?;
    Ok(json!({ "a": 0, "k": v }))
}

/// One theme keyframe as a Lottie keyframe: `t`, `s`, easing `i`/`o`, `h`, and for spatial
/// values `ti`/`to`.
fn keyframe(kf: &Value, s: &Value, spatial: bool) -> Result<Value, String> {
    let t = kf
        .get("frame")
        .and_then(Value::as_f64)
        .filter(|f| f.is_finite())
        .ok_or("a keyframe has no frame")?;
    let mut out = json!({ "t": t, "s": s });
    for (from, to) in [("inTangent", "i"), ("outTangent", "o")] {
        if let Some(tan) = kf.get(from)
            && let (Some(x), Some(y)) = (tan.get("x"), tan.get("y"))
        {
            out[to] = json!({ "x": x, "y": y });
        }
    }
    if spatial {
        for (from, to) in [("valueInTangent", "ti"), ("valueOutTangent", "to")] {
            if let Some(v) = kf.get(from).filter(|v| v.is_array()) {
                out[to] = v.clone();
            }
        }
    }
    if kf.get("hold").and_then(Value::as_bool) == Some(true) {
        out["h"] = json!(1);
    }
    Ok(out)
}

/// Gradient stops `[{"offset", "color": [r, g, b, a?]}]` as Lottie's flat array: each stop's
/// offset and colour, then (when any stop has alpha) each stop's offset and alpha.
fn gradient_stops(stops: &Value) -> Result<(Vec<f64>, usize), String> {
    let stops = stops.as_array().ok_or("gradient stops are not a list")?;
    let alpha = stops
        .iter()
        .any(|s| s.get("color").and_then(Value::as_array).map(Vec::len) == Some(4));
    let mut colours = Vec::new();
    let mut alphas = Vec::new();
    for s in stops.iter().take(MAX_RULE_KEYFRAMES) {
        let offset = s
            .get("offset")
            .and_then(Value::as_f64)
            .ok_or("a gradient stop has no offset")?;
        let c: Vec<f64> = s
            .get("color")
            .and_then(Value::as_array)
            .ok_or("a gradient stop has no colour")?
            .iter()
            .map(|x| x.as_f64().ok_or("a colour component is not a number"))
            .collect::<Result<_, _>>()?;
        if c.len() < 3 {
            return Err("a gradient stop's colour has fewer than 3 components".into());
        }
        colours.extend([offset, c[0], c[1], c[2]]);
        if alpha {
            alphas.extend([offset, c.get(3).copied().unwrap_or(1.0)]);
        }
    }
    let n = colours.len() / 4;
    colours.extend(alphas);
    Ok((colours, n))
}

/// A gradient rule: `{"p": stop count, "k": property}`.
fn gradient(rule: &Value) -> Result<Value, String> {
    if let Some(kfs) = rule.get("keyframes").and_then(Value::as_array) {
        let mut out = Vec::new();
        let mut count = 0;
        for kf in kfs.iter().take(MAX_RULE_KEYFRAMES) {
            let (flat, n) = gradient_stops(kf.get("value").unwrap_or(&Value::Null))?;
            count = n;
            out.push(keyframe(kf, &json!(flat), false)?);
        }
        if out.is_empty() {
            return Err("no keyframes".into());
        }
        return Ok(json!({ "p": count, "k": { "a": 1, "k": out } }));
    }
    let (flat, n) = gradient_stops(rule.get("value").ok_or("no gradient value")?)?;
    Ok(json!({ "p": n, "k": { "a": 0, "k": flat } }))
}

/// An image rule: the asset's size and either its path in the archive or a data URI.
fn image(rule: &Value) -> Result<Value, String> {
    let v = rule
        .get("value")
        .and_then(Value::as_object)
        .ok_or("no image value")?;
    let mut out = json!({});
    for (from, to) in [("width", "w"), ("height", "h")] {
        if let Some(n) = v.get(from).and_then(Value::as_f64) {
            out[to] = json!(n);
        }
    }
    if let Some(url) = v.get("dataUrl").and_then(Value::as_str) {
        out["u"] = json!("");
        out["p"] = json!(url);
        out["e"] = json!(1);
    } else if let Some(path) = v.get("path").and_then(Value::as_str) {
        let (dir, file) = path.rsplit_once('/').unwrap_or(("", path));
        out["u"] = json!(if dir.is_empty() {
            String::new()
        } else {
            format!("{dir}/")
        });
        out["p"] = json!(file);
        out["e"] = json!(0);
    } else {
        return Err("an image rule has neither path nor dataUrl".into());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_rules_become_static_colour_slots() {
        let theme = json!({"rules": [{"id": "c0", "type": "Color", "value": [1, 0, 1, 1]}]});
        let t = theme_slots(&theme, "animation").expect("a theme");
        assert_eq!(t.slots["c0"], json!({"p": {"a": 0, "k": [1, 0, 1, 1]}}));
        assert!(t.skipped.is_empty());
    }

    #[test]
    fn rules_for_other_animations_are_left_out() {
        let theme = json!({"rules": [
            {"id": "a", "type": "Scalar", "value": 40, "animations": ["rect"]},
            {"id": "b", "type": "Scalar", "value": 50, "animations": ["circle"]},
        ]});
        let t = theme_slots(&theme, "circle").expect("a theme");
        assert_eq!(t.slots.len(), 1);
        assert_eq!(t.slots["b"], json!({"p": {"a": 0, "k": 50}}));
    }

    #[test]
    fn keyframed_rules_become_lottie_keyframes() {
        let theme = json!({"rules": [{"id": "s", "type": "Scalar", "keyframes": [
            {"frame": 0, "value": 10, "outTangent": {"x": 0.3, "y": 0}, "inTangent": {"x": 0.7, "y": 1}},
            {"frame": 30, "value": 90, "hold": true},
        ]}]});
        let t = theme_slots(&theme, "x").expect("a theme");
        let k = &t.slots["s"]["p"]["k"];
        assert_eq!(t.slots["s"]["p"]["a"], json!(1));
        assert_eq!(k[0]["s"], json!([10]));
        assert_eq!(k[0]["o"], json!({"x": 0.3, "y": 0}));
        assert_eq!(k[1]["t"].as_f64().map(f64::to_bits), Some(30f64.to_bits()));
        assert_eq!(k[1]["h"], json!(1));
    }

    #[test]
    fn gradients_are_written_colour_then_alpha() {
        let theme = json!({"rules": [{"id": "g", "type": "Gradient", "value": [
            {"offset": 0, "color": [1, 0, 0, 0.5]},
            {"offset": 1, "color": [0, 0, 1]},
        ]}]});
        let t = theme_slots(&theme, "x").expect("a theme");
        assert_eq!(
            t.slots["g"]["p"],
            json!({"p": 2, "k": {"a": 0, "k": [0.0, 1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 1.0, 0.0, 0.5, 1.0, 1.0]}})
        );
    }

    #[test]
    fn images_take_a_path_or_a_data_uri() {
        let theme = json!({"rules": [
            {"id": "i", "type": "Image", "value": {"width": 64, "height": 32, "path": "i/avatar.png"}},
            {"id": "j", "type": "Image", "value": {"dataUrl": "data:image/png;base64,AA=="}},
        ]});
        let t = theme_slots(&theme, "x").expect("a theme");
        assert_eq!(t.slots["i"]["p"]["u"], json!("i/"));
        assert_eq!(t.slots["i"]["p"]["p"], json!("avatar.png"));
        assert_eq!(t.slots["j"]["p"]["e"], json!(1));
    }

    #[test]
    fn malformed_rules_are_named_not_applied() {
        let theme = json!({"rules": [
            {"id": "c", "type": "Color", "value": [1, 0]},
            {"id": "t", "type": "Text", "value": {"text": "hi"}},
            {"id": "u", "type": "Wobble", "value": 1},
            {"type": "Color", "value": [1, 0, 0]},
        ]});
        let t = theme_slots(&theme, "x").expect("a theme");
        assert!(t.slots.is_empty());
        assert_eq!(t.skipped.len(), 4, "{:?}", t.skipped);
        assert!(theme_slots(&json!({"rule": []}), "x").is_err());
    }
}
