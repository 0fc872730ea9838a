//! Benchmarks of the trusted address space, through its service endpoint
//! (handle 0): a request's round trip, a direct call between two of its
//! servers, and how long a server takes to come back from a fault as a
//! client sees it.

use lazarus_rt::client::{self, crashtest, system};
use lazarus_rt::{println, sys};
use server_api::{CrashtestOp, FsOp, Name, Request, ServerId, Status};

use crate::{measure, print_timings, report};

/// Direct calls timed inside the TAS: odd, so the median is one sample.
const DIRECT_CALLS: u16 = 1001;

/// Restarts timed per server.
const RESTARTS: usize = 1000;
/// Least time between two injected faults: the recovery manager gives up
/// on a server after 30 restarts within a second.
const RESTART_SPACING_MS: u64 = 40;
/// Requests sent while waiting for a server to come back, at most.
const COMEBACK_ATTEMPTS: u32 = 10_000;

/// A request to `server` that changes nothing and reaches its first
/// injection site.
fn harmless(server: ServerId) -> Request {
    match server {
        ServerId::Fs => {
            let name = Name::try_new(b"bench").map(|n| n.to_payload()).unwrap_or_default();
            Request::new(server, FsOp::Stat as u8, 0).with(name)
        }
        _ => Request::new(ServerId::Crashtest, CrashtestOp::Echo as u8, 0),
    }
}

/// One round trip user → TAS → crashtest's echo → user.
fn echo() {
    let _ = client::send(&harmless(ServerId::Crashtest));
}

/// A direct call between two servers of the TAS, with no kernel on the
/// way: crashtest times its calls to the console server (the callee's
/// proxy and recovery boundary included) and answers the timings.
fn direct_call() -> bool {
    match crashtest::time_calls(DIRECT_CALLS) {
        Ok(timings) => {
            print_timings("tas_direct_call", &timings);
            true
        }
        Err(e) => {
            println!("bench: tas_direct_call failed: {e}");
            false
        }
    }
}

/// Guest ticks from sending the request a fault was armed for until the
/// server answers a request again (detection, unwinding, reclaiming,
/// `init` with the restore of its kept state, and two round trips);
/// `None` if it did not come back.
fn one_restart(server: ServerId) -> Option<u64> {
    system::inject(server, "panic").ok()?;
    let request = harmless(server);
    let t0 = sys::cycles();
    let first = client::send(&request).ok()?;
    if first.status != Status::ServerFault {
        return None;
    }
    for _ in 0..COMEBACK_ATTEMPTS {
        let reply = client::send(&request).ok()?;
        if !reply.status.is_transient() {
            return Some(sys::cycles() - t0);
        }
    }
    None
}

/// Times [`RESTARTS`] restarts of `server` and prints them as `name`.
fn restarts(name: &str, server: ServerId) -> bool {
    let mut samples = [0u64; RESTARTS];
    for (i, s) in samples.iter_mut().enumerate() {
        let _ = sys::sleep_ms(RESTART_SPACING_MS);
        match one_restart(server) {
            Some(ticks) => *s = ticks,
            None => {
                println!("bench: {name} failed at restart {i}");
                return false;
            }
        }
    }
    report(name, &mut samples);
    true
}

/// Runs the TAS benchmarks; false if one failed.
pub fn run() -> bool {
    if client::send(&harmless(ServerId::Crashtest)).is_err() {
        println!("bench: no trusted address space on handle 0");
        return false;
    }
    measure("tas_request_round_trip", echo);
    let direct = direct_call();
    // fs restores its kept state (files and handles); crashtest keeps
    // nothing: the difference is the cost of the restore.
    let restarted =
        restarts("restart_fs_with_restore", ServerId::Fs) && restarts("restart_crashtest_no_state", ServerId::Crashtest);
    direct && restarted
}
