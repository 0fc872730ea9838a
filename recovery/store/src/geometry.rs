//! [`Geometry`]: how many slots a store has and how big they are, and where each word lives.
//!
//! Layout of a region, in 64-bit words, each one a [`PackedWord`] (7 data
//! bytes and their check byte):
//!
//! ```text
//! superblock   magic, format version, slots, capacity          4 words
//! slot 0       copy 0: header (sequence, fingerprint, length)  3 words
//!                      payload                                 ⌈capacity / 7⌉ words
//!              copy 1: the same
//! slot 1 …
//! ```
//!
//! Every slot has the same capacity: the geometry is a pair of numbers a
//! server writes as a constant, and a slot's place is a multiplication.

use core::fmt;

use ecc::{PackedWord, PACKED_DATA_BITS, PACKED_DATA_BYTES};

/// Words in the superblock: magic, format version, slot count, capacity.
pub(crate) const SUPERBLOCK_WORDS: usize = 4;

/// Words in a copy's header: sequence number, type fingerprint, length.
pub(crate) const HEADER_WORDS: usize = 3;

/// Copies of each slot: two, so that one can be rewritten while the other
/// still holds the last complete value.
pub(crate) const COPIES: usize = 2;

/// Data bytes per word of the region.
pub(crate) const BYTES_PER_WORD: usize = PACKED_DATA_BYTES;

/// Bytes per word of the region as stored.
const STORED_BYTES_PER_WORD: usize = size_of::<u64>();

/// Largest number a header or superblock word holds: 56 bits.
pub(crate) const WORD_VALUE_MAX: u64 = (1 << PACKED_DATA_BITS) - 1;

/// Slots of a store and their capacity.
///
/// # Invariants
/// - at least one slot, and a capacity of at least one byte;
/// - the whole region, [`Geometry::region_words`], fits in `usize`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Geometry {
    slots: u32,
    capacity: u32,
}

/// Why slot counts and capacities do not make a geometry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GeometryError {
    /// No slots.
    NoSlots,
    /// A capacity of zero bytes.
    NoCapacity,
    /// The region would have more words than an address space.
    TooLarge,
}

impl fmt::Display for GeometryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::NoSlots => "a store needs at least one slot",
            Self::NoCapacity => "a slot needs a capacity of at least one byte",
            Self::TooLarge => "the region would not fit in memory",
        })
    }
}

impl core::error::Error for GeometryError {}

impl Geometry {
    /// `slots` slots, each able to hold a value of up to `capacity` bytes
    /// (encoded size, [`crate::Storable::SIZE`]).
    ///
    /// # Errors
    /// [`GeometryError`] if either is zero or the region would be too large.
    pub const fn new(slots: u32, capacity: u32) -> Result<Self, GeometryError> {
        if slots == 0 {
            return Err(GeometryError::NoSlots);
        }
        if capacity == 0 {
            return Err(GeometryError::NoCapacity);
        }
        let geometry = Self { slots, capacity };
        match geometry.checked_region_words() {
            Some(_) => Ok(geometry),
            None => Err(GeometryError::TooLarge),
        }
    }

    /// Number of slots.
    pub const fn slots(self) -> u32 {
        self.slots
    }

    /// Largest encoded value a slot holds, in bytes.
    pub const fn capacity(self) -> usize {
        self.capacity as usize
    }

    /// Words the region must have.
    pub const fn region_words(self) -> usize {
        match self.checked_region_words() {
            Some(words) => words,
            // The invariant: `new` refused any geometry that overflows.
            None => usize::MAX,
        }
    }

    /// Bytes the region must have.
    pub const fn region_bytes(self) -> usize {
        self.region_words().saturating_mul(STORED_BYTES_PER_WORD)
    }

    /// Bytes of memory one slot takes: two copies of header and payload,
    /// with their check bits. The price of a slot of this capacity.
    pub const fn slot_bytes(self) -> usize {
        self.slot_words() * STORED_BYTES_PER_WORD
    }

    /// Payload words of one copy.
    pub(crate) const fn payload_words(self) -> usize {
        self.capacity().div_ceil(BYTES_PER_WORD)
    }

    /// Words of one copy.
    const fn copy_words(self) -> usize {
        HEADER_WORDS + self.payload_words()
    }

    /// Words of one slot.
    const fn slot_words(self) -> usize {
        COPIES * self.copy_words()
    }

    const fn checked_region_words(self) -> Option<usize> {
        // u32 inputs keep every intermediate far below u64::MAX; only a
        // narrow usize could overflow.
        let words = SUPERBLOCK_WORDS as u64 + self.slots as u64 * (COPIES * HEADER_WORDS) as u64
            + self.slots as u64 * COPIES as u64 * (self.capacity as u64).div_ceil(BYTES_PER_WORD as u64);
        if words <= usize::MAX as u64 / STORED_BYTES_PER_WORD as u64 {
            Some(words as usize)
        } else {
            None
        }
    }

    /// Index of the first word of `copy` of `slot`; both are in range.
    pub(crate) const fn copy_start(self, slot: u32, copy: usize) -> usize {
        SUPERBLOCK_WORDS + (slot as usize * COPIES + copy) * self.copy_words()
    }
}

/// The fields of a copy's header, by word offset from the copy's start.
pub(crate) mod header {
    /// The sequence number: 0 for an empty copy, then one more than the
    /// other copy's at each write. Written last: the commit.
    pub const SEQUENCE: usize = 0;
    /// The fingerprint of the stored type, cut to 56 bits.
    pub const FINGERPRINT: usize = 1;
    /// The encoded length of the value, in bytes.
    pub const LENGTH: usize = 2;
    /// The first payload word.
    pub const PAYLOAD: usize = super::HEADER_WORDS;
}

/// The superblock's words, by index from the start of the region.
pub(crate) mod superblock {
    /// Identifies a formatted region.
    pub const MAGIC: usize = 0;
    /// The layout version.
    pub const VERSION: usize = 1;
    /// The slot count.
    pub const SLOTS: usize = 2;
    /// The capacity in bytes.
    pub const CAPACITY: usize = 3;
}

/// The magic value in a formatted region's first word: "LZSTORE", 7 bytes.
pub(crate) const MAGIC: [u8; PACKED_DATA_BYTES] = *b"LZSTORE";

/// The layout version this crate writes and reads; a change to the layout
/// bumps it, and older regions are then refused rather than misread.
pub(crate) const FORMAT_VERSION: u64 = 1;

/// Packs a number of at most 56 bits into a word; higher bits are dropped,
/// callers check [`WORD_VALUE_MAX`] first.
pub(crate) const fn pack(value: u64) -> PackedWord {
    let [b0, b1, b2, b3, b4, b5, b6, _] = value.to_le_bytes();
    PackedWord::encode([b0, b1, b2, b3, b4, b5, b6])
}

/// The number in a 7-byte word payload.
pub(crate) const fn unpack(bytes: [u8; PACKED_DATA_BYTES]) -> u64 {
    let [b0, b1, b2, b3, b4, b5, b6] = bytes;
    u64::from_le_bytes([b0, b1, b2, b3, b4, b5, b6, 0])
}
