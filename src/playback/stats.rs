//! Frame statistics: percentiles (nearest rank), jank against a frame budget.

use serde::{Deserialize, Serialize};

/// Percentile `p` (0–100) by the nearest-rank method on a copy of `values`; `None` when empty.
#[must_use]
pub fn percentile(values: &[f64], p: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut v: Vec<f64> = values.iter().copied().filter(|x| !x.is_nan()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * v.len() as f64).ceil().max(1.0) as usize;
    Some(v[rank.min(v.len()) - 1])
}

/// p50, p95, p99 and max of a series.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Number of values.
    pub count: usize,
    /// Median.
    pub p50: f64,
    /// 95th percentile.
    pub p95: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Largest value.
    pub max: f64,
    /// Mean.
    pub mean: f64,
}

/// Summarises a series; all zero when empty.
#[must_use]
pub fn summarize(values: &[f64]) -> Summary {
    if values.is_empty() {
        return Summary::default();
    }
    Summary {
        count: values.len(),
        p50: percentile(values, 50.0).unwrap_or(0.0),
        p95: percentile(values, 95.0).unwrap_or(0.0),
        p99: percentile(values, 99.0).unwrap_or(0.0),
        max: values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        mean: values.iter().sum::<f64>() / values.len() as f64,
    }
}

/// Frames over the budget and over twice the budget.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jank {
    /// Frames longer than the budget.
    pub over_budget: usize,
    /// Frames longer than twice the budget.
    pub over_twice_budget: usize,
}

/// Counts janky frames of `frame_ms` against `budget_ms`.
#[must_use]
pub fn jank(frame_ms: &[f64], budget_ms: f64) -> Jank {
    Jank {
        over_budget: frame_ms.iter().filter(|t| **t > budget_ms).count(),
        over_twice_budget: frame_ms.iter().filter(|t| **t > 2.0 * budget_ms).count(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&v, 50.0), Some(50.0));
        assert_eq!(percentile(&v, 95.0), Some(95.0));
        assert_eq!(percentile(&v, 99.0), Some(99.0));
        assert_eq!(percentile(&v, 100.0), Some(100.0));
        assert_eq!(percentile(&[7.0, 1.0, 3.0], 50.0), Some(3.0));
        assert_eq!(percentile(&[], 50.0), None);
        let s = summarize(&[4.0, 1.0, 2.0, 3.0]);
        assert_eq!((s.count, s.p50, s.max, s.mean), (4, 2.0, 4.0, 2.5));
    }

    #[test]
    fn jank_counts() {
        let j = jank(&[10.0, 16.6, 17.0, 40.0], 16.667);
        assert_eq!(
            j,
            Jank {
                over_budget: 2,
                over_twice_budget: 1
            }
        );
    }
}
