//! Safe tools for ring-3 drivers: a device's I/O-port registers
//! ([`IoBar`]) and device memory ([`DmaRegion`]) that programs with
//! `#![forbid(unsafe_code)]` can use. The ABI's device types are
//! re-exported here.
//!
//! Device memory is shared with a device that reads and writes it behind
//! the compiler's back, so it is never seen through a Rust reference: every
//! access is a volatile read or write of a plain integer at a checked
//! offset, and [`DmaRegion::fence`] orders them against the device (on x86,
//! where DMA is cache-coherent, a compiler fence plus `mfence`).

use core::sync::atomic::{fence, Ordering};

pub use lazarus_abi::device::*;

use crate::sys;
use crate::SyscallError;

/// One I/O BAR of a device this process owns: its registers by offset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IoBar {
    address: PciAddress,
    bar: u64,
}

impl IoBar {
    /// BAR `bar` of the device at `address` (which the kernel checks, per
    /// access, is an I/O BAR of a device this process owns).
    pub fn new(address: PciAddress, bar: u8) -> Self {
        Self { address, bar: u64::from(bar) }
    }

    /// Reads the byte at `offset`.
    pub fn read8(&self, offset: u64) -> Result<u8, SyscallError> {
        sys::port_read(self.address, self.bar, offset, 1).map(|v| v as u8)
    }

    /// Reads the 16-bit register at `offset`.
    pub fn read16(&self, offset: u64) -> Result<u16, SyscallError> {
        sys::port_read(self.address, self.bar, offset, 2).map(|v| v as u16)
    }

    /// Reads the 32-bit register at `offset`.
    pub fn read32(&self, offset: u64) -> Result<u32, SyscallError> {
        sys::port_read(self.address, self.bar, offset, 4).map(|v| v as u32)
    }

    /// Writes the byte at `offset`.
    pub fn write8(&self, offset: u64, value: u8) -> Result<(), SyscallError> {
        sys::port_write(self.address, self.bar, offset, 1, u64::from(value))
    }

    /// Writes the 16-bit register at `offset`.
    pub fn write16(&self, offset: u64, value: u16) -> Result<(), SyscallError> {
        sys::port_write(self.address, self.bar, offset, 2, u64::from(value))
    }

    /// Writes the 32-bit register at `offset`.
    pub fn write32(&self, offset: u64, value: u32) -> Result<(), SyscallError> {
        sys::port_write(self.address, self.bar, offset, 4, u64::from(value))
    }
}

/// Device memory: physically contiguous, mapped at `vaddr`, `len` bytes,
/// at physical address `phys`; freed when dropped.
///
/// # Invariants
/// `[vaddr, vaddr + len)` is mapped writable for this process by
/// `dma_alloc` for as long as the value lives, and no Rust object lives
/// there (the kernel maps only pages that were unmapped): it is reached
/// only through this value's volatile accessors. A device may be told
/// `phys`; the driver must stop the device from using the region before
/// dropping it.
#[derive(Debug)]
pub struct DmaRegion {
    vaddr: u64,
    len: u64,
    phys: u64,
}

impl DmaRegion {
    /// Maps `len` bytes (rounded up to whole pages) of zeroed device memory
    /// at the page-aligned, unmapped address `vaddr`
    /// (`lazarus_abi::device::DMA_WINDOW_BASE` is a good place).
    pub fn alloc(vaddr: u64, len: u64) -> Result<Self, SyscallError> {
        let phys = sys::dma_alloc(vaddr, len)?;
        Ok(Self { vaddr, len: len.next_multiple_of(4096), phys })
    }

    /// Bytes mapped.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// True if the region has no bytes (never: `dma_alloc` refuses 0).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The virtual address of its first byte.
    pub fn vaddr(&self) -> u64 {
        self.vaddr
    }

    /// The physical (device) address of byte `offset`.
    ///
    /// # Panics
    /// If `offset` is past the end.
    pub fn phys(&self, offset: u64) -> u64 {
        assert!(offset <= self.len, "offset {offset:#x} past the region's {:#x} bytes", self.len);
        self.phys + offset
    }

    /// The address of `size` bytes at `offset`, aligned to `size`.
    ///
    /// # Panics
    /// If they are not inside the region, or `offset` is not aligned.
    fn at(&self, offset: u64, size: u64) -> u64 {
        let end = offset.checked_add(size);
        assert!(end.is_some_and(|e| e <= self.len), "{size} bytes at {offset:#x} outside the region");
        assert!(offset.is_multiple_of(size), "unaligned {size}-byte access at {offset:#x}");
        self.vaddr + offset
    }

    /// Reads the byte at `offset`.
    pub fn read8(&self, offset: u64) -> u8 {
        let p = self.at(offset, 1) as *const u8;
        // SAFETY: inside the mapped region (checked; the type's invariant),
        // which no Rust reference covers; volatile: the device writes it.
        unsafe { p.read_volatile() }
    }

    /// Reads the little-endian `u16` at `offset` (2-aligned).
    pub fn read16(&self, offset: u64) -> u16 {
        let p = self.at(offset, 2) as *const u16;
        // SAFETY: as in `read8`; aligned (checked).
        unsafe { p.read_volatile() }
    }

    /// Reads the `u32` at `offset` (4-aligned).
    pub fn read32(&self, offset: u64) -> u32 {
        let p = self.at(offset, 4) as *const u32;
        // SAFETY: as in `read16`.
        unsafe { p.read_volatile() }
    }

    /// Reads the `u64` at `offset` (8-aligned).
    pub fn read64(&self, offset: u64) -> u64 {
        let p = self.at(offset, 8) as *const u64;
        // SAFETY: as in `read16`.
        unsafe { p.read_volatile() }
    }

    /// Writes the byte at `offset`.
    pub fn write8(&mut self, offset: u64, value: u8) {
        let p = self.at(offset, 1) as *mut u8;
        // SAFETY: inside the mapped, writable region (checked; the type's
        // invariant), which no Rust reference covers.
        unsafe { p.write_volatile(value) }
    }

    /// Writes the `u16` at `offset` (2-aligned).
    pub fn write16(&mut self, offset: u64, value: u16) {
        let p = self.at(offset, 2) as *mut u16;
        // SAFETY: as in `write8`; aligned (checked).
        unsafe { p.write_volatile(value) }
    }

    /// Writes the `u32` at `offset` (4-aligned).
    pub fn write32(&mut self, offset: u64, value: u32) {
        let p = self.at(offset, 4) as *mut u32;
        // SAFETY: as in `write16`.
        unsafe { p.write_volatile(value) }
    }

    /// Writes the `u64` at `offset` (8-aligned).
    pub fn write64(&mut self, offset: u64, value: u64) {
        let p = self.at(offset, 8) as *mut u64;
        // SAFETY: as in `write16`.
        unsafe { p.write_volatile(value) }
    }

    /// Copies `out.len()` bytes from `offset` into `out`.
    pub fn read_bytes(&self, offset: u64, out: &mut [u8]) {
        for (i, b) in out.iter_mut().enumerate() {
            *b = self.read8(offset + i as u64);
        }
    }

    /// Copies `bytes` to `offset`.
    pub fn write_bytes(&mut self, offset: u64, bytes: &[u8]) {
        for (i, b) in bytes.iter().enumerate() {
            self.write8(offset + i as u64, *b);
        }
    }

    /// Fills `len` bytes from `offset` with `value`.
    pub fn fill(&mut self, offset: u64, len: u64, value: u8) {
        for i in 0..len {
            self.write8(offset + i, value);
        }
    }

    /// Orders every access before it against every access after it, for
    /// the device too: call it between filling a descriptor and publishing
    /// it, and between seeing the device's index move and reading what it
    /// wrote.
    pub fn fence(&self) {
        fence(Ordering::SeqCst);
    }
}

impl Drop for DmaRegion {
    fn drop(&mut self) {
        // Cannot fail for a region this value owns; nothing to do if it did.
        let _ = sys::dma_free(self.vaddr);
    }
}
