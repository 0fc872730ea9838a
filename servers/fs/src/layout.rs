//! Where the file server keeps its state: one store slot per file, one for the handle table, one for its link to the disk; and which of those words go to the disk.
//!
//! ```text
//! slot 0 .. FILES_MAX-1   FileRecord of directory entry i (empty: no file)
//! slot FILES_MAX          HandleTable (empty: no handle open)
//! slot FILES_MAX + 1      DiskLink (empty: not decided yet this boot)
//! ```
//!
//! Every slot has the capacity of the largest record. A file write
//! rewrites its file's slot, an open or close the handle table's; the
//! store makes each slot write atomic. The disk image is the region up to
//! the link slot: the superblock, the files and the handles.

use core::ops::Range;

use resilient_store::{Geometry, Slot, Storable};
use server_api::kept::{read_optional, restore_table, table_slots, KeptState, KeptStore, Unrestorable};
use server_api::ops::fs::FILES_MAX;

use crate::disk::link::DiskLink;
use crate::file::FileRecord;
use crate::handles::HandleTable;
use crate::server::FileServer;

/// The larger of two sizes.
const fn max(a: usize, b: usize) -> usize {
    if a > b {
        a
    } else {
        b
    }
}

/// Bytes of the largest record: a slot's capacity.
const CAPACITY: usize = max(max(FileRecord::SIZE, HandleTable::SIZE), DiskLink::SIZE);

/// Slots: a file each, the handle table, the link.
const SLOTS: u32 = FILES_MAX as u32 + 2;

/// The store: a slot per file, one for the handle table, one for the link.
pub(crate) const GEOMETRY: Geometry = match Geometry::new(SLOTS, CAPACITY as u32) {
    Ok(geometry) => geometry,
    Err(_) => panic!("18 slots of a few hundred bytes is a valid geometry"),
};

/// The slot of each directory entry.
pub(crate) const FILE_SLOTS: [Slot<FileRecord>; FILES_MAX] = table_slots(GEOMETRY, 0);

/// The slot of the handle table.
pub(crate) const HANDLE_SLOT: Slot<HandleTable> = Slot::new(GEOMETRY, FILES_MAX as u32);

/// The slot of the link to the disk.
pub(crate) const LINK_SLOT: Slot<DiskLink> = Slot::new(GEOMETRY, FILES_MAX as u32 + 1);

/// Words of one slot (both copies, headers included).
pub(crate) const SLOT_WORDS: usize = GEOMETRY.slot_bytes() / size_of::<u64>();

/// Where slot 0 starts: after the store's superblock.
const FIRST_SLOT_WORD: usize = GEOMETRY.region_words() - SLOTS as usize * SLOT_WORDS;

/// The words of the region slot `index` occupies: all a write to it can
/// change.
pub(crate) const fn slot_words(index: u32) -> Range<usize> {
    let start = FIRST_SLOT_WORD + index as usize * SLOT_WORDS;
    start..start + SLOT_WORDS
}

/// The disk image: every word before the link slot.
pub(crate) const IMAGE_WORDS: usize = slot_words(LINK_SLOT.index()).start;

/// A copy of a slot's words, to find what a write changed.
pub(crate) type SlotCopy = [u64; SLOT_WORDS];

impl KeptState for FileServer {
    const GEOMETRY: Geometry = GEOMETRY;

    fn empty() -> Self {
        FileServer { files: [const { None }; FILES_MAX], handles: HandleTable::new(), disk: None }
    }

    fn restore(store: &mut KeptStore<'_>) -> Result<Self, Unrestorable> {
        let files = restore_table(store, &FILE_SLOTS)?;
        let handles = read_optional(store, HANDLE_SLOT)?.unwrap_or(HandleTable::new());
        if !handles.is_valid(|file| files.get(file).is_some_and(Option::is_some)) {
            return Err(Unrestorable::Inconsistent);
        }
        let disk = read_optional(store, LINK_SLOT)?;
        Ok(FileServer { files, handles, disk })
    }
}

#[cfg(test)]
mod tests {
    use resilient_store::Store;

    use super::*;
    use crate::disk::format::SectorSpan;

    /// Writes each kind of slot into a formatted region and checks that
    /// only the words `slot_words` names changed.
    #[test]
    fn a_slot_write_changes_only_its_own_words() {
        let mut region = vec![0u64; GEOMETRY.region_words()];
        Store::format(&mut region[..], GEOMETRY).unwrap();
        let mut check = |index: u32, write: &dyn Fn(&mut Store<&mut [u64]>)| {
            let before = region.clone();
            write(&mut Store::open(&mut region[..], GEOMETRY).unwrap());
            let words = slot_words(index);
            let changed: Vec<usize> = (0..region.len()).filter(|&i| region[i] != before[i]).collect();
            assert!(!changed.is_empty(), "slot {index} wrote something");
            assert!(changed.iter().all(|i| words.contains(i)), "slot {index}: {changed:?} outside {words:?}");
        };
        let name = server_api::Name::try_new(b"f").unwrap();
        for index in [0, FILES_MAX as u32 - 1] {
            check(index, &|store| store.write(FILE_SLOTS[index as usize], &FileRecord::new(&name)).unwrap());
        }
        check(HANDLE_SLOT.index(), &|store| store.write(HANDLE_SLOT, &HandleTable::new()).unwrap());
        check(LINK_SLOT.index(), &|store| store.write(LINK_SLOT, &DiskLink::IN_STEP).unwrap());
        assert_eq!(slot_words(SLOTS - 1).end, GEOMETRY.region_words(), "the link slot ends the region");
    }

    #[test]
    fn the_image_is_everything_but_the_link() {
        assert_eq!(IMAGE_WORDS, GEOMETRY.region_words() - SLOT_WORDS);
        // The figures docs/storage.md gives.
        assert_eq!((GEOMETRY.slots(), GEOMETRY.capacity(), IMAGE_WORDS), (18, 278, 1466));
        assert_eq!(SectorSpan::image(IMAGE_WORDS).sectors(), 1..24, "the image takes 23 sectors");
    }
}
