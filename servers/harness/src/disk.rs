//! [`MemoryDisk`]: a disk in memory for host tests of the disk server and of the servers that use it.
//!
//! It behaves as the virtio disk does where the servers can tell: writes
//! go to a write cache that a flush puts on the medium (a power cut loses
//! the rest, [`DiskHandle::after_power_cut`]); a write reaches the device
//! before the server's in-flight hook runs, so a fault there leaves it
//! written; and an instance holds device memory that its `Drop` gives
//! back, so a discarded instance leaves it for the next one to reclaim.
//! Tests attach a disk to their thread ([`DiskHandle::attach`]); the disk
//! server's `Device::start` finds it there, as the TAS finds its disk on
//! the PCI bus.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use blk_server::{Device, DiskFault, NoDisk, Started};
use server_api::ops::blk::SECTOR_BYTES;

/// Device memory an instance holds: the virtio driver's (a queue of 256
/// entries, 12 KiB, and a page for the request in flight).
pub const MEMORY_DISK_DMA_BYTES: u64 = 16 << 10;
/// The device status of a failed request (virtio's `VIRTIO_BLK_S_IOERR`).
const IO_ERROR: u8 = 1;

/// One sector's bytes.
type Sector = [u8; SECTOR_BYTES];

thread_local! {
    /// The disk `MemoryDisk::start` finds on this thread.
    static ATTACHED: RefCell<Option<DiskHandle>> = const { RefCell::new(None) };
}

/// What the disk holds and has done.
#[derive(Debug, Default)]
struct Platters {
    /// The medium: what survives a power cut.
    medium: Vec<Sector>,
    /// Written, not yet flushed.
    cache: BTreeMap<u64, Sector>,
    /// Whether an instance's device memory is mapped.
    mapped: bool,
    /// Every request fails with an I/O error.
    failing: bool,
    /// Another process owns the disk.
    busy: bool,
    /// Sectors written, flushes.
    writes: u64,
    flushes: u64,
}

/// A test's hold on a memory disk: to attach it, look at it, and make it
/// misbehave.
#[derive(Clone, Debug)]
pub struct DiskHandle(Rc<RefCell<Platters>>);

impl DiskHandle {
    /// A blank disk of `sectors` sectors, attached to this thread.
    pub fn attach(sectors: u64) -> Self {
        let medium = vec![[0; SECTOR_BYTES]; usize::try_from(sectors).expect("a disk that fits in memory")];
        Self::attach_medium(medium)
    }

    /// A disk holding `medium`, attached to this thread.
    pub fn attach_medium(medium: Vec<[u8; SECTOR_BYTES]>) -> Self {
        let disk = DiskHandle(Rc::new(RefCell::new(Platters { medium, ..Platters::default() })));
        ATTACHED.with(|attached| *attached.borrow_mut() = Some(disk.clone()));
        disk
    }

    /// No disk on this thread any more.
    pub fn detach() {
        ATTACHED.with(|attached| *attached.borrow_mut() = None);
    }

    /// The disk after the machine lost power and booted again: the same
    /// medium, the cache gone, no device memory mapped; attached to this
    /// thread in place of this one.
    pub fn after_power_cut(&self) -> Self {
        Self::attach_medium(self.0.borrow().medium.clone())
    }

    /// Sector `sector` as the medium holds it.
    ///
    /// # Panics
    /// If it is past the end (this is a test helper).
    pub fn medium(&self, sector: u64) -> Sector {
        self.0.borrow().medium[usize::try_from(sector).expect("a sector index")]
    }

    /// Overwrites sector `sector` on the medium (damage, or a foreign
    /// format).
    ///
    /// # Panics
    /// If it is past the end (this is a test helper).
    pub fn set_medium(&self, sector: u64, bytes: Sector) {
        self.0.borrow_mut().medium[usize::try_from(sector).expect("a sector index")] = bytes;
    }

    /// Makes every request fail with an I/O error, or work again.
    pub fn set_failing(&self, failing: bool) {
        self.0.borrow_mut().failing = failing;
    }

    /// Makes the disk another process's, or free again.
    pub fn set_busy(&self, busy: bool) {
        self.0.borrow_mut().busy = busy;
    }

    /// Sectors written so far.
    pub fn writes(&self) -> u64 {
        self.0.borrow().writes
    }

    /// Flushes so far.
    pub fn flushes(&self) -> u64 {
        self.0.borrow().flushes
    }

    /// Sectors written and not flushed.
    pub fn unflushed(&self) -> usize {
        self.0.borrow().cache.len()
    }

    /// Whether an instance's device memory is mapped.
    pub fn mapped(&self) -> bool {
        self.0.borrow().mapped
    }
}

/// The disk server's view of a memory disk.
#[derive(Debug)]
pub struct MemoryDisk {
    disk: DiskHandle,
    interrupts: u64,
}

impl MemoryDisk {
    /// Runs a request: the hook while the device holds it, then its
    /// outcome.
    fn request<T>(&mut self, in_flight: &mut dyn FnMut(), apply: impl FnOnce(&mut Platters) -> T) -> Result<T, DiskFault> {
        let failing = self.disk.0.borrow().failing;
        let done = (!failing).then(|| apply(&mut self.disk.0.borrow_mut()));
        in_flight();
        self.interrupts += 1;
        done.ok_or(DiskFault::Status(IO_ERROR))
    }

    fn check(&self, sector: u64) -> Result<usize, DiskFault> {
        let capacity = self.capacity();
        usize::try_from(sector).ok().filter(|_| sector < capacity).ok_or(DiskFault::OutOfRange { sector, capacity })
    }
}

impl Device for MemoryDisk {
    fn start() -> Started<Self> {
        let Some(disk) = ATTACHED.with(|attached| attached.borrow().clone()) else {
            return Started { disk: Err(NoDisk::Absent), reclaimed: false };
        };
        if disk.0.borrow().busy {
            return Started { disk: Err(NoDisk::Busy), reclaimed: false };
        }
        // Whatever a previous instance left mapped is freed, and the new
        // instance maps its own.
        let reclaimed = std::mem::replace(&mut disk.0.borrow_mut().mapped, true);
        Started { disk: Ok(MemoryDisk { disk, interrupts: 0 }), reclaimed }
    }

    fn capacity(&self) -> u64 {
        self.disk.0.borrow().medium.len() as u64
    }

    fn queue_size(&self) -> u16 {
        256
    }

    fn has_write_cache(&self) -> bool {
        true
    }

    fn dma_bytes(&self) -> u64 {
        MEMORY_DISK_DMA_BYTES
    }

    fn interrupts(&self) -> u64 {
        self.interrupts
    }

    fn read(&mut self, sector: u64, buf: &mut Sector, in_flight: &mut dyn FnMut()) -> Result<(), DiskFault> {
        let index = self.check(sector)?;
        let data = self.request(in_flight, |p| p.cache.get(&sector).copied().unwrap_or(p.medium[index]))?;
        *buf = data;
        Ok(())
    }

    fn write(&mut self, sector: u64, buf: &Sector, in_flight: &mut dyn FnMut()) -> Result<(), DiskFault> {
        self.check(sector)?;
        self.request(in_flight, |p| {
            p.cache.insert(sector, *buf);
            p.writes += 1;
        })
    }

    fn flush(&mut self, in_flight: &mut dyn FnMut()) -> Result<(), DiskFault> {
        self.request(in_flight, |p| {
            for (sector, data) in std::mem::take(&mut p.cache) {
                p.medium[sector as usize] = data;
            }
            p.flushes += 1;
        })
    }
}

impl Drop for MemoryDisk {
    /// The device stops, and its memory is freed.
    fn drop(&mut self) {
        self.disk.0.borrow_mut().mapped = false;
    }
}
