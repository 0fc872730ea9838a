//! Generations: which instance of a server a call or a handle was meant for.
//!
//! Each instance of a server has a generation. A restart gives the new
//! instance the next one, so a call, a handle or a reply that carries an
//! older generation is recognised as stale and fails cleanly instead of
//! reaching an instance that never heard of it.

use core::fmt;
use core::num::NonZeroU32;

/// The generation of one instance of a server.
///
/// # Invariants
/// - Never zero: 0 is reserved, so zeroed memory (a handle never filled in)
///   never looks like a valid generation.
/// - Only ever grows: the one way to get a later generation is
///   [`Generation::next`], which refuses at `u32::MAX` instead of wrapping,
///   and the registry replaces a server's generation only with its `next`.
///   A server that used up its generations is marked dead, never given an
///   old generation again.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Generation(NonZeroU32);

/// Why a generation could not be made.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum GenerationError {
    /// 0 is never a generation.
    #[error("generation 0 is reserved and never issued")]
    Zero,
    /// The generation is already `u32::MAX`: there is no next one.
    #[error("generations are exhausted: {} has no successor", u32::MAX)]
    Exhausted,
}

impl Generation {
    /// The generation of a server's first instance.
    pub const FIRST: Generation = Generation(NonZeroU32::MIN);

    /// A generation read back from a handle or a message.
    ///
    /// This only checks the value is a generation at all; whether it is
    /// the current one is for [`crate::Registry::check_call`] to say.
    pub const fn try_from_raw(raw: u32) -> Result<Self, GenerationError> {
        match NonZeroU32::new(raw) {
            Some(raw) => Ok(Generation(raw)),
            None => Err(GenerationError::Zero),
        }
    }

    /// The generation as a number, for handles, messages and logs.
    pub const fn get(self) -> u32 {
        self.0.get()
    }

    /// The generation of the instance after this one.
    pub const fn next(self) -> Result<Generation, GenerationError> {
        match self.0.checked_add(1) {
            Some(next) => Ok(Generation(next)),
            None => Err(GenerationError::Exhausted),
        }
    }
}

impl fmt::Display for Generation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_is_one_and_zero_is_refused() {
        assert_eq!(Generation::FIRST.get(), 1);
        assert_eq!(Generation::try_from_raw(0), Err(GenerationError::Zero));
        assert_eq!(Generation::try_from_raw(7).map(Generation::get), Ok(7));
    }

    #[test]
    fn next_grows_and_never_wraps() {
        let first = Generation::FIRST;
        let second = first.next().unwrap();
        assert!(second > first);
        assert_eq!(second.get(), 2);
        let last = Generation::try_from_raw(u32::MAX).unwrap();
        assert_eq!(last.next(), Err(GenerationError::Exhausted));
    }
}
