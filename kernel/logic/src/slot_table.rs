//! A table keyed by thread id with O(1) lookups: the id's low 32 bits index
//! a slot, its high 32 bits are the slot's generation, so a slot is reused
//! but an id is never (a stale id finds nothing).
//!
//! It replaces ordered maps on the scheduler's and the IPC path's hot
//! lookups; its methods are named as `BTreeMap`'s so uses read the same.

use alloc::vec::Vec;

use crate::sched::ThreadId;

impl ThreadId {
    /// The id of generation `generation` of slot `index`.
    pub const fn new(index: u32, generation: u32) -> Self {
        Self((generation as u64) << 32 | index as u64)
    }

    /// The slot.
    pub const fn index(self) -> usize {
        (self.0 & 0xFFFF_FFFF) as usize
    }

    /// The slot's generation.
    pub const fn generation(self) -> u32 {
        (self.0 >> 32) as u32
    }
}

#[derive(Debug)]
struct Slot<T> {
    id: ThreadId,
    value: Option<T>,
}

/// Values keyed by [`ThreadId`].
///
/// # Invariants
/// An occupied slot's id has the slot's index; `free` lists exactly the
/// vacant slots; a vacated slot's next id has a higher generation.
#[derive(Debug)]
pub struct SlotTable<T> {
    slots: Vec<Slot<T>>,
    free: Vec<u32>,
    len: usize,
}

impl<T> Default for SlotTable<T> {
    fn default() -> Self {
        Self { slots: Vec::new(), free: Vec::new(), len: 0 }
    }
}

impl<T> SlotTable<T> {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// The id the next [`SlotTable::allocate`] will return.
    pub fn vacant_id(&self) -> ThreadId {
        match self.free.last() {
            Some(&i) => {
                let old = self.slots[i as usize].id;
                ThreadId::new(i, old.generation().wrapping_add(1))
            }
            None => ThreadId::new(self.slots.len() as u32, 0),
        }
    }

    /// Stores `value` under a fresh id and returns the id.
    pub fn allocate(&mut self, value: T) -> ThreadId {
        let id = self.vacant_id();
        self.insert(id, value);
        id
    }

    /// Stores `value` under `id`, replacing what was there (an older
    /// generation of the slot included).
    pub fn insert(&mut self, id: ThreadId, value: T) -> Option<T> {
        let i = id.index();
        while self.slots.len() <= i {
            let index = self.slots.len() as u32;
            self.slots.push(Slot { id: ThreadId::new(index, 0), value: None });
            self.free.push(index);
        }
        let slot = &mut self.slots[i];
        let previous = slot.value.take();
        let same_id = slot.id == id;
        slot.id = id;
        slot.value = Some(value);
        if previous.is_none() {
            self.free.retain(|&f| f as usize != i);
            self.len += 1;
        }
        // A value of another generation is dropped, not handed back.
        previous.filter(|_| same_id)
    }

    /// The value under `id`.
    pub fn get(&self, id: &ThreadId) -> Option<&T> {
        self.slots.get(id.index()).filter(|s| s.id == *id).and_then(|s| s.value.as_ref())
    }

    /// The value under `id`, mutably.
    pub fn get_mut(&mut self, id: &ThreadId) -> Option<&mut T> {
        self.slots.get_mut(id.index()).filter(|s| s.id == *id).and_then(|s| s.value.as_mut())
    }

    /// True if `id` has a value.
    pub fn contains_key(&self, id: &ThreadId) -> bool {
        self.get(id).is_some()
    }

    /// Takes the value under `id` out; its slot becomes free.
    pub fn remove(&mut self, id: &ThreadId) -> Option<T> {
        let slot = self.slots.get_mut(id.index()).filter(|s| s.id == *id)?;
        let value = slot.value.take()?;
        self.free.push(id.index() as u32);
        self.len -= 1;
        Some(value)
    }

    /// Every id and value, in slot order.
    pub fn iter(&self) -> impl Iterator<Item = (&ThreadId, &T)> {
        self.slots.iter().filter_map(|s| s.value.as_ref().map(|v| (&s.id, v)))
    }

    /// Every value, mutably, in slot order.
    pub fn values_mut(&mut self) -> impl Iterator<Item = &mut T> {
        self.slots.iter_mut().filter_map(|s| s.value.as_mut())
    }

    /// Number of values.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True if there are none.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_while_slots_are_reused() {
        let mut t = SlotTable::new();
        let a = t.allocate("a");
        let b = t.allocate("b");
        assert_eq!((a.index(), b.index()), (0, 1));
        assert_eq!(t.remove(&a), Some("a"));
        assert_eq!(t.get(&a), None);
        let c = t.allocate("c");
        assert_eq!(c.index(), 0, "slot reused");
        assert_ne!(c, a, "but not the id");
        assert_eq!(t.get(&a), None, "a stale id finds nothing");
        assert_eq!(t.get(&c), Some(&"c"));
        assert_eq!(t.len(), 2);
        assert_eq!(t.remove(&a), None);
    }

    #[test]
    fn insert_at_a_given_id_and_iterate_in_slot_order() {
        let mut t = SlotTable::new();
        t.insert(ThreadId(3), 30);
        t.insert(ThreadId(1), 10);
        assert_eq!(t.insert(ThreadId(1), 11), Some(10), "update in place");
        let all: Vec<_> = t.iter().map(|(id, v)| (id.0, *v)).collect();
        assert_eq!(all, [(1, 11), (3, 30)]);
        assert_eq!(t.len(), 2);
        let next = t.vacant_id();
        assert!(next.index() == 0 || next.index() == 2, "a free slot: {next:?}");
        for v in t.values_mut() {
            *v += 1;
        }
        assert_eq!(t.get(&ThreadId(3)), Some(&31));
        assert!(!t.contains_key(&ThreadId::new(3, 1)), "another generation");
    }

    #[test]
    fn many_allocations_and_removals_keep_the_books() {
        let mut t = SlotTable::new();
        let mut live = Vec::new();
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        for step in 0..5000u64 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            if x % 3 != 0 || live.is_empty() {
                live.push((t.allocate(step), step));
            } else {
                let (id, v) = live.swap_remove((x as usize / 3) % live.len());
                assert_eq!(t.remove(&id), Some(v));
            }
            assert_eq!(t.len(), live.len());
        }
        for (id, v) in &live {
            assert_eq!(t.get(id), Some(v));
        }
        assert!(t.slots.len() <= live.len() + t.free.len());
    }
}
