//! Accounting counters: what recoveries released by unwinding, reclaimed by the backstop, and leaked.
//!
//! Kept per server and in total. "Released by unwinding" counts what Rust
//! drops gave back: the faulting thread's unwound frames and the dropped
//! state object. "Reclaimed by backstop" counts what the per-instance
//! records had to take back because no drop did. A campaign compares the
//! two to show how much the unwinder itself achieved; under the `restart`
//! configuration the first stays zero.

use crate::leak::LeakReport;
use crate::resources::Resources;

/// Counters over many recoveries.
///
/// # Invariants
/// Counters only grow (they saturate, never wrap), and a leaky check is
/// also a check: `leaky_checks <= checks`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ResourceCounters {
    released_by_unwinding: Resources,
    reclaimed_by_backstop: Resources,
    leaked: Resources,
    checks: u64,
    leaky_checks: u64,
}

impl ResourceCounters {
    /// Released by Rust drops: unwound frames and dropped state objects.
    pub const fn released_by_unwinding(&self) -> Resources {
        self.released_by_unwinding
    }

    /// Reclaimed by the backstop from what no drop released.
    pub const fn reclaimed_by_backstop(&self) -> Resources {
        self.reclaimed_by_backstop
    }

    /// Still owned by finished instances after the backstop: leaks.
    pub const fn leaked(&self) -> Resources {
        self.leaked
    }

    /// Leak checks made: one per finished instance.
    pub const fn checks(&self) -> u64 {
        self.checks
    }

    /// Leak checks that found a leak.
    pub const fn leaky_checks(&self) -> u64 {
        self.leaky_checks
    }

    pub(crate) fn add_released(&mut self, amount: &Resources) {
        self.released_by_unwinding = self.released_by_unwinding.saturating_add(amount);
    }

    pub(crate) fn add_reclaimed(&mut self, amount: &Resources) {
        self.reclaimed_by_backstop = self.reclaimed_by_backstop.saturating_add(amount);
    }

    pub(crate) fn add_check(&mut self, report: &LeakReport) {
        self.checks = self.checks.saturating_add(1);
        if !report.is_clean() {
            // Saturating both ways keeps `leaky_checks <= checks`.
            self.leaky_checks = self.leaky_checks.saturating_add(1).min(self.checks);
            self.leaked = self.leaked.saturating_add(&report.amount());
        }
    }
}

/// One server's accounting: its counters and the baseline of its instance.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Accounting {
    baseline: Option<Resources>,
    counters: ResourceCounters,
}

impl Accounting {
    /// What the current instance owned when it started serving; `None`
    /// before any instance served.
    pub const fn baseline(&self) -> Option<Resources> {
        self.baseline
    }

    /// The server's counters over all its recoveries.
    pub const fn counters(&self) -> &ResourceCounters {
        &self.counters
    }

    pub(crate) fn counters_mut(&mut self) -> &mut ResourceCounters {
        &mut self.counters
    }

    /// Records a new instance's baseline; returns the previous one.
    pub(crate) fn replace_baseline(&mut self, baseline: Resources) -> Option<Resources> {
        self.baseline.replace(baseline)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_count_and_leaks_add_up() {
        let mut counters = ResourceCounters::default();
        counters.add_check(&LeakReport::Clean);
        let leak = Resources { handles: 1, ..Resources::ZERO };
        counters.add_check(&LeakReport::check(leak));
        counters.add_check(&LeakReport::check(leak));
        assert_eq!(counters.checks(), 3);
        assert_eq!(counters.leaky_checks(), 2);
        assert_eq!(counters.leaked().handles, 2);
    }
}
