//! Server names: short, validated, stored inline.
//!
//! The rules match the fault injector's target names (`fault-inject`'s
//! `Target`), so a name printed in a campaign log reads back as either.

use core::fmt;

/// Longest server name, in bytes. The planned servers' longest name is
/// `crashtest` (9 bytes); 16 leaves room and keeps a [`ServerName`] small.
pub const SERVER_NAME_MAX_BYTES: usize = 16;

/// Why a server name was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    /// The name is empty.
    #[error("server name is empty")]
    Empty,
    /// The name is longer than [`SERVER_NAME_MAX_BYTES`].
    #[error("server name is {len} bytes long; at most {SERVER_NAME_MAX_BYTES} are allowed")]
    TooLong {
        /// The name's length in bytes.
        len: usize,
    },
    /// A character other than a lowercase ASCII letter, a digit, `-` or `_`.
    #[error("server name has {0:?}; only a-z, 0-9, '-' and '_' are allowed")]
    BadCharacter(char),
}

/// A server's name, such as `fs` or `console`.
///
/// # Invariants
/// 1 to [`SERVER_NAME_MAX_BYTES`] bytes, each a lowercase ASCII letter, a
/// digit, `-` or `_`; bytes past the length are zero, so comparing the
/// whole array compares the names.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ServerName {
    bytes: [u8; SERVER_NAME_MAX_BYTES],
    len: u8,
}

impl ServerName {
    /// Validates a server name.
    pub fn try_new(name: &str) -> Result<Self, NameError> {
        if name.is_empty() {
            return Err(NameError::Empty);
        }
        if let Some(bad) = name.chars().find(|&c| !Self::allowed(c)) {
            return Err(NameError::BadCharacter(bad));
        }
        let too_long = NameError::TooLong { len: name.len() };
        if name.len() > SERVER_NAME_MAX_BYTES {
            return Err(too_long);
        }
        let len = u8::try_from(name.len()).map_err(|_| too_long)?;
        let mut bytes = [0; SERVER_NAME_MAX_BYTES];
        bytes[..name.len()].copy_from_slice(name.as_bytes());
        Ok(ServerName { bytes, len })
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        // Only ASCII was ever stored, so this never fails; the fallback
        // keeps the crate free of panics all the same.
        core::str::from_utf8(&self.bytes[..usize::from(self.len)]).unwrap_or("")
    }

    fn allowed(c: char) -> bool {
        c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_'
    }
}

impl TryFrom<&str> for ServerName {
    type Error = NameError;

    fn try_from(name: &str) -> Result<Self, NameError> {
        ServerName::try_new(name)
    }
}

impl fmt::Display for ServerName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for ServerName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_names_round_trip() {
        for name in ["fs", "console", "a", "blk-0", "name_srv", "abcdefghijklmnop"] {
            assert_eq!(ServerName::try_new(name).unwrap().as_str(), name);
        }
    }

    #[test]
    fn invalid_names_say_why() {
        assert_eq!(ServerName::try_new(""), Err(NameError::Empty));
        assert_eq!(ServerName::try_new("abcdefghijklmnopq"), Err(NameError::TooLong { len: 17 }));
        assert_eq!(ServerName::try_new("Fs"), Err(NameError::BadCharacter('F')));
        assert_eq!(ServerName::try_new("f s"), Err(NameError::BadCharacter(' ')));
        assert_eq!(ServerName::try_new("fs:1"), Err(NameError::BadCharacter(':')));
    }
}
