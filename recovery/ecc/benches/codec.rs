//! Cost of the code per KiB of data: encode, and decode with check.
//!
//! Run with `cargo bench -p ecc`. Each benchmark handles one KiB of data:
//! 128 words for the (72,64) code, 147 packed words (7 data bytes each) for
//! the (64,56) one. Decoding is measured on clean words, the common case, and
//! on words each carrying one flipped bit, the worst case that still succeeds.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use ecc::{BitIndex, Codeword, PackedWord, PACKED_DATA_BYTES};

/// The amount of data each benchmark iteration encodes or decodes.
const KIB: usize = 1024;

/// Words of (72,64) code per KiB.
const WORDS_PER_KIB: usize = KIB / size_of::<u64>();

/// Packed words per KiB: 7 bytes each, the last one partly used.
const PACKED_PER_KIB: usize = KIB.div_ceil(PACKED_DATA_BYTES);

/// Deterministic, varied data.
fn data_words(count: usize) -> Vec<u64> {
    (0..count as u64).map(|i| i.wrapping_mul(0x9E37_79B9_7F4A_7C15)).collect()
}

fn codec(c: &mut Criterion) {
    let mut group = c.benchmark_group("ecc per KiB");
    group.throughput(Throughput::Bytes(KIB as u64));

    let words = data_words(WORDS_PER_KIB);
    let codewords: Vec<Codeword> = words.iter().map(|&w| Codeword::encode(w)).collect();
    let flipped: Vec<Codeword> = codewords
        .iter()
        .enumerate()
        .map(|(i, cw)| cw.flipped(BitIndex::new((i % 72) as u32).unwrap()))
        .collect();
    group.bench_function("(72,64) encode", |b| {
        b.iter(|| black_box(&words).iter().map(|&w| Codeword::encode(w).check()).fold(0u8, |a, c| a ^ c))
    });
    group.bench_function("(72,64) decode clean", |b| {
        b.iter(|| black_box(&codewords).iter().filter_map(|cw| cw.decode().ok()).fold(0, |a, d| a ^ d.value))
    });
    group.bench_function("(72,64) decode one flip each", |b| {
        b.iter(|| black_box(&flipped).iter().filter_map(|cw| cw.decode().ok()).fold(0, |a, d| a ^ d.value))
    });

    let chunks: Vec<[u8; PACKED_DATA_BYTES]> = data_words(PACKED_PER_KIB)
        .iter()
        .map(|w| {
            let bytes = w.to_le_bytes();
            core::array::from_fn(|i| bytes[i])
        })
        .collect();
    let packed: Vec<PackedWord> = chunks.iter().map(|&c| PackedWord::encode(c)).collect();
    group.bench_function("(64,56) encode", |b| {
        b.iter(|| black_box(&chunks).iter().map(|&c| PackedWord::encode(c).raw()).fold(0, |a, r| a ^ r))
    });
    group.bench_function("(64,56) decode clean", |b| {
        b.iter(|| black_box(&packed).iter().filter_map(|p| p.decode().ok()).fold(0, |a, d| a ^ d.value[0]))
    });
    group.finish();
}

criterion_group!(benches, codec);
criterion_main!(benches);
