//! The pages a process maps through system calls, in its address space:
//! anonymous memory (`map`, `unmap`) and other processes' pages it accepted
//! (`accept`), each recorded in the space's book
//! (`kernel_logic::user_memory::Book`) so that no call can reach the image,
//! the stack or device memory.
//!
//! Anonymous frames belong to the space: `unmap` hands them back to the
//! caller to free, and dropping the space frees the rest. Accepted frames
//! belong to their granter: the space maps them but never frees them, and
//! the grant's end unmaps them (`thread::grants`), before the granter's
//! frames are freed.

use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};

use kernel_logic::user_memory::{BookError, Kind, PageRange};
use lazarus_abi::memory::MapFlags;
use x86_64::structures::paging::mapper::{Translate, TranslateResult};
use x86_64::structures::paging::{Mapper, Page, PageTableFlags, PhysFrame, Size4KiB};
use x86_64::VirtAddr;

use super::address_space::{user_flags, AddressSpace, USER_PARENTS};
use super::frames::{self, KernelFrames};
use super::paging::MapError;
use super::tlb;

/// Anonymous pages mapped in all processes together (for `mem`).
static ANONYMOUS_PAGES: AtomicU64 = AtomicU64::new(0);

/// Pages of anonymous memory (`map`) mapped in all processes now.
pub fn anonymous_pages() -> u64 {
    ANONYMOUS_PAGES.load(Ordering::Relaxed)
}

fn page(addr: u64) -> Page {
    Page::containing_address(VirtAddr::new(addr))
}

impl AddressSpace {
    /// True if no page of `range` is mapped in this space (by anything:
    /// the image, the stack, device memory, or these calls).
    pub fn is_free(&mut self, range: &PageRange) -> bool {
        let mapper = self.mapper();
        range.page_addrs().all(|a| matches!(mapper.translate(VirtAddr::new(a)), TranslateResult::NotMapped))
    }

    /// `Some(writable)` if every page of `range` is anonymous memory of
    /// this space (`writable`: all of them are writable).
    pub fn anonymous(&self, range: &PageRange) -> Option<bool> {
        self.book.anonymous(range)
    }

    /// Pages of anonymous memory mapped here (what the quota counts).
    pub fn anonymous_pages(&self) -> u64 {
        self.book.anonymous_pages()
    }

    /// Maps `frames` (zeroed, one per page of `range`, owned by the caller)
    /// at the free `range` as anonymous memory with `flags`. On success the
    /// space owns the frames; on error they are still the caller's and
    /// nothing is mapped.
    pub fn map_anonymous(&mut self, range: PageRange, flags: MapFlags, frames: &[PhysFrame]) -> Result<(), MapError> {
        let mut pte = PageTableFlags::empty();
        if flags.writable() {
            pte |= PageTableFlags::WRITABLE;
        }
        if !flags.executable() {
            pte |= PageTableFlags::NO_EXECUTE;
        }
        self.map_frames(&range, frames, pte)?;
        if self.book.insert(range, Kind::Anonymous { writable: flags.writable() }).is_err() {
            // The pages were free in the page tables, so not in the book:
            // a kernel bug, refused as the caller's overlap.
            self.unmap_frames(&range);
            return Err(MapError::AlreadyMapped(frames[0]));
        }
        ANONYMOUS_PAGES.fetch_add(range.pages(), Ordering::Relaxed);
        Ok(())
    }

    /// Unmaps `range`, all of it anonymous memory of this space, and
    /// returns its frames, which the caller frees (nothing else maps them:
    /// a granted page is refused before this). Nothing changes on error.
    pub fn unmap_anonymous(&mut self, range: &PageRange) -> Result<Vec<PhysFrame>, BookError> {
        self.book.remove_anonymous(range)?;
        ANONYMOUS_PAGES.fetch_sub(range.pages(), Ordering::Relaxed);
        Ok(self.unmap_frames(range))
    }

    /// The frames of `range` and whether all are writable, if every page of
    /// it is anonymous memory of this space.
    pub fn anonymous_frames(&mut self, range: &PageRange) -> Option<(Vec<PhysFrame>, bool)> {
        let writable = self.book.anonymous(range)?;
        let mapper = self.mapper();
        let frames = range
            .page_addrs()
            .map(|a| match mapper.translate(VirtAddr::new(a)) {
                TranslateResult::Mapped { frame, .. } => Some(PhysFrame::<Size4KiB>::containing_address(frame.start_address())),
                _ => None,
            })
            .collect::<Option<Vec<_>>>()?;
        Some((frames, writable))
    }

    /// Maps another process's `frames` (grant `grant`) at the free `range`,
    /// never executable, writable if `writable`. The space never frees
    /// them. On error nothing is mapped.
    pub fn map_accepted(&mut self, range: PageRange, frames: &[PhysFrame], writable: bool, grant: u64) -> Result<(), MapError> {
        let mut pte = PageTableFlags::NO_EXECUTE;
        if writable {
            pte |= PageTableFlags::WRITABLE;
        }
        self.map_frames(&range, frames, pte)?;
        if self.book.insert(range, Kind::Accepted { grant }).is_err() {
            self.unmap_frames(&range);
            return Err(MapError::AlreadyMapped(frames[0]));
        }
        Ok(())
    }

    /// Unmaps the pages of accepted grant `grant`, if this space has them
    /// (their frames stay the granter's).
    pub fn unmap_accepted(&mut self, grant: u64) {
        if let Some(range) = self.book.remove_accepted(grant) {
            self.unmap_frames(&range);
        }
    }

    /// Frees the frames of every anonymous region (the space is being
    /// dropped; accepted pages are their granters').
    pub(super) fn free_anonymous(&mut self) {
        let regions: Vec<PageRange> = self
            .book
            .regions()
            .iter()
            .filter(|r| matches!(r.kind, Kind::Anonymous { .. }))
            .map(|r| r.range)
            .collect();
        for range in regions {
            if self.book.remove_anonymous(&range).is_ok() {
                ANONYMOUS_PAGES.fetch_sub(range.pages(), Ordering::Relaxed);
            }
            for frame in self.unmap_frames(&range) {
                let _ = frames::free(frame);
            }
        }
    }

    /// Maps `frames` at the pages of `range` with `flags` (plus present and
    /// user); on error unmaps what it mapped.
    fn map_frames(&mut self, range: &PageRange, frames: &[PhysFrame], flags: PageTableFlags) -> Result<(), MapError> {
        debug_assert_eq!(frames.len() as u64, range.pages());
        let flags = user_flags(flags);
        for (i, (addr, frame)) in range.page_addrs().zip(frames).enumerate() {
            // SAFETY: the page is in this space's private user half and was
            // free; the frame is the caller's to map here (fresh anonymous
            // memory, or a granter's frames it keeps alive while mapped).
            let mapped = unsafe { self.mapper().map_to_with_table_flags(page(addr), *frame, flags, USER_PARENTS, &mut KernelFrames) };
            match mapped {
                // A page that was not present has no TLB entry to flush.
                Ok(flush) => flush.ignore(),
                Err(e) => {
                    if i > 0 {
                        self.unmap_frames(&PageRange::try_new(range.start(), i as u64 * 4096, u64::MAX).expect("a part of a valid range"));
                    }
                    return Err(e.into());
                }
            }
        }
        self.mirror(range.start(), range.start() + range.bytes() - 1);
        Ok(())
    }

    /// Unmaps every mapped page of `range`; returns their frames (not
    /// freed). If the space is active, each page's TLB entry is flushed
    /// (`invlpg` reaches the active PCID); if not, its entries may survive
    /// under its PCID, so its next load flushes them (`tlb.rs`).
    fn unmap_frames(&mut self, range: &PageRange) -> Vec<PhysFrame> {
        let active = self.is_active();
        let mut mapper = self.mapper();
        let mut out = Vec::with_capacity(range.pages() as usize);
        for addr in range.page_addrs() {
            if let Ok((frame, flush)) = mapper.unmap(page(addr)) {
                if active {
                    flush.flush();
                } else {
                    flush.ignore();
                }
                out.push(frame);
            }
        }
        if !active && !out.is_empty() {
            tlb::space_changed(self.root().pcid());
        }
        out
    }
}
