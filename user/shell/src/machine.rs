//! What the kernel says about the machine: `ps`, `mem`, and `bench` (the
//! cost of a system call, measured from the shell, and of a direct call
//! between two servers, measured inside the trusted address space).

use lazarus_rt::client::crashtest;
use lazarus_rt::{print, println, sys, SyscallError};

use crate::service::Told;

/// Bytes of the buffers the kernel's reports are read into.
const REPORT_BYTES: usize = 4096;
/// System calls timed by `bench` (odd: the median is one of them).
const BENCH_SAMPLES: usize = 501;

/// `ps`: the kernel's threads.
pub fn ps() {
    report("ps", sys::thread_list);
}

/// `mem`: physical frames and the kernel heap.
pub fn mem() {
    report("mem", sys::mem_info);
}

/// Prints the report the kernel writes with `read`.
fn report(name: &str, read: fn(&mut [u8]) -> Result<usize, SyscallError>) {
    let mut buf = [0u8; REPORT_BYTES];
    match read(&mut buf) {
        Ok(n) => print!("{}", core::str::from_utf8(&buf[..n]).unwrap_or("(not text)\n")),
        Err(e) => println!("{name}: {e}"),
    }
}

/// `bench`: the median and least cost of the null system call, and of a
/// direct call between two servers of the TAS.
pub fn bench() {
    let mut samples = [0u64; BENCH_SAMPLES];
    for s in samples.iter_mut() {
        let t0 = sys::cycles();
        sys::null();
        *s = sys::cycles().wrapping_sub(t0);
    }
    samples.sort_unstable();
    println!(
        "null system call: median {} TSC cycles, minimum {} ({} samples; `cargo xtask bench` \
         gives guest instructions)",
        samples[BENCH_SAMPLES / 2],
        samples[0],
        BENCH_SAMPLES
    );
    match crashtest::time_calls(BENCH_SAMPLES as u16) {
        Ok(t) => println!(
            "direct call between two servers (crashtest to console, in the trusted address space): median {} TSC \
             cycles, minimum {} ({} samples)",
            t.median, t.min, t.samples
        ),
        Err(e) => println!("bench: the direct call between two servers: {}", Told(e)),
    }
}
