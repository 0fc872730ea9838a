//! When a trial's fault fires, counted from the start of the workload.
//!
//! Spelled `ops.N` or `ticks.N` on the command line.

use core::fmt;
use core::str::FromStr;

use crate::error::ParseError;

/// Largest operation count the plan draws for [`Trigger::AfterOps`]. The
/// guest workload must run at least this many operations, or faults armed
/// past its end never fire and the trial is `not-activated` for a reason
/// that has nothing to do with the system.
pub const TRIGGER_OPS_MAX: u32 = 200;

/// Largest tick count the plan draws for [`Trigger::AfterTicks`]: 2 s at
/// the kernel's 100 Hz timer. The workload must run at least this long, for
/// the same reason as [`TRIGGER_OPS_MAX`].
pub const TRIGGER_TICKS_MAX: u32 = 200;

/// Word that starts an operation-count trigger.
const OPS_WORD: &str = "ops";

/// Word that starts a timer-tick trigger.
const TICKS_WORD: &str = "ticks";

/// When the injector fires, counted from the start of the workload.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Trigger {
    /// Armed once the workload has completed this many operations; a
    /// site-based fault then fires the next time the target reaches its
    /// site. Used for faults tied to code: `panic`, `wildptr`, `cfi`,
    /// `hang`, `stackoverflow`.
    AfterOps(u32),
    /// Fires at the first timer tick at least this many ticks after the
    /// workload started, on the target thread's saved context or memory:
    /// "a random instant" for `regflip` and `memflip`.
    AfterTicks(u32),
}

impl fmt::Display for Trigger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Trigger::AfterOps(n) => write!(f, "{OPS_WORD}.{n}"),
            Trigger::AfterTicks(n) => write!(f, "{TICKS_WORD}.{n}"),
        }
    }
}

impl FromStr for Trigger {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (word, count) = s.split_once('.').ok_or(ParseError::WrongShape {
            what: "trigger",
            expected: "ops.N or ticks.N",
        })?;
        let count = count
            .parse()
            .map_err(|_| ParseError::BadNumber { what: "trigger count" })?;
        match word {
            OPS_WORD => Ok(Trigger::AfterOps(count)),
            TICKS_WORD => Ok(Trigger::AfterTicks(count)),
            _ => Err(ParseError::UnknownTrigger),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_round_trip() {
        assert_eq!(Trigger::AfterOps(12).to_string(), "ops.12");
        assert_eq!(Trigger::AfterTicks(150).to_string(), "ticks.150");
        for trigger in [Trigger::AfterOps(0), Trigger::AfterOps(u32::MAX), Trigger::AfterTicks(7)] {
            assert_eq!(trigger.to_string().parse::<Trigger>(), Ok(trigger));
        }
    }

    #[test]
    fn malformed_triggers_are_refused() {
        assert_eq!("ops".parse::<Trigger>(), Err(ParseError::WrongShape { what: "trigger", expected: "ops.N or ticks.N" }));
        assert_eq!("ops.x".parse::<Trigger>(), Err(ParseError::BadNumber { what: "trigger count" }));
        assert_eq!("ops.-1".parse::<Trigger>(), Err(ParseError::BadNumber { what: "trigger count" }));
        assert_eq!("secs.3".parse::<Trigger>(), Err(ParseError::UnknownTrigger));
    }
}
