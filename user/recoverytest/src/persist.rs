//! The checks of the reboot test, two boots over one disk file: `persist_write` formats the blank disk and writes files (through a restart of fs); `persist_verify`, booted again on the same disk, reads them back as they were and then takes a fault of the disk server under the boot's recovery configuration.

use lazarus_rt::client::system::ServerState;
use lazarus_rt::client::{fs, ClientError};
use lazarus_rt::sys;
use server_api::ops::fs::{FILE_BYTES_MAX, WRITE_BYTES_MAX};
use server_api::{ServerId, Status};

use crate::checks::Check;
use crate::probe::{fault, note, serving, snapshot, Outcome};
use crate::storage::{DMA_BYTES, FORMAT_SECTORS};
use crate::{disk, ensure};

/// The first boot's checks.
pub const WRITE: &[Check] = &[Check { name: "files_are_written_to_a_blank_disk", run: write_files }];

/// The second boot's checks.
pub const VERIFY: &[Check] = &[
    Check { name: "the_files_written_before_the_reboot_are_read_back", run: verify_files },
    Check { name: "a_blk_fault_gives_its_device_memory_back", run: blk_fault },
];

/// A short file.
const NOTES: &str = "notes";
const NOTES_TEXT: &[u8] = b"written in the boot before, read back after it";
/// A full file, written through an fs restart; left open at the end of
/// the first boot.
const FULL: &str = "full.bin";
/// A file created and removed: it must not come back.
const GONE: &str = "gone";
/// Sectors the load reads: the header and the 23-sector image.
const LOAD_SECTORS: u32 = FORMAT_SECTORS;

/// Byte `i` of the full file.
fn full_byte(i: usize) -> u8 {
    (i * 7 + 3) as u8
}

fn write_files() -> Outcome {
    let stat = fs::stat(NOTES);
    ensure!(stat == Err(ClientError::Server(Status::NotFound)), "the disk was not blank", "stat {NOTES}: {stat:?}");
    let books = disk::books()?;
    ensure!(books.sectors_written == FORMAT_SECTORS, "fs did not format the disk", "{books:?}");
    let notes = fs::open(NOTES, true).and_then(|h| fs::write(h, 0, NOTES_TEXT).and(fs::close(h)));
    ensure!(notes.is_ok(), "cannot write a file", "{NOTES}: {notes:?}");
    let gone = fs::open(GONE, true).and_then(|h| fs::write(h, 0, b"short-lived").and(fs::close(h))).and(fs::remove(GONE));
    ensure!(gone.is_ok(), "cannot create and remove a file", "{GONE}: {gone:?}");
    let full = fs::open(FULL, true).map_err(|_| "cannot create the full file")?;
    let data: [u8; FILE_BYTES_MAX] = core::array::from_fn(full_byte);
    let (first, second) = data.split_at(FILE_BYTES_MAX / 2);
    let started = sys::uptime_ns();
    ensure!(fs::write(full, 0, first).is_ok(), "cannot write the full file", "first half");
    let took = sys::uptime_ns() - started;
    // A restart in the middle: the kept region goes on, the disk with it.
    fault(ServerId::Fs, "panic")?;
    serving(ServerId::Fs)?;
    ensure!(fs::write(full, first.len() as u64, second).is_ok(), "cannot write after the restart", "second half");
    note(format_args!(
        "wrote {NOTES} and {FULL} ({FILE_BYTES_MAX} bytes, left open), removed {GONE}; a write through to the disk file took {} us",
        took / 1000 / (first.len() / WRITE_BYTES_MAX) as u64
    ));
    Ok(())
}

fn verify_files() -> Outcome {
    // The file server's first request loads the disk.
    let started = sys::uptime_ns();
    let first = fs::stat(NOTES);
    let took = sys::uptime_ns() - started;
    ensure!(first == Ok(NOTES_TEXT.len() as u64), "the first file is not there", "stat {NOTES}: {first:?}");
    note(format_args!("fs loaded the disk in {} us ({LOAD_SECTORS} sectors read)", took / 1000));
    let named = |text: &str| server_api::Name::try_new(text.as_bytes()).map_err(|_| "a bad name");
    let listed = |index| fs::list(index).map(|entry| entry.map(|entry| entry.name));
    let (first, second, third) = (listed(0), listed(1), listed(2));
    ensure!(
        first == Ok(Some(named(NOTES)?)) && second == Ok(Some(named(FULL)?)) && third == Ok(None),
        "the directory is not the one written",
        "listed {first:?}, {second:?}, {third:?}"
    );
    let books = disk::books()?;
    ensure!(books.sectors_read == LOAD_SECTORS, "fs did not load the disk", "{books:?}");
    let mut buf = [0u8; FILE_BYTES_MAX];
    let notes = fs::open(NOTES, false).and_then(|h| {
        let n = fs::read(h, 0, &mut buf);
        fs::close(h).and(n)
    });
    ensure!(notes == Ok(NOTES_TEXT.len()) && &buf[..NOTES_TEXT.len()] == NOTES_TEXT, "a file came back changed", "{NOTES}: {notes:?}");
    let full = fs::open(FULL, false).and_then(|h| {
        let n = fs::read(h, 0, &mut buf);
        fs::close(h).and(n)
    });
    let intact = buf.iter().enumerate().all(|(i, &b)| b == full_byte(i));
    ensure!(full == Ok(FILE_BYTES_MAX) && intact, "the file written through a restart came back changed", "{FULL}: {full:?}");
    note(format_args!("read back {NOTES} and {FULL} after the reboot; {GONE} stayed removed"));
    Ok(())
}

/// Whether the boot's recovery configuration discards a faulted server's
/// frames (`recovery=restart`), so that only the backstop gives its
/// device memory back.
fn discards() -> bool {
    crate::option_is("recovery", "restart")
}

/// The configuration's name, for the log.
fn configuration() -> &'static str {
    if discards() {
        "restart"
    } else {
        "unwind"
    }
}

fn blk_fault() -> Outcome {
    let (before, books) = (snapshot(ServerId::Blk)?, disk::books()?);
    fault(ServerId::Blk, "panic")?;
    serving(ServerId::Blk)?;
    let (after, books_after) = (snapshot(ServerId::Blk)?, disk::books()?);
    ensure!(
        after.info.generation == before.info.generation + 1 && after.info.state == ServerState::Serving,
        "the disk server was not restarted",
        "{:?}",
        after.info
    );
    let (unwound, reclaimed) = if discards() { (0, 1) } else { (1, 0) };
    ensure!(
        books_after.released_by_unwinding == books.released_by_unwinding + unwound
            && books_after.reclaimed_by_backstop == books.reclaimed_by_backstop + reclaimed
            && books_after.regions_held() == Some(1)
            && books_after.dma_bytes == DMA_BYTES,
        "the faulted instance's device memory was not given back as the configuration says",
        "recovery={}: before {books:?}, after {books_after:?}",
        configuration()
    );
    let handle = fs::open(NOTES, false).map_err(|_| "cannot open the file")?;
    let written = fs::write(handle, 0, b"W").and(fs::close(handle));
    ensure!(written.is_ok() && disk::books()?.sectors_written >= 1, "the disk does not work after the fault", "{written:?}");
    note(format_args!(
        "blk fault under recovery={}: device memory {} by the {}",
        configuration(),
        if discards() { "reclaimed" } else { "released" },
        if discards() { "backstop" } else { "unwinding" }
    ));
    Ok(())
}
