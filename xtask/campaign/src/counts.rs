//! How many trials ended in each outcome.

use std::fmt;

use crate::outcome::Outcome;
use crate::stats::WilsonInterval;

/// A count per outcome: a row of the summary, or the live tally behind a
/// progress bar.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OutcomeCounts {
    counts: [u64; Outcome::ALL.len()],
}

impl OutcomeCounts {
    /// Counts one more trial with `outcome`.
    pub fn add(&mut self, outcome: Outcome) {
        self.counts[outcome.index()] += 1;
    }

    /// Adds another set of counts to this one.
    pub fn merge(&mut self, other: &OutcomeCounts) {
        for (mine, theirs) in self.counts.iter_mut().zip(other.counts) {
            *mine += theirs;
        }
    }

    /// Trials with `outcome`.
    pub fn get(&self, outcome: Outcome) -> u64 {
        self.counts[outcome.index()]
    }

    /// All trials counted.
    pub fn trials(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// Trials whose fault had an effect: all but `not-activated`.
    pub fn activated(&self) -> u64 {
        self.trials() - self.get(Outcome::NotActivated)
    }

    /// The recovery rate, `recovered / activated`, with its Wilson 95 %
    /// interval. `recovered-leaky` does not count as recovered.
    pub fn recovery_rate(&self) -> WilsonInterval {
        WilsonInterval::of_counts(self.get(Outcome::Recovered), self.activated())
    }
}

impl fmt::Display for OutcomeCounts {
    /// The non-zero counts, e.g. `recovered 12 · hang 1`: short enough for
    /// a progress bar.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for outcome in Outcome::ALL {
            let count = self.get(outcome);
            if count == 0 {
                continue;
            }
            if !first {
                f.write_str(" · ")?;
            }
            write!(f, "{outcome} {count}")?;
            first = false;
        }
        if first {
            f.write_str("no trials yet")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_trials_activations_and_the_rate() {
        let mut counts = OutcomeCounts::default();
        for outcome in [
            Outcome::NotActivated,
            Outcome::Recovered,
            Outcome::Recovered,
            Outcome::Recovered,
            Outcome::RecoveredLeaky,
            Outcome::Hang,
        ] {
            counts.add(outcome);
        }
        assert_eq!(counts.trials(), 6);
        assert_eq!(counts.activated(), 5);
        assert_eq!(counts.get(Outcome::Recovered), 3);
        let rate = counts.recovery_rate();
        assert_eq!((rate.successes(), rate.trials()), (3, 5));
        assert_eq!(counts.to_string(), "not-activated 1 · recovered 3 · recovered-leaky 1 · hang 1");
    }

    #[test]
    fn merging_adds_per_outcome() {
        let mut a = OutcomeCounts::default();
        a.add(Outcome::Sdc);
        let mut b = OutcomeCounts::default();
        b.add(Outcome::Sdc);
        b.add(Outcome::KernelCrash);
        a.merge(&b);
        assert_eq!((a.get(Outcome::Sdc), a.get(Outcome::KernelCrash), a.trials()), (2, 1, 3));
        assert_eq!(OutcomeCounts::default().to_string(), "no trials yet");
    }
}
