//! The scratch file: made, written, read, opened a second time, closed,
//! listed and removed again in every round, so that every operation of the
//! file server, and every injection site in it, runs once per round.
//!
//! | step | requests | sites (`fs_server::sites`) |
//! |---|---|---|
//! | make it (open, create, exclusive) | `Open` | `ENTRY`, `OPEN`, `CREATED` |
//! | write its bytes | `Write` ×1–3 | `WRITE` |
//! | its size by handle and name | `Size`, `Stat` | `ENTRY` |
//! | open it again, read through the new handle | `Open`, `Read` ×1–2 | `OPEN`, `READ` |
//! | close the new handle; it is closed | `Close`, `Size` | `CLOSE` |
//! | the directory: the kept files and it | `List` ×6 | `LIST` |
//! | remove it; its handle is closed, it is gone | `Remove`, `Size`, `Stat` | `REMOVE` |

use lazarus_rt::client::fs;
use server_api::ops::fs::FILES_MAX;

use crate::failure::{called, same, Check, Failure};
use crate::file_ops;
use crate::files::{KeptFiles, FILES};
use crate::listing;

/// The scratch file's name.
const NAME: &str = "scratch";
/// Most bytes it holds: up to three write requests, two read replies.
const BYTES_MAX: usize = 40;

/// The scratch file's bytes in round `round`: 1 to [`BYTES_MAX`] of them.
fn pattern(round: u64, buf: &mut [u8; BYTES_MAX]) -> &[u8] {
    let len = (round % BYTES_MAX as u64) as usize + 1;
    for (i, byte) in buf.iter_mut().enumerate() {
        *byte = round.wrapping_mul(17).wrapping_add(i as u64 * 3 + 5) as u8;
    }
    buf.get(..len).unwrap_or(buf)
}

/// Round `round` of the scratch file; `files` are the kept files, which
/// the directory must list besides it.
pub fn round(files: &KeptFiles, round: u64) -> Check {
    let mut buf = [0u8; BYTES_MAX];
    let bytes = pattern(round, &mut buf);
    let size = bytes.len() as u64;

    let first = file_ops::create(NAME)?;
    called("write", fs::write(first, 0, bytes))?;
    same("size of the scratch file by handle", size, called("size", fs::size(first))?)?;
    same("size of the scratch file by name", size, called("stat", fs::stat(NAME))?)?;

    let second = file_ops::open_existing(NAME)?;
    let mut back = [0u8; BYTES_MAX + 8];
    let read = called("read", fs::read(second, 0, &mut back))?;
    if back.get(..read) != Some(bytes) {
        return Err(Failure::Wrong("the scratch file reads back other bytes than were written"));
    }
    file_ops::close(second)?;
    file_ops::expect_closed("a closed handle still works", second)?;

    check_directory(files, Some(size))?;

    file_ops::remove(NAME)?;
    file_ops::expect_closed("a handle to a removed file still works", first)?;
    file_ops::expect_gone("a removed file is still there", NAME)
}

/// Checks the directory: the kept files, and the scratch file if it has
/// a size.
pub fn check_directory(files: &KeptFiles, scratch: Option<u64>) -> Check {
    const _: () = assert!(FILES < FILES_MAX, "room for the scratch file");
    let mut expected = [("", 0); FILES + 1];
    let kept = files.entries();
    for (slot, entry) in expected.iter_mut().zip(kept) {
        *slot = entry;
    }
    let count = match scratch {
        Some(size) => {
            if let Some(last) = expected.last_mut() {
                *last = (NAME, size);
            }
            FILES + 1
        }
        None => FILES,
    };
    let expected = expected.get(..count).unwrap_or(&expected[..]);
    listing::check("list", expected, |index| fs::list(index).map(|entry| entry.map(|e| (e.name, e.size))))
}
