//! Counters of decode outcomes, for a store's statistics and a scrubber's report.

use crate::outcome::{Correction, Decoded, EccError};

/// How many words decoded clean, were corrected, or were beyond repair.
///
/// Counters saturate instead of wrapping: a counter that stops at
/// `u64::MAX` is still a true lower bound.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    /// Words that decoded without error.
    pub clean: u64,
    /// Words with one flipped bit, corrected.
    pub corrected: u64,
    /// Words with an error the code cannot correct.
    pub uncorrectable: u64,
}

impl Counters {
    /// Counts one decode outcome.
    pub fn record<V>(&mut self, outcome: &Result<Decoded<V>, EccError>) {
        let counter = match outcome {
            Ok(Decoded { correction: Correction::Clean, .. }) => &mut self.clean,
            Ok(Decoded { correction: Correction::Corrected { .. }, .. }) => &mut self.corrected,
            Err(EccError::Uncorrectable) => &mut self.uncorrectable,
        };
        *counter = counter.saturating_add(1);
    }

    /// Adds another set of counters to these.
    pub fn add(&mut self, other: &Counters) {
        self.clean = self.clean.saturating_add(other.clean);
        self.corrected = self.corrected.saturating_add(other.corrected);
        self.uncorrectable = self.uncorrectable.saturating_add(other.uncorrectable);
    }

    /// Words decoded in all.
    pub fn total(&self) -> u64 {
        self.clean.saturating_add(self.corrected).saturating_add(self.uncorrectable)
    }
}
