//! Resource ledgers: what a server instance owns, counted by kind.
//!
//! The kernel and the TAS count, per instance, what it owns: frames, heap
//! bytes, handles, held locks, grants and pending IPC. The embedder reads
//! that ledger at fixed points of a recovery and hands the manager a
//! [`Resources`] snapshot; the manager computes what each step released
//! from the difference, so it never trusts a count it cannot check.

use core::fmt;

/// A kind of resource the ledger counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ResourceKind {
    /// Physical frames.
    Frames,
    /// Bytes allocated in the instance's private heap.
    HeapBytes,
    /// Open handles (endpoints, objects).
    Handles,
    /// Locks held, with the instance as owner.
    Locks,
    /// Shared-memory grants made or accepted.
    Grants,
    /// IPC messages the instance owes an answer to, or is owed one for.
    PendingIpc,
}

impl ResourceKind {
    /// Every kind, in the order reports list them.
    pub const ALL: [ResourceKind; 6] = [
        ResourceKind::Frames,
        ResourceKind::HeapBytes,
        ResourceKind::Handles,
        ResourceKind::Locks,
        ResourceKind::Grants,
        ResourceKind::PendingIpc,
    ];

    /// The kind's name in reports.
    pub const fn name(self) -> &'static str {
        match self {
            ResourceKind::Frames => "frames",
            ResourceKind::HeapBytes => "heap_bytes",
            ResourceKind::Handles => "handles",
            ResourceKind::Locks => "locks",
            ResourceKind::Grants => "grants",
            ResourceKind::PendingIpc => "pending_ipc",
        }
    }
}

impl fmt::Display for ResourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A count of each kind of resource: a ledger snapshot, or an amount
/// released, reclaimed or leaked.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Resources {
    /// Physical frames.
    pub frames: u64,
    /// Heap bytes.
    pub heap_bytes: u64,
    /// Handles.
    pub handles: u64,
    /// Locks held.
    pub locks: u64,
    /// Grants.
    pub grants: u64,
    /// Pending IPC.
    pub pending_ipc: u64,
}

impl Resources {
    /// Nothing at all.
    pub const ZERO: Resources = Resources { frames: 0, heap_bytes: 0, handles: 0, locks: 0, grants: 0, pending_ipc: 0 };

    /// The count of one kind.
    pub const fn get(&self, kind: ResourceKind) -> u64 {
        match kind {
            ResourceKind::Frames => self.frames,
            ResourceKind::HeapBytes => self.heap_bytes,
            ResourceKind::Handles => self.handles,
            ResourceKind::Locks => self.locks,
            ResourceKind::Grants => self.grants,
            ResourceKind::PendingIpc => self.pending_ipc,
        }
    }

    /// These counts with the count of `kind` replaced by `count`.
    pub const fn with(mut self, kind: ResourceKind, count: u64) -> Self {
        match kind {
            ResourceKind::Frames => self.frames = count,
            ResourceKind::HeapBytes => self.heap_bytes = count,
            ResourceKind::Handles => self.handles = count,
            ResourceKind::Locks => self.locks = count,
            ResourceKind::Grants => self.grants = count,
            ResourceKind::PendingIpc => self.pending_ipc = count,
        }
        self
    }

    /// Whether every count is zero.
    pub fn is_zero(&self) -> bool {
        *self == Resources::ZERO
    }

    /// Each kind with its count, zeros included, in [`ResourceKind::ALL`] order.
    pub fn iter(&self) -> impl Iterator<Item = (ResourceKind, u64)> + '_ {
        ResourceKind::ALL.into_iter().map(|kind| (kind, self.get(kind)))
    }

    /// The sum of two counts, kind by kind; saturates instead of wrapping.
    pub fn saturating_add(&self, other: &Resources) -> Resources {
        self.zip(other, u64::saturating_add)
    }

    /// How far each count exceeds `floor`'s, zero where it does not.
    pub fn excess_over(&self, floor: &Resources) -> Resources {
        self.zip(floor, u64::saturating_sub)
    }

    /// What went from `self` to `after`, kind by kind, or the first kind
    /// whose count grew.
    pub fn released_to(&self, after: &Resources) -> Result<Resources, AccountingError> {
        for (kind, before) in self.iter() {
            let after = after.get(kind);
            if after > before {
                return Err(AccountingError::Grew { kind, before, after });
            }
        }
        Ok(self.excess_over(after))
    }

    fn zip(&self, other: &Resources, op: fn(u64, u64) -> u64) -> Resources {
        ResourceKind::ALL
            .into_iter()
            .fold(Resources::ZERO, |sum, kind| sum.with(kind, op(self.get(kind), other.get(kind))))
    }
}

impl fmt::Display for Resources {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for (kind, count) in self.iter() {
            if !first {
                f.write_str(" ")?;
            }
            first = false;
            write!(f, "{kind}={count}")?;
        }
        Ok(())
    }
}

/// A ledger that grew where it can only shrink: the embedder's counts are
/// inconsistent, so the report is refused rather than silently clamped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AccountingError {
    /// A release step left more of `kind` than there was before it.
    #[error("{kind} grew from {before} to {after} during a step that only releases")]
    Grew {
        /// The kind that grew.
        kind: ResourceKind,
        /// Its count before the step.
        before: u64,
        /// Its count after the step.
        after: u64,
    },
}

/// An instance's ledger before and after a step that only releases
/// (unwinding, stopping).
///
/// # Invariants
/// `after` is at most `before`, kind by kind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Released {
    before: Resources,
    after: Resources,
}

impl Released {
    /// Nothing owned, nothing released.
    pub const NOTHING: Released = Released { before: Resources::ZERO, after: Resources::ZERO };

    /// Validates a before/after pair.
    pub fn try_new(before: Resources, after: Resources) -> Result<Self, AccountingError> {
        before.released_to(&after)?;
        Ok(Released { before, after })
    }

    /// An instance that owned `held` and released none of it: a kill
    /// without unwinding, as under the `restart` configuration.
    pub const fn nothing(held: Resources) -> Self {
        Released { before: held, after: held }
    }

    /// The ledger before.
    pub const fn before(&self) -> Resources {
        self.before
    }

    /// The ledger after.
    pub const fn after(&self) -> Resources {
        self.after
    }

    /// What was released.
    pub fn amount(&self) -> Resources {
        self.before.excess_over(&self.after)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn some() -> Resources {
        Resources { frames: 4, heap_bytes: 4096, handles: 3, locks: 1, grants: 2, pending_ipc: 1 }
    }

    #[test]
    fn released_is_the_difference() {
        let after = Resources { frames: 1, heap_bytes: 96, ..Resources::ZERO };
        let released = Released::try_new(some(), after).unwrap();
        assert_eq!(
            released.amount(),
            Resources { frames: 3, heap_bytes: 4000, handles: 3, locks: 1, grants: 2, pending_ipc: 1 }
        );
        assert!(Released::nothing(some()).amount().is_zero());
    }

    #[test]
    fn a_ledger_that_grows_is_refused() {
        let after = some().with(ResourceKind::Locks, 2);
        assert_eq!(
            Released::try_new(some(), after),
            Err(AccountingError::Grew { kind: ResourceKind::Locks, before: 1, after: 2 })
        );
    }

    #[test]
    fn get_and_with_agree_for_every_kind() {
        for (i, kind) in ResourceKind::ALL.into_iter().enumerate() {
            let count = u64::try_from(i).unwrap() + 10;
            assert_eq!(Resources::ZERO.with(kind, count).get(kind), count);
        }
    }

    #[test]
    fn display_names_every_kind() {
        assert_eq!(some().to_string(), "frames=4 heap_bytes=4096 handles=3 locks=1 grants=2 pending_ipc=1");
    }
}
