//! Deadlines of blocked threads: the IPC calls with a timeout each leave
//! one here, and the timer tick ends the waits whose deadline has come.
//! The unit is the caller's (the kernel uses microseconds of uptime).
//!
//! At most one deadline per thread (a thread blocks in one call at a
//! time). The list stays short (one entry per thread blocked with a
//! timeout), so it is a plain vector; the tick looks at it only when it is
//! not empty.

use alloc::vec::Vec;

use crate::sched::ThreadId;

/// One thread's deadline, with what the kernel needs to undo its wait.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Deadline<T> {
    /// The blocked thread.
    pub thread: ThreadId,
    /// The time at which its wait ends.
    pub at: u64,
    /// What it waits on.
    pub what: T,
}

/// The deadlines of blocked threads.
///
/// # Invariants
/// At most one entry per thread.
#[derive(Debug)]
pub struct Deadlines<T> {
    entries: Vec<Deadline<T>>,
}

impl<T> Default for Deadlines<T> {
    fn default() -> Self {
        Self { entries: Vec::new() }
    }
}

impl<T: Copy> Deadlines<T> {
    /// True if no thread has a deadline (the tick's quick check).
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Sets `thread`'s deadline, replacing one it had.
    pub fn set(&mut self, thread: ThreadId, at: u64, what: T) {
        self.clear(thread);
        self.entries.push(Deadline { thread, at, what });
    }

    /// Forgets `thread`'s deadline (its wait ended otherwise); returns it.
    pub fn clear(&mut self, thread: ThreadId) -> Option<Deadline<T>> {
        let at = self.entries.iter().position(|d| d.thread == thread)?;
        Some(self.entries.swap_remove(at))
    }

    /// Takes out every deadline at `now` or before.
    pub fn take_due(&mut self, now: u64) -> Vec<Deadline<T>> {
        let mut due = Vec::new();
        self.entries.retain(|d| {
            let is_due = d.at <= now;
            if is_due {
                due.push(*d);
            }
            !is_due
        });
        due
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_deadline_per_thread_taken_when_due() {
        let mut d = Deadlines::default();
        assert!(d.is_empty());
        d.set(ThreadId(1), 10, 'a');
        d.set(ThreadId(2), 5, 'b');
        d.set(ThreadId(1), 20, 'c');
        assert_eq!(d.take_due(4), []);
        assert_eq!(d.take_due(5), [Deadline { thread: ThreadId(2), at: 5, what: 'b' }]);
        assert_eq!(d.take_due(19), [], "thread 1's first deadline was replaced");
        assert_eq!(d.clear(ThreadId(1)).map(|e| e.what), Some('c'));
        assert_eq!(d.clear(ThreadId(1)), None);
        assert!(d.is_empty());
    }

    #[test]
    fn everything_past_is_due_at_once() {
        let mut d = Deadlines::default();
        for i in 0..5 {
            d.set(ThreadId(i), i, ());
        }
        let mut due: Vec<u64> = d.take_due(3).into_iter().map(|e| e.thread.0).collect();
        due.sort_unstable();
        assert_eq!(due, [0, 1, 2, 3]);
        assert_eq!(d.take_due(u64::MAX).len(), 1);
        assert!(d.is_empty());
    }
}
