//! The console server: output with a line discipline, whole lines to the console.
//!
//! Operations and payloads: `server_api::ops::console`. Clients write a
//! few bytes at a time; the server collects them and sends each line to
//! the console whole (`Env::console_write`), so lines of different
//! programs do not interleave mid-line. It keeps nothing: a partial line
//! is lost when it restarts.
//!
//! Design principles:
//! - one line buffer of fixed capacity on the server's heap, allocated at
//!   `init`: writing never allocates, and a restart frees it with the heap;
//! - a line longer than the buffer goes out in pieces rather than being
//!   refused or cut.

#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

extern crate alloc;

mod server;
pub mod sites;

pub use server::ConsoleServer;
