//! A driver for legacy virtio-blk disks on PCI, in safe Rust, for ring-3
//! drivers: device set-up, one virtqueue in device memory, and sector reads
//! and writes that wait on the device's interrupt.
//!
//! It speaks the legacy interface of virtio 1.x (section 4.1.4.8, "Legacy
//! Interfaces: A Note on PCI Device Layout"), which QEMU's
//! `virtio-blk-pci,disable-modern=on` offers: registers in I/O BAR 0,
//! one virtqueue whose page frame number the driver writes, no feature the
//! driver needs (it takes the device's write cache when offered, and
//! flushes it on request). The kernel gives it everything through system
//! calls (`lazarus_rt::device`); it needs no `unsafe`. It serves the
//! `blk` server of the trusted address space and the `blkprobe` test
//! program.
//!
//! Design principles: one request in flight (a block server serializes
//! anyway); every wait bounded; the device is reset before its memory is
//! given back; the ring layout is plain arithmetic tested on the host.

#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

mod driver;
pub mod legacy;
pub mod ring;

pub use driver::{BlkError, LegacyBlk, Wait, REQUEST_TIMEOUT_MS, SECTOR_SIZE};
