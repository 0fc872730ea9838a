//! Lazarus: a fault-tolerant microkernel for x86_64.
//!
//! This crate is the kernel proper: boot, physical memory and page tables,
//! the kernel heap, interrupts and exceptions, the timer, and kernel threads
//! with a preemptive scheduler. Pure logic lives in `kernel-logic`, tested
//! on the host; this crate is the hardware glue around it.
//!
//! Design principles:
//! - mechanism here, policy elsewhere: the kernel reports faults, it does not
//!   decide how servers recover;
//! - one way to die: a kernel panic prints its cause and halts; nothing a
//!   thread or (later) a user program does may cause one;
//! - every `unsafe` block says why it holds;
//! - built with `panic=unwind` from the start, so every frame carries unwind
//!   tables for the recovery machinery that builds on it.

#![no_std]
#![no_main]
// The in-kernel tests trigger faults in assembly the compiler must treat as
// calls that may unwind.
#![feature(asm_unwind)]

extern crate alloc;
// Recovery boundaries; also the personality routine that panic=unwind
// needs linked in.
extern crate unwind;

mod accounting;
mod bench;
mod boot;
mod console;
mod cpu;
mod device;
mod exit;
mod fw_cfg;
mod gdt;
mod interrupts;
mod ktest;
mod logger;
mod memory;
mod panic;
mod ramdisk;
mod saved_context;
mod serial;
mod sync;
mod syscall;
mod system;
mod thread;
mod time;
mod usermode;
