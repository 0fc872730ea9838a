//! Cost of the store per KiB of state: write (encode + ECC + commit), read (check + decode), scrub.
//!
//! Run with `cargo bench -p resilient-store`. The value is a `[u64; 128]`,
//! exactly 1 KiB encoded; its slot has 147 payload words per copy.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use resilient_store::{Geometry, Slot, Storable, Store};

/// The amount of state each iteration writes or reads.
const KIB: usize = 1024;

/// A 1 KiB value: 128 words.
type Value = [u64; KIB / size_of::<u64>()];

const GEOMETRY: Geometry = match Geometry::new(1, Value::SIZE as u32) {
    Ok(geometry) => geometry,
    Err(_) => panic!("one 1 KiB slot is a valid geometry"),
};
const SLOT: Slot<Value> = Slot::new(GEOMETRY, 0);

fn store(c: &mut Criterion) {
    let value: Value = core::array::from_fn(|i| (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let mut pages = vec![0; GEOMETRY.region_words()];
    let mut store = Store::format(&mut pages[..], GEOMETRY).unwrap();
    store.write(SLOT, &value).unwrap();

    let mut group = c.benchmark_group("store per KiB");
    group.throughput(Throughput::Bytes(KIB as u64));
    group.bench_function("write", |b| b.iter(|| store.write(SLOT, black_box(&value)).unwrap()));
    group.bench_function("read", |b| b.iter(|| black_box(store.read(SLOT).unwrap())));
    group.finish();

    // A scrub checks the whole region: both copies, headers and check bits.
    let mut group = c.benchmark_group("scrub");
    group.throughput(Throughput::Bytes(GEOMETRY.region_bytes() as u64));
    group.bench_function("whole region", |b| b.iter(|| black_box(store.scrub())));
    group.finish();
}

criterion_group!(benches, store);
criterion_main!(benches);
