//! The system-call interface between user programs and the kernel: numbers,
//! registers, error codes, user address layout.
//!
//! Both sides compile this crate, so the numbers are written once. It is
//! the ABI: numbers never change meaning once given out.
//!
//! Design principles: fixed `#[repr]` numbers; a caller's mistake is a typed
//! error, never a crash; plain data only, tested on the host.

#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

pub mod device;
pub mod error;
pub mod layout;
pub mod memory;
pub mod syscall;

pub use error::SyscallError;
pub use syscall::Syscall;
