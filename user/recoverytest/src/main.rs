//! Checks of server recovery that only a running system can answer, run
//! against a fresh trusted address space by the kernel's `recovery` test
//! group; and, in the boots of the `storage`, `persist_write` and
//! `persist_verify` groups (the boot option `test=`), the checks of the
//! disk server and of the files on the disk.
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
mod disk;
mod persist;
mod probe;
mod storage;

use lazarus_rt::{println, sys};

use checks::Check;

/// Bytes of the boot options read: the kernel's command line is short.
const OPTIONS_BYTES: usize = 256;

/// Whether the boot option `key` has the value `value`.
pub fn option_is(key: &str, value: &str) -> bool {
    let mut buf = [0u8; OPTIONS_BYTES];
    let len = sys::boot_options(&mut buf).unwrap_or(0).min(OPTIONS_BYTES);
    let options = core::str::from_utf8(&buf[..len]).unwrap_or("");
    options.split_whitespace().filter_map(|word| word.split_once('=')).any(|(k, v)| k == key && v == value)
}

/// The checks of the test group that started this boot: the recovery
/// checks unless it is one of the disk groups.
fn suite() -> &'static [Check] {
    if option_is("test", "storage") {
        storage::CHECKS
    } else if option_is("test", "persist_write") {
        persist::WRITE
    } else if option_is("test", "persist_verify") {
        persist::VERIFY
    } else {
        checks::ALL
    }
}

fn main() -> i32 {
    let mut failed = 0i32;
    for (bit, check) in suite().iter().enumerate() {
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
