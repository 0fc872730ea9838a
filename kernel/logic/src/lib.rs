//! Kernel logic with no hardware in it, tested on the host.
//!
//! Everything here is plain data manipulation that the kernel would otherwise
//! have to test in QEMU: reading the boot memory map, frame bookkeeping, the
//! scheduler's state machine, the virtual-memory layout, the trap-frame layout,
//! boot options, the program loader's plan, the boot ramdisk's format,
//! PCI configuration space, the book of a process's mapped memory, the
//! shared-memory grants, the deadlines of IPC calls with a timeout and the
//! PCIDs of address spaces with their TLB-flush rules.
//!
//! Design principles:
//! - no hardware access and no `unsafe`: the kernel owns the glue;
//! - invariants live on the types (private fields, validating constructors);
//! - every operation that can be misused returns a typed error instead of
//!   panicking, because the kernel calls these on its own paths.

#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

extern crate alloc;

pub mod calibration;
pub mod cmdline;
pub mod deadlines;
pub mod elf;
pub mod frame_bitmap;
pub mod grant_table;
pub mod idt_gate;
pub mod layout;
pub mod memory_map;
pub mod pci;
pub mod pcid;
pub mod ramdisk;
pub mod sched;
pub mod slot_table;
pub mod trap_frame;
pub mod user_memory;
