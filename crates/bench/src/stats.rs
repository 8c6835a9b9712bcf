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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_skip_failed_rounds() {
        let v = [3.0, f64::NAN, 1.0, 2.0];
        assert_eq!(median(&v), 2.0);
        assert_eq!(quantile(&v, 0.0), 1.0);
        assert_eq!(quantile(&v, 1.0), 3.0);
        assert!(median(&[f64::NAN]).is_nan());
        assert!(median(&[]).is_nan());
    }

    #[test]
    fn spread_and_ratios() {
        let r = ratios(&[2.0, 6.0, 3.0], &[1.0, 2.0, 3.0]);
        assert_eq!(r, vec![2.0, 3.0, 1.0]);
        let s = Spread::of(&r);
        assert_eq!((s.min, s.med, s.max), (1.0, 2.0, 3.0));
    }
}
