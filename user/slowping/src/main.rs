//! An IPC client like `ping` whose calls carry a timeout: calls the echo
//! server on handle 0 with `call_timeout`, checks every answer, measures
//! the round trip, and checks that the server ending unanswered is
//! `PeerGone`. Exit code 0 when all is well.
//!
//! A call with a timeout always takes the kernel's slow path (the
//! dispatcher, the scheduler's hand-off, a deadline set and cleared), even
//! with the server waiting; the reply comes back through the fast path,
//! but not directly (the caller blocked in the slow path and resumes in
//! its kernel code). `cargo xtask bench` checks both with the kernel's
//! counters.

#![no_std]
#![no_main]
#![forbid(unsafe_code)]

use lazarus_rt::ipc;

/// Each call's timeout: never reached (the server answers within
/// microseconds), and within `IPC_TIMEOUT_MAX_MS`.
const TIMEOUT_MS: u64 = 1000;

fn main() -> i32 {
    ping::round_trips("ipc_round_trip_slow_path", |handle, message| ipc::call_timeout(handle, message, TIMEOUT_MS))
}

lazarus_rt::entry!(main);
