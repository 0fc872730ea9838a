//! [`Slot`]: a typed handle naming one slot of a store and the type it holds.
//!
//! A server declares its slots as constants, next to the store's geometry:
//!
//! ```
//! use resilient_store::{Geometry, Slot, Storable};
//!
//! #[derive(Storable)]
//! struct Counters { requests: u64, faults: u32 }
//!
//! const GEOMETRY: Geometry = match Geometry::new(4, 64) {
//!     Ok(geometry) => geometry,
//!     Err(_) => panic!("4 slots of 64 bytes is a valid geometry"),
//! };
//! const COUNTERS: Slot<Counters> = Slot::new(GEOMETRY, 0);
//! ```
//!
//! `Slot::new` in a constant checks at compile time that the index is in
//! range and that the type fits the slot's capacity.

use core::fmt;
use core::marker::PhantomData;

use crate::geometry::Geometry;
use crate::storable::Storable;

/// Slot `index` of a store, holding a `T`.
///
/// # Invariants
/// - when made, `index` was below the geometry's slot count and `T::SIZE`
///   within its capacity (the store checks again against its own geometry).
pub struct Slot<T> {
    index: u32,
    // `fn() -> T`: the handle neither owns nor borrows a `T`, so it is
    // `Copy`, `Send` and `Sync` whatever `T` is.
    _type: PhantomData<fn() -> T>,
}

/// Why a slot cannot hold a value in a given geometry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SlotError {
    /// The index is beyond the store's slots.
    OutOfRange {
        /// The slot index.
        index: u32,
        /// The store's slot count.
        slots: u32,
    },
    /// The type's encoding is larger than a slot's capacity.
    TooLarge {
        /// The type's encoded size, in bytes.
        size: usize,
        /// The slot capacity, in bytes.
        capacity: usize,
    },
}

impl fmt::Display for SlotError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::OutOfRange { index, slots } => write!(f, "slot {index} of a store with {slots} slots"),
            Self::TooLarge { size, capacity } => {
                write!(f, "a {size}-byte value in a slot of {capacity} bytes")
            }
        }
    }
}

impl core::error::Error for SlotError {}

impl<T: Storable> Slot<T> {
    /// Slot `index` of a store of `geometry`.
    ///
    /// # Errors
    /// [`SlotError`] if the index is out of range or `T` does not fit.
    pub const fn try_new(geometry: Geometry, index: u32) -> Result<Self, SlotError> {
        match check::<T>(geometry, index) {
            Ok(()) => Ok(Self { index, _type: PhantomData }),
            Err(error) => Err(error),
        }
    }

    /// Slot `index` of a store of `geometry`, for a constant: a slot that
    /// does not fit is a compile-time error there.
    ///
    /// # Panics
    /// If the index is out of range or `T` does not fit. Use
    /// [`Slot::try_new`] outside constants.
    pub const fn new(geometry: Geometry, index: u32) -> Self {
        match Self::try_new(geometry, index) {
            Ok(slot) => slot,
            Err(SlotError::OutOfRange { .. }) => panic!("slot index beyond the store's slots"),
            Err(SlotError::TooLarge { .. }) => panic!("type larger than the store's slot capacity"),
        }
    }

    /// The slot's index.
    pub const fn index(self) -> u32 {
        self.index
    }
}

/// Whether a `T` in slot `index` fits `geometry`.
pub(crate) const fn check<T: Storable>(geometry: Geometry, index: u32) -> Result<(), SlotError> {
    if index >= geometry.slots() {
        return Err(SlotError::OutOfRange { index, slots: geometry.slots() });
    }
    if T::SIZE > geometry.capacity() {
        return Err(SlotError::TooLarge { size: T::SIZE, capacity: geometry.capacity() });
    }
    Ok(())
}

impl<T> Clone for Slot<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Slot<T> {}

impl<T> fmt::Debug for Slot<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Slot<{}>({})", core::any::type_name::<T>(), self.index)
    }
}
