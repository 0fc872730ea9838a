//! Interrupt tests: the IDT, exception reports, the timer and preemption.

use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use kernel_logic::trap_frame::has_error_code;

use super::{trigger, Case, Group};
use crate::gdt;
use crate::interrupts::exceptions::FaultReport;
use crate::interrupts::{apic, entry, idt};
use crate::thread::{self, FaultPolicy};
use crate::time;

/// The group.
pub static GROUP: Group = Group {
    name: "interrupts",
    cases: &[
        Case { name: "every_exception_has_a_gate", run: every_exception_has_a_gate },
        Case { name: "breakpoint_returns", run: breakpoint_returns },
        Case { name: "divide_error_is_reported", run: divide_error_is_reported },
        Case { name: "invalid_opcode_is_reported", run: invalid_opcode_is_reported },
        Case { name: "non_canonical_access_is_general_protection", run: non_canonical_is_gp },
        Case { name: "null_read_is_page_fault", run: null_read_is_page_fault },
        Case { name: "kernel_stack_overflow_is_caught_on_ist", run: kernel_stack_overflow_is_caught },
        Case { name: "timer_ticks_at_calibrated_rate", run: timer_ticks },
        Case { name: "timer_preempts_thread_that_never_yields", run: timer_preempts },
    ],
};

fn every_exception_has_a_gate() {
    for v in 0..32u8 {
        let gate = idt::gate(v).expect("IDT loaded");
        assert!(gate.is_present(), "vector {v}");
    }
    // The stubs' own table of error-code vectors agrees with the logic crate.
    let stubs: alloc::vec::Vec<(u8, u64)> = entry::stubs().collect();
    assert!(stubs.iter().any(|(v, _)| *v == 0x30));
    assert!(has_error_code(14) && !has_error_code(3));
    assert_eq!(idt::gate(14).and_then(|g| g.ist()), Some(gdt::IST_PAGE_FAULT));
    assert_eq!(idt::gate(8).and_then(|g| g.ist()), Some(gdt::IST_DOUBLE_FAULT));
    assert_eq!(idt::gate(2).and_then(|g| g.ist()), Some(gdt::IST_NMI));
    assert_eq!(idt::gate(18).and_then(|g| g.ist()), Some(gdt::IST_MACHINE_CHECK));
    assert_eq!(idt::gate(13).and_then(|g| g.ist()), None);
}

fn breakpoint_returns() {
    trigger::breakpoint();
    trigger::breakpoint();
}

/// Runs `f` in a thread killed by its fault; returns the report.
fn fault_in_thread(name: &str, f: fn()) -> FaultReport {
    let handle = thread::spawn(name, FaultPolicy::Kill, f).expect("spawn");
    handle.join().expect_err("the thread must fault")
}

fn divide_error_is_reported() {
    let r = fault_in_thread("divider", trigger::divide_by_zero);
    assert_eq!(r.vector, 0);
    assert_eq!(r.frame.error_code, 0);
    assert!(alloc::format!("{r}").starts_with("#DE divide error (vector 0)"));
}

fn invalid_opcode_is_reported() {
    let r = fault_in_thread("ud2", trigger::invalid_opcode);
    assert_eq!(r.vector, 6);
    // A fault reports the faulting instruction itself: `ud2` is 0F 0B.
    // SAFETY: rip points into the kernel's mapped code.
    let bytes = unsafe { core::ptr::read_volatile(r.frame.rip as *const [u8; 2]) };
    assert_eq!(bytes, [0x0F, 0x0B]);
}

fn non_canonical_is_gp() {
    let r = fault_in_thread("non-canonical", || {
        // SAFETY: faults on purpose; this thread is killed by it.
        unsafe { trigger::read_u64(0x8000_0000_0000_0000) };
    });
    assert_eq!(r.vector, 13);
    assert_eq!(r.frame.error_code, 0, "a non-canonical access reports no selector");
}

fn null_read_is_page_fault() {
    let r = fault_in_thread("null-reader", || {
        // SAFETY: faults on purpose; this thread is killed by it.
        unsafe { trigger::read_u64(0) };
    });
    assert_eq!(r.vector, 14);
    assert_eq!(r.cr2, Some(0));
    let text = alloc::format!("{r}");
    assert!(text.contains("kernel read, page not present"), "{text}");
    assert!(text.contains("rax ") && text.contains("r15 "), "all registers are printed");
}

fn kernel_stack_overflow_is_caught() {
    let r = fault_in_thread("recurser", || {
        trigger::overflow_stack(0);
    });
    assert_eq!(r.vector, 14);
    assert!(r.is_stack_guard_hit(), "{r}");
    assert!(alloc::format!("{r}").contains("stack overflow"));
}

fn timer_ticks() {
    let hz = apic::timer_hz();
    assert!(hz > 0, "timer calibrated");
    let t0 = time::ticks();
    let us0 = time::uptime_us();
    thread::sleep_ms(100);
    let dt = time::ticks() - t0;
    let dus = time::uptime_us() - us0;
    assert!(dt >= time::ms_to_ticks(100), "slept {dt} ticks");
    // Under emulation the TSC and the APIC timer both follow the host clock;
    // allow generous slack, but a timer at the wrong rate by 2x fails.
    assert!((50_000..2_000_000).contains(&dus), "100 ms of ticks took {dus} us by the TSC");
}

static STOP: AtomicBool = AtomicBool::new(false);
static SPINS: AtomicU64 = AtomicU64::new(0);

fn timer_preempts() {
    STOP.store(false, Ordering::SeqCst);
    SPINS.store(0, Ordering::SeqCst);
    let spinner = thread::spawn("spinner", FaultPolicy::Panic, || {
        // Never yields, never sleeps: only the timer can take the CPU away.
        while !STOP.load(Ordering::SeqCst) {
            SPINS.fetch_add(1, Ordering::Relaxed);
        }
        SPINS.load(Ordering::SeqCst)
    })
    .expect("spawn");
    // This thread comes back only if the timer preempts the spinner.
    for _ in 0..5 {
        thread::sleep_ms(20);
    }
    let seen = SPINS.load(Ordering::SeqCst);
    assert!(seen > 0, "the spinner ran");
    STOP.store(true, Ordering::SeqCst);
    let total = spinner.join().expect("spinner ends cleanly");
    assert!(total >= seen);
}
