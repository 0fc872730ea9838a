//! Kernel time: the timer tick count and a microsecond clock from the TSC.

use core::sync::atomic::{AtomicU64, Ordering};

/// Timer interrupts per second. 100 Hz (a 10 ms time slice) keeps the cost of
/// interrupts small under QEMU's software emulation while sleeping and
/// preemption stay well below human-noticeable delays.
pub const TICK_HZ: u64 = 100;

static TICKS: AtomicU64 = AtomicU64::new(0);
static TSC_AT_BOOT: AtomicU64 = AtomicU64::new(0);
/// TSC counts per second; 0 until calibrated.
static TSC_HZ: AtomicU64 = AtomicU64::new(0);

fn rdtsc() -> u64 {
    // SAFETY: `rdtsc` only reads the time-stamp counter.
    unsafe { core::arch::x86_64::_rdtsc() }
}

/// Notes the TSC at boot; uptime counts from here.
pub fn record_boot() {
    TSC_AT_BOOT.store(rdtsc(), Ordering::Relaxed);
}

/// The TSC now.
pub fn tsc() -> u64 {
    rdtsc()
}

/// Sets the TSC frequency once it has been measured.
pub fn set_tsc_hz(hz: u64) {
    TSC_HZ.store(hz, Ordering::Relaxed);
}

/// The TSC frequency, 0 if not yet calibrated.
pub fn tsc_hz() -> u64 {
    TSC_HZ.load(Ordering::Relaxed)
}

/// Microseconds since boot (0 until the TSC is calibrated).
pub fn uptime_us() -> u64 {
    let hz = TSC_HZ.load(Ordering::Relaxed);
    if hz == 0 {
        return 0;
    }
    let elapsed = rdtsc().wrapping_sub(TSC_AT_BOOT.load(Ordering::Relaxed));
    (u128::from(elapsed) * 1_000_000 / u128::from(hz)) as u64
}

/// Timer ticks since the timer started.
pub fn ticks() -> u64 {
    TICKS.load(Ordering::Relaxed)
}

/// Counts one timer tick; returns the new count.
pub fn count_tick() -> u64 {
    TICKS.fetch_add(1, Ordering::Relaxed) + 1
}

/// Whole ticks covering at least `ms` milliseconds.
pub fn ms_to_ticks(ms: u64) -> u64 {
    (ms * TICK_HZ).div_ceil(1000)
}
