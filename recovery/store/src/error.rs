//! The store's errors: opening a region, reading a slot, writing one.
//!
//! Each says who is at fault: the caller (a slot that does not fit, a
//! region too small), the history of the region (never formatted, written
//! as another type), or damage (more bit errors than the code corrects).

use core::fmt;

use crate::encoding::DecodeError;
use crate::slot::SlotError;

/// The region has fewer words than the geometry needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RegionTooSmall {
    /// Words the geometry needs.
    pub needed: usize,
    /// Words the region has.
    pub available: usize,
}

impl fmt::Display for RegionTooSmall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "region of {} words, the store needs {}", self.available, self.needed)
    }
}

impl core::error::Error for RegionTooSmall {}

/// Why a region could not be opened as a store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpenError {
    /// The region is smaller than the geometry (the caller's mistake).
    RegionTooSmall(RegionTooSmall),
    /// The region holds no store: fresh (zeroed) memory, or a format that
    /// was interrupted. Formatting it loses nothing.
    NotFormatted,
    /// The region holds a store of another layout version.
    UnsupportedVersion {
        /// The version found.
        found: u64,
    },
    /// The region holds a store of another geometry.
    GeometryMismatch {
        /// The slot count found.
        slots: u64,
        /// The capacity found.
        capacity: u64,
    },
    /// The superblock has an error the code cannot correct: the store's
    /// identity is unknown, so its slots are not trusted.
    SuperblockDamaged,
}

impl fmt::Display for OpenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::RegionTooSmall(error) => error.fmt(f),
            Self::NotFormatted => f.write_str("the region holds no store"),
            Self::UnsupportedVersion { found } => write!(f, "store layout version {found} is not supported"),
            Self::GeometryMismatch { slots, capacity } => {
                write!(f, "the region holds a store of {slots} slots of {capacity} bytes")
            }
            Self::SuperblockDamaged => f.write_str("the store's superblock is damaged beyond correction"),
        }
    }
}

impl core::error::Error for OpenError {}

/// Why a slot could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadError {
    /// The slot does not fit this store (the caller's mistake).
    Slot(SlotError),
    /// Nothing was ever written to the slot, or it was erased.
    Empty,
    /// The slot holds a value of another type (another fingerprint or
    /// size): the server's declaration changed since it was written.
    TypeMismatch,
    /// Both copies have errors the code cannot correct.
    Damaged,
    /// The bytes are no valid value of the type: more bit flips than the
    /// code detects, or a hand-written `Storable` that disagrees with itself.
    Decode(DecodeError),
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Slot(error) => error.fmt(f),
            Self::Empty => f.write_str("the slot is empty"),
            Self::TypeMismatch => f.write_str("the slot holds a value of another type"),
            Self::Damaged => f.write_str("both copies of the slot are damaged beyond correction"),
            Self::Decode(error) => write!(f, "the stored value does not decode: {error}"),
        }
    }
}

impl core::error::Error for ReadError {}

/// Why a slot could not be written. The slot's previous value is intact.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WriteError {
    /// The slot does not fit this store (the caller's mistake).
    Slot(SlotError),
    /// The type's `encode` wrote a number of bytes other than its declared
    /// `SIZE`: a bug in a hand-written `Storable`. Nothing was committed.
    SizeMismatch {
        /// The declared size.
        declared: usize,
        /// The bytes written.
        written: usize,
    },
    /// The slot's sequence number reached its 56-bit limit (2⁵⁶ writes, some
    /// 2,000 years at a million writes a second).
    SequenceExhausted,
}

impl fmt::Display for WriteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Slot(error) => error.fmt(f),
            Self::SizeMismatch { declared, written } => {
                write!(f, "encode wrote {written} bytes for a type of size {declared}")
            }
            Self::SequenceExhausted => f.write_str("the slot's sequence number is exhausted"),
        }
    }
}

impl core::error::Error for WriteError {}
