//! A server crate forbids `unsafe`; the derive's expansion must compile there.
#![forbid(unsafe_code)]

use resilient_store::{Storable, StoreString, StoreVec};

#[derive(Storable)]
struct Table<T> {
    rows: StoreVec<T, 4>,
    title: StoreString<16>,
}

#[derive(Storable)]
enum Row {
    Empty,
    Pair(u32, i64),
    Named { name: StoreString<8>, value: Option<u16> },
}

#[derive(Storable)]
struct Unit;

fn main() {
    assert_eq!(<Table<Row> as Storable>::SIZE, (4 + 4 * (1 + (12 + 3))) + (4 + 16));
    assert_eq!(<Unit as Storable>::SIZE, 0);
}
