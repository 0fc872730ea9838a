//! [`FileRecord`]: one file, its name and data, as memory and the store both hold it.

use resilient_store::{Storable, StoreString};
use server_api::kept::{kept_name, NamedEntry};
use server_api::ops::fs::{FILE_BYTES_MAX, READ_BYTES_MAX};
use server_api::{Name, Status, NAME_MAX};

/// A file.
///
/// # Invariants
/// - `name` is a valid [`Name`];
/// - `len <= FILE_BYTES_MAX`;
/// - `data[len..]` are zero, so a write past the end leaves zeros in the
///   gap, and equal files have equal records.
///
/// A restore checks all three ([`NamedEntry::is_valid`]).
#[derive(Storable, Clone, Debug, PartialEq, Eq)]
pub(crate) struct FileRecord {
    name: StoreString<NAME_MAX>,
    len: u16,
    data: [u8; FILE_BYTES_MAX],
}

impl FileRecord {
    /// An empty file named `name`.
    pub(crate) fn new(name: &Name) -> Self {
        FileRecord { name: kept_name(name), len: 0, data: [0; FILE_BYTES_MAX] }
    }

    /// The file's size in bytes.
    pub(crate) fn size(&self) -> u64 {
        u64::from(self.len)
    }

    /// Writes `bytes` at `offset`, extending the file (with zeros in any
    /// gap) if they go past its end.
    ///
    /// # Errors
    /// `BadRequest` for an offset past [`FILE_BYTES_MAX`], `NoSpace` if the
    /// bytes would end past it. The file is then unchanged.
    pub(crate) fn write(&mut self, offset: u64, bytes: &[u8]) -> Result<(), Status> {
        let start = in_file(offset)?;
        let end = start.checked_add(bytes.len()).filter(|&end| end <= FILE_BYTES_MAX).ok_or(Status::NoSpace)?;
        self.data.get_mut(start..end).ok_or(Status::NoSpace)?.copy_from_slice(bytes);
        // end <= FILE_BYTES_MAX (256): fits a u16.
        self.len = self.len.max(end as u16);
        Ok(())
    }

    /// Up to [`READ_BYTES_MAX`] bytes from `offset`; none at or past the
    /// end.
    ///
    /// # Errors
    /// `BadRequest` for an offset past [`FILE_BYTES_MAX`].
    pub(crate) fn read(&self, offset: u64) -> Result<&[u8], Status> {
        let start = in_file(offset)?;
        let rest = self.contents().get(start..).unwrap_or_default();
        Ok(rest.get(..READ_BYTES_MAX).unwrap_or(rest))
    }

    /// The file's bytes.
    fn contents(&self) -> &[u8] {
        self.data.get(..usize::from(self.len)).unwrap_or_default()
    }
}

/// `offset` as an index into a file's data.
///
/// # Errors
/// `BadRequest` if it is past [`FILE_BYTES_MAX`].
fn in_file(offset: u64) -> Result<usize, Status> {
    usize::try_from(offset).ok().filter(|&offset| offset <= FILE_BYTES_MAX).ok_or(Status::BadRequest)
}

impl NamedEntry for FileRecord {
    fn name(&self) -> &str {
        self.name.as_str()
    }

    fn is_valid(&self) -> bool {
        // Past FILE_BYTES_MAX, `get` finds nothing: invalid too.
        self.data.get(usize::from(self.len)..).is_some_and(|rest| rest.iter().all(|&byte| byte == 0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file() -> FileRecord {
        FileRecord::new(&Name::try_new(b"f").unwrap())
    }

    #[test]
    fn writes_extend_and_fill_gaps_with_zeros() {
        let mut f = file();
        f.write(4, b"ab").unwrap();
        assert_eq!(f.size(), 6);
        assert_eq!(f.read(0).unwrap(), b"\0\0\0\0ab");
        f.write(0, b"xy").unwrap();
        assert_eq!(f.read(0).unwrap(), b"xy\0\0ab");
        assert_eq!(f.read(5).unwrap(), b"b");
        assert_eq!(f.read(6).unwrap(), b"");
        assert!(f.is_valid());
    }

    #[test]
    fn limits_are_errors_and_leave_the_file_as_it_was() {
        let mut f = file();
        let max = FILE_BYTES_MAX as u64;
        assert_eq!(f.write(max + 1, b""), Err(Status::BadRequest));
        assert_eq!(f.write(u64::MAX, b"a"), Err(Status::BadRequest));
        assert_eq!(f.write(max - 1, b"ab"), Err(Status::NoSpace));
        assert_eq!(f.size(), 0);
        f.write(max - 2, b"ab").unwrap();
        assert_eq!(f.size(), max);
        assert_eq!(f.read(max).unwrap(), b"");
        assert_eq!(f.read(max + 1), Err(Status::BadRequest));
        assert_eq!(file().read(0).unwrap(), b"");
    }

    #[test]
    fn reads_are_cut_to_one_reply() {
        let mut f = file();
        for offset in (0..64).step_by(16) {
            f.write(offset, &[offset as u8; 16]).unwrap();
        }
        assert_eq!(f.read(0).unwrap().len(), READ_BYTES_MAX);
        assert_eq!(f.read(50).unwrap().len(), 14);
    }
}
