//! The runtime of Lazarus user programs: entry point, system calls, console
//! output, memory from the kernel and shared with other processes, panics.
//!
//! A program is `#![no_std] #![no_main]`, names its main function with
//! [`entry!`], and prints with [`println!`]. Only this crate contains
//! `unsafe` (the `syscall` instruction, and the volatile accesses of
//! device memory in [`device`] and of mapped and shared memory in
//! [`memory`]); programs can forbid it.

// Tested on the host (the line editor), where std is there.
#![cfg_attr(not(test), no_std)]

pub mod checks;
pub mod client;
pub mod console;
pub mod device;
pub mod ipc;
pub mod line_editor;
pub mod memory;
// Only on the bare-metal target: a host build that links this crate as a
// dependency (the host tests of `virtio-blk`) has std's handler.
#[cfg(all(feature = "exit-on-panic", not(test), target_os = "none"))]
mod panic;
pub mod sys;
pub mod thread;

pub use lazarus_abi::{layout, SyscallError};

/// Declares the program's main function, `fn() -> i32`; its return value
/// becomes the exit code.
#[macro_export]
macro_rules! entry {
    ($main:path) => {
        /// The process's first instruction lands here (the kernel enters
        /// with the stack aligned as after a call).
        #[unsafe(no_mangle)]
        pub extern "C" fn _start() -> ! {
            let main: fn() -> i32 = $main;
            $crate::sys::exit(i64::from(main()))
        }
    };
}
