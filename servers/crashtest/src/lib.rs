//! The crash-test server: answers simple requests, and panics, hangs or overflows its stack on demand, for demos and tests of recovery.
//!
//! Operations and payloads: `server_api::ops::crashtest`. It keeps nothing
//! (`KEPT_WORDS` is 0): every fault it is asked for costs a restart and
//! nothing else, so the fault and the recovery are what a test measures.
//! It also times direct calls to another server (`TimeCalls`), for
//! `cargo xtask bench`.
//!
//! Design principles:
//! - each misbehaviour is a different fault class: a panic, a hang only
//!   the watchdog ends, a stack overflow (a CPU exception);
//! - the well-behaved operations have answers a client can check without
//!   the server's help (`ops::crashtest::compute_checksum`).

#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

extern crate alloc;

mod server;
pub mod sites;

pub use server::CrashtestServer;
