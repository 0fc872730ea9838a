//! What the runtime does the moment a fault is raised, before any frame is
//! unwound or discarded: note the heaps' usage (the ledger "at the fault",
//! from which the recovery manager computes what unwinding released), then,
//! under [`Recovery::Discard`], escape instead of unwinding. Under either
//! configuration, a fault the unwinder cannot unwind (a wild instruction
//! pointer or stack leaves it no frame to start from) escapes too: its
//! frames are discarded, and the backstop reclaims what they held.

use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use unwind::fault::{Fault, FaultKind};
use unwind::RaiseError;

use crate::heap;
use crate::start::Recovery;

static DISCARD: AtomicBool = AtomicBool::new(false);
static PRIVATE_BYTES: AtomicUsize = AtomicUsize::new(0);
static EXCHANGE_BYTES: AtomicUsize = AtomicUsize::new(0);

/// Heap bytes in use when the last fault was raised: in the heap that was
/// current (the faulting server's private heap), and in the exchange heap.
pub fn heap_bytes_at_last_fault() -> (usize, usize) {
    (PRIVATE_BYTES.load(Ordering::Relaxed), EXCHANGE_BYTES.load(Ordering::Relaxed))
}

/// Installs the raise hook for `recovery`.
pub(crate) fn install(recovery: Recovery) {
    DISCARD.store(recovery == Recovery::Discard, Ordering::Relaxed);
    unwind::set_raise_hook(on_raise);
    unwind::set_unwind_failed_hook(on_unwind_failed);
}

fn on_unwind_failed(kind: &FaultKind, why: RaiseError) {
    lazarus_rt::println!("tas: the fault cannot be unwound ({why:?}); its frames are discarded");
    crate::discard::escape(kind);
}

fn on_raise(fault: &Fault) {
    PRIVATE_BYTES.store(heap::in_use(heap::current()).0, Ordering::Relaxed);
    EXCHANGE_BYTES.store(heap::in_use(heap::EXCHANGE).0, Ordering::Relaxed);
    if DISCARD.load(Ordering::Relaxed) {
        crate::discard::escape(&fault.kind);
    }
}
