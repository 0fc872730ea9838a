//! [`HandleTable`]: the open handles, as memory and the store both hold them.
//!
//! A handle names an entry of the table and the entry's *tag*, a count of
//! the times the entry was opened: closing an entry and opening it again
//! for another file gives a different handle, so a client that kept the
//! old one gets `BadHandle`, not somebody else's file.
//!
//! ```text
//! handle (u16)  bits 0-4: entry index (HANDLES_MAX = 32 entries)
//!               bits 5-15: the entry's tag when it was opened
//! ```

use resilient_store::Storable;
use server_api::ops::fs::{FileHandle, FILES_MAX, HANDLES_MAX};
use server_api::Status;

/// Bits of a handle that index the table.
const INDEX_BITS: u32 = HANDLES_MAX.trailing_zeros();
/// Mask of those bits.
const INDEX_MASK: u16 = (1 << INDEX_BITS) - 1;
/// Largest tag: what fits above the index bits. Tags wrap past it.
const TAG_MAX: u16 = u16::MAX >> INDEX_BITS;

const _: () = assert!(HANDLES_MAX.is_power_of_two(), "the index bits cover the table exactly");

/// One entry of the table.
#[derive(Storable, Clone, Copy, Debug, PartialEq, Eq)]
struct Entry {
    /// Times the entry was opened, modulo `TAG_MAX + 1`; kept while it is
    /// closed so that the next opening differs.
    tag: u16,
    /// The open file's index in the directory, or `None` if closed.
    file: Option<u8>,
}

impl Entry {
    const CLOSED: Entry = Entry { tag: 0, file: None };
}

/// The open handles.
///
/// # Invariants
/// - every tag is at most `TAG_MAX`;
/// - every open entry names a file index below `FILES_MAX` (and, checked
///   with the directory at restore, a file that exists).
#[derive(Storable, Clone, Debug, PartialEq, Eq)]
pub(crate) struct HandleTable {
    entries: [Entry; HANDLES_MAX],
}

impl HandleTable {
    /// No handle open.
    pub(crate) const fn new() -> Self {
        HandleTable { entries: [Entry::CLOSED; HANDLES_MAX] }
    }

    /// Whether a handle can be opened.
    pub(crate) fn has_room(&self) -> bool {
        self.entries.iter().any(|entry| entry.file.is_none())
    }

    /// Opens a handle to `file`.
    ///
    /// # Errors
    /// `NoSpace` if every entry is open.
    pub(crate) fn open(&mut self, file: usize) -> Result<FileHandle, Status> {
        let file = u8::try_from(file).map_err(|_| Status::BadRequest)?;
        let (index, entry) =
            self.entries.iter_mut().enumerate().find(|(_, entry)| entry.file.is_none()).ok_or(Status::NoSpace)?;
        entry.tag = if entry.tag >= TAG_MAX { 0 } else { entry.tag + 1 };
        entry.file = Some(file);
        // index < HANDLES_MAX (32): fits the index bits.
        Ok(FileHandle(entry.tag << INDEX_BITS | index as u16))
    }

    /// The file `handle` is open on.
    ///
    /// # Errors
    /// `BadHandle` if it is not open (never was, closed, or opened again
    /// since).
    pub(crate) fn file_of(&self, handle: u16) -> Result<usize, Status> {
        let entry = self.entry(handle)?;
        entry.file.map(usize::from).ok_or(Status::BadHandle)
    }

    /// Closes `handle`.
    ///
    /// # Errors
    /// `BadHandle` if it is not open.
    pub(crate) fn close(&mut self, handle: u16) -> Result<(), Status> {
        self.file_of(handle)?;
        let index = usize::from(handle & INDEX_MASK);
        self.entries.get_mut(index).ok_or(Status::BadHandle)?.file = None;
        Ok(())
    }

    /// Closes every handle open on `file`; whether there was any.
    pub(crate) fn close_file(&mut self, file: usize) -> bool {
        let mut closed = false;
        for entry in &mut self.entries {
            if entry.file.map(usize::from) == Some(file) {
                entry.file = None;
                closed = true;
            }
        }
        closed
    }

    /// Closes every handle; whether there was any. Tags stay, so a handle
    /// of before is never mistaken for one opened later.
    pub(crate) fn close_all(&mut self) -> bool {
        let mut closed = false;
        for entry in &mut self.entries {
            closed |= entry.file.take().is_some();
        }
        closed
    }

    /// Whether the table holds its invariants, with `exists` saying which
    /// file indexes exist.
    pub(crate) fn is_valid(&self, exists: impl Fn(usize) -> bool) -> bool {
        self.entries.iter().all(|entry| {
            entry.tag <= TAG_MAX && entry.file.is_none_or(|file| usize::from(file) < FILES_MAX && exists(usize::from(file)))
        })
    }

    /// The entry `handle` names, if its tag is current.
    fn entry(&self, handle: u16) -> Result<&Entry, Status> {
        let entry = self.entries.get(usize::from(handle & INDEX_MASK)).ok_or(Status::BadHandle)?;
        if entry.tag != handle >> INDEX_BITS {
            return Err(Status::BadHandle);
        }
        Ok(entry)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles_name_their_file_until_closed() {
        let mut table = HandleTable::new();
        let a = table.open(3).unwrap();
        let b = table.open(3).unwrap();
        assert_ne!(a, b);
        assert_eq!(table.file_of(a.0), Ok(3));
        table.close(a.0).unwrap();
        assert_eq!(table.file_of(a.0), Err(Status::BadHandle));
        assert_eq!(table.close(a.0), Err(Status::BadHandle));
        assert_eq!(table.file_of(b.0), Ok(3));
    }

    #[test]
    fn a_reopened_entry_gives_a_new_handle() {
        let mut table = HandleTable::new();
        let old = table.open(1).unwrap();
        table.close(old.0).unwrap();
        let new = table.open(2).unwrap();
        assert_eq!(new.0 & INDEX_MASK, old.0 & INDEX_MASK, "the same entry");
        assert_ne!(new, old);
        assert_eq!(table.file_of(old.0), Err(Status::BadHandle));
    }

    #[test]
    fn tags_wrap_within_their_bits() {
        let mut table = HandleTable::new();
        for _ in 0..=u32::from(TAG_MAX) + 1 {
            let handle = table.open(0).unwrap();
            table.close(handle.0).unwrap();
        }
        assert!(table.is_valid(|_| true));
    }

    #[test]
    fn the_table_fills_up() {
        let mut table = HandleTable::new();
        for _ in 0..HANDLES_MAX {
            table.open(0).unwrap();
        }
        assert!(!table.has_room());
        assert_eq!(table.open(0), Err(Status::NoSpace));
        assert!(table.close_file(0));
        assert!(table.has_room());
        assert!(!table.close_file(0));
    }

    #[test]
    fn closing_all_keeps_the_tags() {
        let mut table = HandleTable::new();
        let old = table.open(2).unwrap();
        table.open(5).unwrap();
        assert!(table.close_all());
        assert!(!table.close_all(), "nothing left open");
        assert_eq!(table.file_of(old.0), Err(Status::BadHandle));
        assert_ne!(table.open(2).unwrap(), old, "the entry opens with a new tag");
    }

    #[test]
    fn handles_never_issued_are_bad() {
        let table = HandleTable::new();
        for handle in [0, 1, 31, 32, u16::MAX] {
            assert_eq!(table.file_of(handle), Err(Status::BadHandle));
        }
    }
}
