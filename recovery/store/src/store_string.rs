//! [`StoreString`]: a UTF-8 string of fixed capacity, held inline, that a store can keep.
//!
//! `String` holds a pointer to the heap, which a restart does not restore,
//! so it is not storable. `StoreString<N>` keeps up to `N` bytes inside
//! itself. Its encoding is a `u32` length, then `N` bytes: the string, then
//! zeros, so its size is fixed.

use core::fmt;
use core::ops::Deref;

use crate::capacity::{CapacityError, LENGTH_PREFIX_SIZE};
use crate::encoding::{DecodeError, Decoder, Encoder};
use crate::fingerprint::Fingerprint;
use crate::storable::Storable;

/// A string of up to `N` bytes of UTF-8, held inline.
///
/// # Invariants
/// - `len <= N`;
/// - `bytes[..len]` is valid UTF-8;
/// - `bytes[len..]` are zero, so equal strings have equal encodings.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct StoreString<const N: usize> {
    bytes: [u8; N],
    len: usize,
}

impl<const N: usize> StoreString<N> {
    /// An empty string.
    pub const fn new() -> Self {
        Self { bytes: [0; N], len: 0 }
    }

    /// The string.
    pub fn as_str(&self) -> &str {
        // Cannot fail: the invariant keeps `bytes[..len]` UTF-8. Falling
        // back to "" keeps this free of panics without `unsafe`.
        core::str::from_utf8(&self.bytes[..self.len]).unwrap_or_default()
    }

    /// Appends `text`.
    ///
    /// # Errors
    /// [`CapacityError`] if the result would exceed `N` bytes; the string
    /// is then unchanged.
    pub fn push_str(&mut self, text: &str) -> Result<(), CapacityError> {
        let end = self.len + text.len();
        let room = self.bytes.get_mut(self.len..end).ok_or(CapacityError { capacity: N, needed: end })?;
        room.copy_from_slice(text.as_bytes());
        self.len = end;
        Ok(())
    }

    /// Empties the string.
    pub fn clear(&mut self) {
        self.bytes = [0; N];
        self.len = 0;
    }

    /// Most bytes the string can hold: `N`.
    pub const fn capacity(&self) -> usize {
        N
    }
}

impl<const N: usize> Default for StoreString<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> TryFrom<&str> for StoreString<N> {
    type Error = CapacityError;

    fn try_from(text: &str) -> Result<Self, CapacityError> {
        let mut string = Self::new();
        string.push_str(text)?;
        Ok(string)
    }
}

impl<const N: usize> Deref for StoreString<N> {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl<const N: usize> PartialEq<str> for StoreString<N> {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl<const N: usize> PartialEq<&str> for StoreString<N> {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl<const N: usize> fmt::Debug for StoreString<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl<const N: usize> fmt::Display for StoreString<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl<const N: usize> Storable for StoreString<N> {
    const SIZE: usize = LENGTH_PREFIX_SIZE + N;
    const FINGERPRINT: u64 = Fingerprint::new("StoreString").with_count(N).value();

    fn encode(&self, out: &mut Encoder<'_>) {
        // Lossless: a slot's capacity is a u32, so N bytes fit one.
        out.put_bytes(&(self.len as u32).to_le_bytes());
        // The bytes past `len` are zero (invariant): they are the padding.
        out.put_bytes(&self.bytes);
    }

    fn decode(input: &mut Decoder<'_>) -> Result<Self, DecodeError> {
        let len = input.take_length(N)?;
        let bytes: [u8; N] = input.take_bytes()?;
        core::str::from_utf8(&bytes[..len]).map_err(|_| DecodeError::InvalidUtf8)?;
        if bytes[len..].iter().any(|&byte| byte != 0) {
            return Err(DecodeError::NonZeroPadding);
        }
        Ok(Self { bytes, len })
    }
}
