//! Notifications: a counter an interrupt handler bumps and one thread waits
//! on, with a timeout. The way a device's interrupt reaches its ring-3
//! driver (`irq_wait`), and the kernel's first asynchronous signal.
//!
//! They live under the scheduler's lock, as IPC endpoints do, because
//! signalling one is a scheduling decision: [`signal`] (from an interrupt
//! handler) counts the event and makes the waiter ready; [`wait`] takes the
//! count at once or blocks; the timer tick ends waits whose deadline has
//! come ([`expire`]). Signals are never lost: a signal with nobody waiting
//! is counted and returned by the next wait.
//!
//! # Invariants
//! A notification has at most one waiter, which is `Blocked` in the
//! scheduler (or about to run, once woken); `Notifications::waiting`
//! counts the notifications with a waiter.

use kernel_logic::sched::ThreadId;
use kernel_logic::slot_table::SlotTable;
use lazarus_abi::SyscallError;
use x86_64::instructions::interrupts;

use super::scheduler::{switch_to, Threads, THREADS};
use crate::time;

/// A notification's identity; a destroyed notification's id finds nothing
/// (the slot table's generations; its keys are thread-id shaped).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NotificationId(ThreadId);

#[derive(Debug, Default)]
struct Notification {
    /// Signals since the last wait returned.
    pending: u64,
    waiter: Option<Waiter>,
}

#[derive(Clone, Copy, Debug)]
struct Waiter {
    thread: ThreadId,
    /// Tick at which the wait ends with `TimedOut`.
    deadline: u64,
}

/// Every notification.
#[derive(Debug, Default)]
pub struct Notifications {
    table: SlotTable<Notification>,
    /// Notifications with a waiter: the tick skips [`expire`] while 0.
    waiting: usize,
}

/// Creates a notification with nothing pending.
pub fn create() -> NotificationId {
    let mut guard = THREADS.lock();
    let t = guard.as_mut().expect("threads exist");
    NotificationId(t.notifications.table.allocate(Notification::default()))
}

/// Destroys a notification; a thread waiting on it wakes and gets
/// `NotGranted`.
pub fn destroy(id: NotificationId) {
    let mut guard = THREADS.lock();
    let Some(t) = guard.as_mut() else { return };
    if let Some(n) = t.notifications.table.remove(&id.0) {
        if let Some(w) = n.waiter {
            t.notifications.waiting -= 1;
            let _ = t.sched.wake(w.thread);
        }
    }
}

/// Counts one event and wakes the waiter, if any. For interrupt handlers:
/// never waits for the scheduler's lock. Returns false if the lock was
/// taken (impossible on one CPU, where its holders mask interrupts): the
/// event is then dropped and a waiter sees it as a timeout.
pub fn signal(id: NotificationId) -> bool {
    let Some(mut guard) = THREADS.try_lock() else { return false };
    let Some(t) = guard.as_mut() else { return false };
    let Some(n) = t.notifications.table.get_mut(&id.0) else { return true };
    n.pending += 1;
    if let Some(w) = n.waiter.take() {
        t.notifications.waiting -= 1;
        let _ = t.sched.wake(w.thread);
    }
    true
}

/// The pending count of `id` (for tests); `None` if it does not exist.
pub fn pending(id: NotificationId) -> Option<u64> {
    let guard = THREADS.lock();
    guard.as_ref()?.notifications.table.get(&id.0).map(|n| n.pending)
}

/// Waits on `id` for at most `timeout_ticks` timer ticks (0: do not
/// block) and returns the events counted since the last wait returned.
/// If nothing is pending, `before_block` runs first, with interrupts
/// masked and the decision to wait already taken, so an event it lets in
/// (unmasking an interrupt line) is counted by this wait.
pub fn wait(id: NotificationId, timeout_ticks: u64, before_block: impl FnOnce()) -> Result<u64, SyscallError> {
    interrupts::without_interrupts(|| {
        let mut guard = THREADS.lock();
        let t = guard.as_mut().expect("threads exist");
        let me = t.sched.current();
        let n = t.notifications.table.get_mut(&id.0).ok_or(SyscallError::NotGranted)?;
        if n.pending > 0 {
            return Ok(core::mem::take(&mut n.pending));
        }
        if n.waiter.is_some() {
            // One waiter only; a second thread of the owner would be a bug.
            return Err(SyscallError::NotGranted);
        }
        before_block();
        if timeout_ticks == 0 {
            return Err(SyscallError::TimedOut);
        }
        n.waiter = Some(Waiter { thread: me, deadline: time::ticks() + timeout_ticks });
        t.notifications.waiting += 1;
        let sw = t.sched.block().expect("a process thread can block");
        switch_to(sw, guard);
        // Woken by a signal, the deadline or `destroy`: say which.
        let mut guard = THREADS.lock();
        let t = guard.as_mut().expect("threads exist");
        let n = t.notifications.table.get_mut(&id.0).ok_or(SyscallError::NotGranted)?;
        if n.waiter.take().is_some() {
            t.notifications.waiting -= 1;
        }
        match core::mem::take(&mut n.pending) {
            0 => Err(SyscallError::TimedOut),
            count => Ok(count),
        }
    })
}

/// Ends the waits whose deadline is `now` or past. Called by the timer
/// tick with the scheduler's lock held.
pub(super) fn expire(t: &mut Threads, now: u64) {
    if t.notifications.waiting == 0 {
        return;
    }
    let mut woken = 0;
    for n in t.notifications.table.values_mut() {
        if let Some(w) = n.waiter.filter(|w| w.deadline <= now) {
            n.waiter = None;
            woken += 1;
            let _ = t.sched.wake(w.thread);
        }
    }
    t.notifications.waiting -= woken;
}
