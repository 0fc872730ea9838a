//! Device memory for ring-3 drivers: physically contiguous, zeroed frames
//! below 4 GiB, mapped into the driver's address space, counted per
//! process against a quota, and freed by `dma_free` or when the process
//! ends.
//!
//! A region belongs to its process (the thread that runs it), not to a
//! device: a driver may hand the same buffer to several of its devices.
//! The frames are not the address space's own pages (the space frees only
//! its page tables for them), so this table is the one place that knows
//! them, and [`release_owner`] frees them at the process's end — after the
//! process's devices have stopped mastering the bus (`device::release_owner`
//! orders the two), so no device writes into frames handed out again.
//!
//! No IOMMU: a device a driver controls can reach all of physical memory
//! whatever this module maps. Device access is for trusted drivers; this
//! module only makes sure the memory they ask for is theirs, zeroed, and
//! given back.

use alloc::vec::Vec;

use kernel_logic::sched::ThreadId;
use lazarus_abi::device::{DMA_MAX_BYTES, DMA_PHYS_LIMIT, DMA_QUOTA_BYTES};
use lazarus_abi::layout::is_user_range;
use lazarus_abi::SyscallError;
use x86_64::structures::paging::{Page, PageTableFlags, PhysFrame};
use x86_64::{PhysAddr, VirtAddr};

use super::address_space::{map_into_active, translate_user, unmap_from_active};
use super::frames;
use super::paging::MapError;
use crate::sync::IrqMutex;

/// Bytes per page and frame.
const PAGE: u64 = 4096;

/// One `dma_alloc`: `frames` frames from `first`, mapped from `vaddr`.
#[derive(Debug)]
struct Region {
    owner: ThreadId,
    vaddr: u64,
    first: PhysFrame,
    frames: u64,
}

impl Region {
    fn frames(&self) -> impl Iterator<Item = PhysFrame> + '_ {
        (0..self.frames).map(|i| self.first + i)
    }
}

static REGIONS: IrqMutex<Vec<Region>> = IrqMutex::new(Vec::new());

/// Bytes of DMA memory `owner` holds.
pub fn bytes_held(owner: ThreadId) -> u64 {
    REGIONS.lock().iter().filter(|r| r.owner == owner).map(|r| r.frames * PAGE).sum()
}

/// `dma_alloc(vaddr, len)` for the running process, whose thread is
/// `owner` (the caller checked it may have device memory): see
/// `lazarus_abi::Syscall::DmaAlloc`. Returns the physical address.
pub fn alloc(owner: ThreadId, vaddr: u64, len: u64) -> Result<u64, SyscallError> {
    if len == 0 {
        return Err(SyscallError::InvalidArgument);
    }
    if len > DMA_MAX_BYTES {
        return Err(SyscallError::TooLong);
    }
    let count = len.div_ceil(PAGE);
    if !vaddr.is_multiple_of(PAGE) || !is_user_range(vaddr, count * PAGE) {
        return Err(SyscallError::BadAddress);
    }
    // Refuse before taking memory: no page of the range may be in use.
    if (0..count).any(|i| translate_user(vaddr + i * PAGE).is_some()) {
        return Err(SyscallError::BadAddress);
    }
    if bytes_held(owner) + count * PAGE > DMA_QUOTA_BYTES {
        return Err(SyscallError::NoMemory);
    }
    let first = frames::alloc_contiguous_zeroed(count, PhysAddr::new(DMA_PHYS_LIMIT)).ok_or(SyscallError::NoMemory)?;
    let region = Region { owner, vaddr, first, frames: count };
    let flags = PageTableFlags::WRITABLE | PageTableFlags::NO_EXECUTE;
    for (i, frame) in region.frames().enumerate() {
        let page = Page::containing_address(VirtAddr::new(vaddr + i as u64 * PAGE));
        // SAFETY: the frames were just allocated for this region, which
        // keeps them until it unmaps them (`free`) or the process's space
        // is gone (`release_owner`); the caller runs the process.
        if let Err(e) = unsafe { map_into_active(page, frame, flags) } {
            undo(&region, i as u64);
            return Err(match e {
                MapError::OutOfFrames => SyscallError::NoMemory,
                _ => SyscallError::BadAddress,
            });
        }
    }
    let phys = first.start_address().as_u64();
    REGIONS.lock().push(region);
    Ok(phys)
}

/// Unmaps the first `mapped` pages of a region being built, then frees all
/// its frames.
fn undo(region: &Region, mapped: u64) {
    for i in 0..mapped {
        let page = Page::containing_address(VirtAddr::new(region.vaddr + i * PAGE));
        // SAFETY: the page was mapped by `alloc` a moment ago; the process
        // has not run since.
        let _ = unsafe { unmap_from_active(page) };
    }
    for frame in region.frames() {
        let _ = frames::free(frame);
    }
}

/// `dma_free(vaddr)` for the running process, whose thread is `owner`.
pub fn free(owner: ThreadId, vaddr: u64) -> Result<(), SyscallError> {
    let region = {
        let mut regions = REGIONS.lock();
        let at = regions.iter().position(|r| r.owner == owner && r.vaddr == vaddr).ok_or(SyscallError::InvalidArgument)?;
        regions.swap_remove(at)
    };
    undo(&region, region.frames);
    Ok(())
}

/// Frees every region of `owner`, whose process has ended, without
/// unmapping it (its address space is about to be dropped). Returns the
/// bytes freed.
///
/// # Safety
/// The owner's address space is no longer active anywhere and will only be
/// dropped; no device the owner controlled may still master the bus.
pub unsafe fn release_owner(owner: ThreadId) -> u64 {
    let mine: Vec<Region> = {
        let mut regions = REGIONS.lock();
        let (mine, rest) = core::mem::take(&mut *regions).into_iter().partition(|r| r.owner == owner);
        *regions = rest;
        mine
    };
    let mut bytes = 0;
    for region in &mine {
        for frame in region.frames() {
            let _ = frames::free(frame);
        }
        bytes += region.frames * PAGE;
    }
    bytes
}
