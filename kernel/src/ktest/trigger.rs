//! Deliberate CPU faults for the tests, written in assembly so the compiler
//! cannot reason about (or remove) the faulting access.
//!
//! Each trigger is a function of its own that the compiler must assume may
//! unwind (`may_unwind` assembly): callers then hold exact landing pads for
//! the call, while the trigger's own frame, where the fault happens, holds
//! nothing — exactly the shape the unwinding rule handles without loss.

use core::arch::asm;

/// Reads 8 bytes at `addr`.
///
/// # Safety
/// Faults if `addr` is unmapped or non-canonical; the caller's thread must
/// be prepared to be killed by that fault.
#[inline(never)]
pub unsafe fn read_u64(addr: u64) -> u64 {
    let value: u64;
    // SAFETY: the access is the point; the caller accepts the fault.
    unsafe { asm!("mov {v}, qword ptr [{a}]", a = in(reg) addr, v = out(reg) value, options(nostack, may_unwind)) };
    value
}

/// Reads 8 bytes at `addr` with a plain load, inlined into the caller: a
/// fault here is a fault at a non-call instruction of the caller's frame
/// (the coverage gap of `docs/unwinding.md`).
///
/// # Safety
/// As for [`read_u64`].
#[inline(always)]
pub unsafe fn plain_read(addr: u64) -> u64 {
    let value: u64;
    // SAFETY: as above.
    unsafe { asm!("mov {v}, qword ptr [{a}]", a = in(reg) addr, v = out(reg) value, options(nostack)) };
    value
}

/// A point the compiler must assume may unwind (it does nothing).
#[inline(always)]
pub fn may_unwind_point() {
    // SAFETY: an empty instruction sequence.
    unsafe { asm!("", options(nostack, may_unwind)) };
}

/// Writes 8 bytes at `addr`.
///
/// # Safety
/// As for [`read_u64`]; if `addr` is mapped, the caller owns it.
#[inline(never)]
pub unsafe fn write_u64(addr: u64, value: u64) {
    // SAFETY: as above.
    unsafe { asm!("mov qword ptr [{a}], {v}", a = in(reg) addr, v = in(reg) value, options(nostack, may_unwind)) };
}

/// Divides by zero (#DE).
#[inline(never)]
pub fn divide_by_zero() {
    // SAFETY: `div` by a zero register raises #DE before changing anything;
    // rax and rdx are declared clobbered.
    unsafe {
        asm!(
            "xor edx, edx",
            "mov eax, 1",
            "div {z}",
            z = in(reg) 0u64,
            out("rax") _,
            out("rdx") _,
            options(nostack, may_unwind)
        )
    };
}

/// Executes `ud2` (#UD).
#[inline(never)]
pub fn invalid_opcode() {
    // SAFETY: `ud2` raises #UD and does nothing else.
    unsafe { asm!("ud2", options(nostack, may_unwind)) };
}

/// Executes `int3` (#BP, a trap: execution continues after it).
pub fn breakpoint() {
    // SAFETY: `int3` enters the breakpoint handler, which returns.
    unsafe { asm!("int3", options(nostack)) };
}

/// Calls code at `addr`.
///
/// # Safety
/// `addr` must hold a function that returns (or fault on fetch, which the
/// caller's thread must be prepared for).
pub unsafe fn call(addr: u64) {
    // SAFETY: forwarded to the caller; all caller-saved registers are clobbered.
    unsafe { asm!("call {f}", f = in(reg) addr, clobber_abi("C")) };
}

/// Recurses until the stack runs out; never returns normally.
#[inline(never)]
#[allow(unconditional_recursion)]
pub fn overflow_stack(depth: u64) -> u64 {
    may_unwind_point();
    // Half a KiB per frame: fills a 64 KiB stack in about 128 calls.
    let frame = core::hint::black_box([depth; 64]);
    overflow_stack(depth + 1).wrapping_add(frame[(depth % 64) as usize])
}
