//! A self-test of recovery inside the trusted address space: a page fault,
//! an invalid opcode and a panic, each three frames below a recovery
//! boundary holding drop guards, must come back as the right `Fault` with
//! every guard dropped. The kernel's `tas` test group runs it.

use core::arch::asm;
use core::hint::black_box;
use core::sync::atomic::{AtomicU32, Ordering};

use lazarus_rt::println;
use unwind::fault::{Fault, FaultKind};

static DROPS: AtomicU32 = AtomicU32::new(0);

struct Guard;

impl Drop for Guard {
    fn drop(&mut self) {
        DROPS.fetch_add(1, Ordering::SeqCst);
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Failure {
    NullRead,
    InvalidOpcode,
    Panic,
}

/// The faulting frame (it holds nothing: the unwinder skips it, see
/// docs/unwinding.md).
#[inline(never)]
fn fail(how: Failure) -> u64 {
    match how {
        Failure::NullRead => {
            let v: u64;
            // SAFETY: reads address 0, which is never mapped: a page fault,
            // delivered by the kernel to this image's unwinder.
            unsafe { asm!("mov {v}, qword ptr [{a}]", a = in(reg) 0u64, v = out(reg) v, options(nostack, may_unwind)) };
            v
        }
        Failure::InvalidOpcode => {
            // SAFETY: `ud2` raises #UD and does nothing else.
            unsafe { asm!("ud2", options(nostack, may_unwind)) };
            0
        }
        Failure::Panic => panic!("deliberate panic in the trusted address space"),
    }
}

#[inline(never)]
fn inner(how: Failure) -> u64 {
    let g = Guard;
    let v = fail(how);
    black_box(&g);
    v
}

#[inline(never)]
fn outer(how: Failure) -> u64 {
    let g = Guard;
    let v = inner(how);
    black_box(&g);
    v
}

fn check(how: Failure, round: u32) -> Result<(), i32> {
    let before = DROPS.load(Ordering::SeqCst);
    let fault: Fault = match unwind::catch(|| outer(how)) {
        Ok(_) => return Err(10),
        Err(f) => f,
    };
    if round == 0 {
        println!("tas: caught {}", fault.summary());
    }
    let right_kind = match (how, &fault.kind) {
        (Failure::NullRead, FaultKind::Exception(e)) => e.vector == 14 && e.address == Some(0),
        (Failure::InvalidOpcode, FaultKind::Exception(e)) => e.vector == 6,
        (Failure::Panic, FaultKind::Panic { message, .. }) => message.contains("deliberate panic"),
        _ => false,
    };
    if !right_kind {
        println!("tas: wrong fault: {}", fault.summary());
        return Err(11);
    }
    if DROPS.load(Ordering::SeqCst) != before + 2 {
        println!("tas: {} guards dropped, expected 2", DROPS.load(Ordering::SeqCst) - before);
        return Err(12);
    }
    Ok(())
}

/// Runs the self-test; 0 if every check passed, else the failing check's code.
pub fn run() -> i32 {
    for round in 0..100 {
        for how in [Failure::NullRead, Failure::InvalidOpcode, Failure::Panic] {
            if let Err(code) = check(how, round) {
                return code;
            }
        }
    }
    println!("tas: 300 faults in ring 3 caught and unwound, every guard dropped");
    0
}
