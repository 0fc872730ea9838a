//! Process-context identifiers (PCIDs): which tag each address space's TLB
//! entries carry, and when loading a space must flush its tag.
//!
//! With CR4.PCIDE on, every TLB entry and paging-structure cache entry is
//! tagged with the PCID in CR3's low 12 bits when it was made, and a CR3
//! write may keep the entries of every tag (bit 63 set) or flush the loaded
//! tag's (bit 63 clear). Entries of a tag that is not loaded are never used,
//! but they survive until their tag is flushed — so the kernel must flush a
//! tag before it is loaded again whenever its entries may be stale:
//!
//! - the tag was freed (its space dropped) and handed to a new space;
//! - a present mapping of its space was removed or narrowed while the space
//!   was not active (`invlpg` reaches only the active tag, and global
//!   entries);
//! - a kernel-half mapping that was not global was removed (every tag holds
//!   kernel-half entries).
//!
//! [`PcidTable`] keeps the tags in use and a "stale" mark per tag; a load
//! asks [`PcidTable::take_flush`] whether it must flush. The table is made of
//! atomics, so the context-switch path reads it without a lock, and the mark
//! is a byte of its own so that reading it costs one load.
//! [`Root`] is what CR3 is loaded from, and [`Root::cr3`] the value written.

use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Tags CR3 can name: its bits 11:0.
pub const COUNT: u16 = 4096;
/// Bits per word of the tables.
const BITS: u16 = 64;
/// Words per table.
const WORDS: usize = (COUNT / BITS) as usize;
/// CR3 bit 63 on a write with CR4.PCIDE on: keep the loaded tag's entries.
pub const CR3_NO_FLUSH: u64 = 1 << 63;
/// CR3 bits 51:12: the level-4 table's physical address (the architectural
/// maximum of 52 physical address bits).
pub const CR3_ADDRESS: u64 = 0x000F_FFFF_FFFF_F000;
/// CR3 bits 11:0: the PCID with CR4.PCIDE on (PWT and PCD otherwise).
pub const CR3_PCID: u64 = 0xFFF;

/// A PCID.
///
/// # Invariants
/// Below [`COUNT`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pcid(u16);

impl Pcid {
    /// The kernel's own table's tag (and the only one CR4.PCIDE may be
    /// turned on with).
    pub const KERNEL: Self = Self(0);
    /// The tag of every space made when all others were taken: shared, so
    /// loading it always flushes.
    pub const SHARED: Self = Self(COUNT - 1);

    /// The PCID `value`, if CR3 can hold it.
    pub const fn try_new(value: u16) -> Option<Self> {
        if value < COUNT {
            Some(Self(value))
        } else {
            None
        }
    }

    /// Its number.
    #[inline]
    pub const fn get(self) -> u16 {
        self.0
    }

    #[inline]
    const fn word(self) -> usize {
        (self.0 / BITS) as usize
    }

    #[inline]
    const fn bit(self) -> u64 {
        1 << (self.0 % BITS)
    }
}

/// Why a PCID could not be given back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FreeError {
    /// The kernel's tag is never allocated, so never freed.
    Kernel,
    /// The tag is not in use: a double free.
    NotInUse(Pcid),
}

/// The PCIDs in use and those whose entries may be stale.
///
/// # Invariants
/// [`Pcid::KERNEL`] and [`Pcid::SHARED`] are always in use (never handed
/// out by [`PcidTable::alloc`]); [`Pcid::SHARED`] is always stale; a tag
/// freed is marked stale before it can be handed out again, so its next
/// owner's first load flushes it.
#[derive(Debug)]
pub struct PcidTable {
    /// One bit per tag: in use.
    used: [AtomicU64; WORDS],
    /// One flag per tag: its next load flushes it.
    stale: [AtomicBool; COUNT as usize],
}

impl Default for PcidTable {
    fn default() -> Self {
        Self::new()
    }
}

impl PcidTable {
    /// Nothing allocated, nothing stale.
    pub const fn new() -> Self {
        // The two reserved tags lie in different words (first and last).
        const _: () = assert!(Pcid::KERNEL.word() != Pcid::SHARED.word());
        let mut used = [const { AtomicU64::new(0) }; WORDS];
        used[Pcid::KERNEL.word()] = AtomicU64::new(Pcid::KERNEL.bit());
        used[Pcid::SHARED.word()] = AtomicU64::new(Pcid::SHARED.bit());
        let mut stale = [const { AtomicBool::new(false) }; COUNT as usize];
        stale[Pcid::SHARED.0 as usize] = AtomicBool::new(true);
        Self { used, stale }
    }

    /// The lowest free PCID, now in use; [`Pcid::SHARED`] when every one is
    /// taken.
    pub fn alloc(&self) -> Pcid {
        for (w, word) in self.used.iter().enumerate() {
            let mut seen = word.load(Ordering::Relaxed);
            while seen != u64::MAX {
                let bit = (!seen).trailing_zeros() as u16;
                match word.compare_exchange_weak(seen, seen | 1 << bit, Ordering::AcqRel, Ordering::Relaxed) {
                    Ok(_) => return Pcid(w as u16 * BITS + bit),
                    Err(now) => seen = now,
                }
            }
        }
        Pcid::SHARED
    }

    /// Gives `pcid` back: marked stale first (its entries belong to a space
    /// that is gone), then free. Freeing [`Pcid::SHARED`] does nothing (it
    /// is every overflow space's, and always flushed).
    pub fn free(&self, pcid: Pcid) -> Result<(), FreeError> {
        if pcid == Pcid::KERNEL {
            return Err(FreeError::Kernel);
        }
        if pcid == Pcid::SHARED {
            return Ok(());
        }
        // Stale before free: whoever takes the tag next sees the mark. (A
        // refused double free leaves a spurious mark: one flush too many.)
        self.invalidate(pcid);
        if self.used[pcid.word()].fetch_and(!pcid.bit(), Ordering::AcqRel) & pcid.bit() == 0 {
            return Err(FreeError::NotInUse(pcid));
        }
        Ok(())
    }

    /// True if `pcid` is in use.
    pub fn in_use(&self, pcid: Pcid) -> bool {
        self.used[pcid.word()].load(Ordering::Acquire) & pcid.bit() != 0
    }

    /// PCIDs in use, the two reserved ones included.
    pub fn used(&self) -> u32 {
        self.used.iter().map(|w| w.load(Ordering::Relaxed).count_ones()).sum()
    }

    /// Marks `pcid`'s entries stale: its next load flushes them. For a space
    /// that lost or narrowed a mapping while it was not active.
    pub fn invalidate(&self, pcid: Pcid) {
        self.stale[usize::from(pcid.0)].store(true, Ordering::Release);
    }

    /// Marks every tag stale: for a change to the kernel half that `invlpg`
    /// does not reach in other tags (a mapping that was not global).
    pub fn invalidate_all(&self) {
        for mark in &self.stale {
            mark.store(true, Ordering::Release);
        }
    }

    /// True if the next load of `pcid` flushes it (nothing changes).
    pub fn flush_pending(&self, pcid: Pcid) -> bool {
        self.stale[usize::from(pcid.0)].load(Ordering::Acquire)
    }

    /// For a load of `pcid`: true if it must flush the tag's entries, and
    /// the mark is cleared (the load is about to flush them). Loads must not
    /// race with invalidations of the tag they load (the kernel masks
    /// interrupts around both).
    #[inline] // on the context-switch path
    pub fn take_flush(&self, pcid: Pcid) -> bool {
        // Most loads find nothing to flush: one read.
        if !self.stale[usize::from(pcid.0)].load(Ordering::Acquire) {
            return false;
        }
        self.clear(pcid);
        true
    }

    /// Clears `pcid`'s mark, unless it is the shared tag (which stays
    /// stale: every load of it flushes).
    #[cold]
    fn clear(&self, pcid: Pcid) {
        if pcid != Pcid::SHARED {
            self.stale[usize::from(pcid.0)].store(false, Ordering::Release);
        }
    }
}

/// Why a [`Root`] could not be made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RootError {
    /// The level-4 table's address is not 4 KiB aligned or needs more than
    /// 52 bits.
    BadAddress(u64),
}

/// What CR3 is loaded from: a level-4 table and its space's PCID, packed as
/// CR3 holds them (address in bits 51:12, PCID in bits 11:0). Small and
/// `Copy`, for the context-switch paths.
///
/// # Invariants
/// Only bits 51:0 are set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Root(u64);

impl Root {
    /// The root of the level-4 table at physical `pml4` tagged `pcid`.
    #[inline]
    pub const fn try_new(pml4: u64, pcid: Pcid) -> Result<Self, RootError> {
        if pml4 & !CR3_ADDRESS != 0 {
            return Err(RootError::BadAddress(pml4));
        }
        Ok(Self(pml4 | pcid.0 as u64))
    }

    /// The level-4 table's physical address.
    #[inline]
    pub const fn pml4(self) -> u64 {
        self.0 & CR3_ADDRESS
    }

    /// The PCID.
    #[inline]
    pub const fn pcid(self) -> Pcid {
        Pcid((self.0 & CR3_PCID) as u16)
    }

    /// True if CR3's value `cr3` (as read) has this root's level-4 table
    /// loaded. Only the address counts: with CR4.PCIDE off the low bits are
    /// not a PCID, and a live table has one tag for its life.
    #[inline] // on the context-switch path
    pub const fn is_loaded(self, cr3: u64) -> bool {
        cr3 & CR3_ADDRESS == self.pml4()
    }

    /// The value to write to CR3 to load this root. With CR4.PCIDE off
    /// (`pcide` false) it is the bare table address: the write flushes every
    /// entry that is not global, and bits 11:0 would be PWT and PCD, not a
    /// tag (bit 63 must be clear then too). With it on, the tag goes in
    /// bits 11:0 and bit 63 keeps the tag's entries unless `flush`.
    #[inline] // on the context-switch path
    pub const fn cr3(self, pcide: bool, flush: bool) -> u64 {
        match (pcide, flush) {
            (false, _) => self.pml4(),
            (true, true) => self.0,
            (true, false) => self.0 | CR3_NO_FLUSH,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pcid(n: u16) -> Pcid {
        Pcid::try_new(n).unwrap()
    }

    #[test]
    fn pcids_fit_in_twelve_bits() {
        assert_eq!(Pcid::try_new(4095), Some(Pcid::SHARED));
        assert_eq!(Pcid::try_new(4096), None);
        assert_eq!(Pcid::try_new(0), Some(Pcid::KERNEL));
    }

    #[test]
    fn allocation_skips_the_reserved_tags_and_starts_clean() {
        let t = PcidTable::new();
        assert_eq!(t.used(), 2);
        assert!(t.in_use(Pcid::KERNEL) && t.in_use(Pcid::SHARED));
        let (a, b) = (t.alloc(), t.alloc());
        assert_eq!((a, b), (pcid(1), pcid(2)));
        assert!(!t.flush_pending(a) && !t.flush_pending(b) && !t.flush_pending(Pcid::KERNEL));
        assert_eq!(t.used(), 4);
    }

    #[test]
    fn a_freed_pcid_is_reused_and_its_first_load_flushes() {
        let t = PcidTable::new();
        let a = t.alloc();
        let b = t.alloc();
        assert!(!t.take_flush(a), "a fresh table has nothing stale");
        t.free(a).unwrap();
        assert!(!t.in_use(a));
        assert!(t.in_use(b));
        let c = t.alloc();
        assert_eq!(c, a, "the lowest free tag is reused");
        assert!(t.flush_pending(c));
        assert!(t.take_flush(c), "the new owner's first load flushes the old owner's entries");
        assert!(!t.take_flush(c), "and only the first");
        assert!(!t.take_flush(b), "other tags are untouched");
    }

    #[test]
    fn freeing_twice_or_the_kernel_tag_is_refused() {
        let t = PcidTable::new();
        let a = t.alloc();
        assert_eq!(t.free(a), Ok(()));
        assert_eq!(t.free(a), Err(FreeError::NotInUse(a)));
        assert_eq!(t.free(pcid(77)), Err(FreeError::NotInUse(pcid(77))));
        assert_eq!(t.free(Pcid::KERNEL), Err(FreeError::Kernel));
        assert!(t.in_use(Pcid::KERNEL));
        assert_eq!(t.free(Pcid::SHARED), Ok(()));
        assert!(t.in_use(Pcid::SHARED), "the shared tag stays reserved");
    }

    #[test]
    fn an_invalidated_tag_flushes_once_on_its_next_load() {
        let t = PcidTable::new();
        let (a, b) = (t.alloc(), t.alloc());
        t.invalidate(a);
        assert!(t.flush_pending(a) && !t.flush_pending(b));
        assert!(t.take_flush(a));
        assert!(!t.flush_pending(a));
        assert!(!t.take_flush(a));
        assert!(!t.take_flush(b));
    }

    #[test]
    fn invalidating_all_reaches_every_tag_the_kernel_one_included() {
        let t = PcidTable::new();
        let a = t.alloc();
        let last = pcid(4094);
        t.invalidate_all();
        for p in [Pcid::KERNEL, a, pcid(64), pcid(127), last] {
            assert!(t.take_flush(p), "{p:?}");
            assert!(!t.take_flush(p), "{p:?}");
        }
    }

    #[test]
    fn every_tag_can_be_allocated_then_spaces_share_one_that_always_flushes() {
        let t = PcidTable::new();
        let mut seen = std::collections::BTreeSet::new();
        for _ in 1..COUNT - 1 {
            let p = t.alloc();
            assert!(p != Pcid::KERNEL && p != Pcid::SHARED);
            assert!(seen.insert(p), "{p:?} handed out twice");
        }
        assert_eq!(t.used(), u32::from(COUNT));
        assert_eq!(t.alloc(), Pcid::SHARED);
        assert_eq!(t.alloc(), Pcid::SHARED);
        assert!(t.flush_pending(Pcid::SHARED));
        assert!(t.take_flush(Pcid::SHARED));
        assert!(t.take_flush(Pcid::SHARED), "the shared tag flushes on every load");
        t.invalidate(Pcid::SHARED);
        assert!(t.take_flush(Pcid::SHARED));
        // One freed: the next space gets it back, stale.
        t.free(pcid(1000)).unwrap();
        assert_eq!(t.alloc(), pcid(1000));
        assert!(t.take_flush(pcid(1000)));
    }

    #[test]
    fn a_root_packs_the_table_and_the_tag_as_cr3_does() {
        let r = Root::try_new(0x1234_5000, pcid(0xABC)).unwrap();
        assert_eq!(r.pml4(), 0x1234_5000);
        assert_eq!(r.pcid(), pcid(0xABC));
        assert_eq!(Root::try_new(0x1234_5008, pcid(1)), Err(RootError::BadAddress(0x1234_5008)));
        assert_eq!(Root::try_new(1 << 52, pcid(1)), Err(RootError::BadAddress(1 << 52)));
        assert!(Root::try_new((1 << 52) - 4096, Pcid::SHARED).is_ok());
    }

    #[test]
    fn the_cr3_value_carries_a_tag_only_with_pcide_on() {
        let r = Root::try_new(0x7000, pcid(5)).unwrap();
        // PCIDE off: the bare address, whatever the flush decision (bits
        // 11:0 are PWT/PCD then, and bit 63 is reserved).
        assert_eq!(r.cr3(false, false), 0x7000);
        assert_eq!(r.cr3(false, true), 0x7000);
        // PCIDE on: the tag, and bit 63 set unless the load flushes.
        assert_eq!(r.cr3(true, true), 0x7005);
        assert_eq!(r.cr3(true, false), 0x7005 | 1 << 63);
    }

    #[test]
    fn a_root_is_loaded_when_cr3_holds_its_table_whatever_the_low_bits() {
        let r = Root::try_new(0x7000, pcid(5)).unwrap();
        assert!(r.is_loaded(0x7000));
        assert!(r.is_loaded(0x7005));
        assert!(r.is_loaded(0x7018), "PWT/PCD with PCIDE off");
        assert!(!r.is_loaded(0x8005));
    }
}
