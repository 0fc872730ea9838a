//! Back-off: restart after a delay that grows while faults keep coming.
//!
//! A server that faults again right after a restart is likely to fault
//! again; waiting longer each time keeps a crash loop from eating the CPU
//! and gives a transient cause time to pass.

use crate::time::Ticks;

/// The default quiet gap that ends a streak, as a multiple of the longest
/// delay: a fault at least twice the longest delay after the previous one
/// means the instance ran for at least that longest delay again, so it is
/// restarted at the initial delay instead of the longest.
pub const DEFAULT_RESET_AFTER_MAX_MULTIPLE: u64 = 2;

/// Restart after `initial` ticks, then `factor` times longer after each
/// fault of a streak, never longer than `max`.
///
/// A streak is a run of faults each less than `reset_after` ticks after
/// the previous one ([`crate::FaultHistory::streak`]); the `k`-th fault of
/// a streak waits `min(initial × factor^(k-1), max)`.
///
/// # Invariants
/// `initial >= 1`, `factor >= 1`, `initial <= max < reset_after`. The gap
/// between two faults includes the delay before the restart, so a
/// `reset_after` at or below `max` would end every streak that reached
/// `max` and make the delays cycle.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Backoff {
    initial: Ticks,
    factor: u32,
    max: Ticks,
    reset_after: Ticks,
}

/// Why a back-off was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BackoffError {
    /// An initial delay of zero: that is an immediate restart.
    #[error("the initial delay is zero; use an immediate restart")]
    ZeroInitial,
    /// A factor of zero would make the second delay zero.
    #[error("the back-off factor is zero")]
    ZeroFactor,
    /// The longest delay is shorter than the first.
    #[error("the longest delay ({max}) is shorter than the initial one ({initial})")]
    MaxBelowInitial {
        /// The initial delay.
        initial: Ticks,
        /// The longest delay.
        max: Ticks,
    },
    /// The quiet gap that ends a streak is not longer than the longest delay.
    #[error("a streak must end after a gap longer than the longest delay ({max}), not {reset_after}")]
    ResetNotAfterMax {
        /// The longest delay.
        max: Ticks,
        /// The gap asked for.
        reset_after: Ticks,
    },
}

impl Backoff {
    /// A back-off whose streaks end after a quiet gap of
    /// [`DEFAULT_RESET_AFTER_MAX_MULTIPLE`] times `max`.
    pub fn try_new(initial: Ticks, factor: u32, max: Ticks) -> Result<Self, BackoffError> {
        let reset_after = max.saturating_mul(DEFAULT_RESET_AFTER_MAX_MULTIPLE);
        Backoff::with_reset_after(initial, factor, max, reset_after)
    }

    /// A back-off whose streaks end after a quiet gap of `reset_after`.
    pub fn with_reset_after(initial: Ticks, factor: u32, max: Ticks, reset_after: Ticks) -> Result<Self, BackoffError> {
        if initial == Ticks::ZERO {
            return Err(BackoffError::ZeroInitial);
        }
        if factor == 0 {
            return Err(BackoffError::ZeroFactor);
        }
        if max < initial {
            return Err(BackoffError::MaxBelowInitial { initial, max });
        }
        if reset_after <= max {
            return Err(BackoffError::ResetNotAfterMax { max, reset_after });
        }
        Ok(Backoff { initial, factor, max, reset_after })
    }

    /// The first delay of a streak.
    pub const fn initial(&self) -> Ticks {
        self.initial
    }

    /// How much longer each next delay is.
    pub const fn factor(&self) -> u32 {
        self.factor
    }

    /// The longest delay.
    pub const fn max(&self) -> Ticks {
        self.max
    }

    /// The quiet gap that ends a streak.
    pub const fn reset_after(&self) -> Ticks {
        self.reset_after
    }

    /// The delay before restarting after the `streak`-th fault of a streak
    /// (1-based; 0 reads as 1).
    pub fn delay(&self, streak: usize) -> Ticks {
        let mut delay = self.initial;
        for _ in 1..streak {
            if delay >= self.max || self.factor == 1 {
                break;
            }
            delay = delay.saturating_mul(u64::from(self.factor));
        }
        delay.min(self.max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubling_stops_at_max() {
        let backoff = Backoff::try_new(Ticks::new(10), 2, Ticks::new(100)).unwrap();
        let delays: Vec<u64> = (1..=7).map(|k| backoff.delay(k).get()).collect();
        assert_eq!(delays, [10, 20, 40, 80, 100, 100, 100]);
        assert_eq!(backoff.delay(0), Ticks::new(10));
        assert_eq!(backoff.delay(usize::MAX), Ticks::new(100));
        assert_eq!(backoff.reset_after(), Ticks::new(200));
    }

    #[test]
    fn factor_one_is_a_constant_delay() {
        let backoff = Backoff::try_new(Ticks::new(7), 1, Ticks::new(7)).unwrap();
        assert_eq!(backoff.delay(1_000_000), Ticks::new(7));
    }

    #[test]
    fn invalid_backoffs_say_why() {
        let t = Ticks::new;
        assert_eq!(Backoff::try_new(t(0), 2, t(10)), Err(BackoffError::ZeroInitial));
        assert_eq!(Backoff::try_new(t(1), 0, t(10)), Err(BackoffError::ZeroFactor));
        assert_eq!(
            Backoff::try_new(t(20), 2, t(10)),
            Err(BackoffError::MaxBelowInitial { initial: t(20), max: t(10) })
        );
        assert_eq!(
            Backoff::with_reset_after(t(1), 2, t(10), t(10)),
            Err(BackoffError::ResetNotAfterMax { max: t(10), reset_after: t(10) })
        );
        assert!(matches!(Backoff::try_new(t(1), 2, t(u64::MAX)), Err(BackoffError::ResetNotAfterMax { .. })));
    }
}
