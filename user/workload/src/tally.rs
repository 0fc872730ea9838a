//! The count of stub calls the workload made, for its [`crate::MIN_OPS`]
//! requirement.
//!
//! Each stub call sends at least one request (a long write or read sends
//! several, a retry more), so the count is a lower bound of the requests
//! the TAS served: the workload never stops before the injector's `ops`
//! triggers could have fired.

use core::sync::atomic::{AtomicU64, Ordering};

/// Stub calls so far. The workload has one thread; the atomic only keeps
/// the counter free of `unsafe`.
static CALLS: AtomicU64 = AtomicU64::new(0);

/// Counts one stub call.
pub fn add_call() {
    CALLS.fetch_add(1, Ordering::Relaxed);
}

/// Stub calls so far.
pub fn calls() -> u64 {
    CALLS.load(Ordering::Relaxed)
}
