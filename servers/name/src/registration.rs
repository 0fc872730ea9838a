//! [`Registration`]: a name and its value, as memory and the store both hold them.

use resilient_store::{Storable, StoreString};
use server_api::kept::{kept_name, NamedEntry};
use server_api::{Name, NAME_MAX};

/// A registered name and its value.
///
/// # Invariants
/// - `name` is a valid [`Name`] (a restore checks it).
#[derive(Storable, Clone, Debug, PartialEq, Eq)]
pub(crate) struct Registration {
    name: StoreString<NAME_MAX>,
    /// The value registered.
    pub(crate) value: u64,
}

impl Registration {
    /// `name` registered to `value`.
    pub(crate) fn new(name: &Name, value: u64) -> Self {
        Registration { name: kept_name(name), value }
    }
}

impl NamedEntry for Registration {
    fn name(&self) -> &str {
        self.name.as_str()
    }

    fn is_valid(&self) -> bool {
        // Any value is a value.
        true
    }
}
