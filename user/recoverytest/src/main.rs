//! Checks of server recovery that only a running system can answer, run
//! against a fresh trusted address space by the kernel's `recovery` test
//! group.
//!
//! Each check (see [`checks`]) drives faults through the system server's
//! `Inject`, then looks at what a user would: the typed error of the call
//! in flight, the data the servers keep, each server's generation,
//! state and memory (`Info`, `Usage`). Every check prints
//! `check: NAME ok` or `check: NAME failed: WHY`; the exit code has bit
//! `i` set when check `i` failed, so the kernel's test cases can report
//! each check on its own from one run.

#![no_std]
#![no_main]
#![forbid(unsafe_code)]

mod checks;
mod probe;

use lazarus_rt::println;

fn main() -> i32 {
    let mut failed = 0i32;
    for (bit, check) in checks::ALL.iter().enumerate() {
        match (check.run)() {
            Ok(()) => println!("check: {} ok", check.name),
            Err(why) => {
                println!("check: {} failed: {why}", check.name);
                failed |= 1 << bit;
            }
        }
    }
    failed
}

lazarus_rt::entry!(main);
