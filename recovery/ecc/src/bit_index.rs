//! Which stored bit of a codeword: the position a correction names.
//!
//! Positions count stored bits, data first: for a [`crate::Codeword`], 0–63
//! are the data bits and 64–71 the check bits; for a [`crate::PackedWord`],
//! the position is the bit of the raw `u64` (0–55 data, 56–63 check).

use core::fmt;

use crate::hamming::CODEWORD_BITS;

/// One stored bit of a codeword.
///
/// # Invariants
/// - the index is below [`CODEWORD_BITS`] (72), the widest codeword.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BitIndex(pub(crate) u8);

/// A bit index at or beyond the codeword's width.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BitIndexOutOfRange {
    /// The index given.
    pub index: u32,
    /// The number of bits of the codeword it was meant for.
    pub width: u32,
}

impl fmt::Display for BitIndexOutOfRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "bit index {} is outside a {}-bit codeword", self.index, self.width)
    }
}

impl core::error::Error for BitIndexOutOfRange {}

impl BitIndex {
    /// The bit at `index`, if a codeword has that many bits.
    pub const fn new(index: u32) -> Result<Self, BitIndexOutOfRange> {
        if index < CODEWORD_BITS {
            // Lossless: CODEWORD_BITS (72) fits in a u8.
            Ok(Self(index as u8))
        } else {
            Err(BitIndexOutOfRange { index, width: CODEWORD_BITS })
        }
    }

    /// The position, below [`CODEWORD_BITS`].
    pub const fn get(self) -> u32 {
        self.0 as u32
    }

    /// Every position of a codeword `width` bits wide, in order (at most
    /// [`CODEWORD_BITS`] of them).
    pub fn all(width: u32) -> impl Iterator<Item = BitIndex> {
        (0..width.min(CODEWORD_BITS)).map(|i| BitIndex(i as u8))
    }
}

impl fmt::Display for BitIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "bit {}", self.0)
    }
}
