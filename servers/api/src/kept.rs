//! Kept state: a server's state in a resilient store over its kept-state region, restored at `init`, written through on each change.
//!
//! Only with the `kept` feature (it brings in `resilient-store`). A
//! server that keeps state follows three rules:
//!
//! 1. its state is a value implementing [`KeptState`]: the store's
//!    geometry, and how to read the state back from the slots;
//! 2. `init` is [`restore`], which opens the region, reads the state back
//!    and says what it found ([`InitNote`]);
//! 3. every change updates the value first, then writes the changed slot
//!    through with [`write_through`] before the reply: once a client has
//!    its answer, a restart finds the change.
//!
//! What counts as damage: a region whose superblock does not decode or
//! holds another geometry, a slot that does not read, values that break
//! the server's invariants ([`Unrestorable::Inconsistent`]), and any word
//! the restore read with an error the code cannot correct, also when the
//! store fell back to a slot's older copy (that value is the one before
//! the last write, and would disagree with the other slots). A damaged
//! region is formatted and the server starts clean
//! ([`InitNote::DamagedFormatted`]); it never runs on state it cannot
//! vouch for.

use core::fmt;

use resilient_store::{Geometry, OpenError, Opened, ReadError, Slot, Storable, Store, StoreString, WriteError};

use crate::name::{Name, NAME_MAX};
use crate::server::InitNote;
use crate::status::Status;

/// A store over a server's kept-state region, as `Env::kept` lends it.
pub type KeptStore<'a> = Store<&'a mut [u64]>;

/// Why the state in a region cannot be restored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unrestorable {
    /// A slot does not read: damage beyond the code's reach, or a value
    /// of another type (the server's declarations changed).
    Read(ReadError),
    /// Every slot reads, but together they break the server's invariants
    /// (a handle to a file that is not there, a name twice).
    Inconsistent,
}

impl From<ReadError> for Unrestorable {
    fn from(error: ReadError) -> Self {
        Unrestorable::Read(error)
    }
}

impl fmt::Display for Unrestorable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unrestorable::Read(error) => write!(f, "a slot does not read: {error}"),
            Unrestorable::Inconsistent => f.write_str("the kept values contradict each other"),
        }
    }
}

/// The state a server keeps in a resilient store.
pub trait KeptState: Sized {
    /// The store's slots and capacity. The server's `KEPT_WORDS` is
    /// `GEOMETRY.region_words()`.
    const GEOMETRY: Geometry;

    /// The state of a server that has kept nothing yet.
    fn empty() -> Self;

    /// Reads the state back from the slots (an empty slot is an absent
    /// entry, see [`read_optional`]).
    ///
    /// # Errors
    /// [`Unrestorable`] if a slot does not read or the values disagree.
    fn restore(store: &mut KeptStore<'_>) -> Result<Self, Unrestorable>;
}

/// Starts a server's state from its kept-state region `kept`: restores
/// what a previous instance kept, or formats the region when it is fresh
/// (first start) or damaged (see the module's "what counts as damage").
/// After a restore, single-bit errors anywhere in the region are
/// corrected in memory (a scrub), so they do not pile up into
/// uncorrectable ones; the note counts them.
///
/// # Panics
/// If `kept` is smaller than `K::GEOMETRY.region_words()`: the TAS gave
/// the server less than its `KEPT_WORDS`.
pub fn restore<K: KeptState>(kept: &mut [u64]) -> (K, InitNote) {
    match Store::open_or_format(&mut *kept, K::GEOMETRY) {
        Ok((_, Opened::Formatted)) => return (K::empty(), InitNote::Formatted),
        Ok((mut store, Opened::Existing)) => {
            let restored = K::restore(&mut store);
            if let Ok(state) = restored {
                if store.stats().read_words.uncorrectable == 0 {
                    let corrected = store.scrub().corrected;
                    return (state, InitNote::Restored { corrected });
                }
            }
        }
        Err(OpenError::RegionTooSmall(error)) => panic!("kept-state region too small: {error}"),
        Err(_) => {}
    }
    // The size was checked above: formatting cannot fail.
    if let Err(error) = Store::format(kept, K::GEOMETRY) {
        panic!("kept-state region too small: {error}");
    }
    (K::empty(), InitNote::DamagedFormatted)
}

/// Writes `value` to `slot` of the store over `kept`, or empties the slot
/// for `None`: the write-through of one change.
///
/// # Panics
/// If the region no longer holds the store (its superblock was damaged
/// beyond correction under the running instance) or the slot does not
/// fit it. The instance can then keep nothing it promises, so it faults;
/// its restart finds the damage and starts clean, and says so.
pub fn write_through<T: Storable>(kept: &mut [u64], geometry: Geometry, slot: Slot<T>, value: Option<&T>) {
    let result = Store::open(kept, geometry).map_err(LostStore::Open).and_then(|mut store| {
        match value {
            Some(value) => store.write(slot, value),
            None => store.erase(slot).map_err(WriteError::Slot),
        }
        .map_err(LostStore::Write)
    });
    if let Err(error) = result {
        panic!("kept state cannot be written: {error}");
    }
}

/// The value in `slot`, or `None` if the slot is empty (never written, or
/// erased).
///
/// # Errors
/// [`ReadError`] for anything else that keeps the slot from reading.
pub fn read_optional<T: Storable>(store: &mut KeptStore<'_>, slot: Slot<T>) -> Result<Option<T>, ReadError> {
    match store.read(slot) {
        Ok(value) => Ok(Some(value)),
        Err(ReadError::Empty) => Ok(None),
        Err(error) => Err(error),
    }
}

/// `N` consecutive slots from `first`: a table kept one entry a slot.
///
/// # Panics
/// If they do not fit `geometry`; in a constant, that is a compile-time
/// error.
pub const fn table_slots<T: Storable, const N: usize>(geometry: Geometry, first: u32) -> [Slot<T>; N] {
    let mut slots = [Slot::new(geometry, first); N];
    let mut index = 0;
    while index < N {
        slots[index] = Slot::new(geometry, first + index as u32);
        index += 1;
    }
    slots
}

/// An entry of a table kept one entry a slot, found by its name (files,
/// registrations).
pub trait NamedEntry: Storable {
    /// The entry's name, as kept.
    fn name(&self) -> &str;

    /// Whether the entry's other fields hold the server's invariants; a
    /// restore refuses an entry that does not.
    fn is_valid(&self) -> bool;
}

/// Reads back a table kept one entry a slot in `slots` (an empty slot is a
/// free entry).
///
/// # Errors
/// [`Unrestorable`] if a slot does not read, or an entry has an invalid
/// name or fields, or two entries have the same name.
pub fn restore_table<T: NamedEntry, const N: usize>(
    store: &mut KeptStore<'_>,
    slots: &[Slot<T>; N],
) -> Result<[Option<T>; N], Unrestorable> {
    let mut error = None;
    // Reading stops at the first error; later entries stay free.
    let table: [Option<T>; N] = core::array::from_fn(|index| match error {
        Some(_) => None,
        None => read_optional(store, slots[index]).map_err(|e| error = Some(e)).ok().flatten(),
    });
    if let Some(error) = error {
        return Err(Unrestorable::Read(error));
    }
    for (index, entry) in table.iter().enumerate() {
        let Some(entry) = entry else { continue };
        let valid = Name::try_new(entry.name().as_bytes()).is_ok() && entry.is_valid();
        let unique = table[..index].iter().flatten().all(|earlier| earlier.name() != entry.name());
        if !valid || !unique {
            return Err(Unrestorable::Inconsistent);
        }
    }
    Ok(table)
}

/// The index of the entry named `name` in `table`.
pub fn find_named<T: NamedEntry>(table: &[Option<T>], name: &Name) -> Option<usize> {
    table.iter().position(|entry| entry.as_ref().is_some_and(|entry| entry.name() == name.as_str()))
}

/// The entry named `name` in `table`.
///
/// # Errors
/// `NotFound` if there is none.
pub fn entry_named<'a, T: NamedEntry>(table: &'a [Option<T>], name: &Name) -> Result<&'a T, Status> {
    table.iter().flatten().find(|entry| entry.name() == name.as_str()).ok_or(Status::NotFound)
}

/// Puts `entry` in the first free place of `table`; its index.
///
/// # Errors
/// `NoSpace` if the table is full.
pub fn insert_entry<T>(table: &mut [Option<T>], entry: T) -> Result<usize, Status> {
    let (index, free) = table.iter_mut().enumerate().find(|(_, place)| place.is_none()).ok_or(Status::NoSpace)?;
    *free = Some(entry);
    Ok(index)
}

/// Writes entry `index` of a table kept one entry a slot in `slots`
/// through to its slot (emptying it for a free entry). An index beyond the
/// table writes nothing.
///
/// # Panics
/// As [`write_through`].
pub fn write_entry<T: Storable>(kept: &mut [u64], geometry: Geometry, slots: &[Slot<T>], table: &[Option<T>], index: usize) {
    if let (Some(&slot), Some(entry)) = (slots.get(index), table.get(index)) {
        write_through(kept, geometry, slot, entry.as_ref());
    }
}

/// The name of a kept entry, as a [`Name`] for a reply.
///
/// # Errors
/// [`Status::BadRequest`] never in practice: a restore refuses entries
/// whose names are invalid, and new entries are made from a [`Name`].
pub fn name_of<T: NamedEntry>(entry: &T) -> Result<Name, Status> {
    Name::try_new(entry.name().as_bytes())
}

/// A [`Name`] as kept in an entry.
pub fn kept_name(name: &Name) -> StoreString<NAME_MAX> {
    let mut kept = StoreString::new();
    // Cannot fail: a name has at most NAME_MAX bytes.
    let _ = kept.push_str(name.as_str());
    kept
}

/// Why a write-through failed.
#[derive(Clone, Copy, Debug)]
enum LostStore {
    Open(OpenError),
    Write(WriteError),
}

impl fmt::Display for LostStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LostStore::Open(error) => write!(f, "the store does not open: {error}"),
            LostStore::Write(error) => write!(f, "the slot does not take the value: {error}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A table of two named numbers, kept one a slot.
    #[derive(resilient_store::Storable, Clone, Debug, PartialEq, Eq)]
    struct Entry {
        name: StoreString<NAME_MAX>,
        value: u64,
    }

    impl NamedEntry for Entry {
        fn name(&self) -> &str {
            self.name.as_str()
        }

        fn is_valid(&self) -> bool {
            self.value != u64::MAX
        }
    }

    const GEOMETRY: Geometry = match Geometry::new(2, Entry::SIZE as u32) {
        Ok(geometry) => geometry,
        Err(_) => panic!("2 small slots is a valid geometry"),
    };
    const SLOTS: [Slot<Entry>; 2] = table_slots(GEOMETRY, 0);

    #[derive(Debug, PartialEq)]
    struct Table([Option<Entry>; 2]);

    impl KeptState for Table {
        const GEOMETRY: Geometry = GEOMETRY;

        fn empty() -> Self {
            Table([None, None])
        }

        fn restore(store: &mut KeptStore<'_>) -> Result<Self, Unrestorable> {
            restore_table(store, &SLOTS).map(Table)
        }
    }

    fn entry(name: &str, value: u64) -> Entry {
        Entry { name: kept_name(&Name::try_new(name.as_bytes()).unwrap()), value }
    }

    /// A region holding `entries`, as a server would have written them.
    fn region(entries: [Option<Entry>; 2]) -> Vec<u64> {
        let mut kept = vec![0; GEOMETRY.region_words()];
        let (_, note) = restore::<Table>(&mut kept);
        assert_eq!(note, InitNote::Formatted);
        for index in 0..entries.len() {
            write_entry(&mut kept, GEOMETRY, &SLOTS, &entries, index);
        }
        kept
    }

    #[test]
    fn written_entries_are_restored() {
        let entries = [Some(entry("a", 1)), None];
        let mut kept = region(entries.clone());
        assert_eq!(restore::<Table>(&mut kept), (Table(entries), InitNote::Restored { corrected: 0 }));
    }

    #[test]
    fn entries_that_break_invariants_are_refused() {
        for entries in [[Some(entry("a", 1)), Some(entry("a", 2))], [Some(entry("a", u64::MAX)), None]] {
            let mut kept = region(entries);
            assert_eq!(restore::<Table>(&mut kept), (Table::empty(), InitNote::DamagedFormatted));
            assert_eq!(restore::<Table>(&mut kept).1, InitNote::Restored { corrected: 0 }, "formatted");
        }
    }

    #[test]
    fn insert_takes_the_first_free_place() {
        let mut table = [Some(1), None, None];
        assert_eq!(insert_entry(&mut table, 2), Ok(1));
        assert_eq!(insert_entry(&mut table, 3), Ok(2));
        assert_eq!(insert_entry(&mut table, 4), Err(Status::NoSpace));
    }

    #[test]
    fn entries_are_found_by_name() {
        let table = [None, Some(entry("b", 2))];
        let b = Name::try_new(b"b").unwrap();
        assert_eq!(find_named(&table, &b), Some(1));
        assert_eq!(entry_named(&table, &b).map(|e| e.value), Ok(2));
        assert_eq!(entry_named(&table, &Name::try_new(b"c").unwrap()), Err(Status::NotFound));
        assert_eq!(name_of(&entry("b", 0)), Ok(b));
    }

    #[test]
    #[should_panic(expected = "kept-state region too small")]
    fn a_region_smaller_than_the_geometry_is_a_tas_bug() {
        let mut kept = vec![0; GEOMETRY.region_words() - 1];
        restore::<Table>(&mut kept);
    }

    #[test]
    #[should_panic(expected = "kept state cannot be written")]
    fn a_store_lost_under_a_running_instance_is_a_fault() {
        let mut kept = region([None, None]);
        kept[0] ^= 0b11;
        write_through(&mut kept, GEOMETRY, SLOTS[0], Some(&entry("a", 1)));
    }
}
