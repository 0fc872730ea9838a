//! Restart policies: given a server's fault history and the time, restart now, restart later, or escalate.
//!
//! The decision is a pure function of the policy, the fault history and
//! the time, so it is tested without a manager; the manager only applies
//! it.

use core::num::NonZeroU32;

use crate::backoff::Backoff;
use crate::history::FaultHistory;
use crate::limit::{Escalation, Limit};
use crate::time::Tick;

/// Consecutive failed recovery attempts (a step of the restart sequence
/// faulted, such as `init` panicking) after which a server is marked dead
/// whatever its policy. One transient fault in `init` passes on the next
/// try; three in a row mean the failure is deterministic (a bad image, a
/// damaged kept state), and restarting again would only burn the CPU.
pub const DEFAULT_MAX_FAILED_ATTEMPTS: NonZeroU32 = match NonZeroU32::new(3) {
    Some(n) => n,
    None => panic!("3 is not zero"),
};

/// When to restart, before any limit applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Pacing {
    /// Restart at once.
    Immediate,
    /// Restart after a delay that grows while faults keep coming.
    Backoff(Backoff),
}

/// What the policy says about the latest fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Decision {
    /// Restart at once.
    RestartNow,
    /// Restart at this tick, not before.
    RestartAt(Tick),
    /// The limit is exceeded.
    Escalate(Escalation),
}

/// A server's restart policy: its pacing, optionally wrapped in a limit,
/// and how many failed attempts in a row it tolerates.
///
/// ```
/// use recovery_manager::{Backoff, Escalation, Limit, RestartPolicy, Ticks};
///
/// let policy = RestartPolicy::backoff(Backoff::try_new(Ticks::new(1), 2, Ticks::new(64)).unwrap())
///     .limited(Limit::try_new(5, Ticks::new(1_000), Escalation::MarkDead).unwrap());
/// assert!(policy.limit().is_some());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RestartPolicy {
    pacing: Pacing,
    limit: Option<Limit>,
    max_failed_attempts: NonZeroU32,
}

impl RestartPolicy {
    /// Restart at once, every time.
    pub const fn immediate() -> Self {
        RestartPolicy { pacing: Pacing::Immediate, limit: None, max_failed_attempts: DEFAULT_MAX_FAILED_ATTEMPTS }
    }

    /// Restart after a growing delay, every time.
    pub const fn backoff(backoff: Backoff) -> Self {
        RestartPolicy {
            pacing: Pacing::Backoff(backoff),
            limit: None,
            max_failed_attempts: DEFAULT_MAX_FAILED_ATTEMPTS,
        }
    }

    /// This policy, limited to `limit`'s restarts per window.
    pub const fn limited(self, limit: Limit) -> Self {
        RestartPolicy { limit: Some(limit), ..self }
    }

    /// This policy, marking the server dead after `max` failed recovery
    /// attempts in a row instead of [`DEFAULT_MAX_FAILED_ATTEMPTS`].
    pub const fn with_max_failed_attempts(self, max: NonZeroU32) -> Self {
        RestartPolicy { max_failed_attempts: max, ..self }
    }

    /// When to restart.
    pub const fn pacing(&self) -> Pacing {
        self.pacing
    }

    /// The limit, if any.
    pub const fn limit(&self) -> Option<Limit> {
        self.limit
    }

    /// Failed recovery attempts in a row before the server is marked dead.
    pub const fn max_failed_attempts(&self) -> NonZeroU32 {
        self.max_failed_attempts
    }

    /// Decides about the latest fault, already recorded in `history`, at
    /// `now`.
    pub fn decide(&self, history: &FaultHistory, now: Tick) -> Decision {
        if let Some(limit) = self.limit {
            let recent = history.count_within(limit.window(), now);
            let allowed = usize::try_from(limit.max_restarts()).unwrap_or(usize::MAX);
            if recent > allowed {
                return Decision::Escalate(limit.escalation());
            }
        }
        match self.pacing {
            Pacing::Immediate => Decision::RestartNow,
            Pacing::Backoff(backoff) => {
                Decision::RestartAt(now.after(backoff.delay(history.streak(backoff.reset_after()))))
            }
        }
    }
}

impl Default for RestartPolicy {
    /// Immediate restarts, unlimited.
    fn default() -> Self {
        RestartPolicy::immediate()
    }
}
