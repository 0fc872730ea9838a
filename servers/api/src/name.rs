//! [`Name`]: the names of files and registrations, validated once, and the payloads that carry them.
//!
//! The file server and the name server name things the same way, and so do
//! their clients: a [`Name`] is checked when it is made, so code that holds
//! one never checks again. Two payload layouts carry names:
//!
//! ```text
//! name           bytes 0..len: the name; len (the payload's byte length) = name length
//! name and word  words 0-1: the name, zero-padded; word 2: a number;
//!                len = name length (it counts the name's bytes only)
//! ```

use core::fmt;

use crate::message::{pack_bytes, Payload, PAYLOAD_WORDS};
use crate::status::Status;

/// Payload words a name takes in the "name and word" layout.
const NAME_WORDS: usize = 2;

/// Longest name, in bytes: two payload words, so that a name and one more
/// word fit in one payload.
pub const NAME_MAX: usize = NAME_WORDS * 8;

/// The payload word that follows the name in the "name and word" layout.
const WORD_INDEX: usize = NAME_WORDS;

const _: () = assert!(WORD_INDEX < PAYLOAD_WORDS, "a name and a word fit in one payload");

/// A file or service name: 1 to [`NAME_MAX`] bytes, each an ASCII letter,
/// digit, `.`, `_` or `-`.
///
/// # Invariants
/// - `1 <= len <= NAME_MAX`;
/// - every byte of `bytes[..len]` is in the allowed set (so the name is
///   ASCII, hence UTF-8);
/// - `bytes[len..]` are zero, so equal names have equal bytes.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Name {
    bytes: [u8; NAME_MAX],
    len: u8,
}

impl Name {
    /// The name spelt by `bytes`.
    ///
    /// # Errors
    /// [`Status::BadRequest`] if it is empty, longer than [`NAME_MAX`], or
    /// holds a byte outside `[a-zA-Z0-9._-]`.
    pub fn try_new(bytes: &[u8]) -> Result<Self, Status> {
        if bytes.is_empty() || !bytes.iter().all(|&b| is_name_byte(b)) {
            return Err(Status::BadRequest);
        }
        let mut name = Name { bytes: [0; NAME_MAX], len: 0 };
        name.bytes.get_mut(..bytes.len()).ok_or(Status::BadRequest)?.copy_from_slice(bytes);
        // At most NAME_MAX (16): fits a u8.
        name.len = bytes.len() as u8;
        Ok(name)
    }

    /// The name's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        // Cannot fail: the invariant keeps the bytes ASCII. Falling back to
        // "" keeps this free of panics.
        core::str::from_utf8(self.as_bytes()).unwrap_or_default()
    }

    /// The "name" payload: the name's bytes.
    pub fn to_payload(&self) -> Payload {
        self.with_word(0)
    }

    /// The name in a "name" payload.
    ///
    /// # Errors
    /// [`Status::BadRequest`] if the payload's bytes are no valid name.
    pub fn from_payload(payload: &Payload) -> Result<Self, Status> {
        let (bytes, len) = payload.to_bytes();
        Self::try_new(bytes.get(..len).ok_or(Status::BadRequest)?)
    }

    /// The "name and word" payload: the name, then `word` in word 2.
    pub fn with_word(&self, word: u64) -> Payload {
        // Sixteen bytes always pack: they fill the first two words.
        let mut words = pack_bytes(&self.bytes).unwrap_or_default();
        words[WORD_INDEX] = word;
        Payload { len: self.len, words }
    }

    /// The name and the word of a "name and word" payload.
    ///
    /// # Errors
    /// [`Status::BadRequest`] if the length is over [`NAME_MAX`] (it would
    /// take in the word's bytes) or the bytes are no valid name.
    pub fn from_payload_with_word(payload: &Payload) -> Result<(Self, u64), Status> {
        Ok((Self::from_payload(payload)?, payload.words[WORD_INDEX]))
    }
}

/// Whether `byte` may appear in a name.
const fn is_name_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'_' | b'-')
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_names_are_kept_as_spelt() {
        for text in ["a", "log.txt", "A-Z_0.9", "sixteen-bytes-xx"] {
            let name = Name::try_new(text.as_bytes()).unwrap();
            assert_eq!(name.as_str(), text);
            assert_eq!(name.to_string(), text);
        }
    }

    #[test]
    fn invalid_names_are_bad_requests() {
        for bytes in [&b""[..], b"seventeen-bytes-x", b"a b", b"a/b", b"caf\xc3\xa9", b"nul\0", b"\xff"] {
            assert_eq!(Name::try_new(bytes), Err(Status::BadRequest), "{bytes:?}");
        }
    }

    #[test]
    fn names_round_trip_through_both_layouts() {
        let name = Name::try_new(b"sixteen-bytes-xx").unwrap();
        assert_eq!(Name::from_payload(&name.to_payload()), Ok(name));
        let payload = name.with_word(u64::MAX);
        assert_eq!(usize::from(payload.len), NAME_MAX);
        assert_eq!(Name::from_payload_with_word(&payload), Ok((name, u64::MAX)));
    }

    #[test]
    fn malformed_name_payloads_are_bad_requests() {
        let empty = Payload::EMPTY;
        assert_eq!(Name::from_payload(&empty), Err(Status::BadRequest));
        assert_eq!(Name::from_payload_with_word(&empty), Err(Status::BadRequest));
        // Over NAME_MAX: the word would be read as part of the name.
        let long = Payload { len: 17, words: [u64::from_le_bytes(*b"aaaaaaaa"); PAYLOAD_WORDS] };
        assert_eq!(Name::from_payload_with_word(&long), Err(Status::BadRequest));
        assert_eq!(Name::from_payload(&long), Err(Status::BadRequest));
    }
}
