//! [`VirtioDisk`]: the legacy virtio-blk disk on PCI as the server's [`Device`], through the `virtio-blk` driver.

use lazarus_rt::device::{BarKind, PciAddress, DMA_WINDOW_BASE};
use lazarus_rt::{sys, SyscallError};
use server_api::ops::blk::SECTOR_BYTES;
use virtio_blk::legacy::{is_legacy_blk, REGISTER_BAR, VENDOR_VIRTIO};
use virtio_blk::{BlkError, LegacyBlk, Wait};

use crate::device::{Device, DiskFault, NoDisk, Started};

/// Where every instance of the server maps its device memory: the start
/// of the DMA window (the server is the TAS's one driver). A fixed place,
/// so that an instance finds what a discarded one left there.
pub const DMA_VADDR: u64 = DMA_WINDOW_BASE;

const _: () = assert!(SECTOR_BYTES == virtio_blk::SECTOR_SIZE, "the server's sectors are the driver's");

/// PCI functions of virtio's vendor looked at, at most, for a disk: more
/// than a machine has slots.
const CANDIDATES_MAX: u64 = 256;

/// The legacy virtio-blk disk, set up and owned by this process.
#[derive(Debug)]
pub struct VirtioDisk {
    driver: LegacyBlk,
}

/// The first legacy virtio-blk function on the PCI buses.
fn find() -> Option<PciAddress> {
    (0..CANDIDATES_MAX)
        .map_while(|index| sys::pci_find(Some(VENDOR_VIRTIO), None, index).ok())
        .find(|&address| {
            sys::device_info(address).is_ok_and(|info| {
                is_legacy_blk(info.vendor, info.device, info.subsystem)
                    && info.bars[usize::from(REGISTER_BAR)].kind == BarKind::Io
            })
        })
}

impl Device for VirtioDisk {
    fn start() -> Started<Self> {
        let Some(address) = find() else { return Started { disk: Err(NoDisk::Absent), reclaimed: false } };
        let reclaimed = match LegacyBlk::reclaim(address, DMA_VADDR) {
            Ok(reclaimed) => reclaimed,
            Err(BlkError::Sys(SyscallError::DeviceBusy)) => return Started { disk: Err(NoDisk::Busy), reclaimed: false },
            Err(fault) => return Started { disk: Err(NoDisk::Failed(fault)), reclaimed: false },
        };
        let disk = LegacyBlk::open(address, DMA_VADDR, Wait::Interrupt).map(|driver| VirtioDisk { driver });
        Started { disk: disk.map_err(NoDisk::Failed), reclaimed }
    }

    fn capacity(&self) -> u64 {
        self.driver.capacity()
    }

    fn queue_size(&self) -> u16 {
        self.driver.queue_size()
    }

    fn has_write_cache(&self) -> bool {
        self.driver.has_write_cache()
    }

    fn dma_bytes(&self) -> u64 {
        self.driver.dma_bytes()
    }

    fn interrupts(&self) -> u64 {
        self.driver.interrupts()
    }

    fn read(&mut self, sector: u64, buf: &mut [u8; SECTOR_BYTES], in_flight: &mut dyn FnMut()) -> Result<(), DiskFault> {
        self.driver.read_with(sector, buf, in_flight)
    }

    fn write(&mut self, sector: u64, buf: &[u8; SECTOR_BYTES], in_flight: &mut dyn FnMut()) -> Result<(), DiskFault> {
        self.driver.write_with(sector, buf, in_flight)
    }

    fn flush(&mut self, in_flight: &mut dyn FnMut()) -> Result<(), DiskFault> {
        self.driver.flush_with(in_flight)
    }
}
