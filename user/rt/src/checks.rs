//! Probe programs' checks: each passes or says why not, and a run of them
//! becomes the program's exit code, bit `i` set when check `i` failed, so
//! that the kernel's test cases report each check on its own from one run.

use crate::println;

/// A check: passes or says why not.
pub struct Check {
    /// Its name, as the kernel's test case names it.
    pub name: &'static str,
    /// The check.
    pub run: fn() -> Result<(), Failure>,
}

/// Why a check failed: a message and a number.
#[derive(Debug)]
pub struct Failure(pub &'static str, pub u64);

/// Fails with `what` (and `detail`) unless `ok`.
pub fn ensure(ok: bool, what: &'static str, detail: u64) -> Result<(), Failure> {
    if ok {
        Ok(())
    } else {
        Err(Failure(what, detail))
    }
}

/// Runs every check in order, printing `check: NAME ok` or `check: NAME
/// failed: WHY (DETAIL)`; returns the exit code (bit `i`: check `i` failed).
pub fn run_all(checks: &[Check]) -> i32 {
    let mut failed = 0i32;
    for (bit, check) in checks.iter().enumerate() {
        match (check.run)() {
            Ok(()) => println!("check: {} ok", check.name),
            Err(Failure(why, detail)) => {
                println!("check: {} failed: {why} ({detail:#x})", check.name);
                failed |= 1 << bit;
            }
        }
    }
    failed
}
