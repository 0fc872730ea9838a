//! What servers and their clients share: the four-word request and reply encoding, status codes, server numbers, and the Server trait every server implements.
//!
//! A user program reaches the servers of the trusted address space (TAS)
//! with one IPC call on its service endpoint: a [`Request`] of four words
//! out, a [`Reply`] of four words back. Inside the TAS the dispatcher
//! decodes the request and calls the addressed server through its proxy
//! (a recovery boundary); the server is a value implementing [`Server`].
//!
//! Design principles:
//! - one encoding for both sides, tested on the host: every request and
//!   reply round-trips through its words, and a malformed word is a typed
//!   [`Status::BadRequest`], never a crash;
//! - servers are plain safe Rust: all of an instance's state is in one
//!   value, its kept state in a resilient store region the TAS passes in,
//!   and its fault-injection sites are calls to [`Env::site`];
//! - bulk data between servers (disk sectors) goes in a buffer the caller
//!   lends for one call ([`Env::call_with`], [`Env::lent`]), never in the
//!   messages, which stay four words;
//! - no allocation here: the crate runs in user programs as it is;
//! - each server's operations and payload layouts are written down once,
//!   in [`ops`], for the server and its client stubs alike.
//!
//! Feature `kept` adds [`kept`], the kept-state helpers over the
//! resilient store, for servers that keep state. (Host tests of servers
//! use the `server-harness` crate.)

#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

mod env;
#[cfg(feature = "kept")]
pub mod kept;
mod log;
mod message;
mod name;
pub mod ops;
mod server;
mod server_id;
mod status;
pub mod system;

pub use env::{CallError, Env, LockId};
pub use log::{log_line, LOG_LINE_BYTES};
pub use message::{pack_bytes, unpack_bytes, Payload, Reply, Request, EXPECT_MAX, PAYLOAD_BYTES, PAYLOAD_WORDS};
pub use name::{Name, NAME_MAX};
pub use ops::blk::BlkOp;
pub use ops::console::ConsoleOp;
pub use ops::crashtest::CrashtestOp;
pub use ops::fs::{FileHandle, FsOp};
pub use ops::name::NameOp;
pub use server::{InitNote, Server};
pub use server_id::ServerId;
pub use status::Status;
