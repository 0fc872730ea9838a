//! The file server: a flat directory of small files, kept with its open handles in a resilient store, so that both survive its restarts, and on a disk, so that the files survive reboots.
//!
//! Operations and payloads: `server_api::ops::fs`. The server is one value,
//! [`FileServer`]; its files and its table of open handles live in memory
//! and in the kept-state region, written through on every change, and,
//! when the disk server has a disk, on to the disk: the store's image,
//! loaded at the first request of a boot (`persist.rs`, the format in
//! `disk/format.rs`, `docs/storage.md`).
//!
//! Design principles:
//! - nothing a client sends can panic the server: every number from a
//!   request is checked before it indexes anything, and a bad one is a
//!   typed error;
//! - each change updates memory first, then the store, slot by slot, in an
//!   order that leaves the kept state consistent wherever a fault
//!   interrupts it (a handle never names a missing file);
//! - a restart restores exactly what was committed, or, if the region is
//!   damaged beyond correction, starts clean and says so;
//! - the disk holds the store's own words, so an image read back goes
//!   through the same restore, with the same correction, as a restart;
//!   a change reaches the disk before its reply, or the reply says it did
//!   not (`DiskError`).

#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

extern crate alloc;

mod disk;
mod file;
mod handles;
mod layout;
mod persist;
mod server;
pub mod sites;

pub use server::FileServer;
