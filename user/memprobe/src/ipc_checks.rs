//! Checks of the IPC calls with a timeout and of `send`, against the first
//! peer and an endpoint nobody else serves.

use lazarus_rt::ipc::{self, Handle};
use lazarus_rt::memory::IPC_TIMEOUT_MAX_MS;
use lazarus_rt::sys;
use lazarus_rt::SyscallError::{BadHandle, InvalidArgument, TimedOut};
use peer::{ECHO, NAP, STATS, STORE};

use crate::grants::{PEER, UNSERVED};
use crate::{ensure, Failure};

/// Nanoseconds in a millisecond.
const NS_PER_MS: u64 = 1_000_000;

/// Milliseconds `f` took, and its result.
fn timed<T>(f: impl FnOnce() -> T) -> (u64, T) {
    let t0 = sys::uptime_ns();
    let out = f();
    ((sys::uptime_ns() - t0) / NS_PER_MS, out)
}

/// `recv_timeout` on an endpoint nobody calls: at once with 0, after the
/// time otherwise; bad arguments get their errors. (This program serves
/// that endpoint from here on.)
pub fn recv_times_out() -> Result<(), Failure> {
    ensure(ipc::recv_timeout(UNSERVED, 0) == Err(TimedOut), "a poll with nothing waiting", 0)?;
    let (ms, r) = timed(|| ipc::recv_timeout(UNSERVED, 30));
    ensure(r == Err(TimedOut), "a wait with nothing coming", 0)?;
    ensure(ms >= 30, "it waited at least the timeout", ms)?;
    ensure(ipc::recv_timeout(UNSERVED, IPC_TIMEOUT_MAX_MS + 1) == Err(InvalidArgument), "above the longest timeout", 0)?;
    ensure(ipc::recv_timeout(Handle(9), 10) == Err(BadHandle), "no such handle", 0)
}

/// A call nobody takes times out, and its message is withdrawn: this
/// program, now the endpoint's server, finds nothing queued.
pub fn call_withdrawn() -> Result<(), Failure> {
    let (ms, r) = timed(|| ipc::call_timeout(UNSERVED, [1, 2, 3, 4], 30));
    ensure(r == Err(TimedOut), "nobody took the call", 0)?;
    ensure(ms >= 30, "it waited at least the timeout", ms)?;
    ensure(ipc::recv_timeout(UNSERVED, 0) == Err(TimedOut), "the message was withdrawn", 0)?;
    ensure(ipc::call_timeout(UNSERVED, [0; 4], 0) == Err(InvalidArgument), "a call cannot poll", 0)?;
    ensure(ipc::call_timeout(UNSERVED, [0; 4], IPC_TIMEOUT_MAX_MS + 1) == Err(InvalidArgument), "above the longest", 0)?;
    ensure(ipc::call_timeout(Handle(9), [0; 4], 10) == Err(BadHandle), "no such handle", 0)
}

/// The peer takes a call and answers after 200 ms; the caller gives up
/// at 50 ms. Its next call gets the answer to itself, not the late one.
/// (No upper bound on the wait: a host that stalls the guest delays the
/// timer ticks that end both waits, but a tick ends the timed-out call
/// before it wakes the peer.)
pub fn late_reply_dropped() -> Result<(), Failure> {
    let (ms, r) = timed(|| ipc::call_timeout(PEER, [ECHO, 200, 10, 20], 50));
    ensure(r == Err(TimedOut), "the slow answer timed out", 0)?;
    ensure(ms >= 50, "after the timeout", ms)?;
    let r = ipc::call(PEER, [ECHO, 0, 30, 40]).map_err(|e| Failure("the next call", e as u64))?;
    ensure(r[2] == 31 && r[3] == 41, "the next call gets its own answer", r[2])?;
    let r = ipc::call_timeout(PEER, [ECHO, 0, 5, 6], 1000).map_err(|e| Failure("a call in time", e as u64))?;
    ensure(r[2] == 6 && r[3] == 7, "a call answered in time gets its answer", r[2])
}

/// One-way messages: taken at once by a waiting server, or when it next
/// waits, or withdrawn at the timeout.
pub fn send_one_way() -> Result<(), Failure> {
    let stats = || ipc::call(PEER, [STATS, 0, 0, 0]).map_err(|e| Failure("stats", e as u64));
    // Answered, the peer waits for the next message.
    stats()?;
    ensure(ipc::send(PEER, [STORE, 1, 2, 3], 0).is_ok(), "the peer waits: taken at once", 0)?;
    let s = stats()?;
    ensure(s[2] == 1 && s[3] == 2, "the peer got it", s[2])?;
    ensure(ipc::send(PEER, [NAP, 100, 0, 0], 0).is_ok(), "a nap, sent", 0)?;
    let (ms, r) = timed(|| ipc::send(PEER, [STORE, 4, 5, 6], 1000));
    ensure(r.is_ok(), "taken when the peer woke", 0)?;
    // The nap counts timer ticks, this clock the uptime: a loose bound.
    ensure(ms >= 10, "it waited for the peer", ms)?;
    ensure(ipc::send(PEER, [NAP, 200, 0, 0], 0).is_ok(), "a longer nap", 0)?;
    ensure(ipc::send(PEER, [STORE, 7, 8, 9], 30) == Err(TimedOut), "nobody took it in time", 0)?;
    ensure(ipc::send(PEER, [STORE, 7, 8, 9], 0) == Err(TimedOut), "nobody waits now", 0)?;
    let s = stats()?;
    ensure(s[2] == 4 && s[3] == 5, "the withdrawn messages never arrived", s[2])?;
    ensure(ipc::send(Handle(9), [0; 4], 0) == Err(BadHandle), "no such handle", 0)?;
    ensure(ipc::send(PEER, [0; 4], IPC_TIMEOUT_MAX_MS + 1) == Err(InvalidArgument), "above the longest", 0)
}
