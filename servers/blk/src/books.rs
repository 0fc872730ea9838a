//! [`DmaBooks`]: the device memory the server's instances took and gave back, kept across its restarts.
//!
//! The one resource of the server that a heap reset cannot take back is
//! its device memory: frames the kernel mapped at [`crate::DMA_VADDR`]
//! and the device may write. An instance that faults gives it back in one
//! of two ways, and the next instance's start tells which happened:
//!
//! - its `Drop` ran (the state was dropped after unwinding): the device
//!   was reset and the memory freed, so the new instance finds nothing
//!   mapped — *released by unwinding*;
//! - its frames were discarded (the `restart` configuration), or it
//!   faulted before its `Drop` could run: the memory is still mapped, and
//!   the new instance resets the device and frees it — *reclaimed by the
//!   backstop*.
//!
//! The books live in the kept-state region (a one-slot store), so they
//! count over all instances of a boot.

use resilient_store::{Geometry, Slot, Storable};
use server_api::kept::{read_optional, KeptState, KeptStore, Unrestorable};
use server_api::ops::blk::BlkBooks;

/// The store: one slot, the books.
pub(crate) const GEOMETRY: Geometry = match Geometry::new(1, DmaBooks::SIZE as u32) {
    Ok(geometry) => geometry,
    Err(_) => panic!("one slot of a few bytes is a valid geometry"),
};

/// The books' slot.
pub(crate) const SLOT: Slot<DmaBooks> = Slot::new(GEOMETRY, 0);

/// The device-memory books.
///
/// # Invariants
/// `released_by_unwinding + reclaimed_by_backstop + live <= opened`
/// (checked at restore): a region is given back at most once, and only
/// after it was taken.
#[derive(Storable, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct DmaBooks {
    /// Regions taken, over all instances.
    opened: u16,
    /// Regions a faulted instance's `Drop` freed.
    released_by_unwinding: u16,
    /// Regions a new instance found left behind and freed.
    reclaimed_by_backstop: u16,
    /// Whether the running (or last) instance took a region that nobody
    /// has seen given back yet.
    live: bool,
}

impl DmaBooks {
    /// Accounts an instance's start: `reclaimed` if it found (and freed)
    /// the region a previous instance left mapped, `opened` if it took a
    /// region of its own.
    pub(crate) fn on_start(&mut self, reclaimed: bool, opened: bool) {
        if reclaimed {
            self.reclaimed_by_backstop = self.reclaimed_by_backstop.saturating_add(1);
            if !self.live {
                // Taken by an instance that faulted before it could book
                // it: taken all the same.
                self.opened = self.opened.saturating_add(1);
            }
        } else if self.live {
            self.released_by_unwinding = self.released_by_unwinding.saturating_add(1);
        }
        self.live = opened;
        if opened {
            self.opened = self.opened.saturating_add(1);
        }
    }

    /// The books as `Books` reports them, with the running instance's
    /// device-memory bytes (the I/O counters are the caller's).
    pub(crate) fn report(&self, dma_bytes: u64) -> BlkBooks {
        BlkBooks {
            dma_bytes: u32::try_from(dma_bytes).unwrap_or(u32::MAX),
            regions_opened: self.opened,
            released_by_unwinding: self.released_by_unwinding,
            reclaimed_by_backstop: self.reclaimed_by_backstop,
            ..BlkBooks::default()
        }
    }

    /// Whether the invariant holds.
    fn is_valid(&self) -> bool {
        let given_back = u32::from(self.released_by_unwinding) + u32::from(self.reclaimed_by_backstop);
        given_back + u32::from(self.live) <= u32::from(self.opened)
    }
}

impl KeptState for DmaBooks {
    const GEOMETRY: Geometry = GEOMETRY;

    fn empty() -> Self {
        DmaBooks::default()
    }

    fn restore(store: &mut KeptStore<'_>) -> Result<Self, Unrestorable> {
        let books = read_optional(store, SLOT)?.unwrap_or_default();
        if !books.is_valid() {
            return Err(Unrestorable::Inconsistent);
        }
        Ok(books)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn held(books: &DmaBooks) -> Option<u16> {
        books.report(0).regions_held()
    }

    #[test]
    fn a_drop_and_a_backstop_are_told_apart() {
        let mut books = DmaBooks::default();
        books.on_start(false, true);
        assert_eq!((books.opened, held(&books)), (1, Some(1)), "the first instance takes one");
        // Its Drop freed it: the next start finds nothing.
        books.on_start(false, true);
        assert_eq!((books.released_by_unwinding, books.reclaimed_by_backstop, held(&books)), (1, 0, Some(1)));
        // Its frames were discarded: the next start finds it mapped.
        books.on_start(true, true);
        assert_eq!((books.released_by_unwinding, books.reclaimed_by_backstop, held(&books)), (1, 1, Some(1)));
        assert_eq!(books.opened, 3);
        assert!(books.is_valid());
    }

    #[test]
    fn no_disk_takes_nothing() {
        let mut books = DmaBooks::default();
        books.on_start(false, false);
        books.on_start(false, false);
        assert_eq!(books, DmaBooks::default());
        // A disk that fails at a restart: the region given back, none taken.
        books.on_start(false, true);
        books.on_start(false, false);
        assert_eq!((books.opened, books.released_by_unwinding, books.live), (1, 1, false));
        assert_eq!(held(&books), Some(0));
    }

    #[test]
    fn a_region_nobody_booked_is_counted_when_reclaimed() {
        let mut books = DmaBooks::default();
        books.on_start(true, true);
        assert_eq!((books.opened, books.reclaimed_by_backstop, held(&books)), (2, 1, Some(1)));
    }

    #[test]
    fn books_that_give_back_more_than_they_took_are_refused() {
        let bad = DmaBooks { opened: 1, released_by_unwinding: 1, reclaimed_by_backstop: 0, live: true };
        assert!(!bad.is_valid());
        let mut region = vec![0u64; GEOMETRY.region_words()];
        let (_, note) = server_api::kept::restore::<DmaBooks>(&mut region);
        assert_eq!(note, server_api::InitNote::Formatted);
        server_api::kept::write_through(&mut region, GEOMETRY, SLOT, Some(&bad));
        let (books, note) = server_api::kept::restore::<DmaBooks>(&mut region);
        assert_eq!((books, note), (DmaBooks::default(), server_api::InitNote::DamagedFormatted));
    }
}
