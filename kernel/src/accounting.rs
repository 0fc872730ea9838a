//! What the kernel has handed out, in one snapshot: the figures a test (and
//! later the recovery manager) compares before and after a piece of work to
//! prove it gave everything back.

use crate::memory::{frames, heap};
use crate::sync;

/// Resources in use at one moment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Snapshot {
    /// Frames handed out by the frame allocator.
    pub frames: u64,
    /// Bytes in use in the kernel heap.
    pub heap_bytes: usize,
    /// Live heap allocations.
    pub heap_allocations: u64,
    /// `IrqMutex` guards alive.
    pub held_locks: usize,
}

/// The resources in use now.
pub fn snapshot() -> Snapshot {
    let h = heap::stats();
    Snapshot {
        frames: frames::counters().allocated,
        heap_bytes: h.used,
        heap_allocations: h.live_allocations,
        held_locks: sync::held_locks(),
    }
}
