//! IPC with a timeout, and one-way messages: `call_timeout`,
//! `recv_timeout`, `send`, and the timer tick's end of the waits whose
//! deadline came.
//!
//! A thread blocked with a timeout leaves its deadline in
//! `Endpoints::timed`. When the tick finds it due ([`expire`]), it undoes
//! the wait under the scheduler's lock, so nothing of it stays behind:
//! - a server waiting in `recv` leaves the endpoint's receivers;
//! - a caller or sender whose message no server took yet withdraws it
//!   from the endpoint's queue;
//! - a caller whose message a server took releases that server from the
//!   reply it owes (the server's reply then goes nowhere), so a late reply
//!   can never reach a later call of the same thread;
//!
//! and then the thread wakes with `TimedOut`. A wait that ended otherwise
//! first (a message, a reply, a restart of the endpoint) has something
//! delivered already; its deadline is dropped unused.
//!
//! None of this is on the fast path: these calls go through the
//! dispatcher, and a queued message makes the fast path step aside.

use lazarus_abi::SyscallError;
use x86_64::instructions::interrupts;

use super::{call_until, deliver, reply_recv_inner, resolve, set_waiting, take_delivered, withdraw, Message, Wait, Waiting, SLOW};
use crate::thread::scheduler::{switch_to, Threads, THREADS};
use crate::time;

/// How long an IPC call may wait.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Timeout {
    /// As long as it takes.
    Never,
    /// Not at all: only what can be done at once.
    Poll,
    /// Until this time, in microseconds of uptime.
    At(u64),
}

/// Microseconds in a millisecond.
const US_PER_MS: u64 = 1000;

impl Timeout {
    /// At least `ms` milliseconds from now (0: [`Timeout::Poll`]), as the
    /// uptime clock counts (the one `uptime` gives processes); the timer
    /// tick that finds it past ends the wait, so it ends up to a tick
    /// (10 ms) later.
    pub fn after_ms(ms: u64) -> Self {
        match ms {
            0 => Self::Poll,
            ms => Self::At(time::uptime_us().saturating_add(ms.saturating_mul(US_PER_MS))),
        }
    }
}

/// `call_timeout`: `call`, giving up with `TimedOut` after `timeout`.
pub fn call_timeout(handle: u64, message: Message, timeout: Timeout) -> Result<Message, SyscallError> {
    if timeout == Timeout::Poll {
        // A reply always takes a wait.
        return Err(SyscallError::InvalidArgument);
    }
    call_until(handle, message, timeout)
}

/// `recv_timeout`: `recv`, giving up with `TimedOut` after `timeout`.
pub fn recv_timeout(handle: u64, timeout: Timeout) -> Result<Message, SyscallError> {
    reply_recv_inner(handle, None, timeout)
}

/// `send`: hands `message` to a server of `handle`'s endpoint, waiting
/// until `timeout` for one to take it; the server owes no reply.
pub fn send(handle: u64, message: Message, timeout: Timeout) -> Result<(), SyscallError> {
    interrupts::without_interrupts(|| {
        let mut guard = THREADS.lock();
        let t = guard.as_mut().expect("threads exist");
        let id = resolve(t, handle)?;
        let me = t.sched.current();
        let ep = t.endpoints.get_mut(&id).expect("resolved");
        // Only if nobody queued first: messages are taken in order.
        let server = if ep.callers.is_empty() { ep.receivers.pop_front() } else { None };
        SLOW.fetch_add(1, core::sync::atomic::Ordering::Relaxed);
        if let Some(server) = server {
            // It runs when the scheduler says; the sender goes on.
            deliver(t, server, Ok(message));
            let _ = t.sched.wake(server);
            return Ok(());
        }
        match timeout {
            Timeout::Poll => return Err(SyscallError::TimedOut),
            Timeout::At(at) => t.endpoints.timed.set(me, at, id),
            Timeout::Never => {}
        }
        let ep = t.endpoints.get_mut(&id).expect("resolved");
        ep.callers.push_back(Waiting { thread: me, message, oneway: true });
        set_waiting(t, me, Wait::Taken);
        let sw = t.sched.block().expect("a process thread can block");
        switch_to(sw, guard);
        take_delivered().map(|_| ())
    })
}

/// Ends the waits whose deadline has come (see the module's
/// documentation). Called by the timer tick with the scheduler's lock
/// held.
pub(in crate::thread) fn expire(t: &mut Threads) {
    if t.endpoints.timed.is_empty() {
        return;
    }
    for due in t.endpoints.timed.take_due(time::uptime_us()) {
        let thread = due.thread;
        if withdraw(t, thread).is_none() {
            continue;
        }
        deliver(t, thread, Err(SyscallError::TimedOut));
        let _ = t.sched.wake(thread);
    }
}
