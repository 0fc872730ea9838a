//! The leak check: what a finished instance still owns after the backstop.
//!
//! Once the backstop has reclaimed what it could, the old instance should
//! own nothing: it will never run again. Anything its ledger still shows
//! is a leak, reported by kind and amount, never folded into a success.

use core::fmt;

use crate::resources::{ResourceKind, Resources};

/// The outcome of one leak check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LeakReport {
    /// The instance owns nothing any more.
    Clean,
    /// The instance still owns these, kind by kind.
    ///
    /// Never all zero: [`LeakReport::check`] makes a zero ledger `Clean`.
    Leaked(Resources),
}

impl LeakReport {
    /// Checks what a finished instance still owns.
    pub fn check(remaining: Resources) -> Self {
        if remaining.is_zero() {
            LeakReport::Clean
        } else {
            LeakReport::Leaked(remaining)
        }
    }

    /// Whether nothing leaked.
    pub const fn is_clean(&self) -> bool {
        matches!(self, LeakReport::Clean)
    }

    /// What leaked; zero when clean.
    pub const fn amount(&self) -> Resources {
        match self {
            LeakReport::Clean => Resources::ZERO,
            LeakReport::Leaked(leaked) => *leaked,
        }
    }

    /// The kinds that leaked, each with how much.
    pub fn leaks(&self) -> impl Iterator<Item = (ResourceKind, u64)> {
        let amount = self.amount();
        ResourceKind::ALL.into_iter().map(move |kind| (kind, amount.get(kind))).filter(|&(_, count)| count > 0)
    }

    /// The two checks together: leaks of both.
    pub fn combine(&self, other: &LeakReport) -> LeakReport {
        LeakReport::check(self.amount().saturating_add(&other.amount()))
    }
}

impl fmt::Display for LeakReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LeakReport::Clean => f.write_str("clean"),
            LeakReport::Leaked(_) => {
                f.write_str("leaked")?;
                for (kind, count) in self.leaks() {
                    write!(f, " {kind}={count}")?;
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_is_clean() {
        assert_eq!(LeakReport::check(Resources::ZERO), LeakReport::Clean);
        assert_eq!(LeakReport::Clean.leaks().count(), 0);
    }

    #[test]
    fn leaks_name_only_what_is_left() {
        let left = Resources { handles: 2, locks: 1, ..Resources::ZERO };
        let report = LeakReport::check(left);
        assert!(!report.is_clean());
        let leaks: Vec<_> = report.leaks().collect();
        assert_eq!(leaks, [(ResourceKind::Handles, 2), (ResourceKind::Locks, 1)]);
        assert_eq!(report.to_string(), "leaked handles=2 locks=1");
    }

    #[test]
    fn combining_adds_leaks() {
        let a = LeakReport::check(Resources { frames: 1, ..Resources::ZERO });
        assert_eq!(LeakReport::Clean.combine(&LeakReport::Clean), LeakReport::Clean);
        assert_eq!(a.combine(&a).amount().frames, 2);
    }
}
