//! Where the file server keeps its state: one store slot per file, one for the handle table.
//!
//! ```text
//! slot 0 .. FILES_MAX-1   FileRecord of directory entry i (empty: no file)
//! slot FILES_MAX          HandleTable (empty: no handle open)
//! ```
//!
//! Every slot has the capacity of the larger record. A file write rewrites
//! its file's slot, an open or close the handle table's; the store makes
//! each slot write atomic.

use resilient_store::{Geometry, Slot, Storable};
use server_api::kept::{read_optional, restore_table, table_slots, KeptState, KeptStore, Unrestorable};
use server_api::ops::fs::FILES_MAX;

use crate::file::FileRecord;
use crate::handles::HandleTable;
use crate::server::FileServer;

/// Bytes of the largest record: a slot's capacity.
const CAPACITY: usize = if FileRecord::SIZE > HandleTable::SIZE { FileRecord::SIZE } else { HandleTable::SIZE };

/// The store: a slot per file and one for the handle table.
pub(crate) const GEOMETRY: Geometry = match Geometry::new(FILES_MAX as u32 + 1, CAPACITY as u32) {
    Ok(geometry) => geometry,
    Err(_) => panic!("17 slots of a few hundred bytes is a valid geometry"),
};

/// The slot of each directory entry.
pub(crate) const FILE_SLOTS: [Slot<FileRecord>; FILES_MAX] = table_slots(GEOMETRY, 0);

/// The slot of the handle table.
pub(crate) const HANDLE_SLOT: Slot<HandleTable> = Slot::new(GEOMETRY, FILES_MAX as u32);

impl KeptState for FileServer {
    const GEOMETRY: Geometry = GEOMETRY;

    fn empty() -> Self {
        FileServer { files: [const { None }; FILES_MAX], handles: HandleTable::new() }
    }

    fn restore(store: &mut KeptStore<'_>) -> Result<Self, Unrestorable> {
        let files = restore_table(store, &FILE_SLOTS)?;
        let handles = read_optional(store, HANDLE_SLOT)?.unwrap_or(HandleTable::new());
        if !handles.is_valid(|file| files.get(file).is_some_and(Option::is_some)) {
            return Err(Unrestorable::Inconsistent);
        }
        Ok(FileServer { files, handles })
    }
}
