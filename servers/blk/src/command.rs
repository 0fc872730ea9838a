//! [`Command`]: a request to the disk server, checked before the device sees it.

use server_api::ops::blk::{BlkOp, SECTORS_PER_CALL_MAX, SECTOR_BYTES};
use server_api::{Request, Status};

/// What a request asks for, its numbers checked against the lent buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Command {
    /// The disk's size and features.
    Info,
    /// The books.
    Books,
    /// `count` sectors from `first` into the lent buffer.
    Read(Sectors),
    /// The lent buffer to `count` sectors from `first`.
    Write(Sectors),
    /// The write cache to the medium.
    Flush,
}

/// Consecutive sectors a `Read` or `Write` moves.
///
/// # Invariants
/// `1 <= count <= SECTORS_PER_CALL_MAX`, and `first + count` does not
/// overflow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Sectors {
    first: u64,
    count: usize,
}

impl Sectors {
    /// Each sector with its index in the buffer.
    pub(crate) fn each(self) -> impl Iterator<Item = (usize, u64)> {
        (0..self.count).zip(self.first..)
    }

    /// How many.
    pub(crate) fn count(self) -> usize {
        self.count
    }

    /// Whether they all lie on a disk of `capacity` sectors.
    ///
    /// # Errors
    /// `BadRequest` if any is past its end.
    pub(crate) fn within(self, capacity: u64) -> Result<Self, Status> {
        // `count` is at most SECTORS_PER_CALL_MAX: no overflow (invariant).
        let end = self.first + self.count as u64;
        if end > capacity {
            return Err(Status::BadRequest);
        }
        Ok(self)
    }
}

impl Command {
    /// The command `request` makes, with a lent buffer of `lent` bytes
    /// (`None`: nothing lent).
    ///
    /// # Errors
    /// `BadRequest` for an unknown operation, a data operation with no
    /// buffer, a buffer that is not 1 to [`SECTORS_PER_CALL_MAX`] whole
    /// sectors, or sectors past `u64::MAX`.
    pub(crate) fn decode(request: &Request, lent: Option<usize>) -> Result<Self, Status> {
        let op = BlkOp::from_number(request.op).ok_or(Status::BadRequest)?;
        let sectors = || -> Result<Sectors, Status> {
            let bytes = lent.ok_or(Status::BadRequest)?;
            let count = bytes / SECTOR_BYTES;
            if bytes % SECTOR_BYTES != 0 || !(1..=SECTORS_PER_CALL_MAX).contains(&count) {
                return Err(Status::BadRequest);
            }
            let first = request.payload.words[0];
            first.checked_add(count as u64).ok_or(Status::BadRequest)?;
            Ok(Sectors { first, count })
        };
        Ok(match op {
            BlkOp::Info => Command::Info,
            BlkOp::Books => Command::Books,
            BlkOp::Flush => Command::Flush,
            BlkOp::Read => Command::Read(sectors()?),
            BlkOp::Write => Command::Write(sectors()?),
        })
    }
}

#[cfg(test)]
mod tests {
    use server_api::{Payload, ServerId};

    use super::*;

    fn request(op: BlkOp, first: u64) -> Request {
        Request::new(ServerId::Blk, op as u8, 0).with(Payload::word(first))
    }

    #[test]
    fn data_operations_need_whole_sectors_lent() {
        let read = Command::decode(&request(BlkOp::Read, 7), Some(2 * SECTOR_BYTES)).unwrap();
        let Command::Read(sectors) = read else { panic!("{read:?}") };
        assert_eq!(sectors.each().collect::<Vec<_>>(), [(0, 7), (1, 8)]);
        let max = SECTORS_PER_CALL_MAX * SECTOR_BYTES;
        assert!(matches!(Command::decode(&request(BlkOp::Write, 0), Some(max)), Ok(Command::Write(_))));
        for lent in [None, Some(0), Some(511), Some(513), Some(max + SECTOR_BYTES)] {
            for op in [BlkOp::Read, BlkOp::Write] {
                assert_eq!(Command::decode(&request(op, 0), lent), Err(Status::BadRequest), "{op:?} with {lent:?}");
            }
        }
        assert_eq!(Command::decode(&request(BlkOp::Read, u64::MAX), Some(SECTOR_BYTES)), Err(Status::BadRequest));
    }

    #[test]
    fn other_operations_take_no_buffer() {
        assert_eq!(Command::decode(&request(BlkOp::Info, 0), None), Ok(Command::Info));
        assert_eq!(Command::decode(&request(BlkOp::Books, 0), None), Ok(Command::Books));
        assert_eq!(Command::decode(&request(BlkOp::Flush, 0), Some(SECTOR_BYTES)), Ok(Command::Flush));
        let unknown = Request::new(ServerId::Blk, BlkOp::ALL.len() as u8, 0);
        assert_eq!(Command::decode(&unknown, None), Err(Status::BadRequest));
    }

    #[test]
    fn sectors_past_the_end_are_refused() {
        let Ok(Command::Read(sectors)) = Command::decode(&request(BlkOp::Read, 2046), Some(2 * SECTOR_BYTES)) else {
            panic!("a good read")
        };
        assert_eq!(sectors.within(2048), Ok(sectors));
        assert_eq!(sectors.within(2047), Err(Status::BadRequest));
        assert_eq!(sectors.count(), 2);
        assert_eq!(sectors.each().next(), Some((0, 2046)));
    }
}
