//! Server ids: a server's index in the registry, cheap to copy and compare.
//!
//! Ids are what actions, events and calls name servers by; names are for
//! declarations and logs.

use core::fmt;

/// A server, by its index in the [`crate::Registry`] that issued it.
///
/// Ids come from [`crate::Registry::id_of`]; [`ServerId::new`] exists for
/// ids read back from a message. An id that names no server is refused by
/// every registry and manager method with a typed error, never a panic.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ServerId(u16);

impl ServerId {
    /// The id with index `index`.
    pub const fn new(index: u16) -> Self {
        ServerId(index)
    }

    /// The index into the registry's table.
    pub const fn index(self) -> usize {
        self.0 as usize
    }
}

impl fmt::Display for ServerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "server #{}", self.0)
    }
}
