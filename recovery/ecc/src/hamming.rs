//! The extended Hamming (72,64) code: 64 data bits, 7 Hamming check bits and one overall parity bit.
//!
//! Construction (the textbook one, computed here by `const fn`s):
//! - number the 71 bits of a Hamming codeword 1 to 71; the bits at
//!   power-of-two positions (1, 2, 4, …, 64) are the 7 Hamming check bits,
//!   the other 64 positions hold the data bits in order;
//! - Hamming check bit `j` is the parity of the data bits whose position has
//!   bit `j` set, so the XOR of the positions of all set bits is zero;
//! - the eighth check bit is the parity of all 71 others, making the parity
//!   of the whole 72-bit codeword even.
//!
//! Decoding recomputes the check bits from the received data. Their
//! difference from the received check bits, the *syndrome*, is the position
//! of a single flipped bit; the overall parity says whether an odd number of
//! bits flipped. One flip: odd parity, the syndrome names the bit. Two flips:
//! even parity but a nonzero syndrome, which no single flip produces, so the
//! word is reported uncorrectable rather than miscorrected.

use crate::bit_index::BitIndex;
use crate::outcome::{Correction, Decoded, EccError};

/// Data bits in a codeword: one machine word.
pub const DATA_BITS: u32 = u64::BITS;

/// Hamming check bits: 7, the fewest whose positions (1 to 2⁷ − 1 = 127)
/// can give each of the 64 data and 7 check bits its own nonzero position.
const HAMMING_BITS: u32 = 7;

/// Check bits in a codeword: the Hamming bits plus the overall parity bit
/// that turns single-error correction into SECDED.
pub const CHECK_BITS: u32 = HAMMING_BITS + 1;

/// Bits in a codeword.
pub const CODEWORD_BITS: u32 = DATA_BITS + CHECK_BITS;

/// The highest Hamming position in use: 64 data + 7 check bits, numbered from 1.
const LAST_POSITION: u32 = DATA_BITS + HAMMING_BITS;

/// Syndromes are Hamming positions: this many distinct values (0 to 127).
const SYNDROMES: usize = 1 << HAMMING_BITS;

/// The Hamming check bits within the check byte (the overall parity bit is above them).
const HAMMING_MASK: u8 = (1 << HAMMING_BITS) - 1;

/// The Hamming position of each data bit: 1 to 71, skipping powers of two.
const DATA_POSITION: [u32; DATA_BITS as usize] = data_positions();

/// For each syndrome, the data bit at that position, if a data bit is there.
const DATA_AT: [Option<u8>; SYNDROMES] = data_at_positions();

/// For each Hamming check bit, the data bits it covers: those whose
/// position has that bit set. The check bit is their parity.
const COVERAGE: [u64; HAMMING_BITS as usize] = coverage();

const fn data_positions() -> [u32; DATA_BITS as usize] {
    let mut table = [0; DATA_BITS as usize];
    let mut position: u32 = 1;
    let mut bit = 0;
    while bit < DATA_BITS as usize {
        if !position.is_power_of_two() {
            table[bit] = position;
            bit += 1;
        }
        position += 1;
    }
    assert!(position - 1 == LAST_POSITION, "data and check bits fill positions 1..=71");
    table
}

const fn data_at_positions() -> [Option<u8>; SYNDROMES] {
    let mut table = [None; SYNDROMES];
    let mut bit = 0;
    while bit < DATA_BITS as usize {
        // Lossless: bit < 64.
        table[DATA_POSITION[bit] as usize] = Some(bit as u8);
        bit += 1;
    }
    table
}

const fn coverage() -> [u64; HAMMING_BITS as usize] {
    let mut masks = [0; HAMMING_BITS as usize];
    let mut bit = 0;
    while bit < DATA_BITS as usize {
        let mut check = 0;
        while check < HAMMING_BITS as usize {
            if DATA_POSITION[bit] & (1 << check) != 0 {
                masks[check] |= 1 << bit;
            }
            check += 1;
        }
        bit += 1;
    }
    masks
}

/// Parity (0 or 1) of the set bits of `bits`.
const fn parity(bits: u64) -> u8 {
    (bits.count_ones() % 2) as u8
}

/// A 72-bit codeword: 64 data bits and 8 check bits.
///
/// Any pair of values is a `Codeword`: one read back from memory may be
/// damaged, which is what [`Codeword::decode`] finds out. Stored bit
/// positions (see [`BitIndex`]) are data bits 0–63, then check bits 64–71.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Codeword {
    data: u64,
    check: u8,
}

impl Codeword {
    /// Encodes `data`: computes its check bits.
    pub const fn encode(data: u64) -> Self {
        Self { data, check: check_bits(data) }
    }

    /// A codeword as read back from memory, possibly damaged.
    pub const fn from_parts(data: u64, check: u8) -> Self {
        Self { data, check }
    }

    /// The data bits as stored (uncorrected).
    pub const fn data(self) -> u64 {
        self.data
    }

    /// The check bits as stored.
    pub const fn check(self) -> u8 {
        self.check
    }

    /// This codeword with one stored bit inverted: fault injection for tests.
    pub const fn flipped(self, bit: BitIndex) -> Self {
        let bit = bit.get();
        if bit < DATA_BITS {
            Self { data: self.data ^ (1 << bit), check: self.check }
        } else {
            Self { data: self.data, check: self.check ^ (1 << (bit - DATA_BITS)) }
        }
    }

    /// Checks the codeword and returns its data, corrected if one bit was
    /// flipped.
    ///
    /// # Errors
    /// [`EccError::Uncorrectable`] if two bits (or some larger odd number
    /// of bits) are flipped.
    pub const fn decode(self) -> Result<Decoded<u64>, EccError> {
        let difference = check_bits(self.data) ^ self.check;
        let syndrome = difference & HAMMING_MASK;
        // The parity of the received 72 bits equals the parity of the
        // difference: the recomputed check byte has even parity together
        // with the data, so data ⊕ received check ≡ recomputed ⊕ received.
        let odd = parity(difference as u64) == 1;
        if !odd {
            return if syndrome == 0 {
                Ok(Decoded { value: self.data, correction: Correction::Clean })
            } else {
                // An even number of flips (two, for SECDED) with a syndrome no
                // single flip gives: detected, not correctable.
                Err(EccError::Uncorrectable)
            };
        }
        if syndrome == 0 {
            // Only the overall parity bit differs.
            return Ok(corrected(self.data, DATA_BITS + HAMMING_BITS));
        }
        if syndrome.is_power_of_two() {
            // A Hamming check bit itself flipped; the data is right.
            return Ok(corrected(self.data, DATA_BITS + syndrome.trailing_zeros()));
        }
        match DATA_AT[syndrome as usize] {
            Some(bit) => Ok(corrected(self.data ^ (1 << bit), bit as u32)),
            // A position past 71: at least three bits flipped.
            None => Err(EccError::Uncorrectable),
        }
    }
}

/// The 8 check bits of `data`, by definition: each Hamming bit the parity
/// of the data bits it covers, then the overall parity. Used to build
/// [`CHECK_TABLE`] and, in tests, to check it.
const fn check_bits_by_definition(data: u64) -> u8 {
    let mut check = 0;
    let mut bit = 0;
    while bit < HAMMING_BITS as usize {
        check |= parity(data & COVERAGE[bit]) << bit;
        bit += 1;
    }
    check | ((parity(data) ^ parity(check as u64)) << HAMMING_BITS)
}

/// Bytes in a data word.
const DATA_BYTES: usize = size_of::<u64>();

/// Values of one byte.
const BYTE_VALUES: usize = 1 << u8::BITS;

/// The check bits contributed by each byte of the data word, for each of its
/// values: 8 × 256 bytes, 2 KiB.
///
/// The code is linear (every check bit is an XOR of data bits), so the check
/// bits of a word are the XOR of the check bits of its bytes taken alone.
/// Eight lookups are several times faster than seven 64-bit popcounts on a
/// baseline x86_64 target, which has no `popcnt` instruction.
const CHECK_TABLE: [[u8; BYTE_VALUES]; DATA_BYTES] = check_table();

const fn check_table() -> [[u8; BYTE_VALUES]; DATA_BYTES] {
    let mut table = [[0; BYTE_VALUES]; DATA_BYTES];
    let mut byte = 0;
    while byte < DATA_BYTES {
        let mut value = 0;
        while value < BYTE_VALUES {
            table[byte][value] = check_bits_by_definition((value as u64) << (byte as u32 * u8::BITS));
            value += 1;
        }
        byte += 1;
    }
    table
}

/// The 8 check bits of `data`.
const fn check_bits(data: u64) -> u8 {
    let bytes = data.to_le_bytes();
    let mut check = 0;
    let mut byte = 0;
    while byte < DATA_BYTES {
        check ^= CHECK_TABLE[byte][bytes[byte] as usize];
        byte += 1;
    }
    check
}

/// A decode that corrected stored bit `bit`; callers pass positions below 72.
const fn corrected(value: u64, bit: u32) -> Decoded<u64> {
    // Lossless: bit < CODEWORD_BITS (72).
    Decoded { value, correction: Correction::Corrected { bit: BitIndex(bit as u8) } }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_position_is_used_once() {
        let mut seen = [false; SYNDROMES];
        for position in DATA_POSITION {
            assert!(!seen[position as usize]);
            seen[position as usize] = true;
        }
        for check in 0..HAMMING_BITS {
            assert!(!seen[1 << check]);
            seen[1 << check] = true;
        }
        assert_eq!(seen.iter().filter(|&&s| s).count(), LAST_POSITION as usize);
        assert!(!seen[0], "position 0 stands for the overall parity bit");
    }

    #[test]
    fn table_agrees_with_definition() {
        let mut data = 1_u64;
        for _ in 0..10_000 {
            assert_eq!(check_bits(data), check_bits_by_definition(data));
            // A fixed odd multiplier walks through varied bit patterns.
            data = data.wrapping_mul(0x9E37_79B9_7F4A_7C15).wrapping_add(1);
        }
    }

    #[test]
    fn zero_encodes_to_zero() {
        // Cleared memory is a valid codeword of 0, which a store relies on.
        assert_eq!(Codeword::encode(0), Codeword::from_parts(0, 0));
    }

    #[test]
    fn each_data_bit_has_its_position_as_hamming_check_bits() {
        for (bit, position) in DATA_POSITION.iter().enumerate() {
            let check = Codeword::encode(1 << bit).check();
            assert_eq!(u32::from(check & HAMMING_MASK), *position);
        }
    }
}
