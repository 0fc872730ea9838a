//! What a decode found: a clean word, a corrected one, or damage beyond repair.

use core::fmt;

use crate::bit_index::BitIndex;

/// What the decoder had to do to return the data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Correction {
    /// The codeword was intact.
    Clean,
    /// One bit was flipped and has been corrected in the returned value; the
    /// stored word still holds the error until it is rewritten (scrubbed).
    Corrected {
        /// The stored bit that was wrong (it may be a check bit, in which case
        /// the data was already right).
        bit: BitIndex,
    },
}

/// A decoded word: the data, and how it was obtained.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decoded<V> {
    /// The data the codeword was encoded from.
    pub value: V,
    /// Whether a bit had to be corrected.
    pub correction: Correction,
}

/// Why a codeword could not be decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EccError {
    /// More bits are wrong than the code can correct: two flipped bits are
    /// always reported so, as are some patterns of three or more (others of
    /// those may decode to a wrong word, as with any SECDED code).
    Uncorrectable,
}

impl fmt::Display for EccError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Uncorrectable => f.write_str("uncorrectable error: two or more bits flipped"),
        }
    }
}

impl core::error::Error for EccError {}
