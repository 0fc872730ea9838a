//! The driver: claims the device, sets it up with one virtqueue, and reads
//! and writes one sector per request.
//!
//! Device memory holds the queue ([`RingLayout`]) and, on the page after
//! it, the one request in flight: its header, its 512-byte buffer and its
//! status byte, chained through descriptors 0, 1 and 2 (a flush has no
//! buffer: 0 and 2). A request is published in the available ring, the
//! device is notified, and the driver waits — on the interrupt, or
//! polling — until the used ring's index moves.
//!
//! Each request can run a caller's hook while it is in flight (published
//! and notified, not yet answered): the `blk` server puts a fault-injection
//! site there. If the hook unwinds, the request stays outstanding and the
//! next one first waits for its answer; a driver that is dropped instead
//! resets the device, which forgets it.

use core::fmt;

use lazarus_rt::device::{BarKind, DmaRegion, IoBar, PciAddress};
use lazarus_rt::{sys, SyscallError};

use crate::legacy::*;
use crate::ring::{RingLayout, DESC_NEXT, DESC_WRITE};

/// Bytes of a sector, the unit of virtio-blk addresses.
pub const SECTOR_SIZE: usize = 512;

/// How long one request may take before the driver gives up on it.
pub const REQUEST_TIMEOUT_MS: u64 = 5_000;

/// Bytes of the request area after the queue: a page.
const REQUEST_AREA: u64 = 4096;
/// Request header: type (u32), reserved (u32), sector (u64).
const HEADER: u64 = 0;
const HEADER_BYTES: u32 = 16;
/// The status byte the device writes.
const STATUS: u64 = 64;
/// The sector buffer.
const DATA: u64 = 512;
/// A status value the device never writes: "not answered yet".
const STATUS_PENDING: u8 = 0xFF;
/// Nanoseconds per millisecond.
const NS_PER_MS: u64 = 1_000_000;

/// How the driver waits for the device.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wait {
    /// On the device's interrupt (`irq_wait`).
    Interrupt,
    /// Checking the used ring between yields.
    Poll,
}

/// A hook that does nothing, for requests with nothing to do in flight.
fn nothing() {}

/// Why the disk could not be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlkError {
    /// A system call failed (the kernel said why).
    Sys(SyscallError),
    /// The function is not a legacy virtio-blk device with I/O BAR 0.
    NotLegacyBlk,
    /// Queue 0 does not exist (size 0) or has a size the layout refuses.
    BadQueue(u16),
    /// The device did not answer in [`REQUEST_TIMEOUT_MS`].
    Timeout,
    /// The device answered with this status (1: I/O error, 2: unsupported).
    Status(u8),
    /// The sector is past the disk's end.
    OutOfRange {
        /// The sector asked for.
        sector: u64,
        /// Sectors on the disk.
        capacity: u64,
    },
}

impl From<SyscallError> for BlkError {
    fn from(e: SyscallError) -> Self {
        Self::Sys(e)
    }
}

impl fmt::Display for BlkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sys(e) => write!(f, "system call failed: {e}"),
            Self::NotLegacyBlk => f.write_str("not a legacy virtio-blk device"),
            Self::BadQueue(size) => write!(f, "unusable queue of {size} entries"),
            Self::Timeout => write!(f, "no answer from the device in {REQUEST_TIMEOUT_MS} ms"),
            Self::Status(s) => write!(f, "the device failed the request (status {s})"),
            Self::OutOfRange { sector, capacity } => write!(f, "sector {sector} past the end ({capacity} sectors)"),
        }
    }
}

/// A legacy virtio-blk disk this process drives.
///
/// # Invariants
/// The device is claimed, set up (`DRIVER_OK`) with its queue 0 in `mem`,
/// and has returned every request published so far (`next_avail ==
/// last_used`) between calls.
#[derive(Debug)]
pub struct LegacyBlk {
    address: PciAddress,
    regs: IoBar,
    ring: RingLayout,
    wait: Wait,
    next_avail: u16,
    last_used: u16,
    /// A request was published whose answer was not collected (its
    /// in-flight hook unwound): the next request waits for it first.
    outstanding: bool,
    capacity: u64,
    device_features: u32,
    interrupts: u64,
    lost_interrupts: u64,
    /// Last: dropped after `Drop::drop` has reset the device.
    mem: DmaRegion,
}

impl LegacyBlk {
    /// Takes back what an earlier driver of this process left of the
    /// device at `address`: claims it (again, if this process owns it
    /// already: no change), resets it so it stops using its queue, and
    /// only then frees the device memory left mapped at `dma_vaddr`, if
    /// any. True if there was such memory: a driver whose frames were
    /// discarded before its `Drop` ran (the backstop of a restart).
    pub fn reclaim(address: PciAddress, dma_vaddr: u64) -> Result<bool, BlkError> {
        sys::device_claim(address)?;
        IoBar::new(address, REGISTER_BAR).write8(DEVICE_STATUS, 0)?;
        match sys::dma_free(dma_vaddr) {
            Ok(()) => Ok(true),
            // Nothing mapped there by `dma_alloc`.
            Err(SyscallError::InvalidArgument) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Claims the device at `address` and sets it up, with its device
    /// memory mapped at `dma_vaddr` (page-aligned, unused). Accepts the
    /// device's write cache ([`FEATURE_FLUSH`]) if it has one, so writes
    /// are cached and [`LegacyBlk::flush`] puts them on the medium.
    pub fn open(address: PciAddress, dma_vaddr: u64, wait: Wait) -> Result<Self, BlkError> {
        let info = sys::device_info(address)?;
        if !is_legacy_blk(info.vendor, info.device, info.subsystem) || info.bars[0].kind != BarKind::Io {
            return Err(BlkError::NotLegacyBlk);
        }
        sys::device_claim(address)?;
        let regs = IoBar::new(address, REGISTER_BAR);
        // Reset, then say hello (virtio 1.x, 3.1.1, legacy variant: no
        // FEATURES_OK step).
        regs.write8(DEVICE_STATUS, 0)?;
        regs.write8(DEVICE_STATUS, STATUS_ACKNOWLEDGE)?;
        regs.write8(DEVICE_STATUS, STATUS_ACKNOWLEDGE | STATUS_DRIVER)?;
        let device_features = regs.read32(DEVICE_FEATURES)?;
        // Nothing optional is needed (capacity is always there); the write
        // cache is taken when offered, flushed on request.
        regs.write32(DRIVER_FEATURES, device_features & FEATURE_FLUSH)?;
        regs.write16(QUEUE_SELECT, 0)?;
        let size = regs.read16(QUEUE_SIZE)?;
        let Some(ring) = RingLayout::legacy(size) else {
            regs.write8(DEVICE_STATUS, STATUS_FAILED)?;
            return Err(BlkError::BadQueue(size));
        };
        let mem = DmaRegion::alloc(dma_vaddr, ring.bytes() + REQUEST_AREA)?;
        // Below 4 GiB (the kernel's promise), so the frame number fits.
        regs.write32(QUEUE_PFN, (mem.phys(0) >> 12) as u32)?;
        regs.write8(DEVICE_STATUS, STATUS_ACKNOWLEDGE | STATUS_DRIVER | STATUS_DRIVER_OK)?;
        let low = u64::from(regs.read32(DEVICE_CONFIG)?);
        let high = u64::from(regs.read32(DEVICE_CONFIG + 4)?);
        Ok(Self {
            address,
            regs,
            ring,
            wait,
            next_avail: 0,
            last_used: 0,
            outstanding: false,
            capacity: high << 32 | low,
            device_features,
            interrupts: 0,
            lost_interrupts: 0,
            mem,
        })
    }

    /// The disk's size in sectors.
    pub fn capacity(&self) -> u64 {
        self.capacity
    }

    /// The features the device offered.
    pub fn device_features(&self) -> u32 {
        self.device_features
    }

    /// Whether the device has a write cache that [`LegacyBlk::flush`]
    /// empties (it offered [`FEATURE_FLUSH`], and the driver took it).
    pub fn has_write_cache(&self) -> bool {
        self.device_features & FEATURE_FLUSH != 0
    }

    /// Bytes of device memory the driver holds.
    pub fn dma_bytes(&self) -> u64 {
        self.mem.len()
    }

    /// Entries of the queue.
    pub fn queue_size(&self) -> u16 {
        self.ring.size()
    }

    /// Interrupts taken so far (each `irq_wait` return counts what it
    /// reported).
    pub fn interrupts(&self) -> u64 {
        self.interrupts
    }

    /// Requests found answered at their deadline without an interrupt.
    pub fn lost_interrupts(&self) -> u64 {
        self.lost_interrupts
    }

    /// The physical address of the queue.
    pub fn queue_phys(&self) -> u64 {
        self.mem.phys(0)
    }

    /// Reads sector `sector` into `buf`.
    pub fn read(&mut self, sector: u64, buf: &mut [u8; SECTOR_SIZE]) -> Result<(), BlkError> {
        self.read_with(sector, buf, &mut nothing)
    }

    /// Writes `buf` to sector `sector`.
    pub fn write(&mut self, sector: u64, buf: &[u8; SECTOR_SIZE]) -> Result<(), BlkError> {
        self.write_with(sector, buf, &mut nothing)
    }

    /// Reads sector `sector` into `buf`, running `in_flight` while the
    /// device has the request.
    pub fn read_with(&mut self, sector: u64, buf: &mut [u8; SECTOR_SIZE], in_flight: &mut dyn FnMut()) -> Result<(), BlkError> {
        self.request(REQUEST_IN, sector, in_flight)?;
        let data = self.ring.bytes() + DATA;
        self.mem.read_bytes(data, buf);
        Ok(())
    }

    /// Writes `buf` to sector `sector`, running `in_flight` while the
    /// device has the request.
    pub fn write_with(&mut self, sector: u64, buf: &[u8; SECTOR_SIZE], in_flight: &mut dyn FnMut()) -> Result<(), BlkError> {
        self.settle()?;
        let data = self.ring.bytes() + DATA;
        self.mem.write_bytes(data, buf);
        self.request(REQUEST_OUT, sector, in_flight)
    }

    /// Puts every write the device has answered on its medium, running
    /// `in_flight` while the device has the request. Without a write
    /// cache ([`LegacyBlk::has_write_cache`]) there is nothing to do and
    /// nothing is sent.
    pub fn flush_with(&mut self, in_flight: &mut dyn FnMut()) -> Result<(), BlkError> {
        if !self.has_write_cache() {
            return Ok(());
        }
        self.request(REQUEST_FLUSH, 0, in_flight)
    }

    /// [`LegacyBlk::flush_with`] with nothing to do in flight.
    pub fn flush(&mut self) -> Result<(), BlkError> {
        self.flush_with(&mut nothing)
    }

    /// Resets the device: it forgets its queue and stops using the memory.
    pub fn reset(&mut self) -> Result<(), BlkError> {
        self.regs.write8(DEVICE_STATUS, 0)?;
        Ok(())
    }

    /// Waits for the answer to a request whose in-flight hook unwound, so
    /// that the request area is the driver's again.
    fn settle(&mut self) -> Result<(), BlkError> {
        if self.outstanding {
            self.wait_used()?;
            self.outstanding = false;
        }
        Ok(())
    }

    /// Publishes one request of `kind` for `sector` (its buffer already
    /// filled for a write), runs `in_flight`, and waits for the device's
    /// answer.
    fn request(&mut self, kind: u32, sector: u64, in_flight: &mut dyn FnMut()) -> Result<(), BlkError> {
        if kind != REQUEST_FLUSH && sector >= self.capacity {
            return Err(BlkError::OutOfRange { sector, capacity: self.capacity });
        }
        self.settle()?;
        let req = self.ring.bytes();
        self.mem.write32(req + HEADER, kind);
        self.mem.write32(req + HEADER + 4, 0);
        self.mem.write64(req + HEADER + 8, sector);
        self.mem.write8(req + STATUS, STATUS_PENDING);
        let data_flags = if kind == REQUEST_IN { DESC_NEXT | DESC_WRITE } else { DESC_NEXT };
        // Descriptor, buffer, length, flags, next descriptor.
        let header = (0, req + HEADER, HEADER_BYTES, DESC_NEXT, 1);
        let data = (1, req + DATA, SECTOR_SIZE as u32, data_flags, 2);
        let status = (2, req + STATUS, 1, DESC_WRITE, 0);
        // A flush carries no data: the header leads straight to the status.
        let with_data = [header, data, status];
        let without_data = [(0, req + HEADER, HEADER_BYTES, DESC_NEXT, 2), status];
        let chain: &[_] = if kind == REQUEST_FLUSH { &without_data } else { &with_data };
        for &(i, offset, len, flags, next) in chain {
            let d = self.ring.desc(i);
            let phys = self.mem.phys(offset);
            self.mem.write64(d, phys);
            self.mem.write32(d + 8, len);
            self.mem.write16(d + 12, flags);
            self.mem.write16(d + 14, next);
        }
        let slot = self.ring.avail_slot(self.next_avail);
        self.mem.write16(slot, 0);
        // The chain and its slot before the index that publishes them.
        self.mem.fence();
        self.next_avail = self.next_avail.wrapping_add(1);
        self.mem.write16(self.ring.avail_idx(), self.next_avail);
        self.mem.fence();
        self.regs.write16(QUEUE_NOTIFY, 0)?;
        // Until its answer is collected: a hook that unwinds, or a wait
        // that times out, leaves it for the next request to wait for.
        self.outstanding = true;
        in_flight();
        self.wait_used()?;
        self.outstanding = false;
        match self.mem.read8(req + STATUS) {
            REQUEST_OK => Ok(()),
            status => Err(BlkError::Status(status)),
        }
    }

    /// True once the device has returned the request just published.
    fn returned(&self) -> bool {
        self.mem.fence();
        self.mem.read16(self.ring.used_idx()) == self.last_used.wrapping_add(1)
    }

    /// Waits until the device has returned the request just published.
    ///
    /// Interrupt mode waits for the interrupt first and looks at the used
    /// ring after it: the line is level-triggered and stays raised until
    /// the ISR is read, so an answer that came before the wait is not
    /// missed, and every request is seen through its interrupt. An answer
    /// found only at the deadline, with no interrupt, is taken but counted
    /// as a lost interrupt.
    fn wait_used(&mut self) -> Result<(), BlkError> {
        let deadline = sys::uptime_ns() + REQUEST_TIMEOUT_MS * NS_PER_MS;
        loop {
            let now = sys::uptime_ns();
            match self.wait {
                Wait::Poll => {
                    if self.returned() {
                        // Lower the line the answer raised.
                        self.regs.read8(ISR_STATUS)?;
                        break;
                    }
                    if now >= deadline {
                        return Err(BlkError::Timeout);
                    }
                    sys::yield_now();
                }
                Wait::Interrupt => {
                    if now >= deadline {
                        if self.returned() {
                            self.lost_interrupts += 1;
                            self.regs.read8(ISR_STATUS)?;
                            break;
                        }
                        return Err(BlkError::Timeout);
                    }
                    match sys::irq_wait(self.address, (deadline - now).div_ceil(NS_PER_MS)) {
                        Ok(count) => {
                            self.interrupts += count;
                            // Acknowledge: reading the ISR lowers the line.
                            self.regs.read8(ISR_STATUS)?;
                            if self.returned() {
                                break;
                            }
                        }
                        Err(SyscallError::TimedOut) => {}
                        Err(e) => return Err(e.into()),
                    }
                }
            }
        }
        self.last_used = self.last_used.wrapping_add(1);
        // What the device wrote before it moved the index.
        self.mem.fence();
        Ok(())
    }
}

impl Drop for LegacyBlk {
    /// The device forgets the queue before its memory is freed (the field
    /// drops that follow).
    fn drop(&mut self) {
        let _ = self.reset();
    }
}
