//! The heap of the trusted address space: a static region handed to
//! `linked_list_allocator` (single-threaded for now; the lock never spins).

use core::alloc::{GlobalAlloc, Layout};
use core::cell::UnsafeCell;
use core::ptr::NonNull;

use linked_list_allocator::Heap;

/// Bytes of heap: room for the unwinder's exceptions and the servers' state.
const HEAP_SIZE: usize = 1 << 20;

#[repr(C, align(4096))]
struct Region(UnsafeCell<[u8; HEAP_SIZE]>);

// SAFETY: the region is only reached through the allocator's lock.
unsafe impl Sync for Region {}

static REGION: Region = Region(UnsafeCell::new([0; HEAP_SIZE]));

struct TasHeap(spin::Mutex<Option<Heap>>);

#[global_allocator]
static HEAP: TasHeap = TasHeap(spin::Mutex::new(None));

// SAFETY: blocks come from `linked_list_allocator` over `REGION` only, with
// at least the requested size and alignment, under a lock.
unsafe impl GlobalAlloc for TasHeap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let mut guard = self.0.lock();
        let heap = guard.get_or_insert_with(|| {
            let mut h = Heap::empty();
            // SAFETY: the region is static, writable (.bss) and used by
            // nothing else; this runs once, under the lock.
            unsafe { h.init(REGION.0.get().cast(), HEAP_SIZE) };
            h
        });
        heap.allocate_first_fit(layout).map_or(core::ptr::null_mut(), NonNull::as_ptr)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if let (Some(heap), Some(p)) = (self.0.lock().as_mut(), NonNull::new(ptr)) {
            // SAFETY: the caller guarantees `ptr` came from `alloc` with `layout`.
            unsafe { heap.deallocate(p, layout) };
        }
    }
}
