//! Restart limits: at most N restarts in a sliding window, then escalate.
//!
//! Restarting forever hides a server that can no longer work; a limit says
//! how many restarts a window may hold before the manager escalates.

use crate::history::FAULT_HISTORY_CAPACITY;
use crate::time::Ticks;

/// What to do when a server faults more often than its limit allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Escalation {
    /// Give up: mark the server dead. Its callers' calls fail cleanly from
    /// then on; its dependents keep running.
    MarkDead,
    /// Restart the server at once, with no back-off, together with every
    /// serving server that depends on it, directly or not, on the theory
    /// that a client drives it into the fault: dependents are stopped, and
    /// each starts again once what it depends on serves. The server's fault
    /// history starts afresh; if it exceeds its limit again within one
    /// window of this escalation, it is marked dead.
    RestartDependents,
}

/// At most `max_restarts` restarts for the faults of any sliding `window`;
/// the fault after that escalates.
///
/// # Invariants
/// `window >= 1` tick, and `max_restarts < FAULT_HISTORY_CAPACITY`, so the
/// fault history always holds the `max_restarts + 1` faults the check
/// needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Limit {
    max_restarts: u32,
    window: Ticks,
    escalation: Escalation,
}

/// Why a limit was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LimitError {
    /// A window of zero ticks holds no fault.
    #[error("the restart window is zero ticks long")]
    ZeroWindow,
    /// More restarts than the fault history can count.
    #[error("at most {max} restarts per window can be counted, not {max_restarts}", max = FAULT_HISTORY_CAPACITY - 1)]
    TooManyRestarts {
        /// The limit asked for.
        max_restarts: u32,
    },
}

impl Limit {
    /// Validates a limit.
    pub fn try_new(max_restarts: u32, window: Ticks, escalation: Escalation) -> Result<Self, LimitError> {
        if window == Ticks::ZERO {
            return Err(LimitError::ZeroWindow);
        }
        let countable = usize::try_from(max_restarts).is_ok_and(|n| n < FAULT_HISTORY_CAPACITY);
        if !countable {
            return Err(LimitError::TooManyRestarts { max_restarts });
        }
        Ok(Limit { max_restarts, window, escalation })
    }

    /// Restarts allowed per window.
    pub const fn max_restarts(&self) -> u32 {
        self.max_restarts
    }

    /// The window's length.
    pub const fn window(&self) -> Ticks {
        self.window
    }

    /// What happens past the limit.
    pub const fn escalation(&self) -> Escalation {
        self.escalation
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_are_validated() {
        let ok = Limit::try_new(3, Ticks::new(100), Escalation::MarkDead).unwrap();
        assert_eq!((ok.max_restarts(), ok.window(), ok.escalation()), (3, Ticks::new(100), Escalation::MarkDead));
        assert!(Limit::try_new(0, Ticks::new(1), Escalation::MarkDead).is_ok());
        assert_eq!(Limit::try_new(3, Ticks::ZERO, Escalation::MarkDead), Err(LimitError::ZeroWindow));
        let too_many = u32::try_from(FAULT_HISTORY_CAPACITY).unwrap();
        assert_eq!(
            Limit::try_new(too_many, Ticks::new(1), Escalation::MarkDead),
            Err(LimitError::TooManyRestarts { max_restarts: too_many })
        );
        assert!(Limit::try_new(too_many - 1, Ticks::new(1), Escalation::MarkDead).is_ok());
    }
}
