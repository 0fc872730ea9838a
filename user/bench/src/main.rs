//! User-side benchmarks: the cost of a system call and of a yield, of
//! mapping a page and of a grant's round, a request to a server of the
//! trusted address space, a direct call between two of its servers (timed
//! inside it), and a server's restart, measured from ring 3
//! with the time-stamp counter and printed as `bench:` lines that
//! `cargo xtask bench` collects. Handle 0 is the trusted address space's
//! endpoint, handle 1 an endpoint of the program's own.

#![no_std]
#![no_main]
#![forbid(unsafe_code)]

mod memory;
mod tas;

use lazarus_rt::client::crashtest::Timings;
use lazarus_rt::{println, sys};

/// Samples per benchmark: odd, so the median is one sample.
const SAMPLES: usize = 2001;

/// Prints the `bench:` line of `samples` (sorted here).
fn report(name: &str, samples: &mut [u64]) {
    match Timings::of(samples) {
        Some(timings) => print_timings(name, &timings),
        None => println!("bench: {name} has no samples"),
    }
}

/// Prints the `bench:` line of `timings`.
fn print_timings(name: &str, t: &Timings) {
    println!("bench: {name} median={} p90={} p99={} min={} samples={}", t.median, t.p90, t.p99, t.min, t.samples);
}

/// Times `op` [`SAMPLES`] times, after a warm-up, and reports it.
fn measure(name: &str, op: fn()) {
    let mut samples = [0u64; SAMPLES];
    // Warm the caches and the TLB first.
    for _ in 0..100 {
        op();
    }
    for s in samples.iter_mut() {
        let t0 = sys::cycles();
        op();
        *s = sys::cycles() - t0;
    }
    report(name, &mut samples);
}

fn main() -> i32 {
    measure("null_syscall", sys::null);
    measure("yield_syscall_alone", sys::yield_now);
    let memory = memory::run();
    let tas = tas::run();
    if memory && tas {
        0
    } else {
        1
    }
}

lazarus_rt::entry!(main);
