//! The echo server's client, shared by `ping` (plain calls) and `slowping`
//! (calls with a timeout): round trips timed and checked, then the call
//! that stops the server.

#![no_std]
#![forbid(unsafe_code)]

use lazarus_rt::ipc::{Handle, Message};
use lazarus_rt::{println, sys, SyscallError};

/// The echo server's endpoint.
pub const ENDPOINT: Handle = Handle(0);
/// Asks the echo server to stop (see `echo`).
const STOP: u64 = u64::MAX;
/// Round trips measured: odd, so the median is one of them.
pub const SAMPLES: usize = 1001;

/// Makes [`SAMPLES`] round trips with `call` on [`ENDPOINT`], checks every
/// answer and prints the `bench:` line `name` of their times; then makes
/// the call that stops the server, which exits without answering, and
/// checks that the kernel answers it `PeerGone`, not a hang. The exit
/// code: 0 when all is well.
pub fn round_trips(name: &str, mut call: impl FnMut(Handle, Message) -> Result<Message, SyscallError>) -> i32 {
    let mut samples = [0u64; SAMPLES];
    for (i, s) in samples.iter_mut().enumerate() {
        let i = i as u64;
        let t0 = sys::cycles();
        let reply = call(ENDPOINT, [i, 2 * i, 3 * i, 4 * i]);
        *s = sys::cycles() - t0;
        if reply != Ok([i + 1, 2 * i + 1, 3 * i + 1, 4 * i + 1]) {
            println!("bench: {name}: wrong answer to call {i}: {reply:?}");
            return 1;
        }
    }
    samples.sort_unstable();
    println!(
        "bench: {name} median={} p90={} p99={} min={} samples={SAMPLES}",
        samples[SAMPLES / 2],
        samples[SAMPLES * 9 / 10],
        samples[SAMPLES * 99 / 100],
        samples[0]
    );
    match call(ENDPOINT, [STOP, 0, 0, 0]) {
        Err(SyscallError::PeerGone) => 0,
        other => {
            println!("bench: {name}: the stop call returned {other:?}, expected PeerGone");
            2
        }
    }
}
