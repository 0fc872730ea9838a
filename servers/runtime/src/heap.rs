//! The heaps of the trusted address space: one exchange heap and one
//! private heap per server instance, each over its own static region.
//!
//! Allocations go to the *current* heap: the exchange heap, except while a
//! server runs (its proxy [`enter`]s the server's heap). Frees go to the heap
//! whose region holds the block, whatever is current, so a value allocated
//! by one heap may be dropped anywhere. Resetting a server's heap ([`reset`])
//! reclaims everything in it at once: the backstop of a restart. A server's
//! private data therefore never outlives its instance, and a corrupted
//! private heap cannot damage another (its blocks are never handed out by
//! another heap). Data that crosses servers lives in the exchange heap.
//!
//! The image has one thread, so no lock: a heap that is re-entered (a fault
//! inside the allocator whose handler allocates from the same heap) refuses
//! the nested allocation instead of corrupting its free list.

use core::alloc::{GlobalAlloc, Layout};
use core::cell::UnsafeCell;
use core::ptr::NonNull;
use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use linked_list_allocator::Heap;

/// A heap's number: [`EXCHANGE`] or a server's private heap.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeapId(usize);

/// The exchange heap, also the heap of the runtime and the recovery manager.
pub const EXCHANGE: HeapId = HeapId(0);
/// Private heaps, one per server instance slot.
pub const PRIVATE_HEAPS: usize = 5;
/// Bytes of the exchange heap: the unwinder's fault records, the manager's
/// books, messages in flight.
const EXCHANGE_BYTES: usize = 1 << 20;
/// Bytes of each private heap: a server's state and working data.
const PRIVATE_BYTES: usize = 192 << 10;
const HEAPS: usize = 1 + PRIVATE_HEAPS;
const TOTAL_BYTES: usize = EXCHANGE_BYTES + PRIVATE_HEAPS * PRIVATE_BYTES;

impl HeapId {
    /// Private heap number `index` (`< PRIVATE_HEAPS`).
    pub const fn private(index: usize) -> Option<Self> {
        if index < PRIVATE_HEAPS {
            Some(HeapId(1 + index))
        } else {
            None
        }
    }

    /// Where the heap's region starts, as an offset into the whole area.
    const fn offset(self) -> usize {
        if self.0 == 0 {
            0
        } else {
            EXCHANGE_BYTES + (self.0 - 1) * PRIVATE_BYTES
        }
    }

    const fn size(self) -> usize {
        if self.0 == 0 {
            EXCHANGE_BYTES
        } else {
            PRIVATE_BYTES
        }
    }
}

#[repr(C, align(4096))]
struct Area(UnsafeCell<[u8; TOTAL_BYTES]>);

// SAFETY: the area is only reached through the heaps below, by the image's
// one thread.
unsafe impl Sync for Area {}

static AREA: Area = Area(UnsafeCell::new([0; TOTAL_BYTES]));

struct Slot {
    heap: UnsafeCell<Heap>,
    ready: AtomicBool,
    busy: AtomicBool,
    bytes: AtomicUsize,
    blocks: AtomicUsize,
}

// SAFETY: one thread; `busy` guards against re-entry.
unsafe impl Sync for Slot {}

impl Slot {
    const fn new() -> Self {
        Slot {
            heap: UnsafeCell::new(Heap::empty()),
            ready: AtomicBool::new(false),
            busy: AtomicBool::new(false),
            bytes: AtomicUsize::new(0),
            blocks: AtomicUsize::new(0),
        }
    }
}

static SLOTS: [Slot; HEAPS] = [const { Slot::new() }; HEAPS];
static CURRENT: AtomicUsize = AtomicUsize::new(0);

/// Runs `f` on heap `id`'s allocator, formatting it first if needed; `None`
/// if the heap is already in use further up this thread's stack.
fn with_heap<R>(id: HeapId, f: impl FnOnce(&mut Heap) -> R) -> Option<R> {
    let slot = &SLOTS[id.0];
    if slot.busy.swap(true, Ordering::Acquire) {
        return None;
    }
    // SAFETY: `busy` was clear and is now set, so this is the only
    // reference to the heap until it is cleared below (one thread, and
    // re-entry is refused above).
    let heap = unsafe { &mut *slot.heap.get() };
    if !slot.ready.swap(true, Ordering::Relaxed) {
        // SAFETY: the heap's part of the static area is used by this heap
        // only; it is formatted once here (and again only by `reset`).
        unsafe { heap.init(AREA.0.get().cast::<u8>().add(id.offset()), id.size()) };
    }
    let r = f(heap);
    slot.busy.store(false, Ordering::Release);
    Some(r)
}

/// The heap whose region holds `ptr`.
fn owner(ptr: *mut u8) -> Option<HeapId> {
    let start = AREA.0.get() as usize;
    let offset = (ptr as usize).checked_sub(start).filter(|o| *o < TOTAL_BYTES)?;
    Some(if offset < EXCHANGE_BYTES { EXCHANGE } else { HeapId(1 + (offset - EXCHANGE_BYTES) / PRIVATE_BYTES) })
}

/// While alive, allocations go to another heap; the previous one is current
/// again when it is dropped.
pub struct Entered {
    previous: usize,
}

impl Drop for Entered {
    fn drop(&mut self) {
        CURRENT.store(self.previous, Ordering::Relaxed);
    }
}

/// Makes `id` the current heap until the guard is dropped.
pub fn enter(id: HeapId) -> Entered {
    Entered { previous: CURRENT.swap(id.0, Ordering::Relaxed) }
}

/// Makes the exchange heap current again, whatever the guards say: for the
/// recovery paths that discard frames without dropping their guards.
pub fn leave_all() {
    CURRENT.store(EXCHANGE.0, Ordering::Relaxed);
}

/// Heap `id`'s region: start address and size in bytes.
pub fn region(id: HeapId) -> (u64, u64) {
    (AREA.0.get() as u64 + id.offset() as u64, id.size() as u64)
}

/// The current heap.
pub fn current() -> HeapId {
    HeapId(CURRENT.load(Ordering::Relaxed))
}

/// Bytes and blocks allocated and not yet freed in heap `id`.
pub fn in_use(id: HeapId) -> (usize, usize) {
    let slot = &SLOTS[id.0];
    (slot.bytes.load(Ordering::Relaxed), slot.blocks.load(Ordering::Relaxed))
}

/// The backstop: forgets every block of private heap `id` and formats its
/// region again. Every pointer into it is dangling afterwards, which is why
/// only a server's own instance may point there.
pub fn reset(id: HeapId) {
    if id == EXCHANGE {
        return;
    }
    let slot = &SLOTS[id.0];
    // A fault inside this heap's allocator left it busy; the reset ends
    // that allocation too.
    slot.busy.store(false, Ordering::Relaxed);
    slot.ready.store(false, Ordering::Relaxed);
    slot.bytes.store(0, Ordering::Relaxed);
    slot.blocks.store(0, Ordering::Relaxed);
}

struct TasHeap;

#[global_allocator]
static HEAP: TasHeap = TasHeap;

// SAFETY: blocks come from `linked_list_allocator` over the heaps' disjoint
// regions, with at least the requested size and alignment, and are given
// back to the heap whose region holds them.
unsafe impl GlobalAlloc for TasHeap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let id = HeapId(CURRENT.load(Ordering::Relaxed));
        let block = with_heap(id, |h| h.allocate_first_fit(layout).ok()).flatten();
        match block {
            Some(p) => {
                SLOTS[id.0].bytes.fetch_add(layout.size(), Ordering::Relaxed);
                SLOTS[id.0].blocks.fetch_add(1, Ordering::Relaxed);
                p.as_ptr()
            }
            None => core::ptr::null_mut(),
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        let (Some(id), Some(p)) = (owner(ptr), NonNull::new(ptr)) else { return };
        // SAFETY: the caller guarantees `ptr` came from `alloc` with
        // `layout`, hence from the heap whose region holds it (the regions
        // are disjoint). No block of a heap is freed after that heap's
        // `reset`: only the instance owning the heap points into it, and the
        // instance is gone (dropped or discarded) before its heap is reset.
        let freed = with_heap(id, |h| unsafe { h.deallocate(p, layout) });
        if freed.is_some() {
            SLOTS[id.0].bytes.fetch_sub(layout.size(), Ordering::Relaxed);
            SLOTS[id.0].blocks.fetch_sub(1, Ordering::Relaxed);
        }
    }
}
