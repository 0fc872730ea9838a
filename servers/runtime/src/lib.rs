//! The runtime of the trusted address space: entry, heap, and faults and
//! panics turned into unwinds inside ring 3.
//!
//! The servers run in one ring-3 address space and recover from their own
//! faults: a panic unwinds to the innermost recovery boundary
//! (`unwind::catch`), and a CPU exception is delivered by the kernel to this
//! image's copy of the unwinding trampoline, on a fault stack registered at
//! start, and unwinds the same way. Only this crate holds `unsafe` (the
//! heap, the static stacks); servers are safe Rust.

#![no_std]
// The self-test's fault triggers are assembly the compiler must treat as
// calls that may unwind.
#![feature(asm_unwind)]

extern crate alloc;

mod heap;
mod panic;
pub mod selftest;
pub mod start;

pub use start::init;
