//! Where the name server keeps its state: one store slot per registration.
//!
//! ```text
//! slot 0 .. REGISTRATIONS_MAX-1   Registration i (empty: a free entry)
//! ```

use resilient_store::{Geometry, Slot, Storable};
use server_api::kept::{restore_table, table_slots, KeptState, KeptStore, Unrestorable};
use server_api::ops::name::REGISTRATIONS_MAX;

use crate::registration::Registration;
use crate::server::NameServer;

/// The store: a slot per registration.
pub(crate) const GEOMETRY: Geometry = match Geometry::new(REGISTRATIONS_MAX as u32, Registration::SIZE as u32) {
    Ok(geometry) => geometry,
    Err(_) => panic!("32 slots of a few dozen bytes is a valid geometry"),
};

/// The slot of each entry.
pub(crate) const SLOTS: [Slot<Registration>; REGISTRATIONS_MAX] = table_slots(GEOMETRY, 0);

impl KeptState for NameServer {
    const GEOMETRY: Geometry = GEOMETRY;

    fn empty() -> Self {
        NameServer { entries: [const { None }; REGISTRATIONS_MAX] }
    }

    fn restore(store: &mut KeptStore<'_>) -> Result<Self, Unrestorable> {
        Ok(NameServer { entries: restore_table(store, &SLOTS)? })
    }
}
