//! Encoding to and decoding from byte slices, outside any store.
//!
//! The store encodes straight into its ECC-protected words; these two
//! functions give the same encoding over plain bytes, for tests of a
//! `Storable` implementation and for callers that move state elsewhere.

use crate::encoding::{ByteSink, ByteSource, DecodeError, Decoder, EncodeError, Encoder};
use crate::storable::Storable;

/// A byte slice filled from the front; bytes past its end are counted, not kept.
struct SliceSink<'a> {
    bytes: &'a mut [u8],
    next: usize,
}

impl ByteSink for SliceSink<'_> {
    fn put(&mut self, bytes: &[u8]) {
        let start = self.next.min(self.bytes.len());
        let end = self.next.saturating_add(bytes.len()).min(self.bytes.len());
        self.bytes[start..end].copy_from_slice(&bytes[..end - start]);
        self.next = self.next.saturating_add(bytes.len());
    }
}

/// A byte slice read from the front.
struct SliceSource<'a> {
    bytes: &'a [u8],
}

impl ByteSource for SliceSource<'_> {
    fn take(&mut self, bytes: &mut [u8]) -> bool {
        match self.bytes.split_at_checked(bytes.len()) {
            Some((first, rest)) => {
                bytes.copy_from_slice(first);
                self.bytes = rest;
                true
            }
            None => false,
        }
    }
}

/// Encodes `value` into the front of `buffer`; returns the bytes used,
/// always `T::SIZE`.
///
/// # Errors
/// [`EncodeError::BufferTooSmall`] if `buffer` is shorter than `T::SIZE`;
/// [`EncodeError::SizeMismatch`] if `T`'s `encode` disagrees with its `SIZE`.
pub fn to_bytes<T: Storable>(value: &T, buffer: &mut [u8]) -> Result<usize, EncodeError> {
    if buffer.len() < T::SIZE {
        return Err(EncodeError::BufferTooSmall { needed: T::SIZE, available: buffer.len() });
    }
    let mut sink = SliceSink { bytes: &mut buffer[..T::SIZE], next: 0 };
    let mut encoder = Encoder::new(&mut sink);
    value.encode(&mut encoder);
    match encoder.written() {
        written if written == T::SIZE => Ok(written),
        written => Err(EncodeError::SizeMismatch { declared: T::SIZE, written }),
    }
}

/// Decodes a value from `bytes`, which must be exactly `T::SIZE` long.
///
/// # Errors
/// [`DecodeError::WrongLength`] if `bytes` is not `T::SIZE` long or `T`'s
/// `decode` consumes another amount; otherwise whatever `T`'s `decode` finds.
pub fn from_bytes<T: Storable>(bytes: &[u8]) -> Result<T, DecodeError> {
    if bytes.len() != T::SIZE {
        return Err(DecodeError::WrongLength { expected: T::SIZE, actual: bytes.len() });
    }
    let mut source = SliceSource { bytes };
    let mut decoder = Decoder::new(&mut source);
    let value = T::decode(&mut decoder)?;
    match decoder.consumed() {
        consumed if consumed == T::SIZE => Ok(value),
        actual => Err(DecodeError::WrongLength { expected: T::SIZE, actual }),
    }
}
