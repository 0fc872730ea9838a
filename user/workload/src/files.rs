//! The kept files: [`FILES`] files the workload writes all through the
//! run and checks, each whole after every write, against its own copy of
//! what they must hold. The file server keeps files and handles across
//! its restarts, so data written before a fault must read back the same
//! after it, through the handles opened before it.
//!
//! | step | requests | sites (`fs_server::sites`) |
//! |---|---|---|
//! | write a chunk of each file | `Write` ×2 | `ENTRY`, `WRITE` |
//! | its size by handle and name | `Size`, `Stat` | `ENTRY` |
//! | read it all back | `Read` ×1–11 | `READ` |

use lazarus_rt::client::fs::{self, FileHandle};
use server_api::ops::fs::FILE_BYTES_MAX;

use crate::failure::{called, same, Check, Failure};
use crate::file_ops;

/// Files the workload keeps.
pub const FILES: usize = 4;
/// Their names.
const NAMES: [&str; FILES] = ["file0", "file1", "file2", "file3"];
/// Bytes of one write: two write requests' worth.
const CHUNK: usize = 32;
/// Chunks in a full file.
const CHUNKS: u64 = (FILE_BYTES_MAX / CHUNK) as u64;
/// Step from one chunk a file gets to its next: prime to [`CHUNKS`], so
/// every chunk comes in turn, out of order, and a file first grows with
/// gaps the server must fill with zeros.
const CHUNK_STEP: u64 = 3;

/// The kept files: their handles, and what they must hold.
pub struct KeptFiles {
    handles: [FileHandle; FILES],
    golden: [[u8; FILE_BYTES_MAX]; FILES],
    sizes: [usize; FILES],
}

/// The bytes round `round` writes at chunk `chunk` of file `file`.
fn pattern(file: usize, chunk: u64, round: u64) -> [u8; CHUNK] {
    let mut bytes = [0u8; CHUNK];
    let seed = (file as u64 * 31) ^ (chunk * 7) ^ round.wrapping_mul(13) ^ (round >> 8);
    for (i, byte) in bytes.iter_mut().enumerate() {
        *byte = seed.wrapping_add(i as u64 * 5) as u8;
    }
    bytes
}

impl KeptFiles {
    /// Makes the files anew, empty (removing any an earlier run left), and
    /// opens them.
    pub fn create() -> Check<Self> {
        let mut handles = [FileHandle(0); FILES];
        for (handle, name) in handles.iter_mut().zip(NAMES) {
            file_ops::remove_if_there(name)?;
            *handle = file_ops::create(name)?;
        }
        Ok(KeptFiles { handles, golden: [[0; FILE_BYTES_MAX]; FILES], sizes: [0; FILES] })
    }

    /// Round `round` of the files: a chunk written into each, then each
    /// checked whole.
    pub fn round(&mut self, round: u64) -> Check {
        (0..FILES).try_for_each(|file| {
            self.write(file, round)?;
            self.verify(file)
        })
    }

    /// Round `round`'s chunk of file `file`, written.
    fn write(&mut self, file: usize, round: u64) -> Check {
        let chunk = round.wrapping_mul(CHUNK_STEP).wrapping_add(file as u64) % CHUNKS;
        // Below FILE_BYTES_MAX - CHUNK: a small number.
        let offset = chunk as usize * CHUNK;
        let bytes = pattern(file, chunk, round);
        let handle = *self.handles.get(file).ok_or(Failure::Wrong("no such kept file"))?;
        called("write", fs::write(handle, offset as u64, &bytes))?;
        if let (Some(golden), Some(size)) = (self.golden.get_mut(file), self.sizes.get_mut(file)) {
            if let Some(at) = golden.get_mut(offset..offset + CHUNK) {
                at.copy_from_slice(&bytes);
            }
            *size = (*size).max(offset + CHUNK);
        }
        Ok(())
    }

    /// Checks file `file`: its size by handle and by name, and every byte.
    pub fn verify(&self, file: usize) -> Check {
        let (Some(&handle), Some(golden), Some(&size), Some(name)) =
            (self.handles.get(file), self.golden.get(file), self.sizes.get(file), NAMES.get(file))
        else {
            return Err(Failure::Wrong("no such kept file"));
        };
        same("size of a kept file by handle", size as u64, called("size", fs::size(handle))?)?;
        same("size of a kept file by name", size as u64, called("stat", fs::stat(name))?)?;
        let mut buf = [0u8; FILE_BYTES_MAX];
        let read = called("read", fs::read(handle, 0, &mut buf))?;
        same("bytes read from a kept file", size as u64, read as u64)?;
        if buf.get(..read) != golden.get(..read) {
            return Err(Failure::Wrong("a kept file holds other bytes than were written"));
        }
        Ok(())
    }

    /// Checks every file.
    pub fn verify_all(&self) -> Check {
        (0..FILES).try_for_each(|file| self.verify(file))
    }

    /// The directory entries of the files: name and size.
    pub fn entries(&self) -> [(&'static str, u64); FILES] {
        let mut entries = [("", 0); FILES];
        for ((entry, name), size) in entries.iter_mut().zip(NAMES).zip(self.sizes) {
            *entry = (name, size as u64);
        }
        entries
    }
}
