//! Writes interrupted after every possible number of word stores: a restart finds the old value or the new, never a mix.
//!
//! [`TornRegion`] lets the first `k` stores of an operation through and
//! drops the rest, as if the writer had died there. For each `k` from 0 to
//! the number of stores the operation makes, the test reopens the store on
//! the memory as left ("the restart") and reads.

use proptest::prelude::*;
use resilient_store::{Geometry, OpenError, ReadError, Region, Slot, Storable, Store, StoreVec, TornRegion};

#[derive(Storable, Debug, Clone, PartialEq)]
struct Log {
    entries: StoreVec<u64, 5>,
    epoch: u32,
}

const GEOMETRY: Geometry = match Geometry::new(2, 64) {
    Ok(geometry) => geometry,
    Err(_) => panic!("2 slots of 64 bytes is a valid geometry"),
};
const LOG: Slot<Log> = Slot::new(GEOMETRY, 0);
const OTHER: Slot<u32> = Slot::new(GEOMETRY, 1);

fn log(epoch: u32, entries: &[u64]) -> Log {
    Log { entries: StoreVec::try_from_slice(entries).unwrap(), epoch }
}

fn formatted() -> Vec<u64> {
    let mut pages = vec![0; GEOMETRY.region_words()];
    Store::format(&mut pages[..], GEOMETRY).unwrap();
    pages
}

fn write(pages: &mut [u64], value: &Log) {
    Store::open(pages, GEOMETRY).unwrap().write(LOG, value).unwrap();
}

/// An operation on the `LOG` slot that a writer may die in.
#[derive(Clone, Copy)]
enum Operation<'a> {
    Write(&'a Log),
    Erase,
}

impl Operation<'_> {
    fn run<R: Region>(self, store: &mut Store<R>) {
        match self {
            Self::Write(value) => store.write(LOG, value).unwrap(),
            Self::Erase => store.erase(LOG).unwrap(),
        }
    }
}

/// Runs `operation` on a copy of `pages` with only `allowed` stores let
/// through, and returns the memory as the interrupted writer left it.
fn interrupted(pages: &[u64], allowed: usize, operation: Operation<'_>) -> Vec<u64> {
    let mut memory = pages.to_vec();
    let mut store = Store::open(TornRegion::new(&mut memory[..], allowed), GEOMETRY).unwrap();
    operation.run(&mut store);
    memory
}

/// How many word stores `operation` makes on `pages`.
fn stores_made(pages: &[u64], operation: Operation<'_>) -> usize {
    let mut memory = pages.to_vec();
    let mut store = Store::open(TornRegion::counting(&mut memory[..]), GEOMETRY).unwrap();
    operation.run(&mut store);
    store.into_region().attempted()
}

fn read_after_restart(memory: &mut [u64]) -> Result<Log, ReadError> {
    Store::open(memory, GEOMETRY).unwrap().read(LOG)
}

#[test]
fn an_overwrite_interrupted_anywhere_leaves_the_old_value_until_the_commit() {
    let old = log(1, &[10, 11, 12]);
    let new = log(2, &[20, 21, 22, 23, 24]);
    let mut pages = formatted();
    write(&mut pages, &log(0, &[]));
    write(&mut pages, &old);
    let write_new = Operation::Write(&new);
    let total = stores_made(&pages, write_new);
    // Invalidate, fingerprint, length, 7 payload words, commit.
    assert_eq!(total, 1 + 2 + Log::SIZE.div_ceil(7) + 1);
    for allowed in 0..=total {
        let mut memory = interrupted(&pages, allowed, write_new);
        let expected = if allowed < total { &old } else { &new };
        assert_eq!(read_after_restart(&mut memory).as_ref(), Ok(expected), "after {allowed} of {total} stores");
    }
}

#[test]
fn a_first_write_interrupted_anywhere_leaves_the_slot_empty_or_written() {
    let pages = formatted();
    let new = log(1, &[1]);
    let write_new = Operation::Write(&new);
    let total = stores_made(&pages, write_new);
    for allowed in 0..=total {
        let mut memory = interrupted(&pages, allowed, write_new);
        let expected = if allowed < total { Err(ReadError::Empty) } else { Ok(new.clone()) };
        assert_eq!(read_after_restart(&mut memory), expected, "after {allowed} of {total} stores");
    }
}

#[test]
fn an_erase_interrupted_anywhere_leaves_the_value_or_nothing() {
    let mut pages = formatted();
    let old = log(1, &[1]);
    write(&mut pages, &log(0, &[0]));
    write(&mut pages, &old);
    let erase = Operation::Erase;
    let total = stores_made(&pages, erase);
    assert_eq!(total, 2, "one store per copy");
    for allowed in 0..=total {
        let mut memory = interrupted(&pages, allowed, erase);
        let expected = if allowed < total { Ok(old.clone()) } else { Err(ReadError::Empty) };
        assert_eq!(read_after_restart(&mut memory), expected, "after {allowed} of {total} stores");
    }
}

#[test]
fn a_format_interrupted_anywhere_is_seen_as_unformatted() {
    let mut pages = formatted();
    write(&mut pages, &log(1, &[1]));
    let total = {
        let mut memory = pages.clone();
        let store = Store::format(TornRegion::counting(&mut memory[..]), GEOMETRY).unwrap();
        store.into_region().attempted()
    };
    for allowed in 0..=total {
        let mut memory = pages.clone();
        Store::format(TornRegion::new(&mut memory[..], allowed), GEOMETRY).unwrap();
        let found = Store::open(&mut memory[..], GEOMETRY).map(|mut store| store.read(LOG));
        let expected = match allowed {
            // Nothing stored yet: the old store, whole.
            0 => Ok(Ok(log(1, &[1]))),
            // Every store made: the new, empty store.
            _ if allowed == total => Ok(Err(ReadError::Empty)),
            _ => Err(OpenError::NotFormatted),
        };
        assert_eq!(found, expected, "after {allowed} of {total} stores");
    }
}

#[test]
fn after_an_interrupted_write_the_slot_takes_new_writes() {
    let mut pages = formatted();
    write(&mut pages, &log(1, &[1]));
    write(&mut pages, &log(2, &[2]));
    // Die half-way through a third write, then write again twice.
    let mut memory = interrupted(&pages, 5, Operation::Write(&log(3, &[3])));
    let mut store = Store::open(&mut memory[..], GEOMETRY).unwrap();
    assert_eq!(store.read(LOG), Ok(log(2, &[2])));
    store.write(LOG, &log(4, &[4])).unwrap();
    assert_eq!(store.read(LOG), Ok(log(4, &[4])));
    store.write(LOG, &log(5, &[5])).unwrap();
    assert_eq!(store.read(LOG), Ok(log(5, &[5])));
    assert_eq!(store.read(OTHER), Err(ReadError::Empty), "the other slot was never touched");
}

proptest! {
    /// A server that keeps dying part-way through writes: after each death,
    /// the slot holds the last value whose write completed.
    #[test]
    fn repeated_interrupted_writes_keep_the_last_completed_value(
        writes in proptest::collection::vec(
            (any::<u32>(), proptest::collection::vec(any::<u64>(), 0..=5), 0usize..12),
            1..12,
        ),
    ) {
        let mut memory = formatted();
        let mut last_completed: Option<Log> = None;
        for (epoch, entries, allowed) in writes {
            let value = log(epoch, &entries);
            let mut store = Store::open(TornRegion::new(&mut memory[..], allowed), GEOMETRY).unwrap();
            store.write(LOG, &value).unwrap();
            if !store.into_region().tore() {
                last_completed = Some(value);
            }
            let read = read_after_restart(&mut memory);
            prop_assert_eq!(read.ok(), last_completed.clone());
        }
    }
}
