//! A panic outside every recovery boundary is a kernel panic: cause and
//! backtrace printed, then the end (here: QEMU exits, as the case expects).
//!
//! The test runner runs each case inside a boundary, so the case panics in a
//! thread of its own, which has none. The kernel panic ends the boot, so this
//! group has one case.

use super::{expect_fatal, Case, Group};
use crate::thread::{self, FaultPolicy};

/// The group.
pub static GROUP: Group = Group {
    name: "kernel_panic",
    cases: &[Case { name: "panic_outside_any_boundary_is_a_kernel_panic", run: panic_outside_boundary }],
};

fn panic_outside_boundary() {
    expect_fatal("deliberate panic outside any boundary");
    let handle = thread::spawn("unprotected", FaultPolicy::Panic, || {
        panic!("deliberate panic outside any boundary");
    })
    .expect("spawn");
    // Never returns: the panic above ends the kernel.
    let _ = handle.join();
}
