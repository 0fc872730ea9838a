//! [`DiskLink`]: how the running file server stands to the disk, kept in its store so that a restart knows without asking the disk.

use resilient_store::Storable;

use super::format::SectorSpan;

/// Where the files live, decided at the first request of a boot and kept
/// in the store's link slot (which is not part of the disk image: it
/// describes this boot). No link kept (the slot empty) means not decided
/// yet: a first start, or an instance that faulted before it decided.
#[derive(Storable, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DiskLink {
    /// In memory only: there is no disk, or its contents are not the file
    /// server's to overwrite.
    Memory,
    /// On the disk, which holds the image but for `pending` sectors:
    /// marked before each change is written to the store and cleared once
    /// the disk took it, so that what a fault or a disk error interrupted
    /// is written on the next change.
    Attached {
        /// Sectors the disk may not have as the store holds them.
        pending: SectorSpan,
    },
}

impl DiskLink {
    /// On the disk with nothing pending.
    pub(crate) const IN_STEP: DiskLink = DiskLink::Attached { pending: SectorSpan::EMPTY };

    /// Whether the disk is behind the store: attached with pending sectors.
    pub(crate) fn lags(self) -> bool {
        matches!(self, DiskLink::Attached { pending } if !pending.is_empty())
    }
}
