//! The physical frame allocator, built from the boot memory map.
//!
//! The books are a [`FrameBitmap`] (host-tested in `kernel-logic`) stored in
//! frames taken from the first usable region that has room; this module adds
//! the lock, the physical-memory mapping and the `x86_64` crate's allocator
//! trait so the page-table code can take frames from it.

use core::sync::atomic::{AtomicU64, Ordering};

use kernel_logic::frame_bitmap::{FrameBitmap, FrameCounters, FreeError};
use kernel_logic::memory_map::{self, MemorySummary, Region, FRAME_SIZE};
use x86_64::structures::paging::{FrameAllocator, PhysFrame, Size4KiB};
use x86_64::{PhysAddr, VirtAddr};

use crate::sync::IrqMutex;

static FRAMES: IrqMutex<Option<FrameBitmap<'static>>> = IrqMutex::new(None);
static PHYS_OFFSET: AtomicU64 = AtomicU64::new(0);

/// Why the frame allocator could not be set up.
#[derive(Debug)]
pub enum FramesInitError {
    /// No usable region can hold the bitmap.
    NoRoomForBitmap {
        /// Frames the bitmap needs.
        frames: u64,
    },
}

impl core::fmt::Display for FramesInitError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::NoRoomForBitmap { frames } => {
                write!(f, "no usable memory region has the {frames} frames the frame bitmap needs")
            }
        }
    }
}

/// Sets up the allocator: every whole usable frame is free, except frame 0
/// and the frames holding the bitmap itself.
pub fn init(regions: &[Region], phys_offset: u64) -> Result<MemorySummary, FramesInitError> {
    PHYS_OFFSET.store(phys_offset, Ordering::Relaxed);
    let summary = memory_map::summarize(regions);
    let words = FrameBitmap::words_for(summary.frame_limit);
    let bitmap_frames = (words as u64 * 8).div_ceil(FRAME_SIZE);
    let home = memory_map::find_frames(regions, bitmap_frames)
        .ok_or(FramesInitError::NoRoomForBitmap { frames: bitmap_frames })?;
    let base = phys_to_virt(PhysAddr::new(home.start * FRAME_SIZE)).as_mut_ptr::<u64>();
    // SAFETY: `home` is usable RAM that nothing else uses yet (the bitmap
    // reserves it below before any frame is handed out), mapped by the
    // bootloader at the physical-memory offset, u64-aligned because it is
    // page-aligned, and `words * 8` bytes fit in `bitmap_frames` frames.
    let storage = unsafe { core::slice::from_raw_parts_mut(base, words) };
    let mut bitmap = FrameBitmap::new(storage, summary.frame_limit).expect("storage sized by words_for");
    for r in regions.iter().filter(|r| r.kind == memory_map::RegionKind::Usable) {
        bitmap.add_free_range(r.whole_frames());
    }
    bitmap.reserve_range(home);
    bitmap.reserve_range(0..1);
    *FRAMES.lock() = Some(bitmap);
    Ok(summary)
}

/// The virtual address at which the kernel sees physical address `phys`.
pub fn phys_to_virt(phys: PhysAddr) -> VirtAddr {
    VirtAddr::new(PHYS_OFFSET.load(Ordering::Relaxed) + phys.as_u64())
}

/// The offset at which all physical memory is mapped.
pub fn phys_offset() -> VirtAddr {
    VirtAddr::new(PHYS_OFFSET.load(Ordering::Relaxed))
}

/// One free frame, or `None` when memory is exhausted.
pub fn alloc() -> Option<PhysFrame> {
    let n = FRAMES.lock().as_mut()?.alloc()?;
    Some(PhysFrame::containing_address(PhysAddr::new(n * FRAME_SIZE)))
}

/// One free frame filled with zeros.
pub fn alloc_zeroed() -> Option<PhysFrame> {
    let frame = alloc()?;
    let ptr = phys_to_virt(frame.start_address()).as_mut_ptr::<u8>();
    // SAFETY: the frame was just handed out, so nothing else uses it, and it
    // is mapped writable at the physical-memory offset.
    unsafe { core::ptr::write_bytes(ptr, 0, FRAME_SIZE as usize) };
    Some(frame)
}

/// `count` physically contiguous frames below physical address `below`,
/// filled with zeros (device memory: see `memory::dma`); the first of them.
/// Each is returned with [`free`].
pub fn alloc_contiguous_zeroed(count: u64, below: PhysAddr) -> Option<PhysFrame> {
    let first = FRAMES.lock().as_mut()?.alloc_contiguous(count, below.as_u64() / FRAME_SIZE)?;
    let start = PhysAddr::new(first * FRAME_SIZE);
    let ptr = phys_to_virt(start).as_mut_ptr::<u8>();
    // SAFETY: the frames were just handed out, so nothing else uses them,
    // and all physical memory is mapped writable at the offset, in order.
    unsafe { core::ptr::write_bytes(ptr, 0, (count * FRAME_SIZE) as usize) };
    Some(PhysFrame::containing_address(start))
}

/// Returns a frame. Returning a frame twice is an error, never a corruption.
pub fn free(frame: PhysFrame) -> Result<(), FreeError> {
    let n = frame.start_address().as_u64() / FRAME_SIZE;
    match FRAMES.lock().as_mut() {
        Some(b) => b.free(n),
        None => Err(FreeError::OutOfRange { frame: n }),
    }
}

/// The allocator's counters (all zero before `init`).
pub fn counters() -> FrameCounters {
    FRAMES.lock().as_ref().map(FrameBitmap::counters).unwrap_or_default()
}

/// The allocator as the `x86_64` crate's page-table code wants it.
pub struct KernelFrames;

// SAFETY: `alloc` hands out each frame at most once until it is freed, and
// only frames of usable RAM, as the trait requires.
unsafe impl FrameAllocator<Size4KiB> for KernelFrames {
    fn allocate_frame(&mut self) -> Option<PhysFrame> {
        alloc()
    }
}
