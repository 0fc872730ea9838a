//! The disk server ([`crate::ServerId::Blk`]): sectors of the virtio disk,
//! read and written for the other servers of the trusted address space.
//!
//! | op | operation | arg | request payload | lent buffer | reply payload |
//! |---|---|---|---|---|---|
//! | 0 | `Info` | — | — | — | [`DiskInfo`] |
//! | 1 | `Read` | — | word 0: first sector | n × [`SECTOR_BYTES`], 1 ≤ n ≤ [`SECTORS_PER_CALL_MAX`]: filled with sectors first … first + n − 1 | word 0: n |
//! | 2 | `Write` | — | word 0: first sector | n × [`SECTOR_BYTES`], as `Read`: written to those sectors | word 0: n |
//! | 3 | `Flush` | — | — | — | — |
//! | 4 | `Books` | — | — | — | [`BlkBooks`] |
//!
//! Sector data travels in a buffer the caller lends for the call
//! (`Env::call_with`): a server calls `Read` and `Write`, a user program
//! cannot (it lends nothing over IPC, and gets `BadRequest`). `Flush`
//! returns once everything written before it is on the disk's medium (at
//! once if the device keeps no write cache). `Books` answers with or
//! without a disk.
//!
//! Errors: `NoDevice` (no disk: the TAS found none, or another process
//! holds it), `BadRequest` (no lent buffer, a buffer that is not a whole
//! number of sectors or longer than [`SECTORS_PER_CALL_MAX`] of them,
//! sectors past the disk's end), `DiskError` (the device failed the
//! request or did not answer it). A fault of the server during a `Write`
//! may leave some of its sectors written: a write is idempotent, so the
//! caller sends it again.

use crate::message::Payload;

operations! {
    /// An operation of the disk server.
    BlkOp {
        /// The disk's size and features.
        Info = 0,
        /// Reads sectors into the lent buffer.
        Read = 1,
        /// Writes the lent buffer to sectors.
        Write = 2,
        /// Waits until what was written is on the medium.
        Flush = 3,
        /// Device memory and request counters.
        Books = 4,
    }
}

/// Bytes of a sector, the disk's unit of address and transfer.
pub const SECTOR_BYTES: usize = 512;
/// Sectors one `Read` or `Write` moves at most: 4 KiB, a page of lent
/// buffer, enough for the file server's image in a few calls.
pub const SECTORS_PER_CALL_MAX: usize = 8;

/// What `Info` answers about the disk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DiskInfo {
    /// Sectors on the disk.
    pub capacity: u64,
    /// Entries of the device's request queue.
    pub queue_size: u16,
    /// Whether the device keeps a write cache that `Flush` empties (else
    /// every write is on the medium when it returns).
    pub flush: bool,
}

impl DiskInfo {
    /// The reply payload: word 0 the capacity; word 1 the queue size
    /// (bits 0-15) and the flush flag (bit 16); word 2 the sector size.
    pub fn encode(&self) -> Payload {
        Payload::words([self.capacity, u64::from(self.queue_size) | u64::from(self.flush) << 16, SECTOR_BYTES as u64])
    }

    /// The info in a reply payload; `None` for a sector size other than
    /// [`SECTOR_BYTES`].
    pub fn decode(payload: &Payload) -> Option<Self> {
        let [capacity, features, sector] = payload.words;
        (sector == SECTOR_BYTES as u64).then_some(DiskInfo {
            capacity,
            queue_size: features as u16,
            flush: features >> 16 & 1 == 1,
        })
    }
}

/// What `Books` answers: the device memory the server's instances took
/// and gave back over all its restarts (kept across them), and what the
/// running instance moved.
///
/// Device memory is one region per instance. An instance's region is
/// freed by its `Drop` when it faults under unwinding, or found still
/// mapped and freed by the next instance's start (the backstop) when its
/// frames were discarded. So `regions_opened = released_by_unwinding +
/// reclaimed_by_backstop + (1 if an instance holds one now)`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BlkBooks {
    /// Bytes of device memory the running instance holds.
    pub dma_bytes: u32,
    /// Regions of device memory taken, over all instances.
    pub regions_opened: u16,
    /// Regions freed by the `Drop` of a faulted instance.
    pub released_by_unwinding: u16,
    /// Regions a new instance found left behind and freed.
    pub reclaimed_by_backstop: u16,
    /// Flushes the running instance sent.
    pub flushes: u16,
    /// Sectors the running instance read.
    pub sectors_read: u32,
    /// Sectors the running instance wrote.
    pub sectors_written: u32,
    /// Device interrupts the running instance took.
    pub interrupts: u32,
}

impl BlkBooks {
    /// The reply payload: word 0 device memory bytes (bits 0-31), regions
    /// opened (32-47), released by unwinding (48-63); word 1 reclaimed by
    /// the backstop (0-15), flushes (16-31), sectors read (32-63); word 2
    /// sectors written (0-31), interrupts (32-63).
    pub fn encode(&self) -> Payload {
        let w0 = u64::from(self.dma_bytes)
            | u64::from(self.regions_opened) << 32
            | u64::from(self.released_by_unwinding) << 48;
        let w1 = u64::from(self.reclaimed_by_backstop) | u64::from(self.flushes) << 16 | u64::from(self.sectors_read) << 32;
        let w2 = u64::from(self.sectors_written) | u64::from(self.interrupts) << 32;
        Payload::words([w0, w1, w2])
    }

    /// The books in a reply payload.
    pub fn decode(payload: &Payload) -> Self {
        let [w0, w1, w2] = payload.words;
        BlkBooks {
            dma_bytes: w0 as u32,
            regions_opened: (w0 >> 32) as u16,
            released_by_unwinding: (w0 >> 48) as u16,
            reclaimed_by_backstop: w1 as u16,
            flushes: (w1 >> 16) as u16,
            sectors_read: (w1 >> 32) as u32,
            sectors_written: w2 as u32,
            interrupts: (w2 >> 32) as u32,
        }
    }

    /// Regions an instance holds now, by the books: what was opened and
    /// not given back. `None` if more was given back than opened (books
    /// that disagree).
    pub fn regions_held(&self) -> Option<u16> {
        self.regions_opened.checked_sub(self.released_by_unwinding)?.checked_sub(self.reclaimed_by_backstop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn info_round_trips() {
        let info = DiskInfo { capacity: 2048, queue_size: 256, flush: true };
        assert_eq!(DiskInfo::decode(&info.encode()), Some(info));
        let plain = DiskInfo { flush: false, ..info };
        assert_eq!(DiskInfo::decode(&plain.encode()), Some(plain));
        assert_eq!(DiskInfo::decode(&Payload::words([1, 2, 4096])), None, "another sector size");
    }

    #[test]
    fn books_round_trip_and_balance() {
        let books = BlkBooks {
            dma_bytes: 16384,
            regions_opened: 5,
            released_by_unwinding: 3,
            reclaimed_by_backstop: 1,
            flushes: 9,
            sectors_read: 24,
            sectors_written: 70_000,
            interrupts: u32::MAX,
        };
        assert_eq!(BlkBooks::decode(&books.encode()), books);
        assert_eq!(books.regions_held(), Some(1));
        assert_eq!(BlkBooks { reclaimed_by_backstop: 3, ..books }.regions_held(), None);
    }
}
