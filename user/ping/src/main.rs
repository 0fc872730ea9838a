//! An IPC client: calls the echo server on handle 0, checks every answer,
//! measures the round trip, and checks that the server ending unanswered is
//! an error (`PeerGone`), not a hang. Exit code 0 when all is well.

#![no_std]
#![no_main]
#![forbid(unsafe_code)]

use lazarus_rt::ipc::{self, Handle};
use lazarus_rt::{println, sys, SyscallError};

const ENDPOINT: Handle = Handle(0);
/// Asks the echo server to stop (see `echo`).
const STOP: u64 = u64::MAX;
/// Round trips measured: odd, so the median is one of them.
const SAMPLES: usize = 1001;

fn main() -> i32 {
    let mut samples = [0u64; SAMPLES];
    for (i, s) in samples.iter_mut().enumerate() {
        let i = i as u64;
        let t0 = sys::cycles();
        let reply = ipc::call(ENDPOINT, [i, 2 * i, 3 * i, 4 * i]);
        *s = sys::cycles() - t0;
        if reply != Ok([i + 1, 2 * i + 1, 3 * i + 1, 4 * i + 1]) {
            println!("ping: wrong answer to call {i}: {reply:?}");
            return 1;
        }
    }
    samples.sort_unstable();
    println!(
        "bench: ipc_round_trip_user_to_user median={} p90={} min={} samples={SAMPLES}",
        samples[SAMPLES / 2],
        samples[SAMPLES * 9 / 10],
        samples[0]
    );
    // The server exits without answering this one: the kernel answers.
    match ipc::call(ENDPOINT, [STOP, 0, 0, 0]) {
        Err(SyscallError::PeerGone) => 0,
        other => {
            println!("ping: the stop call returned {other:?}, expected PeerGone");
            2
        }
    }
}

lazarus_rt::entry!(main);
