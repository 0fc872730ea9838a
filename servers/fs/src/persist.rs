//! The file server on the disk: where the files live is decided at the first request of a boot, and every change goes through the store to the disk before the reply.
//!
//! At the first request of a boot (the link slot is empty) the server asks
//! the disk server about its disk, and:
//! - with no disk (`NoDevice`, or no disk server that answers), keeps its
//!   files in memory only;
//! - formats a disk whose first sector has no header: the image of its
//!   (empty) store first, then the header;
//! - loads a disk with the header of its store: the image is read,
//!   restored exactly as a restart restores the kept region (single-bit
//!   errors corrected; damage beyond correction is a clean start), and
//!   becomes the kept store; handles the last boot's programs left open
//!   are closed;
//! - leaves alone a disk with another version or shape, a damaged header,
//!   or too few sectors, and keeps its files in memory only.
//!
//! The decision is kept in the link slot ([`DiskLink`]), so a restart of
//! the server finds it there and never reads the disk again. If the disk
//! cannot be reached at all, the request is answered `DiskError` and the
//! next one tries again.
//!
//! Each change then ([`keep`]): the sectors the rewritten slot spans are
//! marked pending in the link slot; the slot is written; the sectors whose
//! words changed (and whatever was pending before) are written to the disk
//! and flushed; the mark is cleared. A fault anywhere in between leaves
//! the mark for the next change to write out; a disk that fails leaves it
//! too, and the change is answered `DiskError`.

use alloc::vec;

use server_api::kept::{self, write_entry, write_through};
use server_api::ops::blk::DiskInfo;
use server_api::{log_line, CallError, Env, InitNote, Status};

use crate::disk::blk::{self, Unreachable};
use crate::disk::format::{changed, DiskHeader, HeaderError, SectorSpan, HEADER_SECTOR};
use crate::disk::link::DiskLink;
use crate::layout::{slot_words, SlotCopy, FILE_SLOTS, GEOMETRY, HANDLE_SLOT, IMAGE_WORDS, LINK_SLOT, SLOT_WORDS};
use crate::server::FileServer;

impl FileServer {
    /// Decides where the files live, at the first request of a boot; does
    /// nothing once decided.
    ///
    /// # Errors
    /// `DiskError` if the disk cannot be reached now: nothing is decided,
    /// and the request is not served.
    pub(crate) fn reach_disk(&mut self, env: &mut dyn Env) -> Result<(), Status> {
        if self.disk.is_some() {
            return Ok(());
        }
        match blk::info(env) {
            Ok(info) => self.attach(env, info),
            Err(Unreachable::NoDisk(status)) => {
                log_line(env, format_args!("fs: no disk ({status}): the files are kept in memory only"));
                set_link(&mut self.disk, env, DiskLink::Memory);
                Ok(())
            }
            Err(Unreachable::Failed(error)) => Err(unreachable(env, "ask about", error)),
        }
    }

    /// Makes the disk described by `info` the files' home: formats it,
    /// loads it, or leaves it alone (see the module).
    fn attach(&mut self, env: &mut dyn Env, info: DiskInfo) -> Result<(), Status> {
        let ours = DiskHeader::new(GEOMETRY, IMAGE_WORDS);
        if info.capacity < ours.disk_sectors() {
            log_line(
                env,
                format_args!(
                    "fs: the disk has {} sectors, the file server needs {}: the files are kept in memory only",
                    info.capacity,
                    ours.disk_sectors()
                ),
            );
            set_link(&mut self.disk, env, DiskLink::Memory);
            return Ok(());
        }
        let header = blk::read_sector(env, HEADER_SECTOR).map_err(|error| unreachable(env, "read the header of", error))?;
        match DiskHeader::decode(&header) {
            Err(HeaderError::NoMagic) => self.format_disk(env, ours),
            Ok(header) if header == ours => self.load(env),
            Ok(other) => {
                log_line(
                    env,
                    format_args!(
                        "fs: the disk holds a store of another shape ({} slots of {} bytes, {} words): left alone, the files are kept in memory only",
                        other.slots, other.capacity, other.image_words
                    ),
                );
                set_link(&mut self.disk, env, DiskLink::Memory);
                Ok(())
            }
            Err(error) => {
                log_line(env, format_args!("fs: the disk holds {error}: left alone, the files are kept in memory only"));
                set_link(&mut self.disk, env, DiskLink::Memory);
                Ok(())
            }
        }
    }

    /// Writes the store's image, then the header `header`, to a disk that
    /// had none. Interrupted, it leaves a disk without a header, formatted
    /// again next time.
    fn format_disk(&mut self, env: &mut dyn Env, header: DiskHeader) -> Result<(), Status> {
        let image = SectorSpan::image(IMAGE_WORDS);
        let written = blk::write_image(env, image, IMAGE_WORDS)
            .and_then(|()| blk::flush(env))
            .and_then(|()| blk::write_sector(env, HEADER_SECTOR, &header.encode()))
            .and_then(|()| blk::flush(env));
        written.map_err(|error| unreachable(env, "format", error))?;
        log_line(env, format_args!("fs: formatted the disk: a header and an image of {} sectors", image.sectors().count()));
        set_link(&mut self.disk, env, DiskLink::IN_STEP);
        Ok(())
    }

    /// Reads the disk's image and makes it the kept store and the files.
    fn load(&mut self, env: &mut dyn Env) -> Result<(), Status> {
        let image = SectorSpan::image(IMAGE_WORDS);
        // The link slot past the image stays zero: empty, decided below.
        let mut staging = vec![0u64; GEOMETRY.region_words()];
        let read = blk::read_image(env, image, staging.get_mut(..IMAGE_WORDS).unwrap_or_default());
        read.map_err(|error| unreachable(env, "read the image from", error))?;
        let (loaded, note) = kept::restore::<FileServer>(&mut staging);
        // From here a restart restores what the disk held (and, until the
        // link is kept below, loads it again).
        if let Some(region) = env.kept().get_mut(..staging.len()) {
            region.copy_from_slice(&staging);
        }
        self.files = loaded.files;
        self.handles = loaded.handles;
        let (pending, what) = match note {
            InitNote::Restored { corrected: 0 } => (SectorSpan::EMPTY, "as they were"),
            InitNote::Restored { .. } => (image, "with bit errors corrected; the disk is rewritten at the next change"),
            InitNote::Formatted | InitNote::NothingKept => (image, "none: the image held no store"),
            InitNote::DamagedFormatted => (image, "none: the image is damaged beyond correction, a clean start"),
        };
        set_link(&mut self.disk, env, DiskLink::Attached { pending });
        let count = self.files.iter().flatten().count();
        log_line(env, format_args!("fs: loaded the disk: {count} files, {what}"));
        // Handles belong to the programs of the boot that opened them.
        if self.handles.close_all() {
            self.keep_handles(env);
        }
        Ok(())
    }

    /// Writes directory entry `index` through to its slot, and on to the
    /// disk.
    pub(crate) fn keep_file(&mut self, env: &mut dyn Env, index: usize) {
        let Some(slot) = FILE_SLOTS.get(index) else { return };
        let files = &self.files;
        keep(&mut self.disk, env, slot.index(), |kept| write_entry(kept, GEOMETRY, &FILE_SLOTS, files, index));
    }

    /// Writes the handle table through to its slot, and on to the disk.
    pub(crate) fn keep_handles(&mut self, env: &mut dyn Env) {
        let handles = &self.handles;
        keep(&mut self.disk, env, HANDLE_SLOT.index(), |kept| write_through(kept, GEOMETRY, HANDLE_SLOT, Some(handles)));
    }
}

/// Writes slot `slot` of the store with `write`, and the words it changed
/// on to the disk if the files live there (see the module for the order
/// that makes a fault or a disk error harmless).
fn keep(link: &mut Option<DiskLink>, env: &mut dyn Env, slot: u32, write: impl FnOnce(&mut [u64])) {
    let Some(DiskLink::Attached { pending }) = *link else {
        write(env.kept());
        return;
    };
    let words = slot_words(slot);
    let image = SectorSpan::image(IMAGE_WORDS);
    let mut before: SlotCopy = [0; SLOT_WORDS];
    if let Some(now) = env.kept().get(words.clone()) {
        before.copy_from_slice(now);
    }
    let marked = pending.union(SectorSpan::of_words(words.clone()).clip(image));
    set_link(link, env, DiskLink::Attached { pending: marked });
    write(env.kept());
    let after = env.kept().get(words.clone()).unwrap_or_default();
    let changed = changed(&before, after).map_or(SectorSpan::EMPTY, |range| {
        SectorSpan::of_words(words.start + range.start..words.start + range.end).clip(image)
    });
    let due = pending.union(changed);
    let left = match write_out(env, due) {
        Ok(()) => SectorSpan::EMPTY,
        Err(error) => {
            log_line(env, format_args!("fs: the disk did not take a change ({error}): it is kept, and written at the next one"));
            marked
        }
    };
    set_link(link, env, DiskLink::Attached { pending: left });
}

/// Writes the image's sectors `due` to the disk and flushes it.
fn write_out(env: &mut dyn Env, due: SectorSpan) -> Result<(), CallError> {
    if due.is_empty() {
        return Ok(());
    }
    blk::write_image(env, due, IMAGE_WORDS)?;
    blk::flush(env)
}

/// Makes `new` the link, in memory and in its slot (unless it is already).
fn set_link(link: &mut Option<DiskLink>, env: &mut dyn Env, new: DiskLink) {
    if *link != Some(new) {
        *link = Some(new);
        write_through(env.kept(), GEOMETRY, LINK_SLOT, Some(&new));
    }
}

/// Logs that the disk could not be reached to do `what`, and gives the
/// request's status.
fn unreachable(env: &mut dyn Env, what: &str, error: CallError) -> Status {
    log_line(env, format_args!("fs: cannot {what} the disk ({error}); the next request tries again"));
    Status::DiskError
}
