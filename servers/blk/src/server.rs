//! [`BlkServer`]: the disk server's state and its operations.

use core::fmt;

use server_api::kept::{self, write_through};
use server_api::ops::blk::{BlkBooks, DiskInfo, SECTOR_BYTES};
use server_api::{log_line, Env, InitNote, Payload, Request, Server, Status};

use crate::books::{self, DmaBooks};
use crate::command::{Command, Sectors};
use crate::device::{Device, DiskFault, NoDisk, Started};
use crate::sites;
use crate::virtio::VirtioDisk;

/// The disk server: the disk (or why there is none), the device-memory
/// books (kept) and what this instance moved.
///
/// Dropping it drops the [`Device`], which resets the disk before it
/// frees the device memory: what a faulted instance gives back by
/// unwinding.
#[derive(Debug)]
pub struct BlkServer<D: Device = VirtioDisk> {
    disk: Result<D, NoDisk>,
    books: DmaBooks,
    io: Moved,
}

/// What an instance moved since it started.
#[derive(Clone, Copy, Debug, Default)]
struct Moved {
    sectors_read: u32,
    sectors_written: u32,
    flushes: u16,
}

impl<D: Device> Server for BlkServer<D> {
    const SITES: u32 = sites::COUNT;
    const KEPT_WORDS: usize = books::GEOMETRY.region_words();

    fn init(env: &mut dyn Env) -> (Self, InitNote) {
        let (mut books, note) = kept::restore::<DmaBooks>(env.kept());
        let Started { disk, reclaimed } = D::start();
        let before = books;
        books.on_start(reclaimed, disk.is_ok());
        if books != before {
            write_through(env.kept(), books::GEOMETRY, books::SLOT, Some(&books));
        }
        if reclaimed {
            log_line(env, format_args!("blk: reset the disk and freed the device memory a discarded instance left"));
        }
        match &disk {
            // The first start of a boot says what it found.
            Ok(disk) if note == InitNote::Formatted => log_line(
                env,
                format_args!(
                    "blk: virtio disk of {} sectors ({} KiB), queue of {}, {}",
                    disk.capacity(),
                    disk.capacity() * SECTOR_BYTES as u64 / 1024,
                    disk.queue_size(),
                    if disk.has_write_cache() { "write cache flushed on request" } else { "no write cache" }
                ),
            ),
            Err(why) if note == InitNote::Formatted => {
                log_line(env, format_args!("blk: {why}: answering NoDevice, files stay in memory"));
            }
            Err(why @ NoDisk::Failed(_)) => log_line(env, format_args!("blk: the restart lost the disk: {why}")),
            _ => {}
        }
        (BlkServer { disk, books, io: Moved::default() }, note)
    }

    fn handle(&mut self, env: &mut dyn Env, request: &Request) -> Result<Payload, Status> {
        let lent = env.lent().map(|buffer| buffer.len());
        match Command::decode(request, lent)? {
            Command::Info => {
                env.site(sites::INFO);
                let disk = self.disk.as_ref().map_err(|_| Status::NoDevice)?;
                let info = DiskInfo { capacity: disk.capacity(), queue_size: disk.queue_size(), flush: disk.has_write_cache() };
                Ok(info.encode())
            }
            Command::Books => {
                env.site(sites::INFO);
                Ok(self.books().encode())
            }
            Command::Read(sectors) => self.read(env, sectors),
            Command::Write(sectors) => self.write(env, sectors),
            Command::Flush => self.flush(env),
        }
    }
}

impl<D: Device> BlkServer<D> {
    /// The books with this instance's counters.
    fn books(&self) -> BlkBooks {
        let disk = self.disk.as_ref().ok();
        BlkBooks {
            sectors_read: self.io.sectors_read,
            sectors_written: self.io.sectors_written,
            flushes: self.io.flushes,
            interrupts: disk.map_or(0, |d| u32::try_from(d.interrupts()).unwrap_or(u32::MAX)),
            ..self.books.report(disk.map_or(0, Device::dma_bytes))
        }
    }

    fn read(&mut self, env: &mut dyn Env, sectors: Sectors) -> Result<Payload, Status> {
        let disk = self.disk.as_mut().map_err(|_| Status::NoDevice)?;
        let sectors = sectors.within(disk.capacity())?;
        for (index, sector) in sectors.each() {
            let mut data = [0u8; SECTOR_BYTES];
            let done = disk.read(sector, &mut data, &mut || env.site(sites::IN_FLIGHT));
            done.map_err(|fault| failed(env, format_args!("a read of sector {sector}"), fault))?;
            lent_sector(env, index)?.copy_from_slice(&data);
            self.io.sectors_read = self.io.sectors_read.saturating_add(1);
        }
        env.site(sites::DONE);
        Ok(Payload::word(sectors.count() as u64))
    }

    fn write(&mut self, env: &mut dyn Env, sectors: Sectors) -> Result<Payload, Status> {
        let disk = self.disk.as_mut().map_err(|_| Status::NoDevice)?;
        let sectors = sectors.within(disk.capacity())?;
        for (index, sector) in sectors.each() {
            let mut data = [0u8; SECTOR_BYTES];
            data.copy_from_slice(lent_sector(env, index)?);
            let done = disk.write(sector, &data, &mut || env.site(sites::IN_FLIGHT));
            done.map_err(|fault| failed(env, format_args!("a write of sector {sector}"), fault))?;
            self.io.sectors_written = self.io.sectors_written.saturating_add(1);
        }
        env.site(sites::DONE);
        Ok(Payload::word(sectors.count() as u64))
    }

    fn flush(&mut self, env: &mut dyn Env) -> Result<Payload, Status> {
        let disk = self.disk.as_mut().map_err(|_| Status::NoDevice)?;
        let done = disk.flush(&mut || env.site(sites::IN_FLIGHT));
        done.map_err(|fault| failed(env, format_args!("a flush"), fault))?;
        self.io.flushes = self.io.flushes.saturating_add(1);
        Ok(Payload::EMPTY)
    }
}

/// Sector `index` of the buffer the caller lent.
///
/// # Errors
/// `BadRequest` if there is none or it is shorter (never, once the
/// request was decoded against it).
fn lent_sector(env: &mut dyn Env, index: usize) -> Result<&mut [u8], Status> {
    let range = index * SECTOR_BYTES..(index + 1) * SECTOR_BYTES;
    env.lent().and_then(|buffer| buffer.get_mut(range)).ok_or(Status::BadRequest)
}

/// Logs a failed request, `what`, and gives the caller's status for it.
fn failed(env: &mut dyn Env, what: fmt::Arguments<'_>, fault: DiskFault) -> Status {
    log_line(env, format_args!("blk: the disk failed {what}: {fault}"));
    Status::DiskError
}
