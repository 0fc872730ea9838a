//! The shortened (64,56) code: 7 data bytes and their 8 check bits in one `u64`.
//!
//! Why a second form: a [`Codeword`] is 72 bits, so writing one to memory
//! takes two stores, and a writer interrupted between them leaves data and
//! check bits that disagree. A `PackedWord` fits in a single aligned `u64`,
//! written by one store: whatever instant a writer dies, each word holds
//! either its old or its new codeword.
//!
//! It is the same code with the top 8 data bits fixed at zero (a *shortened*
//! code): the 56 data bits sit in bits 0–55 of the word, the check byte in
//! bits 56–63. Shortening keeps the distance of the code, so single errors
//! are still corrected and double errors detected; a correction that would
//! land on one of the fixed-zero bits is itself proof of a multi-bit error.
//! Overhead: 8 check bits per 56 data bits, one word in eight.

use crate::bit_index::BitIndex;
use crate::hamming::{Codeword, DATA_BITS};
use crate::outcome::{Correction, Decoded, EccError};

/// Data bits in a packed word: a `u64` less its check byte.
pub const PACKED_DATA_BITS: u32 = DATA_BITS - crate::hamming::CHECK_BITS;

/// Data bytes in a packed word.
pub const PACKED_DATA_BYTES: usize = (PACKED_DATA_BITS / u8::BITS) as usize;

/// The data bits within the raw word.
const DATA_MASK: u64 = (1 << PACKED_DATA_BITS) - 1;

/// A codeword of the shortened (64,56) code, as stored: one `u64`.
///
/// Any `u64` is a `PackedWord`: one read back from memory may be damaged,
/// which is what [`PackedWord::decode`] finds out. Stored bit positions (see
/// [`BitIndex`]) are the bits of the raw word: 0–55 data, 56–63 check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PackedWord(u64);

impl PackedWord {
    /// Bits in a packed word.
    pub const BITS: u32 = u64::BITS;

    /// Encodes 7 bytes (little-endian: byte 0 in bits 0–7).
    pub const fn encode(bytes: [u8; PACKED_DATA_BYTES]) -> Self {
        let [b0, b1, b2, b3, b4, b5, b6] = bytes;
        let data = u64::from_le_bytes([b0, b1, b2, b3, b4, b5, b6, 0]);
        let codeword = Codeword::encode(data);
        Self(data | ((codeword.check() as u64) << PACKED_DATA_BITS))
    }

    /// A word as read back from memory, possibly damaged.
    pub const fn from_raw(raw: u64) -> Self {
        Self(raw)
    }

    /// The word as stored: what to write to memory.
    pub const fn raw(self) -> u64 {
        self.0
    }

    /// This word with one stored bit inverted: fault injection for tests.
    ///
    /// # Errors
    /// [`crate::BitIndexOutOfRange`] if `bit` is not below 64.
    pub const fn flipped(self, bit: BitIndex) -> Result<Self, crate::BitIndexOutOfRange> {
        if bit.get() < Self::BITS {
            Ok(Self(self.0 ^ (1 << bit.get())))
        } else {
            Err(crate::BitIndexOutOfRange { index: bit.get(), width: Self::BITS })
        }
    }

    /// Checks the word and returns its 7 data bytes, corrected if one bit
    /// was flipped.
    ///
    /// # Errors
    /// [`EccError::Uncorrectable`] if two bits (or some larger odd number
    /// of bits) are flipped.
    pub const fn decode(self) -> Result<Decoded<[u8; PACKED_DATA_BYTES]>, EccError> {
        let check = (self.0 >> PACKED_DATA_BITS) as u8;
        let decoded = match Codeword::from_parts(self.0 & DATA_MASK, check).decode() {
            Ok(decoded) => decoded,
            Err(error) => return Err(error),
        };
        let correction = match decoded.correction {
            Correction::Clean => Correction::Clean,
            Correction::Corrected { bit } => {
                let bit = bit.get();
                if bit < PACKED_DATA_BITS {
                    Correction::Corrected { bit: BitIndex(bit as u8) }
                } else if bit >= DATA_BITS {
                    // Check bit j of the codeword is bit 56 + j of the word.
                    Correction::Corrected { bit: BitIndex((bit - DATA_BITS + PACKED_DATA_BITS) as u8) }
                } else {
                    // The nearest codeword has a 1 where the shortened code
                    // always has 0: more than one bit flipped.
                    return Err(EccError::Uncorrectable);
                }
            }
        };
        let [b0, b1, b2, b3, b4, b5, b6, _] = decoded.value.to_le_bytes();
        Ok(Decoded { value: [b0, b1, b2, b3, b4, b5, b6], correction })
    }
}
