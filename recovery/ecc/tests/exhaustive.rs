//! Exhaustive SECDED checks: every single flip corrected, every double flip detected.
//!
//! For each data word of a fixed sample (edge patterns plus a deterministic
//! pseudo-random sequence), every one of the 72 (or 64) single-bit errors and
//! every one of the 72·71/2 = 2556 (or 64·63/2 = 2016) double-bit errors of
//! its codeword is tried.

use ecc::{BitIndex, Codeword, Correction, Decoded, EccError, PackedWord, CODEWORD_BITS, PACKED_DATA_BYTES};

/// Pseudo-random words in the sample: enough to exercise every parity mask
/// with varied data while keeping the double-flip sweep under a second.
const RANDOM_WORDS: usize = 200;

/// Data words to test: all-zero, all-one, alternating patterns, each single
/// set bit, and a deterministic pseudo-random sequence.
fn sample_words() -> Vec<u64> {
    let mut words = vec![0, u64::MAX, 0x5555_5555_5555_5555, 0xAAAA_AAAA_AAAA_AAAA];
    words.extend((0..u64::BITS).map(|bit| 1u64 << bit));
    // SplitMix64 stepping: a fixed, well-mixed sequence without a dependency.
    let mut state = 0x1234_5678_9ABC_DEF0_u64;
    words.extend((0..RANDOM_WORDS).map(|_| {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }));
    words
}

fn packed_bytes(word: u64) -> [u8; PACKED_DATA_BYTES] {
    let bytes = word.to_le_bytes();
    core::array::from_fn(|i| bytes[i])
}

#[test]
fn clean_codewords_decode_clean() {
    for word in sample_words() {
        assert_eq!(Codeword::encode(word).decode(), Ok(Decoded { value: word, correction: Correction::Clean }));
        let bytes = packed_bytes(word);
        assert_eq!(PackedWord::encode(bytes).decode(), Ok(Decoded { value: bytes, correction: Correction::Clean }));
    }
}

#[test]
fn every_single_flip_of_a_codeword_is_corrected() {
    for word in sample_words() {
        let codeword = Codeword::encode(word);
        for bit in BitIndex::all(CODEWORD_BITS) {
            assert_eq!(
                codeword.flipped(bit).decode(),
                Ok(Decoded { value: word, correction: Correction::Corrected { bit } }),
                "data {word:#x}, {bit}"
            );
        }
    }
}

#[test]
fn every_double_flip_of_a_codeword_is_detected() {
    for word in sample_words() {
        let codeword = Codeword::encode(word);
        for first in BitIndex::all(CODEWORD_BITS) {
            for second in BitIndex::all(CODEWORD_BITS).filter(|&b| b > first) {
                assert_eq!(
                    codeword.flipped(first).flipped(second).decode(),
                    Err(EccError::Uncorrectable),
                    "data {word:#x}, {first} and {second}"
                );
            }
        }
    }
}

#[test]
fn every_single_flip_of_a_packed_word_is_corrected() {
    for word in sample_words() {
        let bytes = packed_bytes(word);
        let packed = PackedWord::encode(bytes);
        for bit in BitIndex::all(PackedWord::BITS) {
            assert_eq!(
                packed.flipped(bit).unwrap().decode(),
                Ok(Decoded { value: bytes, correction: Correction::Corrected { bit } }),
                "data {word:#x}, {bit}"
            );
        }
    }
}

#[test]
fn every_double_flip_of_a_packed_word_is_detected() {
    for word in sample_words() {
        let packed = PackedWord::encode(packed_bytes(word));
        for first in BitIndex::all(PackedWord::BITS) {
            for second in BitIndex::all(PackedWord::BITS).filter(|&b| b > first) {
                assert_eq!(
                    packed.flipped(first).unwrap().flipped(second).unwrap().decode(),
                    Err(EccError::Uncorrectable),
                    "data {word:#x}, {first} and {second}"
                );
            }
        }
    }
}

#[test]
fn cleared_memory_is_a_valid_packed_word_of_zero() {
    assert_eq!(PackedWord::encode([0; PACKED_DATA_BYTES]).raw(), 0);
}

#[test]
fn packed_word_has_no_bit_72() {
    let last = BitIndex::new(CODEWORD_BITS - 1).unwrap();
    assert!(PackedWord::encode([0; PACKED_DATA_BYTES]).flipped(last).is_err());
    assert!(BitIndex::new(CODEWORD_BITS).is_err());
}
