//! Property tests: random data, random flips, and the decode counters.

use ecc::{
    BitIndex, Codeword, Correction, Counters, Decoded, EccError, PackedWord, CODEWORD_BITS, PACKED_DATA_BYTES,
};
use proptest::prelude::*;

fn bit(width: u32) -> impl Strategy<Value = BitIndex> {
    (0..width).prop_map(|i| BitIndex::new(i).unwrap())
}

/// Two distinct bits of a codeword `width` bits wide.
fn two_bits(width: u32) -> impl Strategy<Value = (BitIndex, BitIndex)> {
    (bit(width), bit(width)).prop_filter("distinct bits", |(a, b)| a != b)
}

proptest! {
    #[test]
    fn codeword_round_trips(data: u64) {
        prop_assert_eq!(Codeword::encode(data).decode(), Ok(Decoded { value: data, correction: Correction::Clean }));
    }

    #[test]
    fn codeword_single_flip_is_corrected(data: u64, bit in bit(CODEWORD_BITS)) {
        prop_assert_eq!(
            Codeword::encode(data).flipped(bit).decode(),
            Ok(Decoded { value: data, correction: Correction::Corrected { bit } })
        );
    }

    #[test]
    fn codeword_double_flip_is_detected(data: u64, (a, b) in two_bits(CODEWORD_BITS)) {
        prop_assert_eq!(Codeword::encode(data).flipped(a).flipped(b).decode(), Err(EccError::Uncorrectable));
    }

    #[test]
    fn packed_single_flip_is_corrected(bytes: [u8; PACKED_DATA_BYTES], bit in bit(PackedWord::BITS)) {
        prop_assert_eq!(
            PackedWord::encode(bytes).flipped(bit).unwrap().decode(),
            Ok(Decoded { value: bytes, correction: Correction::Corrected { bit } })
        );
    }

    #[test]
    fn packed_double_flip_is_detected(bytes: [u8; PACKED_DATA_BYTES], (a, b) in two_bits(PackedWord::BITS)) {
        let damaged = PackedWord::encode(bytes).flipped(a).unwrap().flipped(b).unwrap();
        prop_assert_eq!(damaged.decode(), Err(EccError::Uncorrectable));
    }

    /// Beyond two flips SECDED promises nothing, but decoding any word at
    /// all returns an outcome: it never panics.
    #[test]
    fn any_raw_word_decodes_to_an_outcome(raw: u64, check: u8) {
        let _ = PackedWord::from_raw(raw).decode();
        let _ = Codeword::from_parts(raw, check).decode();
    }
}

#[test]
fn counters_count_each_outcome() {
    let good = Codeword::encode(42);
    let one = BitIndex::new(3).unwrap();
    let two = BitIndex::new(70).unwrap();
    let mut counters = Counters::default();
    for codeword in [good, good.flipped(one), good.flipped(one).flipped(two), good] {
        counters.record(&codeword.decode());
    }
    assert_eq!(counters, Counters { clean: 2, corrected: 1, uncorrectable: 1 });
    assert_eq!(counters.total(), 4);
    let mut sum = counters;
    sum.add(&counters);
    assert_eq!(sum, Counters { clean: 4, corrected: 2, uncorrectable: 2 });
}
