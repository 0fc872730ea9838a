//! The store's behaviour as a server sees it: format, open after a restart, read, write, erase, errors.

use resilient_store::{
    Geometry, GeometryError, OpenError, Opened, ReadError, RegionTooSmall, Slot, SlotError, Storable, Store,
    StoreString, StoreVec, WriteError,
};

#[derive(Storable, Debug, Clone, PartialEq)]
struct Counters {
    requests: u64,
    faults: u32,
}

#[derive(Storable, Debug, Clone, PartialEq)]
struct Names {
    names: StoreVec<StoreString<12>, 3>,
}

const GEOMETRY: Geometry = match Geometry::new(3, 64) {
    Ok(geometry) => geometry,
    Err(_) => panic!("3 slots of 64 bytes is a valid geometry"),
};
const COUNTERS: Slot<Counters> = Slot::new(GEOMETRY, 0);
const NAMES: Slot<Names> = Slot::new(GEOMETRY, 1);
const LAST: Slot<u8> = Slot::new(GEOMETRY, 2);

fn memory() -> Vec<u64> {
    vec![0; GEOMETRY.region_words()]
}

fn names(list: &[&str]) -> Names {
    let mut names = StoreVec::new();
    for name in list {
        names.push(StoreString::try_from(*name).unwrap()).unwrap();
    }
    Names { names }
}

#[test]
fn fresh_memory_is_formatted_then_found_after_a_restart() {
    let mut pages = memory();
    let (mut store, opened) = Store::open_or_format(&mut pages[..], GEOMETRY).unwrap();
    assert_eq!(opened, Opened::Formatted);
    assert_eq!(store.read(COUNTERS), Err(ReadError::Empty));
    store.write(COUNTERS, &Counters { requests: 10, faults: 1 }).unwrap();
    store.write(NAMES, &names(&["fs", "net"])).unwrap();

    // The restarted instance.
    let (mut store, opened) = Store::open_or_format(&mut pages[..], GEOMETRY).unwrap();
    assert_eq!(opened, Opened::Existing);
    assert_eq!(store.read(COUNTERS), Ok(Counters { requests: 10, faults: 1 }));
    assert_eq!(store.read(NAMES), Ok(names(&["fs", "net"])));
    assert_eq!(store.read(LAST), Err(ReadError::Empty));
}

#[test]
fn the_last_write_wins_over_many_writes() {
    let mut pages = memory();
    let mut store = Store::format(&mut pages[..], GEOMETRY).unwrap();
    for requests in 0..100 {
        store.write(COUNTERS, &Counters { requests, faults: 0 }).unwrap();
        assert_eq!(store.read(COUNTERS).unwrap().requests, requests);
    }
    assert_eq!(store.stats().writes, 100);
    assert_eq!(store.stats().reads, 100);
    let mut store = Store::open(store.into_region(), GEOMETRY).unwrap();
    assert_eq!(store.read(COUNTERS).unwrap().requests, 99);
}

#[test]
fn slots_are_independent() {
    let mut pages = memory();
    let mut store = Store::format(&mut pages[..], GEOMETRY).unwrap();
    store.write(LAST, &1).unwrap();
    store.write(COUNTERS, &Counters { requests: 2, faults: 3 }).unwrap();
    store.write(LAST, &4).unwrap();
    assert_eq!(store.read(LAST), Ok(4));
    assert_eq!(store.read(COUNTERS), Ok(Counters { requests: 2, faults: 3 }));
}

#[test]
fn erase_empties_a_slot() {
    let mut pages = memory();
    let mut store = Store::format(&mut pages[..], GEOMETRY).unwrap();
    store.write(LAST, &1).unwrap();
    store.write(LAST, &2).unwrap();
    store.erase(LAST).unwrap();
    assert_eq!(store.read(LAST), Err(ReadError::Empty));
    store.write(LAST, &3).unwrap();
    assert_eq!(store.read(LAST), Ok(3));
}

#[test]
fn a_slot_written_as_one_type_is_not_read_as_another() {
    let mut pages = memory();
    let mut store = Store::format(&mut pages[..], GEOMETRY).unwrap();
    store.write(COUNTERS, &Counters { requests: 1, faults: 2 }).unwrap();
    let same_index_other_type: Slot<(u64, u32)> = Slot::new(GEOMETRY, COUNTERS.index());
    assert_eq!(store.read(same_index_other_type), Err(ReadError::TypeMismatch));
}

#[test]
fn slots_that_do_not_fit_are_refused() {
    assert_eq!(Slot::<u8>::try_new(GEOMETRY, 3).unwrap_err(), SlotError::OutOfRange { index: 3, slots: 3 });
    assert_eq!(Slot::<[u8; 65]>::try_new(GEOMETRY, 0).unwrap_err(), SlotError::TooLarge { size: 65, capacity: 64 });

    // A slot made for a larger geometry, used on this store.
    let larger = Geometry::new(10, 64).unwrap();
    let far: Slot<u8> = Slot::new(larger, 9);
    let mut pages = memory();
    let mut store = Store::format(&mut pages[..], GEOMETRY).unwrap();
    let out_of_range = SlotError::OutOfRange { index: 9, slots: 3 };
    assert_eq!(store.write(far, &1), Err(WriteError::Slot(out_of_range)));
    assert_eq!(store.read(far), Err(ReadError::Slot(out_of_range)));
    assert_eq!(store.erase(far), Err(out_of_range));
}

#[test]
fn regions_that_do_not_hold_this_store_are_refused() {
    let mut small = vec![0; GEOMETRY.region_words() - 1];
    let too_small = RegionTooSmall { needed: GEOMETRY.region_words(), available: GEOMETRY.region_words() - 1 };
    assert_eq!(Store::format(&mut small[..], GEOMETRY).unwrap_err(), too_small);
    assert_eq!(Store::open(&mut small[..], GEOMETRY).unwrap_err(), OpenError::RegionTooSmall(too_small));

    let mut pages = memory();
    assert_eq!(Store::open(&mut pages[..], GEOMETRY).unwrap_err(), OpenError::NotFormatted);

    let mut pages = vec![0; 100];
    Store::format(&mut pages[..], Geometry::new(2, 64).unwrap()).unwrap();
    assert_eq!(
        Store::open_or_format(&mut pages[..], Geometry::new(3, 16).unwrap()).unwrap_err(),
        OpenError::GeometryMismatch { slots: 2, capacity: 64 },
        "a store of another geometry is not formatted over"
    );
}

#[derive(Storable, Debug, PartialEq)]
struct Marker;

#[test]
fn zero_sized_values_are_stored_too() {
    let mut pages = memory();
    let mut store = Store::format(&mut pages[..], GEOMETRY).unwrap();
    let marker: Slot<Marker> = Slot::new(GEOMETRY, 2);
    assert_eq!(store.read(marker), Err(ReadError::Empty));
    store.write(marker, &Marker).unwrap();
    assert_eq!(store.read(marker), Ok(Marker), "present, though it holds no bytes");
}

#[test]
fn a_region_may_be_larger_than_needed() {
    let mut pages = vec![0; GEOMETRY.region_words() + 100];
    let mut store = Store::format(&mut pages[..], GEOMETRY).unwrap();
    store.write(LAST, &9).unwrap();
    assert_eq!(Store::open(&mut pages[..], GEOMETRY).unwrap().read(LAST), Ok(9));
}

#[test]
fn atomic_words_are_a_region_too() {
    use std::sync::atomic::AtomicU64;
    let pages: Vec<AtomicU64> = (0..GEOMETRY.region_words()).map(|_| AtomicU64::new(0)).collect();
    let mut store = Store::format(&pages[..], GEOMETRY).unwrap();
    store.write(LAST, &5).unwrap();
    assert_eq!(store.read(LAST), Ok(5));
}

#[test]
fn geometries_are_validated() {
    assert_eq!(Geometry::new(0, 8), Err(GeometryError::NoSlots));
    assert_eq!(Geometry::new(1, 0), Err(GeometryError::NoCapacity));
    assert_eq!(Geometry::new(u32::MAX, u32::MAX), Err(GeometryError::TooLarge), "over 2^61 words");
    assert!(Geometry::new(u32::MAX, 1).is_ok());
}

#[test]
fn space_overhead_of_a_slot() {
    // Header 3 words + payload ⌈capacity / 7⌉ words, twice, 8 bytes a word.
    let bytes = |capacity| Geometry::new(1, capacity).unwrap().slot_bytes();
    assert_eq!(bytes(8), 2 * (3 + 2) * 8);
    assert_eq!(bytes(64), 2 * (3 + 10) * 8);
    assert_eq!(bytes(1024), 2 * (3 + 147) * 8);
    assert_eq!(bytes(4096), 2 * (3 + 586) * 8);
    // The superblock is 4 words per store.
    assert_eq!(Geometry::new(5, 64).unwrap().region_bytes(), 4 * 8 + 5 * bytes(64));
}
