//! Bytes to ECC words and back: the encoder's sink and the decoder's source over a copy's payload.
//!
//! Seven bytes fill one [`PackedWord`]; the last word of a value is padded
//! with zeros. Every word goes to memory in one store, already encoded, so
//! an interrupted write leaves each word a valid codeword of either its old
//! or its new contents.

use ecc::{PackedWord, PACKED_DATA_BYTES};

use crate::encoding::{ByteSink, ByteSource};
use crate::region::Region;

/// Writes bytes into the words `next..end` of a region.
pub(crate) struct PayloadWriter<'r, R: Region> {
    region: &'r mut R,
    next: usize,
    end: usize,
    chunk: [u8; PACKED_DATA_BYTES],
    filled: usize,
    overflowed: bool,
}

impl<'r, R: Region> PayloadWriter<'r, R> {
    /// A writer of the words `start..end`, which lie in `region`.
    pub(crate) fn new(region: &'r mut R, start: usize, end: usize) -> Self {
        Self { region, next: start, end, chunk: [0; PACKED_DATA_BYTES], filled: 0, overflowed: false }
    }

    fn flush(&mut self) {
        if self.next < self.end {
            self.region.store(self.next, PackedWord::encode(self.chunk).raw());
            self.next += 1;
        } else {
            self.overflowed = true;
        }
        self.chunk = [0; PACKED_DATA_BYTES];
        self.filled = 0;
    }

    /// Writes the last, partly filled word. Returns `false` if bytes were
    /// put beyond the payload's words (and dropped).
    pub(crate) fn finish(mut self) -> bool {
        if self.filled > 0 {
            self.flush();
        }
        !self.overflowed
    }
}

impl<R: Region> ByteSink for PayloadWriter<'_, R> {
    fn put(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            let room = PACKED_DATA_BYTES - self.filled;
            let (now, rest) = bytes.split_at(room.min(bytes.len()));
            self.chunk[self.filled..self.filled + now.len()].copy_from_slice(now);
            self.filled += now.len();
            if self.filled == PACKED_DATA_BYTES {
                self.flush();
            }
            bytes = rest;
        }
    }
}

/// Reads bytes from the words `next..end` of a region, correcting single
/// bit errors on the way.
pub(crate) struct PayloadReader<'r, R: Region> {
    region: &'r R,
    next: usize,
    end: usize,
    chunk: [u8; PACKED_DATA_BYTES],
    taken: usize,
    damaged: bool,
}

impl<'r, R: Region> PayloadReader<'r, R> {
    /// A reader of the words `start..end`, which lie in `region`.
    pub(crate) fn new(region: &'r R, start: usize, end: usize) -> Self {
        Self { region, next: start, end, chunk: [0; PACKED_DATA_BYTES], taken: PACKED_DATA_BYTES, damaged: false }
    }

    /// Whether a word could not be decoded; the input ended there.
    pub(crate) fn damaged(&self) -> bool {
        self.damaged
    }
}

impl<R: Region> PayloadReader<'_, R> {
    /// Decodes the next word into `chunk`; `false` at the end or on damage.
    fn refill(&mut self) -> bool {
        if self.damaged || self.next >= self.end {
            return false;
        }
        match PackedWord::from_raw(self.region.load(self.next)).decode() {
            Ok(decoded) => self.chunk = decoded.value,
            Err(_) => {
                self.damaged = true;
                return false;
            }
        }
        self.next += 1;
        self.taken = 0;
        true
    }
}

impl<R: Region> ByteSource for PayloadReader<'_, R> {
    fn take(&mut self, mut bytes: &mut [u8]) -> bool {
        while !bytes.is_empty() {
            if self.taken == PACKED_DATA_BYTES && !self.refill() {
                return false;
            }
            let available = &self.chunk[self.taken..];
            let len = available.len().min(bytes.len());
            let (now, rest) = bytes.split_at_mut(len);
            now.copy_from_slice(&available[..len]);
            self.taken += len;
            bytes = rest;
        }
        true
    }
}
