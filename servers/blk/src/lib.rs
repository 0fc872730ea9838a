//! The disk server: the virtio disk, driven over PCI from the trusted address space with its interrupt through a notification, read and written a sector at a time for the other servers.
//!
//! Operations and payloads: `server_api::ops::blk`. The server is one
//! value, [`BlkServer`], over a [`Device`]: in the TAS the legacy
//! virtio-blk disk ([`VirtioDisk`], the `virtio-blk` driver), in host
//! tests a disk in memory. Sector data comes and goes in a buffer the
//! calling server lends for the call (`Env::call_with`); a user program
//! lends none and can only ask about the disk.
//!
//! Design principles:
//! - the device memory is the one resource the heap reset cannot take
//!   back, so it is kept at a fixed address and accounted in the kept
//!   state ([`books`]): an instance's `Drop` resets the device and frees
//!   it (unwinding), and an instance that starts where a discarded one
//!   left it resets the device and frees it first (the backstop);
//! - one request at a time, each wait bounded by the driver; a device
//!   that fails is a typed `DiskError`, logged, never a fault;
//! - no disk is a state, not an error: the server runs and answers
//!   `NoDevice`, and the file server keeps its files in memory only.

#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

mod books;
mod command;
mod device;
mod server;
pub mod sites;
mod virtio;

pub use device::{Device, DiskFault, NoDisk, Started};
pub use server::BlkServer;
pub use virtio::{VirtioDisk, DMA_VADDR};
