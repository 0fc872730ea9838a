//! Timer ticks: the manager's only clock, read by the caller and passed in.
//!
//! The manager never reads a clock of its own: every event carries `now`, a
//! count of timer ticks since boot. Its decisions are then pure functions
//! of their inputs, and tests choose time freely. [`Tick`] is an instant,
//! [`Ticks`] a duration; two types keep an instant from being used as a
//! delay by mistake.

use core::fmt;

/// An instant: timer ticks since boot.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Tick(u64);

impl Tick {
    /// Boot.
    pub const ZERO: Tick = Tick(0);

    /// The instant `ticks` timer ticks after boot.
    pub const fn new(ticks: u64) -> Self {
        Tick(ticks)
    }

    /// Timer ticks since boot.
    pub const fn get(self) -> u64 {
        self.0
    }

    /// The instant `delay` after this one; saturates at the end of time.
    pub const fn after(self, delay: Ticks) -> Tick {
        Tick(self.0.saturating_add(delay.0))
    }

    /// The time from `earlier` to this instant; zero if `earlier` is later.
    pub const fn since(self, earlier: Tick) -> Ticks {
        Ticks(self.0.saturating_sub(earlier.0))
    }
}

impl fmt::Display for Tick {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "tick {}", self.0)
    }
}

/// A duration in timer ticks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ticks(u64);

impl Ticks {
    /// No time at all.
    pub const ZERO: Ticks = Ticks(0);

    /// A duration of `ticks` timer ticks.
    pub const fn new(ticks: u64) -> Self {
        Ticks(ticks)
    }

    /// The duration in timer ticks.
    pub const fn get(self) -> u64 {
        self.0
    }

    /// This duration times `factor`; saturates instead of wrapping.
    pub const fn saturating_mul(self, factor: u64) -> Ticks {
        Ticks(self.0.saturating_mul(factor))
    }
}

impl fmt::Display for Ticks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ticks", self.0)
    }
}

/// An event dated before one the manager already saw: the caller's clock
/// went backwards, or two events were reported out of order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{now} is before {last}, which was already reported")]
pub struct TimeWentBackwards {
    /// The latest instant already seen.
    pub last: Tick,
    /// The instant given now.
    pub now: Tick,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn after_and_since_saturate() {
        assert_eq!(Tick::new(u64::MAX - 1).after(Ticks::new(5)), Tick::new(u64::MAX));
        assert_eq!(Tick::new(3).since(Tick::new(10)), Ticks::ZERO);
        assert_eq!(Tick::new(10).since(Tick::new(3)), Ticks::new(7));
        assert_eq!(Ticks::new(u64::MAX).saturating_mul(2), Ticks::new(u64::MAX));
    }
}
