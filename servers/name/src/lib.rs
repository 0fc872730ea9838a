//! The name server: names registered to numbers, kept in a resilient store, so that they survive its restarts.
//!
//! Operations and payloads: `server_api::ops::name`. The server is one
//! value, [`NameServer`]; its registrations live in memory and in the
//! kept-state region, one store slot each, written through on every change.
//!
//! Design principles:
//! - nothing a client sends can panic the server: names are validated
//!   ([`server_api::Name`]), indexes checked, errors typed;
//! - each registration is one slot, so a change is one atomic slot write;
//! - a restart restores exactly what was committed, or, if the region is
//!   damaged beyond correction, starts clean and says so.

#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

extern crate alloc;

mod layout;
mod registration;
mod server;
pub mod sites;

pub use server::NameServer;
