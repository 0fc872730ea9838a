//! The checks of the `storage` group: a fresh TAS that owns the blank scratch disk. The disk server finds it and answers programs; the file server formats it and writes each change through; every fault kind in the disk server, and a fault while a request is in flight, is recovered with the disk working after and its device memory given back.

use lazarus_rt::client::system::ServerState;
use lazarus_rt::client::{fs, ClientError};
use lazarus_rt::sys;
use server_api::ops::blk::BlkBooks;
use server_api::{ServerId, Status};

use crate::checks::{Check, MODELS};
use crate::probe::{fault, inject, note, recovered_once, serving, snapshot, Outcome};
use crate::{disk, ensure};

/// Every check, in order (the kernel's `storage` group names them by
/// index).
pub const CHECKS: &[Check] = &[
    Check { name: "fs_formats_the_blank_disk_blk_found", run: formats_the_disk },
    Check { name: "fs_writes_each_change_through_to_the_disk", run: writes_through },
    Check { name: "every_fault_kind_in_blk_is_recovered_with_its_device_memory", run: every_fault_kind },
    Check { name: "a_blk_fault_in_flight_is_recovered_and_the_write_goes_through", run: fault_in_flight },
];

/// Sectors of the scratch disk the harness attaches: 1 MiB.
const SCRATCH_SECTORS: u64 = 2048;
/// Sectors the file server's format writes: its header and a 23-sector
/// image.
pub const FORMAT_SECTORS: u32 = 24;
/// Device memory the disk server holds: a queue of 256 entries (12 KiB)
/// and a page for the request in flight.
pub const DMA_BYTES: u32 = 16 << 10;
/// Writes (and reads) timed for the figures.
const TIMED: u32 = 32;
/// The file the checks write.
const FILE: &str = "on-disk";

/// Whether the books say one region of device memory is held, of the
/// size the driver takes.
fn one_region(books: &BlkBooks) -> bool {
    books.regions_held() == Some(1) && books.dma_bytes == DMA_BYTES
}

fn formats_the_disk() -> Outcome {
    let info = disk::info()?;
    ensure!(info.capacity == SCRATCH_SECTORS, "blk did not find the scratch disk", "{info:?}");
    let first = disk::books()?;
    ensure!(first.regions_opened == 1 && one_region(&first), "blk holds no device memory, or too much", "{first:?}");
    let refused = disk::read_without_a_buffer();
    ensure!(refused == Ok(Status::BadRequest), "a program read a sector", "Read with nothing lent: {refused:?}");
    // The file server's first request formats the blank disk.
    let started = sys::uptime_ns();
    let stat = fs::stat(FILE);
    let took = sys::uptime_ns() - started;
    ensure!(stat == Err(ClientError::Server(Status::NotFound)), "fs did not answer", "stat {FILE}: {stat:?}");
    let formatted = disk::books()?;
    ensure!(
        formatted.sectors_written == FORMAT_SECTORS && formatted.flushes == 2,
        "fs did not format the disk",
        "after fs's first request: {formatted:?}"
    );
    note(format_args!(
        "blk: {} sectors, queue of {}, write cache {}; fs formatted it in {} us ({FORMAT_SECTORS} sectors, 2 flushes)",
        info.capacity,
        info.queue_size,
        info.flush,
        took / 1000
    ));
    Ok(())
}

/// Sixteen bytes naming `i`.
fn chunk(i: u32) -> [u8; 16] {
    let mut out = *b"disk chunk 0000\n";
    for (k, digit) in out[11..15].iter_mut().rev().enumerate() {
        *digit = b'0' + (i / 10u32.pow(k as u32) % 10) as u8;
    }
    out
}

fn writes_through() -> Outcome {
    let handle = fs::open(FILE, true).map_err(|_| "cannot create the file")?;
    let before = disk::books()?;
    ensure!(fs::write(handle, 0, &chunk(0)).is_ok(), "a write failed", "{FILE}");
    let after = disk::books()?;
    let sectors = after.sectors_written - before.sectors_written;
    ensure!(
        (1..=2).contains(&sectors) && after.flushes == before.flushes + 1,
        "a change did not go to the disk, or took more than its slot",
        "one 16-byte write: {sectors} sectors, {} flushes",
        after.flushes - before.flushes
    );
    let started = sys::uptime_ns();
    for i in 0..TIMED {
        ensure!(fs::write(handle, 0, &chunk(i)).is_ok(), "a write failed", "write {i}");
    }
    let written = sys::uptime_ns() - started;
    let mut buf = [0u8; 16];
    let started = sys::uptime_ns();
    for _ in 0..TIMED {
        ensure!(fs::read(handle, 0, &mut buf) == Ok(16), "a read failed", "{FILE}");
    }
    let read = sys::uptime_ns() - started;
    ensure!(buf == chunk(TIMED - 1), "the file does not read back", "{buf:?}");
    let end = disk::books()?;
    note(format_args!(
        "fs write through to the disk: {} us each ({} sectors and a flush), a read {} us",
        written / u64::from(TIMED) / 1000,
        (end.sectors_written - after.sectors_written) / TIMED,
        read / u64::from(TIMED) / 1000
    ));
    fs::close(handle).map_err(|_| "cannot close the file")
}

/// A file write, and the disk server's books after it: the disk works.
fn write_reaches_the_disk(what: &str, text: &[u8; 16]) -> Result<BlkBooks, &'static str> {
    let handle = fs::open(FILE, true).map_err(|_| "cannot open the file")?;
    let written = fs::write(handle, 0, text);
    let mut buf = [0u8; 16];
    let read = fs::read(handle, 0, &mut buf);
    fs::close(handle).map_err(|_| "cannot close the file")?;
    ensure!(written.is_ok() && read == Ok(16) && &buf == text, "the file server lost a write", "after {what}: {written:?}, {read:?}");
    let books = disk::books()?;
    ensure!(books.sectors_written >= 1, "the write did not reach the disk", "after {what}: {books:?}");
    Ok(books)
}

fn every_fault_kind() -> Outcome {
    for (i, model) in MODELS.iter().enumerate() {
        let (before, books) = (snapshot(ServerId::Blk)?, disk::books()?);
        fault(ServerId::Blk, model)?;
        serving(ServerId::Blk)?;
        recovered_once(ServerId::Blk, model, &before, &snapshot(ServerId::Blk)?)?;
        let after = write_reaches_the_disk(model, &chunk(i as u32))?;
        ensure!(
            after.released_by_unwinding == books.released_by_unwinding + 1
                && after.reclaimed_by_backstop == books.reclaimed_by_backstop
                && one_region(&after),
            "the device memory was not given back by unwinding",
            "{model}: before {books:?}, after {after:?}"
        );
    }
    let info = snapshot(ServerId::Blk)?.info;
    note(format_args!(
        "blk: {} faults, generation {}, median recovery latency {} us, {} regions of device memory released by unwinding",
        info.faults,
        info.generation,
        info.median_latency_us,
        disk::books()?.released_by_unwinding
    ));
    Ok(())
}

fn fault_in_flight() -> Outcome {
    let handle = fs::open(FILE, true).map_err(|_| "cannot open the file")?;
    let (blk, fs_before, books) = (snapshot(ServerId::Blk)?, snapshot(ServerId::Fs)?, disk::books()?);
    // It fires at the disk server's next site: the write-through's
    // request, once the device holds it.
    inject(ServerId::Blk, "panic")?;
    let text = b"written in flight";
    let written = fs::write(handle, 0, text);
    ensure!(written.is_ok(), "the write did not ride through the disk server's fault", "{written:?}");
    let mut buf = [0u8; 17];
    ensure!(fs::read(handle, 0, &mut buf) == Ok(17) && &buf == text, "the file does not read back", "{buf:?}");
    fs::close(handle).map_err(|_| "cannot close the file")?;
    let (blk_after, fs_after, after) = (snapshot(ServerId::Blk)?, snapshot(ServerId::Fs)?, disk::books()?);
    ensure!(
        blk_after.info.generation == blk.info.generation + 1 && blk_after.info.state == ServerState::Serving,
        "the disk server did not fault and restart",
        "generation {} -> {}",
        blk.info.generation,
        blk_after.info.generation
    );
    ensure!(fs_after.info.generation == fs_before.info.generation, "fs was restarted too", "{:?}", fs_after.info);
    ensure!(
        after.released_by_unwinding == books.released_by_unwinding + 1 && one_region(&after) && after.sectors_written >= 1,
        "the new instance did not take the write, or device memory was not given back",
        "before {books:?}, after {after:?}"
    );
    ensure!(blk_after.info.leaked == blk.info.leaked, "the recovery leaked", "{:?}", blk_after.info);
    Ok(())
}
