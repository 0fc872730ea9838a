//! An IPC client: calls the echo server on handle 0, checks every answer,
//! measures the round trip, and checks that the server ending unanswered is
//! an error (`PeerGone`), not a hang. Exit code 0 when all is well.
//!
//! Its calls take the kernel's fast path: the server waits for each.

#![no_std]
#![no_main]
#![forbid(unsafe_code)]

use lazarus_rt::ipc;

fn main() -> i32 {
    ping::round_trips("ipc_round_trip_user_to_user", ipc::call)
}

lazarus_rt::entry!(main);
