//! Host tests of servers: an `Env` over plain memory, a harness that restarts a faulting server as the TAS does, a disk in memory, and checks of what kept state promises.
//!
//! For the host tests of the servers and of their client stubs, never for
//! the image: it needs `std`, to unwind out of a faulting server with
//! `catch_unwind`. (A separate crate, not a feature of `server-api`: a
//! feature would be unified into every host build of `server-api`, and
//! `std` would then reach crates that bring their own panic handler.)
//!
//! Design principles:
//! - the harness does what the TAS does around a server, and no more:
//!   catch the fault, drop the value, `init` again over the same region,
//!   bump the generation, answer `ServerFault`;
//! - a fault is injected where the server says it may fire, at its
//!   `Env::site` calls ([`TestEnv::arm`]);
//! - servers that call others meet them in harnesses of their own
//!   ([`Callee::to`]), and the disk server drives a disk in memory
//!   ([`MemoryDisk`]).

mod checks;
mod disk;
mod env;
mod harness;

pub use checks::{check_double_flips, check_faults_at_every_site, check_single_flips};
pub use disk::{DiskHandle, MemoryDisk, MEMORY_DISK_DMA_BYTES};
pub use env::{Callee, TestEnv};
pub use harness::Harness;
