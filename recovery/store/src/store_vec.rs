//! [`StoreVec`]: a vector of fixed capacity, held inline, that a store can keep.
//!
//! `Vec` holds a pointer to the heap, which a restart does not restore, so
//! it is not storable. `StoreVec<T, N>` keeps up to `N` elements inside
//! itself. Its encoding is a `u32` length, then `N` element slots: the
//! elements, then zeros for the unused ones, so its size is fixed.

use core::fmt;

use crate::capacity::{CapacityError, LENGTH_PREFIX_SIZE};
use crate::encoding::{DecodeError, Decoder, Encoder};
use crate::fingerprint::Fingerprint;
use crate::storable::Storable;

/// Up to `N` elements of `T`, held inline.
///
/// # Invariants
/// - `len <= N`;
/// - `slots[..len]` are all `Some`, `slots[len..]` all `None`.
///
/// Elements are kept as `Option<T>` so that no `T: Default` or `unsafe` is
/// needed for the unused slots.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct StoreVec<T, const N: usize> {
    slots: [Option<T>; N],
    len: usize,
}

impl<T, const N: usize> StoreVec<T, N> {
    /// An empty vector.
    pub fn new() -> Self {
        Self { slots: core::array::from_fn(|_| None), len: 0 }
    }

    /// Appends an element.
    ///
    /// # Errors
    /// Gives the element back if the vector is full.
    pub fn push(&mut self, element: T) -> Result<(), T> {
        match self.slots.get_mut(self.len) {
            Some(slot) => {
                *slot = Some(element);
                self.len += 1;
                Ok(())
            }
            None => Err(element),
        }
    }

    /// Removes and returns the last element.
    pub fn pop(&mut self) -> Option<T> {
        let last = self.len.checked_sub(1)?;
        self.len = last;
        self.slots[last].take()
    }

    /// Removes every element.
    pub fn clear(&mut self) {
        self.slots[..self.len].iter_mut().for_each(|slot| *slot = None);
        self.len = 0;
    }

    /// The element at `index`, if there is one.
    pub fn get(&self, index: usize) -> Option<&T> {
        self.slots[..self.len].get(index)?.as_ref()
    }

    /// The element at `index`, mutably, if there is one.
    pub fn get_mut(&mut self, index: usize) -> Option<&mut T> {
        self.slots[..self.len].get_mut(index)?.as_mut()
    }

    /// The elements in order.
    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.slots[..self.len].iter().flatten()
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are no elements.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Most elements the vector can hold: `N`.
    pub const fn capacity(&self) -> usize {
        N
    }
}

impl<T: Clone, const N: usize> StoreVec<T, N> {
    /// A vector holding a copy of `elements`.
    ///
    /// # Errors
    /// [`CapacityError`] if there are more than `N`.
    pub fn try_from_slice(elements: &[T]) -> Result<Self, CapacityError> {
        if elements.len() > N {
            return Err(CapacityError { capacity: N, needed: elements.len() });
        }
        let mut vec = Self::new();
        for (slot, element) in vec.slots.iter_mut().zip(elements) {
            *slot = Some(element.clone());
        }
        vec.len = elements.len();
        Ok(vec)
    }
}

impl<T, const N: usize> Default for StoreVec<T, N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: fmt::Debug, const N: usize> fmt::Debug for StoreVec<T, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<T: Storable, const N: usize> Storable for StoreVec<T, N> {
    const SIZE: usize = LENGTH_PREFIX_SIZE + N * T::SIZE;
    const FINGERPRINT: u64 = Fingerprint::new("StoreVec").with_type(T::FINGERPRINT).with_count(N).value();

    fn encode(&self, out: &mut Encoder<'_>) {
        // Lossless: a slot's capacity is a u32, so N elements fit one.
        out.put_bytes(&(self.len as u32).to_le_bytes());
        self.iter().for_each(|element| element.encode(out));
        out.put_zeros((N - self.len) * T::SIZE);
    }

    fn decode(input: &mut Decoder<'_>) -> Result<Self, DecodeError> {
        let len = input.take_length(N)?;
        let mut error = None;
        let slots = core::array::from_fn(|index| match error {
            Some(_) => None,
            None if index >= len => None,
            None => T::decode(input).map_err(|e| error = Some(e)).ok(),
        });
        if let Some(error) = error {
            return Err(error);
        }
        input.skip_padding((N - len) * T::SIZE)?;
        Ok(Self { slots, len })
    }
}
