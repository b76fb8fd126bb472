//! Animatable Lottie properties read from the JSON (lottie-spec "Animated Property") for what
//! giftqa draws beyond velato's model (text animators, layer effects), evaluated with velato's
//! own [`velato::model::Value`] so their keyframes ease as every other property of the file
//! does (the first of per-dimension easing handles, as velato reads them).

use serde_json::Value;
use velato::model::{Animated, EasingHandle, Time};

/// Most keyframes read from one property.
pub const MAX_KEYFRAMES: usize = 4096;

/// One animatable number or vector (`{"a": 0|1, "k": ...}`), per dimension.
#[derive(Debug, Clone)]
pub struct Prop {
    dims: Vec<velato::model::Value<f64>>,
    span: Option<(f64, f64)>,
}

fn num(v: &Value) -> Option<f64> {
    v.as_f64().filter(|x| x.is_finite())
}

/// The numbers of a value: a number is one dimension, an array its numbers.
fn numbers(v: &Value) -> Option<Vec<f64>> {
    match v {
        Value::Array(a) => a.iter().map(num).collect(),
        _ => num(v).map(|x| vec![x]),
    }
}

/// An easing handle (`{"x": 0.3, "y": [0.1]}`): the first of per-dimension handles, as
/// velato reads them.
fn handle(v: Option<&Value>) -> Option<EasingHandle> {
    let v = v?;
    let first = |k: &str| -> Option<f64> {
        let c = v.get(k)?;
        c.as_array()
            .map_or_else(|| num(c), |a| a.first().and_then(num))
    };
    Some(EasingHandle {
        x: first("x")?,
        y: first("y")?,
    })
}

impl Prop {
    /// A fixed value.
    #[must_use]
    pub fn fixed(values: &[f64]) -> Self {
        Self {
            dims: values
                .iter()
                .map(|v| velato::model::Value::Fixed(*v))
                .collect(),
            span: None,
        }
    }

    /// Reads a property: `k` a number or an array (fixed), or keyframes (`t`, `s`, `e`, `i`,
    /// `o`, `h`; a keyframe without `s` starts from the previous one's `e`). `None` when it
    /// has no usable value.
    #[must_use]
    pub fn read(v: &Value) -> Option<Self> {
        let k = v.get("k")?;
        let keyed = k
            .as_array()
            .is_some_and(|a| a.first().is_some_and(Value::is_object));
        if !keyed {
            return numbers(k)
                .filter(|n| !n.is_empty())
                .map(|n| Self::fixed(&n));
        }
        let mut times = Vec::new();
        let mut values: Vec<Vec<f64>> = Vec::new();
        let mut carried: Option<Vec<f64>> = None;
        for kf in k.as_array()?.iter().take(MAX_KEYFRAMES) {
            let Some(t) = kf.get("t").and_then(num) else {
                continue;
            };
            let Some(s) = kf.get("s").and_then(numbers).or_else(|| carried.clone()) else {
                continue;
            };
            if times.last().is_some_and(|l: &Time| l.frame > t) {
                continue;
            }
            carried = kf.get("e").and_then(numbers);
            times.push(Time {
                frame: t,
                in_tangent: handle(kf.get("i")),
                out_tangent: handle(kf.get("o")),
                hold: kf.get("h").and_then(Value::as_u64) == Some(1),
            });
            values.push(s);
        }
        let n = values.iter().map(Vec::len).min()?;
        if n == 0 {
            return None;
        }
        let span = Some((times.first()?.frame, times.last()?.frame));
        let dims = (0..n)
            .map(|d| {
                velato::model::Value::Animated(Animated {
                    times: times.clone(),
                    values: values.iter().map(|v| v[d]).collect(),
                })
            })
            .collect();
        Some(Self { dims, span })
    }

    /// Its value at `frame` (the layer's clock); dimensions it lacks read 0.
    #[must_use]
    pub fn at(&self, frame: f64) -> [f64; 4] {
        let mut out = [0.0; 4];
        for (o, d) in out.iter_mut().zip(&self.dims) {
            *o = d.evaluate(frame);
        }
        out
    }

    /// Component `i` at `frame`, when it has one.
    #[must_use]
    pub fn get(&self, frame: f64, i: usize) -> Option<f64> {
        self.dims.get(i).map(|d| d.evaluate(frame))
    }

    /// Multiplies every value by `k` (a unit change).
    pub fn scale(&mut self, k: f64) {
        for d in &mut self.dims {
            match d {
                velato::model::Value::Fixed(x) => *x *= k,
                velato::model::Value::Animated(a) => a.values.iter_mut().for_each(|x| *x *= k),
            }
        }
    }

    /// The first and last keyframe times, when it is keyframed.
    #[must_use]
    pub fn span(&self) -> Option<(f64, f64)> {
        self.span
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keyframes_ease_hold_and_skip_what_they_cannot_use() {
        // Linear, then eased in and out, then held.
        let p = Prop::read(&json!({"a": 1, "k": [
            {"t": 0, "s": [0, 10], "o": {"x": 0, "y": 0}, "i": {"x": 1, "y": 1}},
            {"t": 10, "s": [20, 30], "o": {"x": [0.42], "y": [0]}, "i": {"x": [0.58], "y": [1]}},
            {"t": 20, "s": [40, 50], "h": 1},
            {"t": 30, "s": [0, 0]}]}))
        .unwrap();
        assert!((p.at(5.0)[0] - 10.0).abs() < 1e-6 && (p.at(5.0)[1] - 20.0).abs() < 1e-6);
        let eased = p.at(12.0)[0];
        assert!(eased > 20.0 && eased < 24.0, "slow out of the key: {eased}");
        assert!(
            (p.at(15.0)[0] - 30.0).abs() < 1e-6,
            "symmetric easing at the middle"
        );
        assert!((p.at(25.0)[0] - 40.0).abs() < 1e-9, "held");
        assert!(p.at(99.0)[0].abs() < 1e-9 && p.get(99.0, 2).is_none());
        assert_eq!(p.span(), Some((0.0, 30.0)));
        // Keyframes out of order or without values are skipped, not trusted.
        let p =
            Prop::read(&json!({"a": 1, "k": [{"t": 5, "s": [1]}, {"t": 2, "s": [9]}, {"t": 8}]}))
                .unwrap();
        assert!((p.at(100.0)[0] - 1.0).abs() < 1e-9);
        assert!(Prop::read(&json!({"k": "x"})).is_none());
        assert!(Prop::read(&json!({"a": 1, "k": [{"t": 1e308}]})).is_none());
        let p = Prop::read(&json!({"k": [1, 2, 3]})).unwrap();
        assert!(p.span().is_none() && p.get(0.0, 2).is_some_and(|v| (v - 3.0).abs() < 1e-9));
    }
}
