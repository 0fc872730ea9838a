//! Bit flips in a store's memory: single ones corrected everywhere, double ones detected, scrub repairs.

use proptest::prelude::*;
use resilient_store::{Counters, Geometry, OpenError, ReadError, Slot, Storable, Store, StoreString};

#[derive(Storable, Debug, Clone, PartialEq)]
struct State {
    name: StoreString<10>,
    count: u64,
    limit: Option<u32>,
}

const GEOMETRY: Geometry = match Geometry::new(2, 32) {
    Ok(geometry) => geometry,
    Err(_) => panic!("2 slots of 32 bytes is a valid geometry"),
};
const STATE: Slot<State> = Slot::new(GEOMETRY, 0);
const FLAG: Slot<bool> = Slot::new(GEOMETRY, 1);

/// Words before the slots: the superblock.
const SUPERBLOCK_WORDS: usize = 4;
/// Words of one copy of a slot: 3 header words, ⌈32 / 7⌉ = 5 payload words.
const COPY_WORDS: usize = 3 + 5;

fn state(count: u64) -> State {
    State { name: "counter".try_into().unwrap(), count, limit: Some(7) }
}

/// A store whose first slot was written twice (copy 0 holds `state(1)`,
/// copy 1 the newer `state(2)`) and whose second slot once.
fn written_memory() -> Vec<u64> {
    let mut pages = vec![0; GEOMETRY.region_words()];
    let mut store = Store::format(&mut pages[..], GEOMETRY).unwrap();
    store.write(STATE, &state(1)).unwrap();
    store.write(STATE, &state(2)).unwrap();
    store.write(FLAG, &true).unwrap();
    pages
}

fn reopen(pages: &mut [u64]) -> Store<&mut [u64]> {
    Store::open(pages, GEOMETRY).unwrap()
}

#[test]
fn every_single_bit_flip_anywhere_is_corrected() {
    let pristine = written_memory();
    for word in 0..pristine.len() {
        for bit in 0..u64::BITS {
            let mut pages = pristine.clone();
            pages[word] ^= 1 << bit;
            let mut store = reopen(&mut pages);
            assert_eq!(store.read(STATE), Ok(state(2)), "word {word} bit {bit}");
            assert_eq!(store.read(FLAG), Ok(true), "word {word} bit {bit}");
            assert_eq!(store.stats().fallbacks, 0);
        }
    }
}

#[test]
fn a_double_flip_in_the_newer_copy_falls_back_to_the_older() {
    let pristine = written_memory();
    let newer_copy = SUPERBLOCK_WORDS + COPY_WORDS;
    for word in newer_copy..newer_copy + COPY_WORDS {
        let mut pages = pristine.clone();
        pages[word] ^= 0b101;
        let mut store = reopen(&mut pages);
        let read = store.read(STATE);
        // A damaged payload word past the value's end is not read at all.
        if read != Ok(state(2)) {
            assert_eq!(read, Ok(state(1)), "word {word}");
            assert_eq!(store.stats().fallbacks, 1);
            assert_eq!(store.stats().read_words.uncorrectable, 1);
        }
    }
}

#[test]
fn double_flips_in_both_copies_are_reported_not_guessed() {
    let mut pages = written_memory();
    pages[SUPERBLOCK_WORDS + 3] ^= 0b11; // first payload word of copy 0
    pages[SUPERBLOCK_WORDS + COPY_WORDS + 3] ^= 0b11; // and of copy 1
    let mut store = reopen(&mut pages);
    assert_eq!(store.read(STATE), Err(ReadError::Damaged));
    // The next write replaces a damaged copy and the slot works again.
    store.write(STATE, &state(3)).unwrap();
    assert_eq!(store.read(STATE), Ok(state(3)));
}

#[test]
fn a_damaged_superblock_is_reported() {
    let mut pages = written_memory();
    pages[0] ^= 0b11;
    assert_eq!(Store::open(&mut pages[..], GEOMETRY).unwrap_err(), OpenError::SuperblockDamaged);
    assert_eq!(Store::open_or_format(&mut pages[..], GEOMETRY).unwrap_err(), OpenError::SuperblockDamaged);
}

#[test]
fn scrub_rewrites_corrected_words_and_counts_the_rest() {
    let pristine = written_memory();
    let mut pages = pristine.clone();
    // One flip in each of five words, and two in another.
    for (word, bit) in [(0, 63), (5, 1), (9, 30), (14, 55), (20, 7)] {
        pages[word] ^= 1 << bit;
    }
    pages[25] ^= 0b11;
    let mut store = reopen(&mut pages);
    let words = GEOMETRY.region_words() as u64;
    assert_eq!(store.scrub(), Counters { clean: words - 6, corrected: 5, uncorrectable: 1 });
    assert_eq!(store.scrub(), Counters { clean: words - 1, corrected: 0, uncorrectable: 1 });
    assert_eq!(store.stats().scrubbed_words.corrected, 5);
    pages[25] ^= 0b11;
    assert_eq!(pages, pristine, "scrub restored every word exactly");
}

proptest! {
    /// Random values, and a random single flip in every word of the store
    /// at once: every word is corrected on its own.
    #[test]
    fn one_flip_per_word_is_corrected(
        name in "[a-z]{0,10}",
        count: u64,
        limit: Option<u32>,
        flag: bool,
        bits in proptest::collection::vec(0..u64::BITS, GEOMETRY.region_words()),
    ) {
        let value = State { name: name.as_str().try_into().unwrap(), count, limit };
        let mut pages = vec![0; GEOMETRY.region_words()];
        let mut store = Store::format(&mut pages[..], GEOMETRY).unwrap();
        store.write(STATE, &value).unwrap();
        store.write(FLAG, &flag).unwrap();
        for (word, bit) in pages.iter_mut().zip(&bits) {
            *word ^= 1 << bit;
        }
        let mut store = reopen(&mut pages);
        prop_assert_eq!(store.read(STATE), Ok(value));
        prop_assert_eq!(store.read(FLAG), Ok(flag));
        prop_assert_eq!(store.scrub().corrected, GEOMETRY.region_words() as u64);
    }
}
