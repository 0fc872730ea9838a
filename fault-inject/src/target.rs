//! The server a fault is injected into, by name.
//!
//! Names are stored inline (no allocation) so the guest can parse them from
//! its command line; the characters allowed are the ones that survive the
//! command line and the `:`-separated injection syntax unchanged.

use core::fmt;
use core::str::FromStr;

/// Longest server name, in bytes. The planned servers' longest name is
/// `crashtest` (9 bytes); 16 leaves room and keeps a [`Target`] small.
pub const TARGET_NAME_MAX_BYTES: usize = 16;

/// Why a server name was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    /// The name is empty.
    #[error("server name is empty")]
    Empty,
    /// The name is longer than [`TARGET_NAME_MAX_BYTES`].
    #[error("server name is {len} bytes long; at most {TARGET_NAME_MAX_BYTES} are allowed")]
    TooLong {
        /// The name's length in bytes.
        len: usize,
    },
    /// A character other than a lowercase ASCII letter, a digit, `-` or `_`.
    #[error("server name has {0:?}; only a-z, 0-9, '-' and '_' are allowed")]
    BadCharacter(char),
}

/// A server name, such as `fs` or `crashtest`.
///
/// # Invariants
/// 1 to [`TARGET_NAME_MAX_BYTES`] bytes, each a lowercase ASCII letter, a
/// digit, `-` or `_`; bytes past the length are zero, so equality and
/// ordering of the whole array are those of the names.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Target {
    bytes: [u8; TARGET_NAME_MAX_BYTES],
    len: u8,
}

impl Target {
    /// Validates a server name.
    pub fn try_new(name: &str) -> Result<Self, TargetError> {
        if name.is_empty() {
            return Err(TargetError::Empty);
        }
        if let Some(bad) = name.chars().find(|&c| !Self::allowed(c)) {
            return Err(TargetError::BadCharacter(bad));
        }
        if name.len() > TARGET_NAME_MAX_BYTES {
            return Err(TargetError::TooLong { len: name.len() });
        }
        let mut bytes = [0; TARGET_NAME_MAX_BYTES];
        bytes[..name.len()].copy_from_slice(name.as_bytes());
        let len = u8::try_from(name.len()).map_err(|_| TargetError::TooLong { len: name.len() })?;
        Ok(Target { bytes, len })
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        // The invariant makes the prefix ASCII, so this never falls back.
        core::str::from_utf8(&self.bytes[..usize::from(self.len)]).unwrap_or("")
    }

    fn allowed(c: char) -> bool {
        c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_'
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Target({:?})", self.as_str())
    }
}

impl FromStr for Target {
    type Err = TargetError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Target::try_new(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_planned_servers_are_valid_names() {
        for name in ["console", "name", "fs", "blk", "crashtest"] {
            let target = Target::try_new(name).expect(name);
            assert_eq!(target.as_str(), name);
            assert_eq!(target.to_string(), name);
        }
    }

    #[test]
    fn names_that_would_break_the_command_line_are_refused() {
        assert_eq!(Target::try_new(""), Err(TargetError::Empty));
        assert_eq!(Target::try_new("f:s"), Err(TargetError::BadCharacter(':')));
        assert_eq!(Target::try_new("f s"), Err(TargetError::BadCharacter(' ')));
        assert_eq!(Target::try_new("fs=1"), Err(TargetError::BadCharacter('=')));
        assert_eq!(Target::try_new("FS"), Err(TargetError::BadCharacter('F')));
        assert_eq!(Target::try_new("fé"), Err(TargetError::BadCharacter('é')));
        assert_eq!(
            Target::try_new("a-very-long-server"),
            Err(TargetError::TooLong { len: 18 })
        );
        assert!(Target::try_new("exactly-16-bytes").is_ok());
    }

    #[test]
    fn equal_names_are_equal_targets_and_order_by_name() {
        let fs = Target::try_new("fs").unwrap();
        assert_eq!(fs, "fs".parse().unwrap());
        assert!(Target::try_new("blk").unwrap() < fs);
        assert!(fs < Target::try_new("fsa").unwrap());
    }
}
