//! A first user program: prints a greeting, checks a system-call error,
//! exits with a known code (the in-kernel tests check it).

#![no_std]
#![no_main]
#![forbid(unsafe_code)]

use lazarus_rt::{println, sys, SyscallError};

/// Exit code the tests expect.
const EXIT_CODE: i32 = 7;

fn main() -> i32 {
    println!("hello from a user program");
    // A length above the call's limit is the caller's mistake: a typed error.
    let too_long = sys::debug_write(&[b'x'; 5000]);
    if too_long != Err(SyscallError::TooLong) {
        println!("unexpected result {too_long:?}");
        return 1;
    }
    let squares: u64 = (1..=10u64).map(|i| i * i).sum();
    println!("sum of the first ten squares: {squares}");
    EXIT_CODE
}

lazarus_rt::entry!(main);
