//! Order statistics over small samples.

/// The `q` quantile (0..=1) of the finite `values` by nearest rank (failed rounds are
/// NaN and skipped); NaN when none is finite.
pub(crate) fn quantile(values: &[f64], q: f64) -> f64 {
    let mut sorted: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted.sort_by(f64::total_cmp);
    let rank = (q * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

/// The median of `values`; NaN when empty.
pub(crate) fn median(values: &[f64]) -> f64 {
    quantile(values, 0.5)
}

/// Minimum, median and maximum of a per-round series.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Spread {
    pub(crate) min: f64,
    pub(crate) med: f64,
    pub(crate) max: f64,
}

impl Spread {
    /// The spread of `values`; all NaN when empty.
    pub(crate) fn of(values: &[f64]) -> Spread {
        Spread {
            min: quantile(values, 0.0),
            med: median(values),
            max: quantile(values, 1.0),
        }
    }
}

/// Element-wise ratios `a[i] / b[i]` of two per-round series.
pub(crate) fn ratios(a: &[f64], b: &[f64]) -> Vec<f64> {
    a.iter().zip(b).map(|(x, y)| x / y).collect()
}
