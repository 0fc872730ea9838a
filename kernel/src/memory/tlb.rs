//! Keeping every address space's TLB entries true: each space's PCID, and
//! what each kind of mapping change must invalidate.
//!
//! With CR4.PCIDE on (`cpu::enable_tlb_tags`), a CR3 write keeps the TLB:
//! entries are tagged with the PCID of the space that made them, and those
//! of spaces not active survive until their tag is flushed. `invlpg` only
//! reaches the active tag (and global entries). So every change that removes
//! or narrows a present mapping is invalidated as follows:
//!
//! | change | invalidation |
//! |---|---|
//! | a page of the active space | `invlpg` (the `x86_64` mapper's flush) |
//! | a page of a space not active (a grant's end in its receiver) | [`space_changed`]: the space's next load flushes its tag |
//! | a space dropped (its pages, tables and tag freed) | the tag is marked stale when freed, so its next owner's first load flushes it |
//! | a kernel-half page (no kernel page is global: page-table isolation) | `invlpg` and [`kernel_unmapped`]: every tag is marked stale |
//!
//! Making a mapping present needs nothing: the CPU caches no translation
//! for a page that is not present. Page tables are freed only with their
//! space (the `x86_64` mapper leaves empty tables in place), so a stale
//! paging-structure cache entry can only be of a tag that is marked stale.
//! Loads and invalidations never race: loads run with interrupts masked,
//! and the kernel runs on one CPU (so there is no shootdown either).
//!
//! Ring 3 runs on a second table of its space (`isolation.rs`) with the
//! same tag; loading it always flushes the tag, so no kernel translation
//! stays cached while ring 3 runs.
//!
//! Without PCIDs every CR3 write flushes all entries that are not global;
//! the marks are still kept (the same code runs either way, so the
//! in-kernel tests check the rules on CPUs without PCIDs too) and simply
//! do not change what is written.

use kernel_logic::pcid::{Pcid, PcidTable};


/// Every space's PCID and its stale mark.
static PCIDS: PcidTable = PcidTable::new();

/// A tag for a new address space.
pub(super) fn alloc() -> Pcid {
    PCIDS.alloc()
}

/// Gives back the tag of a space that is gone (and not active).
pub(super) fn free(pcid: Pcid) {
    if let Err(e) = PCIDS.free(pcid) {
        log::error!("freeing the PCID of an address space: {e:?}");
    }
}

/// A present mapping of the space tagged `pcid` was removed or narrowed
/// while the space was not active: its next load flushes the tag.
pub(super) fn space_changed(pcid: Pcid) {
    PCIDS.invalidate(pcid);
}

/// A kernel-half page was unmapped, and `invlpg`ed: entries for it may
/// remain under other tags (no kernel page is global: see
/// `cpu::enable_tlb_tags`), so every tag is marked stale.
pub(super) fn kernel_unmapped() {
    PCIDS.invalidate_all();
}

/// For a load of `pcid`: true if the load must flush the tag (the mark is
/// cleared). Interrupts must be masked until the CR3 write.
#[inline(always)]
pub(super) fn take_flush(pcid: Pcid) -> bool {
    PCIDS.take_flush(pcid)
}

/// True if the next load of `pcid` flushes it.
pub fn flush_pending(pcid: Pcid) -> bool {
    PCIDS.flush_pending(pcid)
}

/// True if `pcid` belongs to a live space (or is reserved).
pub fn in_use(pcid: Pcid) -> bool {
    PCIDS.in_use(pcid)
}
