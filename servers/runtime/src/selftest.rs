//! A self-test of recovery inside the trusted address space: a page fault,
//! an invalid opcode and a panic, each three frames below a recovery
//! boundary holding drop guards, must come back as the right `Fault` with
//! every guard dropped, and their backtraces must name this module's
//! functions (through the kernel's `symbolize`). The kernel flips a bit of
//! this image's code only for the thread it supervises, and `repair_code`
//! writes the image's byte back. The kernel's `tas` test group runs it.

use core::arch::asm;
use core::hint::black_box;
use core::sync::atomic::{AtomicU32, Ordering};

use lazarus_rt::{println, sys, SyscallError};
use unwind::fault::{Fault, FaultKind};
use unwind::symbols::write_truncated;

/// Bytes of the buffer a backtrace is printed into for checking: room for
/// a dozen symbolized frames.
const BACKTRACE_TEXT: usize = 4096;

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
        // The frames below the boundary, named by the kernel's symbolize.
        let mut text = [0u8; BACKTRACE_TEXT];
        let n = write_truncated(&mut text, format_args!("{}", fault.backtrace));
        let text = core::str::from_utf8(&text[..n]).unwrap_or_default();
        if !text.contains("tas_runtime::selftest::inner+0x") || !text.contains("tas_runtime::selftest::outer+0x") {
            println!("tas: backtrace not symbolized:\n{text}");
            return Err(13);
        }
        if how == Failure::NullRead {
            println!("{text}");
        }
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

/// `symbolize` names this image's own code, cuts to the buffer, and says
/// which addresses have no function.
fn check_symbolize() -> Result<(), i32> {
    let mut buf = [0u8; 128];
    let addr = outer as fn(Failure) -> u64 as usize as u64 + 1;
    let n = sys::symbolize(addr, &mut buf).map_err(|e| {
        println!("tas: symbolize of its own code failed: {e}");
        20
    })?;
    let text = core::str::from_utf8(&buf[..n]).map_err(|_| 21)?;
    if text != "tas_runtime::selftest::outer+0x1" {
        println!("tas: symbolize named {addr:#x} {text:?}");
        return Err(21);
    }
    let mut small = [0u8; 5];
    if sys::symbolize(addr, &mut small) != Ok(5) || &small != b"tas_r" {
        println!("tas: symbolize did not cut the text to the buffer");
        return Err(22);
    }
    let on_stack = &raw const buf as u64;
    for no_function in [0, on_stack] {
        match sys::symbolize(no_function, &mut buf) {
            Err(SyscallError::NoSymbol) => {}
            other => {
                println!("tas: symbolize({no_function:#x}) gave {other:?}, not NoSymbol");
                return Err(23);
            }
        }
    }
    Ok(())
}

/// Reads a byte of this image's code.
fn code_byte(addr: u64) -> u8 {
    // SAFETY: callers pass an address inside a function of this image (the
    // kernel checked it is in a present user code page, which is readable).
    unsafe { (addr as *const u8).read_volatile() }
}

/// `flip_code` is refused to a thread the kernel does not supervise and for
/// bad arguments; a flip changes exactly the bit asked for, and
/// `repair_code` restores that byte and then finds nothing to restore.
fn check_code_repair() -> Result<(), i32> {
    let function = outer as fn(Failure) -> u64 as usize as u64;
    if sys::flip_code(function, 0, 0) != Err(SyscallError::NotGranted) {
        println!("tas: flip_code was not refused to an unsupervised thread");
        return Err(30);
    }
    crate::supervision::arm_watchdog().map_err(|e| {
        println!("tas: cannot set the watchdog word: {e}");
        31
    })?;
    for (f, bit, want) in [(function, 8, SyscallError::InvalidArgument), (0, 0, SyscallError::NoSymbol)] {
        let got = sys::flip_code(f, 0, bit);
        if got != Err(want) {
            println!("tas: flip_code({f:#x}, 0, {bit}) gave {got:?}, not {want:?}");
            return Err(32);
        }
    }
    const OFFSET: u64 = 3;
    const BIT: u64 = 5;
    let before = code_byte(function + OFFSET);
    match sys::flip_code(function, OFFSET, BIT) {
        Ok(at) if at == function + OFFSET && code_byte(at) == before ^ (1 << BIT) => {}
        other => {
            println!("tas: flip_code flipped {other:?}, not bit {BIT} of {:#x}", function + OFFSET);
            return Err(33);
        }
    }
    let (first, second) = (sys::repair_code(), sys::repair_code());
    if (first, second) != (Ok(1), Ok(0)) || code_byte(function + OFFSET) != before {
        println!("tas: repair_code restored {first:?} then {second:?} bytes, expected 1 then 0");
        return Err(34);
    }
    Ok(())
}

/// A fault the unwinder cannot start from (an instruction pointer in no
/// function) is not fatal: its frames are discarded back to the escape
/// boundary around the recovery boundary, and the thread recovers normally
/// afterwards.
fn check_unwind_fallback() -> Result<(), i32> {
    let before = DROPS.load(Ordering::SeqCst);
    let outcome = crate::discard::run(|| {
        unwind::catch(|| {
            let _guard = Guard;
            crate::faults::call_unmapped();
        })
    });
    match outcome {
        Err(discarded) if matches!(discarded.kind, FaultKind::Exception(ref e) if e.vector == 14) => {}
        Err(discarded) => {
            println!("tas: the fallback reported {:?}, not the page fault", discarded.kind);
            return Err(40);
        }
        Ok(Ok(())) => return Err(41),
        Ok(Err(fault)) => {
            println!("tas: a fault at an unmapped address was unwound: {}", fault.summary());
            return Err(41);
        }
    }
    if DROPS.load(Ordering::SeqCst) != before {
        println!("tas: a discarded frame ran its drop");
        return Err(42);
    }
    Ok(())
}

/// Runs the self-test; 0 if every check passed, else the failing check's code.
pub fn run() -> i32 {
    if let Err(code) = check_symbolize().and_then(|()| check_code_repair()).and_then(|()| check_unwind_fallback()) {
        return code;
    }
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
