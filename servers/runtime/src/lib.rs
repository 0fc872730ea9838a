//! The runtime of the trusted address space: entry, heaps, and faults and
//! panics turned into unwinds (or, for the baselines, discards) inside ring 3.
//!
//! The servers run in one ring-3 address space and recover from their own
//! faults: a panic unwinds to the innermost recovery boundary
//! (`unwind::catch`), and a CPU exception is delivered by the kernel to this
//! image's copy of the unwinding trampoline, on a fault stack registered at
//! start, and unwinds the same way. Only this crate holds `unsafe` (the
//! heaps, the static stacks, the escape boundary, the injected faults);
//! servers are safe Rust.

#![no_std]
// The injected faults are assembly the compiler must treat as calls that
// may unwind.
#![feature(asm_unwind)]

extern crate alloc;

pub mod at_fault;
pub mod discard;
pub mod faults;
pub mod heap;
mod panic;
pub mod selftest;
pub mod start;
pub mod supervision;

pub use start::{init, Recovery};
