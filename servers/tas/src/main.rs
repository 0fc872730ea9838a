//! The trusted address space image. For now it holds the runtime and runs
//! its recovery self-test; the servers join it next.

#![no_std]
#![no_main]
#![forbid(unsafe_code)]

extern crate alloc;

use lazarus_rt::println;

fn main() -> i32 {
    if let Err(e) = tas_runtime::init() {
        println!("tas: cannot register the fault handler: {e}");
        return 1;
    }
    tas_runtime::selftest::run()
}

lazarus_rt::entry!(main);
