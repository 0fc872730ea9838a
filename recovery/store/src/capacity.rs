//! The error of a fixed-capacity container asked to hold more than it can.

use core::fmt;

/// More elements (or bytes) than a [`crate::StoreVec`] (or
/// [`crate::StoreString`]) can hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CapacityError {
    /// The container's capacity.
    pub capacity: usize,
    /// The length it would have needed.
    pub needed: usize,
}

impl fmt::Display for CapacityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "needs room for {}, capacity is {}", self.needed, self.capacity)
    }
}

impl core::error::Error for CapacityError {}

/// Bytes in the length prefix of a container's encoding: a `u32`, more
/// than any capacity a slot can hold.
pub(crate) const LENGTH_PREFIX_SIZE: usize = size_of::<u32>();
