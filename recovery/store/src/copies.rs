//! The two copies of a slot: what each holds, and which one a read trusts.
//!
//! The write protocol (in [`crate::Store::write`]) keeps one copy intact
//! while it rewrites the other:
//! 1. the copy to rewrite (the one a read would not pick) gets sequence 0,
//!    "empty", in one store;
//! 2. its fingerprint, length and payload are written;
//! 3. it gets a sequence one above the highest of both copies, in one
//!    store: the commit.
//!
//! Every store writes a whole ECC word, so whenever the writer dies the
//! rewritten copy is either empty (before step 3) or complete (after), and
//! the other copy still holds the previous value. A read picks the copy
//! with the higher sequence whose every word decodes: the old value before
//! the commit, the new one after, never a mix. Only if the newer copy is
//! damaged beyond correction does a read fall back to the older.

use ecc::{Counters, Decoded, EccError, PackedWord, PACKED_DATA_BYTES};

use crate::geometry::{header, unpack, Geometry, BYTES_PER_WORD, COPIES};
use crate::region::Region;

/// What one copy's header says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Header {
    /// Sequence 0: never written, erased, or being rewritten.
    Empty,
    /// A committed value, whose payload is still to be checked.
    Written {
        /// The copy's sequence number.
        sequence: u64,
        /// The stored type's fingerprint (56 bits).
        fingerprint: u64,
        /// The value's encoded length, in bytes.
        length: usize,
    },
    /// A header word has an error the code cannot correct.
    Damaged {
        /// The sequence number, if its word decodes.
        sequence: Option<u64>,
    },
}

impl Header {
    /// The sequence number, if known (0 for an empty copy).
    fn sequence(self) -> Option<u64> {
        match self {
            Self::Empty => Some(0),
            Self::Written { sequence, .. } => Some(sequence),
            Self::Damaged { sequence } => sequence,
        }
    }

    /// Rank for trying copies newest first: a damaged header of unknown
    /// sequence may have been the newest, so it ranks first (and fails).
    fn rank(self) -> u64 {
        self.sequence().unwrap_or(u64::MAX)
    }
}

/// The copy a read trusts: the newest whose every word decodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Current {
    /// Which copy, 0 or 1.
    pub copy: usize,
    /// Its sequence number.
    pub sequence: u64,
    /// The stored type's fingerprint (56 bits).
    pub fingerprint: u64,
    /// The value's encoded length, in bytes.
    pub length: usize,
}

/// What the two copies of a slot hold, as far as a read or write needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Copies {
    /// The copy to read, if any copy is readable.
    pub current: Option<Current>,
    /// The highest sequence number in either header.
    pub highest_sequence: u64,
    /// Whether both copies are empty: the slot holds nothing.
    pub all_empty: bool,
    /// Whether a copy that may be newer than `current` is damaged: reading
    /// `current` is then a fallback to an older value.
    pub newer_lost: bool,
}

impl Copies {
    /// Examines the copies of `slot`: both headers, then payloads newest
    /// first until one decodes entirely. Counts each word's ECC outcome.
    pub(crate) fn inspect<R: Region>(region: &R, geometry: Geometry, slot: u32, counters: &mut Counters) -> Self {
        let headers: [Header; COPIES] =
            core::array::from_fn(|copy| read_header(region, geometry.copy_start(slot, copy), geometry, counters));
        // Newest first; copy 0 first on a tie, which only damage beyond the
        // code's reach can cause.
        let order = if headers[1].rank() > headers[0].rank() { [1, 0] } else { [0, 1] };
        let mut current = None;
        let mut newer_lost = false;
        for copy in order {
            match headers[copy] {
                Header::Empty => {}
                Header::Damaged { .. } => newer_lost = true,
                Header::Written { sequence, fingerprint, length } => {
                    let payload = geometry.copy_start(slot, copy) + header::PAYLOAD;
                    if payload_decodes(region, payload, length, counters) {
                        current = Some(Current { copy, sequence, fingerprint, length });
                        break;
                    }
                    newer_lost = true;
                }
            }
        }
        Self {
            current,
            highest_sequence: headers.iter().filter_map(|header| header.sequence()).max().unwrap_or(0),
            all_empty: headers.iter().all(|header| *header == Header::Empty),
            newer_lost,
        }
    }
}

fn decode_word<R: Region>(region: &R, index: usize, counters: &mut Counters) -> Result<Decoded<[u8; PACKED_DATA_BYTES]>, EccError> {
    let outcome = PackedWord::from_raw(region.load(index)).decode();
    counters.record(&outcome);
    outcome
}

fn read_header<R: Region>(region: &R, start: usize, geometry: Geometry, counters: &mut Counters) -> Header {
    let mut number = |offset| decode_word(region, start + offset, counters).map(|decoded| unpack(decoded.value));
    let Ok(sequence) = number(header::SEQUENCE) else {
        return Header::Damaged { sequence: None };
    };
    if sequence == 0 {
        return Header::Empty;
    }
    let damaged = Header::Damaged { sequence: Some(sequence) };
    let (Ok(fingerprint), Ok(length)) = (number(header::FINGERPRINT), number(header::LENGTH)) else {
        return damaged;
    };
    // A length beyond the capacity cannot have been written: the header is
    // wrong in a way the code did not catch.
    match usize::try_from(length) {
        Ok(length) if length <= geometry.capacity() => Header::Written { sequence, fingerprint, length },
        _ => damaged,
    }
}

/// Whether every payload word holding `length` bytes from `start` decodes.
fn payload_decodes<R: Region>(region: &R, start: usize, length: usize, counters: &mut Counters) -> bool {
    let words = length.div_ceil(BYTES_PER_WORD);
    // Every word is checked (and counted), not just up to the first error.
    let errors = (start..start + words).filter(|&index| decode_word(region, index, counters).is_err()).count();
    errors == 0
}
