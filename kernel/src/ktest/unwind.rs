//! Unwinding tests: every fault kind inside a recovery boundary, with drop
//! guards of several kinds in the frames between the fault and the boundary.
//!
//! Each case checks what a user of a boundary relies on: the right `Fault`
//! comes back, every guard that was live is dropped exactly once and in the
//! right order (innermost frame first, within a frame in reverse order of
//! declaration), the kernel's accounting (frames, heap, held locks) is back
//! where it started, and the kernel goes on.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::hint::black_box;
use core::sync::atomic::{AtomicU64, Ordering};

use kernel_logic::layout::{StackHit, StackSlot, SCRATCH_START};
use kernel_logic::trap_frame::PageFaultCode;
use unwind::cfi;
use unwind::fault::{CfiKind, Fault, FaultKind};
use x86_64::structures::paging::PhysFrame;

use super::{trigger, Case, Group};
use crate::accounting;
use crate::memory::frames;
use crate::sync::{IrqGuard, IrqMutex};
use crate::thread::{self, FaultPolicy};
use crate::{kprintln, time};

/// The group.
pub static GROUP: Group = Group {
    name: "unwind",
    cases: &[
        Case { name: "panic", run: || check(Kind::Panic) },
        Case { name: "null_read", run: || check(Kind::NullRead) },
        Case { name: "unmapped_write", run: || check(Kind::UnmappedWrite) },
        Case { name: "non_canonical_gp", run: || check(Kind::NonCanonical) },
        Case { name: "invalid_opcode", run: || check(Kind::InvalidOpcode) },
        Case { name: "divide_by_zero", run: || check(Kind::DivideByZero) },
        Case { name: "stack_overflow", run: || check(Kind::StackOverflow) },
        Case { name: "cfi_return_address", run: || check(Kind::Cfi) },
        Case { name: "fallible_read_drops_its_own_frame", run: || check(Kind::FallibleRead) },
        Case { name: "coverage_gap_skips_and_reports_the_faulting_frame", run: coverage_gap },
        Case { name: "cfi_illegal_target", run: cfi_illegal_target },
        Case { name: "nested_boundaries", run: nested_boundaries },
        Case { name: "thousand_mixed_faults_leak_nothing", run: thousand_faults },
        Case { name: "symbols_resolve_kernel_functions", run: symbols_resolve },
        Case { name: "fault_to_boundary_cost", run: fault_cost },
        Case { name: "kernel_goes_on", run: kernel_goes_on },
    ],
};

/// The fault kinds, each triggered three frames below the boundary.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Panic,
    NullRead,
    UnmappedWrite,
    NonCanonical,
    InvalidOpcode,
    DivideByZero,
    StackOverflow,
    Cfi,
    FallibleRead,
}

const KINDS: [Kind; 9] = [
    Kind::Panic,
    Kind::NullRead,
    Kind::UnmappedWrite,
    Kind::NonCanonical,
    Kind::InvalidOpcode,
    Kind::DivideByZero,
    Kind::StackOverflow,
    Kind::Cfi,
    Kind::FallibleRead,
];

/// An address in the scratch area that is never mapped.
const UNMAPPED: u64 = SCRATCH_START + (512 << 20);
/// What the CFI case writes over a return address.
const BOGUS_RETURN: u64 = 0xDEAD_BEEF;

// --- Drop guards -----------------------------------------------------------

/// Names of dropped guards, in drop order.
static DROPS: IrqMutex<Vec<&'static str>> = IrqMutex::new(Vec::new());
/// Dropped counter guards.
static COUNTED: AtomicU64 = AtomicU64::new(0);
/// One lock per level, so guards of different levels never contend.
static LOCKS: [IrqMutex<u64>; 3] = [IrqMutex::new(0), IrqMutex::new(0), IrqMutex::new(0)];

fn dropped(name: &'static str) {
    DROPS.lock().push(name);
}

fn take_drops() -> Vec<&'static str> {
    core::mem::take(&mut *DROPS.lock())
}

/// A plain guard that only records its drop.
struct Tracked(&'static str);
impl Drop for Tracked {
    fn drop(&mut self) {
        dropped(self.0);
    }
}

/// A heap allocation.
struct HeapGuard(#[allow(dead_code)] Box<[u64; 32]>, &'static str);
impl Drop for HeapGuard {
    fn drop(&mut self) {
        dropped(self.1);
    }
}

/// A held spin lock (an `IrqMutex` guard: interrupts stay masked while held).
struct LockGuard(#[allow(dead_code)] IrqGuard<'static, u64>, &'static str);
impl Drop for LockGuard {
    fn drop(&mut self) {
        dropped(self.1);
    }
}

/// A physical frame, freed on drop.
struct FrameGuard(PhysFrame, &'static str);
impl Drop for FrameGuard {
    fn drop(&mut self) {
        frames::free(self.0).expect("the guard's frame was allocated");
        dropped(self.1);
    }
}

/// A counter bumped on drop.
struct CountGuard(&'static str);
impl Drop for CountGuard {
    fn drop(&mut self) {
        COUNTED.fetch_add(1, Ordering::SeqCst);
        dropped(self.0);
    }
}

macro_rules! level {
    ($name:ident, $lock:expr, $heap:literal, $lk:literal, $frame:literal, $count:literal, $next:expr) => {
        #[inline(never)]
        fn $name(kind: Kind) -> u64 {
            let heap = HeapGuard(Box::new([7; 32]), $heap);
            let lock = LockGuard(LOCKS[$lock].lock(), $lk);
            let frame = FrameGuard(frames::alloc().expect("a frame"), $frame);
            let count = CountGuard($count);
            let r = $next(kind);
            black_box((&heap, &lock, &frame, &count));
            r
        }
    };
}

level!(level1, 0, "1.heap", "1.lock", "1.frame", "1.count", level2);
level!(level2, 1, "2.heap", "2.lock", "2.frame", "2.count", level3);
level!(level3, 2, "3.heap", "3.lock", "3.frame", "3.count", fail);

const EXPECTED_DROPS: [&str; 12] = [
    "3.count", "3.frame", "3.lock", "3.heap", "2.count", "2.frame", "2.lock", "2.heap", "1.count", "1.frame",
    "1.lock", "1.heap",
];

/// Fails in the way `kind` says (never returns normally).
#[inline(never)]
fn fail(kind: Kind) -> u64 {
    match kind {
        Kind::Panic => panic!("deliberate panic"),
        // SAFETY: faults on purpose; the boundary catches it.
        Kind::NullRead => unsafe { trigger::read_u64(0) },
        // SAFETY: faults on purpose (the address is never mapped).
        Kind::UnmappedWrite => unsafe {
            trigger::write_u64(UNMAPPED, 1);
            0
        },
        // SAFETY: faults on purpose (#GP); the boundary catches it.
        Kind::NonCanonical => unsafe { trigger::read_u64(0x8000_0000_0000_0000) },
        Kind::InvalidOpcode => {
            trigger::invalid_opcode();
            0
        }
        Kind::DivideByZero => {
            trigger::divide_by_zero();
            0
        }
        Kind::StackOverflow => trigger::overflow_stack(0),
        Kind::Cfi => cfi::guarded("unwind-test-entry", || {
            let slot = cfi::current_return_slot().expect("inside a guarded call");
            // SAFETY: overwrites the guarded frame's return address on
            // purpose; the guard restores it before anything uses it.
            unsafe { (slot as *mut u64).write_volatile(BOGUS_RETURN) };
            0
        }),
        Kind::FallibleRead => fallible_frame(UNMAPPED),
    }
}

/// A frame holding a guard whose fault is at a registered fallible access:
/// its own guard is dropped too.
#[inline(never)]
fn fallible_frame(addr: u64) -> u64 {
    let guard = Tracked("fallible.inner");
    // SAFETY: faults on purpose (the address is unmapped).
    let v = unsafe { unwind::fallible::read_u64(addr) };
    black_box(&guard);
    v
}

// --- Checks ------------------------------------------------------------------

fn assert_kind(kind: Kind, fault: &Fault) {
    match (kind, &fault.kind) {
        (Kind::Panic, FaultKind::Panic { message, location }) => {
            assert_eq!(message, "deliberate panic");
            assert!(location.as_ref().is_some_and(|l| l.file.ends_with("unwind.rs")));
        }
        (Kind::Cfi, FaultKind::Cfi(v)) => {
            assert_eq!(v.site, "unwind-test-entry");
            assert!(matches!(v.kind, CfiKind::ReturnAddress { found: BOGUS_RETURN, .. }), "{v:?}");
        }
        (_, FaultKind::Exception(e)) => {
            let code = PageFaultCode(e.frame.error_code);
            match kind {
                Kind::NullRead => assert!(e.vector == 14 && e.address == Some(0) && !code.write()),
                Kind::UnmappedWrite | Kind::FallibleRead => {
                    assert!(e.vector == 14 && e.address == Some(UNMAPPED) && code.write() == (kind == Kind::UnmappedWrite))
                }
                Kind::NonCanonical => assert_eq!(e.vector, 13),
                Kind::InvalidOpcode => assert_eq!(e.vector, 6),
                Kind::DivideByZero => assert_eq!(e.vector, 0),
                Kind::StackOverflow => {
                    assert_eq!(e.vector, 14);
                    let hit = e.address.and_then(StackSlot::classify);
                    assert!(matches!(hit, Some(StackHit::Guard(_))), "{hit:?}");
                }
                _ => panic!("{kind:?} came back as an exception: {}", fault.summary()),
            }
            assert_eq!(fault.backtrace.frames().first(), Some(&e.frame.rip), "backtrace starts at the fault");
        }
        _ => panic!("{kind:?} came back as {}", fault.summary()),
    }
}

/// Runs `kind` in a boundary and checks the fault, the drops and accounting.
fn run_one(kind: Kind, print: bool) {
    let before = accounting::snapshot();
    let counted = COUNTED.load(Ordering::SeqCst);
    let mut expected: Vec<&str> = Vec::with_capacity(EXPECTED_DROPS.len() + 1);
    if kind == Kind::FallibleRead {
        expected.push("fallible.inner");
    }
    expected.extend(EXPECTED_DROPS);
    let fault = unwind::catch(|| level1(kind)).expect_err("the fault comes back as Err");
    let drops = take_drops();
    let cleaned = fault.unwind.frames_cleaned;
    // What the test itself still holds (the fault, the drop log) goes
    // before the accounting is compared.
    let after = {
        if print {
            kprintln!("caught: {fault}");
        }
        assert_kind(kind, &fault);
        drop(fault);
        assert_eq!(drops, expected, "every live guard dropped once, innermost first");
        drop(drops);
        drop(expected);
        accounting::snapshot()
    };
    assert_eq!(COUNTED.load(Ordering::SeqCst), counted + 3);
    assert!(LOCKS.iter().all(|l| !l.is_locked()), "every lock released");
    assert!(cleaned >= 3, "landing pads ran in {cleaned} frames");
    assert_eq!(after, before, "accounting back to its start");
}

fn check(kind: Kind) {
    // Warm up (the first stack overflow maps nothing new, but the first
    // fault of a kind may grow the heap's free lists), then check exactly.
    let _ = unwind::catch(|| level1(kind));
    take_drops();
    run_one(kind, true);
}

// --- The other cases -----------------------------------------------------------

#[inline(never)]
fn gap_frame(addr: u64) -> u64 {
    let guard = Tracked("gap.inner");
    // Gives the frame a landing pad for this point, but none for the load.
    trigger::may_unwind_point();
    // SAFETY: faults on purpose (the address is unmapped).
    let v = unsafe { trigger::plain_read(addr) };
    black_box(&guard);
    v
}

#[inline(never)]
fn gap_outer(addr: u64) -> u64 {
    let guard = Tracked("gap.outer");
    let v = gap_frame(addr);
    black_box(&guard);
    v
}

fn coverage_gap() {
    take_drops();
    let fault = unwind::catch(|| gap_outer(UNMAPPED)).expect_err("faults");
    kprintln!("caught: {fault}");
    assert_eq!(fault.vector(), Some(14));
    // The rule: the faulting frame is skipped, not guessed at; its guard is
    // never dropped (neither twice nor while possibly dead) ...
    assert_eq!(take_drops(), ["gap.outer"]);
    // ... and the skip is reported, naming the frame.
    assert_eq!(fault.unwind.frames_skipped, 1);
    let skipped = fault.unwind.skipped_frames()[0];
    let symbols = unwind::symbols::installed().expect("kernel symbols installed");
    let name = alloc::format!("{}", symbols.lookup(skipped).expect("skipped frame resolves"));
    assert!(name.contains("gap_frame"), "{name}");
    assert!(alloc::format!("{fault}").contains("skipped 1 frame(s) whose locals were not dropped"));
}

fn allowed_target() {}

fn cfi_illegal_target() {
    let allowed = [allowed_target as *const () as u64];
    assert_eq!(cfi::check_target(allowed[0], &allowed), Ok(()));
    let bogus = allowed[0] + 1;
    let fault = unwind::catch(|| {
        if cfi::check_target(bogus, &allowed).is_err() {
            cfi::raise_illegal_target("cfi-test", bogus);
        }
    })
    .expect_err("an illegal target is a fault");
    assert!(matches!(fault.kind, FaultKind::Cfi(v) if v.kind == CfiKind::IllegalTarget { target: bogus }));
}

fn nested_boundaries() {
    let outer = unwind::catch(|| {
        let inner = unwind::catch(|| level1(Kind::NullRead));
        assert!(inner.is_err(), "the inner boundary catches its fault");
        take_drops();
        // The outer boundary is still armed.
        level1(Kind::Panic)
    });
    assert!(matches!(outer, Err(Fault { kind: FaultKind::Panic { .. }, .. })));
    assert!(matches!(unwind::catch(|| 5), Ok(5)), "no fault, no error");
}

fn thousand_faults() {
    for kind in KINDS {
        let _ = unwind::catch(|| level1(kind));
    }
    take_drops();
    let before = accounting::snapshot();
    let t0 = time::tsc();
    for i in 0..1000 {
        let kind = KINDS[i % KINDS.len()];
        assert!(unwind::catch(|| level1(kind)).is_err());
        let drops = take_drops();
        assert_eq!(drops.len(), 12 + usize::from(kind == Kind::FallibleRead), "{kind:?}");
    }
    let cycles = time::tsc() - t0;
    let after = accounting::snapshot();
    assert_eq!(after, before, "1,000 faults leak nothing");
    let hz = time::tsc_hz().max(1);
    kprintln!("ktest-figure: 1000 mixed faults (each with 12 guards) in {} ms", cycles * 1000 / hz);
}

/// Time from raising a fault to the boundary's return, per kind, with no
/// guards in between. Under QEMU's `-icount shift=0` the guest clock
/// advances one nanosecond per instruction, so the nanoseconds printed are
/// guest instructions.
fn fault_cost() {
    const ROUNDS: u64 = 50;
    let hz = time::tsc_hz().max(1);
    let kinds: [(&str, fn()); 4] = [
        ("panic", || panic!("cost")),
        ("page fault (fallible read)", || {
            // SAFETY: faults on purpose (unmapped).
            unsafe { unwind::fallible::read_u64(UNMAPPED) };
        }),
        ("page fault (plain read)", || {
            // SAFETY: faults on purpose (unmapped).
            unsafe { trigger::read_u64(UNMAPPED) };
        }),
        ("invalid opcode", trigger::invalid_opcode),
    ];
    for (name, f) in kinds {
        assert!(unwind::catch(f).is_err());
        let t0 = time::tsc();
        for _ in 0..ROUNDS {
            assert!(unwind::catch(f).is_err());
        }
        let ns = (time::tsc() - t0) * 1_000_000_000 / hz / ROUNDS;
        assert!(ns > 0);
        kprintln!("ktest-figure: {name}: {ns} ns from fault to boundary return");
    }
}

fn symbols_resolve() {
    let symbols = unwind::symbols::installed().expect("kernel symbols installed");
    assert!(symbols.len() > 100, "{} symbols", symbols.len());
    let f = level2 as *const () as u64;
    let r = symbols.lookup(f + 1).expect("resolves");
    assert_eq!(r.offset, 1);
    assert!(alloc::format!("{r}").contains("level2"));
}

fn kernel_goes_on() {
    let h = thread::spawn("after-faults", FaultPolicy::Panic, || 42).expect("spawn");
    assert_eq!(h.join().expect("no fault"), 42);
    assert_eq!(accounting::snapshot().held_locks, 0);
}
