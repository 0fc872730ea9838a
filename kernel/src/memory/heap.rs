//! The kernel heap: `linked_list_allocator` behind an interrupt-masking lock,
//! with accounting.
//!
//! Every allocation and free is counted so tests (and later the recovery
//! checks) can prove that a piece of code gave back all it took.

use core::alloc::{GlobalAlloc, Layout};
use core::ptr::NonNull;

use kernel_logic::layout::{HEAP_SIZE, HEAP_START};
use linked_list_allocator::Heap;
use x86_64::structures::paging::Page;
use x86_64::VirtAddr;

use super::paging::{self, MapError, KERNEL_DATA};
use crate::sync::IrqMutex;

/// Heap accounting.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HeapStats {
    /// Bytes the heap manages.
    pub size: usize,
    /// Bytes handed out now, as the allocator rounds them.
    pub used: usize,
    /// Allocations not yet freed.
    pub live_allocations: u64,
    /// Allocations ever made.
    pub total_allocations: u64,
    /// Most bytes ever in use at once.
    pub peak_used: usize,
    /// Allocations refused for lack of memory.
    pub failed_allocations: u64,
}

struct Counted {
    heap: Heap,
    stats: HeapStats,
}

struct KernelHeap(IrqMutex<Counted>);

#[global_allocator]
static HEAP: KernelHeap = KernelHeap(IrqMutex::new(Counted { heap: Heap::empty(), stats: HeapStats {
    size: 0,
    used: 0,
    live_allocations: 0,
    total_allocations: 0,
    peak_used: 0,
    failed_allocations: 0,
} }));

// SAFETY: allocation and deallocation go through `linked_list_allocator`,
// which returns blocks of at least the layout's size and alignment from the
// heap region only, under a lock that also masks interrupts.
unsafe impl GlobalAlloc for KernelHeap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let mut c = self.0.lock();
        match c.heap.allocate_first_fit(layout) {
            Ok(p) => {
                c.stats.live_allocations += 1;
                c.stats.total_allocations += 1;
                c.stats.used = c.heap.used();
                c.stats.peak_used = c.stats.peak_used.max(c.stats.used);
                p.as_ptr()
            }
            Err(()) => {
                c.stats.failed_allocations += 1;
                core::ptr::null_mut()
            }
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        let Some(ptr) = NonNull::new(ptr) else { return };
        let mut c = self.0.lock();
        // SAFETY: the caller guarantees `ptr` came from `alloc` with `layout`.
        unsafe { c.heap.deallocate(ptr, layout) };
        c.stats.live_allocations = c.stats.live_allocations.saturating_sub(1);
        c.stats.used = c.heap.used();
    }
}

/// Maps the heap's pages and hands them to the allocator.
pub fn init() -> Result<(), MapError> {
    let pages = Page::range(
        Page::containing_address(VirtAddr::new(HEAP_START)),
        Page::containing_address(VirtAddr::new(HEAP_START + HEAP_SIZE)),
    );
    for page in pages {
        paging::map_fresh(page, KERNEL_DATA)?;
    }
    let mut c = HEAP.0.lock();
    // SAFETY: the range was just mapped writable, belongs to nothing else
    // (the heap area of the layout), and `init` runs once.
    unsafe { c.heap.init(HEAP_START as *mut u8, HEAP_SIZE as usize) };
    c.stats.size = HEAP_SIZE as usize;
    Ok(())
}

/// True if some code holds the heap's lock now (only meaningful on the
/// path of a panic: the panicking code may be the holder).
pub fn is_locked() -> bool {
    HEAP.0.is_locked()
}

/// The heap's accounting now.
pub fn stats() -> HeapStats {
    HEAP.0.lock().stats
}
