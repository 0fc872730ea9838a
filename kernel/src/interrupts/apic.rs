//! The local APIC: interrupt acknowledgement and the periodic timer.

use core::sync::atomic::{AtomicU64, Ordering};

use kernel_logic::calibration;
use x86_64::registers::model_specific::Msr;
use x86_64::PhysAddr;

use super::{pit, vectors};
use crate::memory::paging::{self, MapError};
use crate::time;

/// MSR holding the APIC's physical base and enable bit.
const IA32_APIC_BASE: u32 = 0x1B;
/// Global enable bit of `IA32_APIC_BASE`.
const APIC_GLOBAL_ENABLE: u64 = 1 << 11;

// Register offsets (Intel SDM Vol. 3A, table 11-1).
const REG_TPR: u64 = 0x80;
const REG_EOI: u64 = 0xB0;
const REG_SVR: u64 = 0xF0;
const REG_LVT_TIMER: u64 = 0x320;
const REG_LVT_LINT0: u64 = 0x350;
const REG_TIMER_INITIAL: u64 = 0x380;
const REG_TIMER_CURRENT: u64 = 0x390;
const REG_TIMER_DIVIDE: u64 = 0x3E0;

/// SVR bit 8: APIC software enable.
const SVR_ENABLE: u32 = 1 << 8;
/// LVT bit 16: masked.
const LVT_MASKED: u32 = 1 << 16;
/// LVT timer bit 17: periodic mode.
const LVT_PERIODIC: u32 = 1 << 17;
/// LVT LINT0 value: delivery mode ExtINT (0b111 in bits 8–10), unmasked;
/// bit 15 (level) as firmware writes it, though ExtINT ignores it (Intel SDM
/// Vol. 3A, 11.5.1). The 8259's output then reaches the CPU.
const LINT0_EXTINT: u32 = 0x8700;
/// Divide configuration value for "divide by 16".
const DIVIDE_BY_16: u32 = 0b0011;
/// Length of the calibration one-shot: long enough for a precise count
/// (the PIT runs at 1.19 MHz), short enough not to slow boot.
const CALIBRATION_MS: u64 = 10;

/// Virtual address of the APIC registers; 0 before `init`.
static BASE: AtomicU64 = AtomicU64::new(0);
/// Timer counts per second, after calibration.
static TIMER_HZ: AtomicU64 = AtomicU64::new(0);

fn reg(offset: u64) -> *mut u32 {
    (BASE.load(Ordering::Relaxed) + offset) as *mut u32
}

fn read(offset: u64) -> u32 {
    // SAFETY: `init` mapped the APIC's register page at BASE, uncached;
    // registers are 32-bit and 16-byte aligned.
    unsafe { reg(offset).read_volatile() }
}

fn write(offset: u64, value: u32) {
    // SAFETY: as in `read`.
    unsafe { reg(offset).write_volatile(value) }
}

/// Why the timer could not be started.
#[derive(Debug)]
pub enum ApicError {
    /// Mapping the registers failed.
    Map(MapError),
    /// The PIT one-shot could not be timed.
    Calibration,
}

impl core::fmt::Display for ApicError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Map(e) => write!(f, "cannot map the APIC registers: {e:?}"),
            Self::Calibration => f.write_str("the PIT one-shot used for calibration failed"),
        }
    }
}

/// Maps and enables the local APIC, with every interrupt source masked.
pub fn init() -> Result<(), ApicError> {
    // SAFETY: reading IA32_APIC_BASE has no side effects; it exists on every
    // x86_64 CPU.
    let msr = unsafe { Msr::new(IA32_APIC_BASE).read() };
    if msr & APIC_GLOBAL_ENABLE == 0 {
        // SAFETY: setting the global enable bit with the same base only
        // turns the APIC on.
        unsafe { Msr::new(IA32_APIC_BASE).write(msr | APIC_GLOBAL_ENABLE) };
    }
    let phys = PhysAddr::new(msr & 0x000F_FFFF_FFFF_F000);
    let virt = paging::map_mmio(phys, 4096).map_err(ApicError::Map)?;
    BASE.store(virt.as_u64(), Ordering::Relaxed);
    write(REG_TPR, 0);
    write(REG_LVT_TIMER, LVT_MASKED);
    write(REG_SVR, SVR_ENABLE | u32::from(vectors::APIC_SPURIOUS));
    Ok(())
}

/// Measures the APIC timer (and the TSC) against the PIT, then starts the
/// timer firing `tick_hz` times a second. Returns the APIC timer frequency.
pub fn start_timer(tick_hz: u64) -> Result<u64, ApicError> {
    write(REG_TIMER_DIVIDE, DIVIDE_BY_16);
    write(REG_LVT_TIMER, LVT_MASKED);
    let (mut tsc0, mut tsc1, mut left) = (0, 0, 0);
    let count = pit::time_oneshot(
        CALIBRATION_MS,
        || {
            write(REG_TIMER_INITIAL, u32::MAX);
            tsc0 = time::tsc();
        },
        || {
            left = read(REG_TIMER_CURRENT);
            tsc1 = time::tsc();
        },
    )
    .ok_or(ApicError::Calibration)?;
    let hz = calibration::timer_hz(u64::from(u32::MAX - left), count).ok_or(ApicError::Calibration)?;
    if let Some(tsc_hz) = calibration::timer_hz(tsc1 - tsc0, count) {
        time::set_tsc_hz(tsc_hz);
    }
    TIMER_HZ.store(hz, Ordering::Relaxed);
    write(REG_LVT_TIMER, u32::from(vectors::TIMER) | LVT_PERIODIC);
    write(REG_TIMER_INITIAL, calibration::reload_for(hz, tick_hz));
    Ok(hz)
}

/// Lets the legacy 8259's interrupts in through LINT0 ("virtual wire"
/// mode), as firmware usually leaves it; every PIC line stays masked until
/// `interrupts::irq` unmasks one.
pub fn enable_extint() {
    write(REG_LVT_LINT0, LINT0_EXTINT);
}

/// Signals the end of the interrupt being handled.
pub fn end_of_interrupt() {
    write(REG_EOI, 0);
}

/// The calibrated timer frequency in Hz (0 before `start_timer`).
pub fn timer_hz() -> u64 {
    TIMER_HZ.load(Ordering::Relaxed)
}
