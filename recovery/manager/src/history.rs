//! Fault history: the recent fault ticks of one server, in a bounded ring.
//!
//! Policies look only at recent faults: how many fell in the last window,
//! how many came in quick succession. A ring of the last
//! [`FAULT_HISTORY_CAPACITY`] ticks answers both in fixed space; the total
//! count of faults is kept apart and never forgets.

use crate::time::{Tick, Ticks, TimeWentBackwards};

/// Faults remembered per server. A limit of "at most N restarts in a
/// window" must see its last N + 1 faults, so N is capped below this
/// ([`crate::Limit::try_new`]); 32 is well above any sensible N, and the
/// ring costs 256 bytes per server.
pub const FAULT_HISTORY_CAPACITY: usize = 32;

/// The recent faults of one server.
///
/// # Invariants
/// - Ticks are recorded in non-decreasing order, so the ring read newest
///   first is sorted from latest to earliest.
/// - `len <= FAULT_HISTORY_CAPACITY`, `newest < FAULT_HISTORY_CAPACITY`,
///   and `total >= len` (saturating).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FaultHistory {
    ticks: [Tick; FAULT_HISTORY_CAPACITY],
    len: usize,
    /// Slot of the newest fault (meaningless while `len == 0`).
    newest: usize,
    total: u64,
}

impl Default for FaultHistory {
    fn default() -> Self {
        FaultHistory { ticks: [Tick::ZERO; FAULT_HISTORY_CAPACITY], len: 0, newest: 0, total: 0 }
    }
}

impl FaultHistory {
    /// An empty history.
    pub fn new() -> Self {
        FaultHistory::default()
    }

    /// Records a fault at `at`, forgetting the oldest if the ring is full.
    pub fn record(&mut self, at: Tick) -> Result<(), TimeWentBackwards> {
        if let Some(last) = self.latest() {
            if at < last {
                return Err(TimeWentBackwards { last, now: at });
            }
        }
        self.newest = if self.len == 0 { 0 } else { (self.newest + 1) % FAULT_HISTORY_CAPACITY };
        self.ticks[self.newest] = at;
        self.len = (self.len + 1).min(FAULT_HISTORY_CAPACITY);
        self.total = self.total.saturating_add(1);
        Ok(())
    }

    /// Faults remembered (at most [`FAULT_HISTORY_CAPACITY`]).
    pub const fn len(&self) -> usize {
        self.len
    }

    /// Whether no fault is remembered.
    pub const fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Faults ever recorded, including those forgotten or cleared.
    pub const fn total(&self) -> u64 {
        self.total
    }

    /// The latest fault remembered.
    pub fn latest(&self) -> Option<Tick> {
        self.newest_first().next()
    }

    /// The remembered fault ticks, latest first.
    pub fn newest_first(&self) -> impl Iterator<Item = Tick> + '_ {
        (0..self.len).map(move |age| self.ticks[(self.newest + FAULT_HISTORY_CAPACITY - age) % FAULT_HISTORY_CAPACITY])
    }

    /// Faults less than `window` before `now` (and not after it): the ones
    /// a sliding window ending at `now` still counts.
    pub fn count_within(&self, window: Ticks, now: Tick) -> usize {
        self.newest_first().filter(|&at| at <= now).take_while(|&at| now.since(at) < window).count()
    }

    /// The length of the latest streak: the latest fault, and each fault
    /// before it that came less than `reset_after` before the next one.
    /// Zero for an empty history.
    pub fn streak(&self, reset_after: Ticks) -> usize {
        let mut ticks = self.newest_first();
        let Some(mut later) = ticks.next() else {
            return 0;
        };
        let mut streak = 1;
        for earlier in ticks {
            if later.since(earlier) >= reset_after {
                break;
            }
            streak += 1;
            later = earlier;
        }
        streak
    }

    /// Forgets the remembered faults (not the total): a fresh start after
    /// an escalation.
    pub(crate) fn clear(&mut self) {
        self.len = 0;
        self.newest = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn history(ticks: &[u64]) -> FaultHistory {
        let mut history = FaultHistory::new();
        for &at in ticks {
            history.record(Tick::new(at)).unwrap();
        }
        history
    }

    #[test]
    fn newest_first_and_bounded() {
        let ticks: Vec<u64> = (0..40).collect();
        let history = history(&ticks);
        assert_eq!(history.len(), FAULT_HISTORY_CAPACITY);
        assert_eq!(history.total(), 40);
        let kept: Vec<u64> = history.newest_first().map(Tick::get).collect();
        let expected: Vec<u64> = (8..40).rev().collect();
        assert_eq!(kept, expected);
    }

    #[test]
    fn out_of_order_is_refused() {
        let mut history = history(&[10]);
        assert_eq!(history.record(Tick::new(9)), Err(TimeWentBackwards { last: Tick::new(10), now: Tick::new(9) }));
        assert_eq!(history.record(Tick::new(10)), Ok(()));
    }

    #[test]
    fn window_counts_only_recent_faults() {
        let history = history(&[0, 50, 99, 120]);
        assert_eq!(history.count_within(Ticks::new(100), Tick::new(120)), 3);
        assert_eq!(history.count_within(Ticks::new(100), Tick::new(99)), 3);
        assert_eq!(history.count_within(Ticks::new(100), Tick::new(200)), 1);
        assert_eq!(history.count_within(Ticks::new(100), Tick::new(220)), 0);
    }

    #[test]
    fn streak_breaks_at_a_quiet_gap() {
        assert_eq!(FaultHistory::new().streak(Ticks::new(10)), 0);
        assert_eq!(history(&[0, 5, 9, 30, 35, 39]).streak(Ticks::new(10)), 3);
        assert_eq!(history(&[0, 5, 9]).streak(Ticks::new(10)), 3);
        assert_eq!(history(&[0, 10]).streak(Ticks::new(10)), 1);
    }

    #[test]
    fn clear_keeps_the_total() {
        let mut history = history(&[1, 2, 3]);
        history.clear();
        assert!(history.is_empty());
        assert_eq!(history.total(), 3);
        history.record(Tick::new(4)).unwrap();
        assert_eq!(history.latest(), Some(Tick::new(4)));
    }
}
