//! User-side benchmarks: the cost of a system call and of a yield, measured
//! from ring 3 with the time-stamp counter, printed as `bench:` lines that
//! `cargo xtask bench` collects.

#![no_std]
#![no_main]
#![forbid(unsafe_code)]

use lazarus_rt::{println, sys};

/// Samples per benchmark: odd, so the median is one sample.
const SAMPLES: usize = 2001;

fn report(name: &str, samples: &mut [u64; SAMPLES]) {
    samples.sort_unstable();
    let median = samples[SAMPLES / 2];
    let p90 = samples[SAMPLES * 9 / 10];
    println!("bench: {name} median={median} p90={p90} min={} samples={SAMPLES}", samples[0]);
}

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
    0
}

lazarus_rt::entry!(main);
