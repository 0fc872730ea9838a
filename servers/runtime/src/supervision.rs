//! The word the kernel watches: which server the thread is serving now.
//!
//! The proxy sets it to the server's number on entry and back to 0 on the
//! way out; the kernel's watchdog interrupts a thread that runs too long in
//! ring 3 while it is non-zero, and its `regflip` injector fires only while
//! it names the target server (see `lazarus_abi::syscall::SetWatchdog`).

use core::sync::atomic::{AtomicU64, Ordering};

use lazarus_rt::{sys, SyscallError};

static ACTIVE: AtomicU64 = AtomicU64::new(0);

/// Longest a server may run without answering before the watchdog makes it
/// unwind. Requests take microseconds; 200 ms is far beyond any of them and
/// still detects a hang within a fifth of a second.
pub const WATCHDOG_MS: u64 = 200;

/// Records that the thread now serves server number `server` (0: none).
pub fn set_active(server: u64) {
    ACTIVE.store(server, Ordering::SeqCst);
}

/// The server the thread serves now (0: none).
pub fn active() -> u64 {
    ACTIVE.load(Ordering::SeqCst)
}

/// Tells the kernel to watch the word, with the watchdog's limit.
pub fn arm_watchdog() -> Result<(), SyscallError> {
    sys::set_watchdog(&ACTIVE, WATCHDOG_MS)
}
