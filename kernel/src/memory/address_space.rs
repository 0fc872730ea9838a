//! User address spaces: a level-4 table of their own whose kernel half is
//! shared with every other address space and whose user half is private.
//!
//! The kernel half (entries 256–511) is copied from the kernel's own table
//! when the space is made; `paging::init` creates every kernel area's
//! level-4 entry at boot, so no kernel mapping made later is missing here.
//! Dropping the space frees its pages, its page tables and its level-4 table.
//! What a process maps through system calls is kept in the space's book
//! (`process_memory.rs`).
//!
//! Each space has a PCID of its own (the kernel's table has PCID 0), and
//! [`load`] is the one way CR3 is written: it flushes a space's TLB entries
//! only when `tlb.rs`'s rules say they may be stale. No user page is ever
//! global.

use alloc::vec::Vec;

use kernel_logic::pcid::{Pcid, Root};
use kernel_logic::user_memory::Book;
use lazarus_abi::layout::is_user_range;
use x86_64::registers::control::Cr3;
use x86_64::structures::paging::mapper::Translate;
use x86_64::structures::paging::{
    Mapper, OffsetPageTable, Page, PageTable, PageTableFlags, PhysFrame, Size4KiB,
};
use x86_64::{PhysAddr, VirtAddr};

use super::frames::{self, phys_to_virt, KernelFrames};
use super::isolation;
use super::paging::MapError;
use super::tlb;

/// First level-4 entry of the kernel half.
const KERNEL_HALF: usize = 256;
/// Entries per page table.
const ENTRIES: usize = 512;

/// A user address space.
///
/// # Invariants
/// `pml4` is a frame this value owns, holding a level-4 table whose kernel
/// half equals the kernel's; `root` is that table with the space's PCID,
/// which no other live space has (unless it is the shared overflow tag);
/// every frame in `pages` is owned and mapped at its page with the user bit;
/// no user-half table is shared with another space; no user page is global;
/// `book` records exactly the pages mapped by `map` (owned) and `accept`
/// (another process's), none of them in `pages`.
#[derive(Debug)]
pub struct AddressSpace {
    pml4: PhysFrame,
    /// The level-4 table ring 3 runs on: the same user half, and of the
    /// kernel only the entry area (`isolation.rs`).
    user_view: PhysFrame,
    root: Root,
    pages: Vec<(Page, PhysFrame)>,
    pub(super) book: Book,
}

/// The kernel's own level-4 table (the bootloader's), set at boot.
static KERNEL_PML4: spin::Once<PhysFrame> = spin::Once::new();
/// That table with PCID 0.
static KERNEL_ROOT: spin::Once<Root> = spin::Once::new();

/// Notes the active level-4 table as the kernel's.
pub fn init() {
    let pml4 = *KERNEL_PML4.call_once(|| Cr3::read().0);
    KERNEL_ROOT.call_once(|| root_of(pml4, Pcid::KERNEL));
}

/// The kernel's level-4 table.
pub fn kernel_pml4() -> PhysFrame {
    *KERNEL_PML4.get().expect("address_space::init runs at boot")
}

/// The root of a level-4 table tagged `pcid`.
fn root_of(pml4: PhysFrame, pcid: Pcid) -> Root {
    Root::try_new(pml4.start_address().as_u64(), pcid).expect("a frame's address is 4 KiB aligned and below 2^52")
}

/// The kernel's own table, with PCID 0: what kernel threads run on.
pub fn kernel_root() -> Root {
    *KERNEL_ROOT.get().expect("address_space::init runs at boot")
}

/// Makes `root` the active address space, unless it already is. With PCIDs
/// on, the space's TLB entries are kept unless they may be stale (see
/// `tlb.rs`); without, the CPU flushes every non-global entry.
///
/// # Safety
/// `root` is the kernel's ([`kernel_root`]) or that of a live
/// [`AddressSpace`] (kernel half the kernel's, so the running code and
/// stack stay mapped across the write); interrupts are masked (a stale
/// mark taken here must not be set again before the write).
#[inline(always)] // on the IPC fast path
pub unsafe fn load(root: Root) {
    debug_assert!(!x86_64::instructions::interrupts::are_enabled());
    let current: u64;
    // SAFETY: reading CR3 changes nothing.
    unsafe { core::arch::asm!("mov {}, cr3", out(reg) current, options(nomem, nostack, preserves_flags)) };
    if root.is_loaded(current) {
        return;
    }
    let value = root.cr3(crate::cpu::pcid_enabled(), tlb::take_flush(root.pcid()));
    // SAFETY: forwarded to the caller's guarantee; `value` holds a PCID
    // only with CR4.PCIDE on, and bit 63 only then.
    unsafe { core::arch::asm!("mov cr3, {}", in(reg) value, options(nostack, preserves_flags)) };
}

/// `flags` for a user page: present, user, never global (a global entry
/// would outlive the switch to another process).
pub(super) fn user_flags(flags: PageTableFlags) -> PageTableFlags {
    (flags - PageTableFlags::GLOBAL) | PageTableFlags::PRESENT | PageTableFlags::USER_ACCESSIBLE
}

/// Flags of the page tables above user pages.
pub(super) const USER_PARENTS: PageTableFlags =
    PageTableFlags::PRESENT.union(PageTableFlags::WRITABLE).union(PageTableFlags::USER_ACCESSIBLE);

/// The page table in `frame`, through the physical-memory mapping.
pub(super) fn table(frame: PhysFrame) -> *mut PageTable {
    phys_to_virt(frame.start_address()).as_mut_ptr()
}

impl AddressSpace {
    /// An empty user half over the shared kernel half.
    pub fn new() -> Result<Self, MapError> {
        let pml4 = frames::alloc_zeroed().ok_or(MapError::OutOfFrames)?;
        let Some(user_view) = frames::alloc_zeroed() else {
            let _ = frames::free(pml4);
            return Err(MapError::OutOfFrames);
        };
        // SAFETY: both tables are mapped at the physical-memory offset; the
        // new one is ours alone, the kernel's is only read.
        unsafe {
            let (new, kernel) = (&mut *table(pml4), &*table(kernel_pml4()));
            for i in KERNEL_HALF..ENTRIES {
                new[i] = kernel[i].clone();
            }
        }
        isolation::fill_user_view(user_view);
        let pcid = tlb::alloc();
        Ok(Self { pml4, user_view, root: root_of(pml4, pcid), pages: Vec::new(), book: Book::new() })
    }

    /// Gives ring 3's view the level-4 entries of the user addresses
    /// `start..=last` again: after a mapping there, which may have added one.
    pub(super) fn mirror(&self, start: u64, last: u64) {
        isolation::mirror_user_half(self.pml4, self.user_view, start, last);
    }

    pub(super) fn mapper(&mut self) -> OffsetPageTable<'_> {
        // SAFETY: the level-4 table is owned by `self`, borrowed mutably for
        // the mapper's lifetime; all physical memory is mapped at the offset.
        unsafe { OffsetPageTable::new(&mut *table(self.pml4), frames::phys_offset()) }
    }

    /// Maps a fresh zeroed page at `page` for user mode with `flags`
    /// (`PRESENT` and `USER_ACCESSIBLE` are added, `GLOBAL` taken away).
    pub fn map(&mut self, page: Page, flags: PageTableFlags) -> Result<PhysFrame, MapError> {
        if !is_user_range(page.start_address().as_u64(), page.size()) {
            return Err(MapError::NotUser);
        }
        let frame = frames::alloc_zeroed().ok_or(MapError::OutOfFrames)?;
        // SAFETY: the frame is fresh and the page is in this space's private
        // user half, so the mapping aliases nothing.
        let mapped =
            unsafe { self.mapper().map_to_with_table_flags(page, frame, user_flags(flags), USER_PARENTS, &mut KernelFrames) };
        match mapped {
            // Not active (or about to be reloaded): no TLB entry to flush.
            Ok(flush) => flush.ignore(),
            Err(e) => {
                let _ = frames::free(frame);
                return Err(e.into());
            }
        }
        self.pages.push((page, frame));
        self.mirror(page.start_address().as_u64(), page.start_address().as_u64());
        Ok(frame)
    }

    /// Copies `bytes` into this space at `addr`, which must be mapped here
    /// (through the physical-memory mapping: works whether or not the space
    /// is active, and regardless of the page's protection).
    pub fn write(&mut self, addr: u64, bytes: &[u8]) -> Result<(), MapError> {
        let mut done = 0;
        while done < bytes.len() {
            let at = addr + done as u64;
            // Up to the end of the page holding `at`.
            let chunk = (4096 - (at % 4096) as usize).min(bytes.len() - done);
            let a = VirtAddr::try_new(at).map_err(|_| MapError::NotUser)?;
            let phys = self.mapper().translate_addr(a).ok_or(MapError::NotMapped)?;
            // SAFETY: `phys..phys + chunk` lies in one frame of this space
            // (mapped above, not crossing the page end), which the kernel
            // reaches at the physical-memory offset.
            unsafe {
                core::ptr::copy_nonoverlapping(bytes[done..].as_ptr(), phys_to_virt(phys).as_mut_ptr::<u8>(), chunk)
            };
            done += chunk;
        }
        Ok(())
    }

    /// The level-4 table with the space's PCID, for [`load`].
    pub fn root(&self) -> Root {
        self.root
    }

    /// True if this space is the active one.
    pub(super) fn is_active(&self) -> bool {
        Cr3::read().0 == self.pml4
    }

    /// The level-4 table ring 3 runs on (see `isolation.rs`), with the
    /// space's PCID: the crossings load it, flushing that PCID.
    pub fn user_root(&self) -> Root {
        root_of(self.user_view, self.root.pcid())
    }
}

impl Drop for AddressSpace {
    fn drop(&mut self) {
        debug_assert!(!self.is_active(), "dropping the active address space");
        self.free_anonymous();
        for (_, frame) in self.pages.drain(..) {
            let _ = frames::free(frame);
        }
        // SAFETY: the space is not active and owns its user-half tables:
        // nothing else refers to them; the kernel half is shared and kept.
        unsafe { free_tables(self.pml4, 4, KERNEL_HALF) };
        let _ = frames::free(self.pml4);
        // Its user half is the tables just freed; its kernel half is the
        // entry area's, shared and kept.
        let _ = frames::free(self.user_view);
        // Marked stale as it is freed: entries it still tags are flushed by
        // the first load of whichever space gets it next.
        tlb::free(self.root.pcid());
    }
}

/// Frees the page-table frames below the first `entries` entries of the
/// table in `frame`, a table of `level` (4 = level-4 table).
///
/// # Safety
/// The tables must be owned by the caller and unused.
unsafe fn free_tables(frame: PhysFrame, level: u8, entries: usize) {
    if level == 1 {
        return;
    }
    // SAFETY: the caller owns the table, mapped at the offset.
    let t = unsafe { &*table(frame) };
    for e in t.iter().take(entries) {
        if e.flags().contains(PageTableFlags::PRESENT) && !e.flags().contains(PageTableFlags::HUGE_PAGE) {
            let child = PhysFrame::<Size4KiB>::containing_address(e.addr());
            // SAFETY: a child table of an owned table is owned too.
            unsafe { free_tables(child, level - 1, ENTRIES) };
            let _ = frames::free(child);
        }
    }
}

/// The active level-4 table as a mapper, if it is a process's (not the
/// kernel's own, which has no user half to change).
fn active_user_mapper() -> Result<OffsetPageTable<'static>, MapError> {
    let (l4, _) = Cr3::read();
    if l4 == kernel_pml4() {
        return Err(MapError::NotUser);
    }
    // SAFETY: the active level-4 table is mapped at the offset; the callers
    // change only its user half, which belongs to the running process and
    // is changed by that process's thread alone (the caller).
    Ok(unsafe { OffsetPageTable::new(&mut *table(l4), frames::phys_offset()) })
}

/// Maps `frame` at the user page `page` of the running process's address
/// space with `flags` (`PRESENT` and `USER_ACCESSIBLE` added, `GLOBAL` taken
/// away). The frame is not recorded as the space's: its owner frees it (DMA
/// memory, `memory::dma`), and the space's drop frees only the page tables.
///
/// # Safety
/// The caller owns `frame` and keeps it allocated as long as the mapping
/// exists or the space is in use; the running thread is the process's.
pub unsafe fn map_into_active(page: Page, frame: PhysFrame, flags: PageTableFlags) -> Result<(), MapError> {
    if !is_user_range(page.start_address().as_u64(), page.size()) {
        return Err(MapError::NotUser);
    }
    let mut mapper = active_user_mapper()?;
    // SAFETY: forwarded to the caller's guarantee on `frame`; the page is
    // in the private user half of the running process.
    let flush = unsafe { mapper.map_to_with_table_flags(page, frame, user_flags(flags), USER_PARENTS, &mut KernelFrames) }?;
    flush.flush();
    let at = page.start_address().as_u64();
    isolation::mirror_user_half(Cr3::read().0, isolation::active_user_view(), at, at);
    Ok(())
}

/// Unmaps the user page `page` of the running process's address space;
/// returns the frame it mapped (not freed).
///
/// # Safety
/// The running thread is the process's, and nothing of the kernel relies
/// on the page staying mapped.
pub unsafe fn unmap_from_active(page: Page) -> Result<PhysFrame, MapError> {
    if !is_user_range(page.start_address().as_u64(), page.size()) {
        return Err(MapError::NotUser);
    }
    let mut mapper = active_user_mapper()?;
    let (frame, flush) = mapper.unmap(page)?;
    // The space is active: `invlpg` reaches its tag.
    flush.flush();
    Ok(frame)
}

/// What the active address space maps at user address `addr`, if it is a
/// present user page: its physical address and whether it is writable.
pub fn translate_user(addr: u64) -> Option<(PhysAddr, bool)> {
    translate_user_page(addr).map(|(phys, flags)| (phys, flags.contains(PageTableFlags::WRITABLE)))
}

/// What the active address space maps at user address `addr`, if it is a
/// present user page: its physical address and the page's flags.
pub fn translate_user_page(addr: u64) -> Option<(PhysAddr, PageTableFlags)> {
    use x86_64::structures::paging::mapper::TranslateResult;
    if !is_user_range(addr, 1) {
        return None;
    }
    let (l4, _) = Cr3::read();
    // SAFETY: the active level-4 table is mapped at the offset; the mapper
    // only reads through this shared borrow (translate takes `&self`).
    let mapper = unsafe { OffsetPageTable::new(&mut *table(l4), frames::phys_offset()) };
    match mapper.translate(VirtAddr::new(addr)) {
        TranslateResult::Mapped { frame, offset, flags } if flags.contains(PageTableFlags::USER_ACCESSIBLE) => {
            Some((frame.start_address() + offset, flags))
        }
        _ => None,
    }
}
