//! The Wilson score interval: a binomial proportion's 95 % confidence interval.
//!
//! For `k` successes in `n` trials, with `p = k / n` and `z` the normal
//! quantile (1.959964 for 95 %), the interval is
//!
//! ```text
//!            p + z²/2n  ±  z · sqrt( p(1-p)/n + z²/4n² )
//! bounds =  ---------------------------------------------
//!                            1 + z²/n
//! ```
//!
//! (Wilson, 1927). Chosen over the textbook normal ("Wald") interval because
//! recovery rates sit near 0 or 1 and per-cell counts are small, where Wald
//! collapses to zero width or leaves `[0, 1]`; Wilson stays inside `[0, 1]`
//! and keeps close to its nominal coverage (Brown, Cai and DasGupta, 2001).

use std::fmt;

/// The two-sided 95 % quantile of the standard normal distribution,
/// `Φ⁻¹(0.975)` = 1.959963985…, to the six decimals used everywhere.
pub const Z_95: f64 = 1.959_964;

/// Percent per unit, for display.
const PERCENT: f64 = 100.0;

/// More successes than trials.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StatsError {
    /// `k > n`.
    #[error("{successes} successes out of {trials} trials is impossible")]
    MoreSuccessesThanTrials {
        /// `k`.
        successes: u64,
        /// `n`.
        trials: u64,
    },
}

/// A proportion `k / n` with its Wilson 95 % score interval.
///
/// # Invariants
/// `k <= n` and `0 <= low <= high <= 1`; with `n = 0` the interval is the
/// whole `[0, 1]` (nothing is known) and there is no estimate.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct WilsonInterval {
    successes: u64,
    trials: u64,
    low: f64,
    high: f64,
}

impl WilsonInterval {
    /// The interval for `successes` out of `trials` at 95 %.
    pub fn new(successes: u64, trials: u64) -> Result<Self, StatsError> {
        if successes > trials {
            return Err(StatsError::MoreSuccessesThanTrials { successes, trials });
        }
        Ok(Self::of_counts(successes, trials))
    }

    /// The interval for counts that satisfy `successes <= trials` by
    /// construction (the summary's own counts).
    pub(crate) fn of_counts(successes: u64, trials: u64) -> Self {
        debug_assert!(successes <= trials);
        if trials == 0 {
            return WilsonInterval { successes, trials, low: 0.0, high: 1.0 };
        }
        // Counts stay far below 2^53, where u64 -> f64 is exact.
        let n = trials as f64;
        let p = successes as f64 / n;
        let z2 = Z_95 * Z_95;
        let denominator = 1.0 + z2 / n;
        let centre = (p + z2 / (2.0 * n)) / denominator;
        let half_width = Z_95 * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / denominator;
        // At k = 0 and k = n the bound is exactly 0 or 1; the formula gets
        // there only up to rounding.
        let low = if successes == 0 { 0.0 } else { (centre - half_width).max(0.0) };
        let high = if successes == trials { 1.0 } else { (centre + half_width).min(1.0) };
        WilsonInterval { successes, trials, low, high }
    }

    /// `k`.
    pub fn successes(&self) -> u64 {
        self.successes
    }

    /// `n`.
    pub fn trials(&self) -> u64 {
        self.trials
    }

    /// `k / n`, or `None` when `n = 0`.
    pub fn estimate(&self) -> Option<f64> {
        (self.trials > 0).then(|| self.successes as f64 / self.trials as f64)
    }

    /// The lower bound.
    pub fn low(&self) -> f64 {
        self.low
    }

    /// The upper bound.
    pub fn high(&self) -> f64 {
        self.high
    }
}

impl fmt::Display for WilsonInterval {
    /// `62.5% [55.6%, 68.9%] (125/200)`, or `n/a (0/0)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.estimate() {
            Some(rate) => write!(
                f,
                "{:.1}% [{:.1}%, {:.1}%] ({}/{})",
                rate * PERCENT,
                self.low * PERCENT,
                self.high * PERCENT,
                self.successes,
                self.trials
            ),
            None => write!(f, "n/a ({}/{})", self.successes, self.trials),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rounding of the published reference values (four decimals).
    const TOLERANCE: f64 = 5e-5;

    fn assert_interval(k: u64, n: u64, low: f64, high: f64) {
        let interval = WilsonInterval::new(k, n).unwrap();
        assert!(
            (interval.low() - low).abs() < TOLERANCE && (interval.high() - high).abs() < TOLERANCE,
            "{k}/{n}: got [{:.6}, {:.6}], expected [{low}, {high}]",
            interval.low(),
            interval.high()
        );
    }

    #[test]
    fn matches_newcombes_published_examples() {
        // Newcombe (1998), "Two-sided confidence intervals for the single
        // proportion", Statistics in Medicine 17, Table I, method 3.
        assert_interval(81, 263, 0.2553, 0.3662);
        assert_interval(15, 148, 0.0624, 0.1605);
        assert_interval(0, 20, 0.0, 0.1611);
        assert_interval(1, 29, 0.0061, 0.1718);
    }

    #[test]
    fn matches_hand_computed_values() {
        // Worked from the formula in the module documentation, z = 1.959964.
        assert_interval(0, 10, 0.0, 0.2775);
        assert_interval(10, 10, 0.7225, 1.0);
        assert_interval(50, 100, 0.4038, 0.5962);
        assert_interval(8, 10, 0.4902, 0.9433);
        assert_interval(1, 1, 0.2065, 1.0);
        assert_interval(125, 200, 0.5561, 0.6891);
    }

    #[test]
    fn the_extremes_are_exact_and_the_bounds_stay_in_the_unit_interval() {
        let none = WilsonInterval::new(0, 1000).unwrap();
        assert_eq!(none.low(), 0.0);
        let all = WilsonInterval::new(1000, 1000).unwrap();
        assert_eq!(all.high(), 1.0);
        for n in 1..60 {
            for k in 0..=n {
                let i = WilsonInterval::new(k, n).unwrap();
                let p = i.estimate().unwrap();
                assert!(0.0 <= i.low() && i.low() <= p && p <= i.high() && i.high() <= 1.0, "{k}/{n}");
            }
        }
    }

    #[test]
    fn is_symmetric_around_one_half() {
        let a = WilsonInterval::new(3, 17).unwrap();
        let b = WilsonInterval::new(14, 17).unwrap();
        assert!((a.low() - (1.0 - b.high())).abs() < 1e-12);
        assert!((a.high() - (1.0 - b.low())).abs() < 1e-12);
    }

    #[test]
    fn no_trials_means_no_estimate_and_the_whole_interval() {
        let empty = WilsonInterval::new(0, 0).unwrap();
        assert_eq!(empty.estimate(), None);
        assert_eq!((empty.low(), empty.high()), (0.0, 1.0));
        assert_eq!(empty.to_string(), "n/a (0/0)");
    }

    #[test]
    fn more_successes_than_trials_is_an_error() {
        assert_eq!(
            WilsonInterval::new(3, 2),
            Err(StatsError::MoreSuccessesThanTrials { successes: 3, trials: 2 })
        );
    }

    #[test]
    fn prints_rate_interval_and_counts() {
        assert_eq!(WilsonInterval::new(50, 100).unwrap().to_string(), "50.0% [40.4%, 59.6%] (50/100)");
    }
}
