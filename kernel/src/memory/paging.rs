//! Page-table management for the kernel half: map, unmap, translate.
//!
//! Wraps the `x86_64` crate's `OffsetPageTable` (page tables reached through
//! the bootloader's mapping of all physical memory) behind a lock, with typed
//! errors. Lock order: this module's lock, then the frame allocator's.
//!
//! The kernel half is shared by every address space, so its TLB entries
//! live under every PCID; no kernel page is global (page-table isolation:
//! none may outlive the switch to ring 3's view), so unmapping one marks
//! every PCID stale (`tlb.rs`).

use kernel_logic::layout::{MMIO_SIZE, MMIO_START};
use x86_64::registers::control::Cr3;
use x86_64::structures::paging::mapper::{MapToError, Translate, TranslateResult, UnmapError};
use x86_64::structures::paging::{Mapper, OffsetPageTable, Page, PageTable, PageTableFlags, PhysFrame, Size4KiB};
use x86_64::{PhysAddr, VirtAddr};

use super::frames::{self, KernelFrames};
use super::tlb;
use crate::sync::IrqMutex;

static MAPPER: IrqMutex<Option<OffsetPageTable<'static>>> = IrqMutex::new(None);
/// Next free page of the MMIO window (a bump allocator: device mappings are
/// made once at boot and never undone).
static MMIO_NEXT: IrqMutex<u64> = IrqMutex::new(MMIO_START);

/// Why a mapping operation failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MapError {
    /// `init` has not run.
    NotReady,
    /// No frame left for the page or a page table.
    OutOfFrames,
    /// The page is already mapped (to this frame).
    AlreadyMapped(PhysFrame),
    /// The page is not mapped.
    NotMapped,
    /// A huge page covers the address; the kernel only manages 4 KiB pages.
    HugePage,
    /// The MMIO window is full.
    MmioExhausted,
    /// The address is not in user space (for user mappings).
    NotUser,
}

impl From<MapToError<Size4KiB>> for MapError {
    fn from(e: MapToError<Size4KiB>) -> Self {
        match e {
            MapToError::FrameAllocationFailed => Self::OutOfFrames,
            MapToError::ParentEntryHugePage => Self::HugePage,
            MapToError::PageAlreadyMapped(f) => Self::AlreadyMapped(f),
        }
    }
}

impl From<UnmapError> for MapError {
    fn from(e: UnmapError) -> Self {
        match e {
            UnmapError::ParentEntryHugePage => Self::HugePage,
            UnmapError::PageNotMapped | UnmapError::InvalidFrameAddress(_) => Self::NotMapped,
        }
    }
}

/// Flags of ordinary kernel data: present, writable, never executed (and
/// not global: see `cpu::enable_tlb_tags`).
pub const KERNEL_DATA: PageTableFlags = PageTableFlags::PRESENT.union(PageTableFlags::WRITABLE).union(PageTableFlags::NO_EXECUTE);

/// Takes over the active page tables.
///
/// # Safety
/// All physical memory must be mapped at `phys_offset` (the bootloader's
/// `physical_memory` mapping), and this must be called once.
pub unsafe fn init(phys_offset: VirtAddr) {
    let (l4, _) = Cr3::read();
    let l4_ptr = (phys_offset + l4.start_address().as_u64()).as_mut_ptr::<PageTable>();
    // SAFETY: the level-4 table is mapped at the offset (caller's guarantee)
    // and, called once, this is the only reference to it from now on.
    let table = unsafe { OffsetPageTable::new(&mut *l4_ptr, phys_offset) };
    *MAPPER.lock() = Some(table);
}

fn with_mapper<R>(f: impl FnOnce(&mut OffsetPageTable<'static>) -> Result<R, MapError>) -> Result<R, MapError> {
    let mut guard = MAPPER.lock();
    let mapper = guard.as_mut().ok_or(MapError::NotReady)?;
    f(mapper)
}

/// Maps `page` to `frame`.
///
/// # Safety
/// The caller owns `frame` (or the device behind it), and nothing may rely
/// on `page` being unmapped; aliasing other memory breaks Rust's rules.
pub unsafe fn map(page: Page, frame: PhysFrame, flags: PageTableFlags) -> Result<(), MapError> {
    with_mapper(|m| {
        // SAFETY: forwarded to the caller's guarantee.
        let flush = unsafe { m.map_to(page, frame, flags, &mut KernelFrames) }?;
        flush.flush();
        Ok(())
    })
}

/// Maps `page` to a fresh zeroed frame; returns the frame.
pub fn map_fresh(page: Page, flags: PageTableFlags) -> Result<PhysFrame, MapError> {
    let frame = frames::alloc_zeroed().ok_or(MapError::OutOfFrames)?;
    // SAFETY: the frame was just allocated, so it is ours and unaliased.
    match unsafe { map(page, frame, flags) } {
        Ok(()) => Ok(frame),
        Err(e) => {
            let _ = frames::free(frame);
            Err(e)
        }
    }
}

/// Unmaps `page` and returns the frame it mapped (not freed). The TLB entry
/// goes under every PCID: `invlpg` for the active one, and every PCID
/// marked stale.
///
/// # Safety
/// Nothing may still use the page.
pub unsafe fn unmap(page: Page) -> Result<PhysFrame, MapError> {
    with_mapper(|m| {
        let (frame, flush) = m.unmap(page)?;
        flush.flush();
        tlb::kernel_unmapped();
        Ok(frame)
    })
}

/// Unmaps `page` and frees its frame.
///
/// # Safety
/// Nothing may still use the page, and its frame must have come from the
/// frame allocator and be mapped nowhere else.
pub unsafe fn unmap_and_free(page: Page) -> Result<(), MapError> {
    // SAFETY: forwarded to the caller's guarantee.
    let frame = unsafe { unmap(page) }?;
    frames::free(frame).map_err(|_| MapError::NotMapped)
}

/// The physical address `addr` maps to, if any.
pub fn translate(addr: VirtAddr) -> Option<PhysAddr> {
    MAPPER.lock().as_ref()?.translate_addr(addr)
}

/// Like [`translate`], but gives up instead of waiting if the page tables
/// are locked: for fault paths, where the faulting code may hold the lock.
pub fn try_translate(addr: VirtAddr) -> Option<PhysAddr> {
    MAPPER.try_lock()?.as_ref()?.translate_addr(addr)
}

/// The flags of the 4 KiB page holding `addr`, if it is mapped by one.
pub fn flags_of(addr: VirtAddr) -> Option<PageTableFlags> {
    match MAPPER.lock().as_ref()?.translate(addr) {
        TranslateResult::Mapped { flags, .. } => Some(flags),
        _ => None,
    }
}

/// Creates the level-4 entries of the kernel areas that are not mapped yet
/// (thread stacks, scratch), so every user address space, which copies the
/// kernel half when made, shares them from the start.
pub fn reserve_kernel_areas() {
    use kernel_logic::layout::{SCRATCH_START, STACKS_START};
    for start in [STACKS_START, SCRATCH_START] {
        let page = Page::containing_address(VirtAddr::new(start));
        match map_fresh(page, KERNEL_DATA) {
            // SAFETY: the page was mapped just now for this purpose alone.
            Ok(_) => drop(unsafe { unmap_and_free(page) }),
            Err(e) => panic!("cannot set up the kernel area at {start:#x}: {e:?}"),
        }
    }
}

/// Maps `size` bytes of device registers at physical `phys` into the MMIO
/// window, uncached; returns the virtual address of `phys`.
pub fn map_mmio(phys: PhysAddr, size: u64) -> Result<VirtAddr, MapError> {
    let first = PhysFrame::<Size4KiB>::containing_address(phys);
    let last = PhysFrame::<Size4KiB>::containing_address(phys + size.max(1) - 1u64);
    let frames = PhysFrame::range_inclusive(first, last);
    let pages = frames.count() as u64;
    let base = {
        let mut next = MMIO_NEXT.lock();
        if *next + pages * 4096 > MMIO_START + MMIO_SIZE {
            return Err(MapError::MmioExhausted);
        }
        let base = *next;
        *next += pages * 4096;
        base
    };
    let flags = KERNEL_DATA | PageTableFlags::NO_CACHE | PageTableFlags::WRITE_THROUGH;
    for (i, frame) in PhysFrame::range_inclusive(first, last).enumerate() {
        let page = Page::containing_address(VirtAddr::new(base + i as u64 * 4096));
        // SAFETY: the page is fresh in the MMIO window (bump-allocated above)
        // and the frame is device memory, not RAM the allocator hands out.
        unsafe { map(page, frame, flags) }?;
    }
    Ok(VirtAddr::new(base + (phys.as_u64() - first.start_address().as_u64())))
}

/// Turns the page holding `addr` into a guard page: unmapped, so any access
/// faults. Its frame belongs to whoever mapped it (the kernel image for the
/// interrupt stacks) and is not freed.
///
/// # Safety
/// Nothing may use the page afterwards.
pub unsafe fn make_guard(addr: VirtAddr) -> Result<(), MapError> {
    // SAFETY: forwarded to the caller's guarantee.
    unsafe { unmap(Page::containing_address(addr)) }.map(|_| ())
}
