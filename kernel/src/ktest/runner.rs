//! Runs a test group and speaks the serial protocol the host harness reads:
//!
//! ```text
//! ktest: list GROUP CASE          (test=list, one line per case, then)
//! ktest: end-list
//! ktest: group GROUP N cases
//! ktest: start CASE
//! ktest: pass CASE
//! ktest: fail CASE: MESSAGE
//! ktest: done GROUP passed=N failed=N
//! ```
//!
//! then QEMU exits with success only if every case passed. A case fails by
//! panicking (or faulting): each runs in a recovery boundary, so the group
//! goes on with the next case. A failure outside the boundary is a kernel
//! panic, which ends the group; the host reports the cases after it as not
//! run.

use core::sync::atomic::{AtomicUsize, Ordering};

use super::{Group, GROUPS};
use crate::exit::{exit_qemu, QemuExit};
use crate::{kprintln, serial};

/// No group or case: `usize::MAX` in the indices below.
const NONE: usize = usize::MAX;

static GROUP: AtomicUsize = AtomicUsize::new(NONE);
static CASE: AtomicUsize = AtomicUsize::new(NONE);
static PASSED: AtomicUsize = AtomicUsize::new(0);
static FAILED: AtomicUsize = AtomicUsize::new(0);
/// What the running case expects a kernel panic message to contain, if it
/// is meant to end in one.
static EXPECTED_FATAL: spin::Mutex<Option<&'static str>> = spin::Mutex::new(None);

/// Declares that the running case ends in a kernel panic whose message
/// contains `needle`; that panic then counts as the case passing.
pub fn expect_fatal(needle: &'static str) {
    *EXPECTED_FATAL.lock() = Some(needle);
}

fn current() -> Option<(&'static Group, &'static str)> {
    let g = GROUPS.get(GROUP.load(Ordering::SeqCst))?;
    let c = g.cases.get(CASE.load(Ordering::SeqCst))?;
    Some((g, c.name))
}

/// Runs `spec` (`list` or a group name) and exits QEMU.
pub fn run(spec: &str) -> ! {
    if spec == "list" {
        for g in GROUPS {
            for c in g.cases {
                kprintln!("ktest: list {} {}", g.name, c.name);
            }
        }
        kprintln!("ktest: end-list");
        exit_qemu(QemuExit::Success);
    }
    let Some((gi, group)) = GROUPS.iter().enumerate().find(|(_, g)| g.name == spec) else {
        kprintln!("ktest: unknown group '{spec}'; `test=list` lists them");
        exit_qemu(QemuExit::Failure);
    };
    GROUP.store(gi, Ordering::SeqCst);
    kprintln!("ktest: group {} {} cases", group.name, group.cases.len());
    for (ci, case) in group.cases.iter().enumerate() {
        CASE.store(ci, Ordering::SeqCst);
        kprintln!("ktest: start {}", case.name);
        let outcome = unwind::catch(case.run);
        if let Some(needle) = EXPECTED_FATAL.lock().take() {
            kprintln!("ktest: fail {}: returned, but a kernel panic with '{needle}' was expected", case.name);
            FAILED.fetch_add(1, Ordering::SeqCst);
            continue;
        }
        match outcome {
            Ok(()) => {
                kprintln!("ktest: pass {}", case.name);
                PASSED.fetch_add(1, Ordering::SeqCst);
            }
            Err(fault) => {
                kprintln!("{fault}");
                kprintln!("ktest: fail {}: {}", case.name, fault.summary());
                FAILED.fetch_add(1, Ordering::SeqCst);
            }
        }
    }
    CASE.store(NONE, Ordering::SeqCst);
    finish(group, PASSED.load(Ordering::SeqCst), FAILED.load(Ordering::SeqCst))
}

fn finish(group: &Group, passed: usize, failed: usize) -> ! {
    serial::emergency_write(format_args!("ktest: done {} passed={passed} failed={failed}\n", group.name));
    exit_qemu(if failed == 0 { QemuExit::Success } else { QemuExit::Failure })
}

/// Called by the panic handler: if a test case is running, reports it as
/// passed (an expected fatal fault) or failed, and ends the group.
pub fn on_kernel_panic(message: &str) {
    let Some((group, case)) = current() else { return };
    let expected = EXPECTED_FATAL.try_lock().and_then(|mut e| e.take());
    let passed = PASSED.load(Ordering::SeqCst);
    let failed = FAILED.load(Ordering::SeqCst);
    match expected {
        Some(needle) if message.contains(needle) => {
            serial::emergency_write(format_args!("ktest: pass {case}\n"));
            finish(group, passed + 1, failed)
        }
        _ => {
            // One line: the harness reads the message up to the line end.
            let first_line = message.lines().next().unwrap_or("");
            serial::emergency_write(format_args!("ktest: fail {case}: kernel panic: {first_line}\n"));
            finish(group, passed, failed + 1)
        }
    }
}
