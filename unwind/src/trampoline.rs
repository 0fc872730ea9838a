//! From a CPU exception to an unwind: the exception handler redirects the
//! faulting thread here instead of returning to the faulting instruction.
//!
//! Unwinding never starts inside the handler: the interrupt frame cannot be
//! unwound through. Instead the handler rewrites the saved context so that
//! the thread resumes in `lazarus_fault_trampoline`, on a fault stack (which
//! works even when the thread's own stack overflowed), with the faulting RSP
//! in R10, the faulting RIP in R11 (both caller-saved, so no frame relies on
//! their values at a fault) and a pointer to the [`ExceptionInfo`] record in
//! RDI, placed at the top of the fault stack. The trampoline saves R10 and
//! R11 and describes, in its CFI, the faulting frame as its caller: CFA = the
//! faulting RSP, return address = the faulting RIP. It is marked as a signal
//! frame, so the unwinder looks the faulting frame up at exactly that RIP
//! rather than RIP - 1. Every other register still holds its value from the
//! moment of the fault.
//!
//! The same contract serves ring 0 ([`redirect`], used by the kernel's own
//! exception handler) and ring 3 (the kernel delivers a server thread's
//! fault to the trusted address space's copy of this trampoline, writing the
//! record onto the server's fault stack).

use core::sync::atomic::Ordering;

use kernel_logic::trap_frame::TrapFrame;

use crate::backtrace;
use crate::boundary::{raise, RaiseError};
use crate::fault::{ExceptionInfo, Fault, FaultKind};
use crate::thread_state::current;

core::arch::global_asm!(
    ".pushsection .text.lazarus_fault_trampoline, \"ax\"",
    ".global lazarus_fault_trampoline",
    "lazarus_fault_trampoline:",
    "    .cfi_startproc",
    "    .cfi_signal_frame",
    // RDI (the record) passes through untouched to the entry.
    "    push r10",
    "    push r11",
    // DW_CFA_def_cfa_expression [DW_OP_breg7 (rsp) +8; DW_OP_deref]:
    // the caller's stack pointer is the word at rsp + 8 (the faulting RSP).
    "    .cfi_escape 0x0f, 0x03, 0x77, 0x08, 0x06",
    // DW_CFA_expression rip [DW_OP_breg7 (rsp) +0]: the return address is
    // the word at rsp + 0 (the faulting RIP).
    "    .cfi_escape 0x10, 0x10, 0x02, 0x77, 0x00",
    "    call {entry}",
    "    ud2",
    "    .cfi_endproc",
    ".popsection",
    entry = sym lazarus_fault_entry,
);

unsafe extern "C" {
    fn lazarus_fault_trampoline();
}

/// Address of the trampoline, for whoever redirects a faulting thread.
pub fn address() -> u64 {
    lazarus_fault_trampoline as *const () as u64
}

/// Where the record goes on a fault stack ending at `end`, and the stack
/// pointer the trampoline starts with: just below the record, 16-byte
/// aligned as at a function's call site.
pub fn record_layout(end: u64) -> (u64, u64) {
    let record = (end - core::mem::size_of::<ExceptionInfo>() as u64) & !0xF;
    (record, record)
}

/// Turns the exception whose saved context is `frame` into an unwind of the
/// running thread, if it is inside a recovery boundary and not already
/// unwinding. On success `frame` is rewritten and returning from the
/// exception continues in the trampoline on the stack whose top is
/// `fault_stack_top`; on failure nothing is changed.
pub fn redirect(
    frame: &mut TrapFrame,
    info: ExceptionInfo,
    fault_stack: core::ops::Range<u64>,
) -> Result<(), RaiseError> {
    let state = current().ok_or(RaiseError::NoBoundary)?;
    if !state.in_boundary() {
        return Err(RaiseError::NoBoundary);
    }
    // The handler calling this is the thread's only one: a fault inside a
    // nested handler (depth > 1) is not the thread's own code faulting.
    if state.handler_depth.load(Ordering::SeqCst) > 1 {
        return Err(RaiseError::InHandler);
    }
    // A fault on the fault stack is a fault of the unwinder itself.
    if state.is_unwinding() || fault_stack.contains(&frame.rsp) {
        return Err(RaiseError::AlreadyUnwinding);
    }
    let (record, rsp) = record_layout(fault_stack.end);
    // SAFETY: the record's place is the top of this thread's fault stack,
    // which nothing uses while the thread is not unwinding (checked above)
    // and which is mapped and writable (the caller's guarantee: it is the
    // thread's fault stack).
    unsafe { (record as *mut ExceptionInfo).write(info) };
    frame.rdi = record;
    frame.r10 = frame.rsp;
    frame.r11 = frame.rip;
    frame.rsp = rsp;
    frame.rip = address();
    Ok(())
}

/// Raises the exception whose record `info` points at (called by the
/// trampoline; never returns).
extern "C-unwind" fn lazarus_fault_entry(info: *const ExceptionInfo) -> ! {
    // SAFETY: the trampoline is only entered by a redirect, which put a
    // valid record at `info` on the fault stack, below which the trampoline
    // and this function keep their frames.
    let info = unsafe { info.read() };
    let mut bt = backtrace::capture();
    bt.trim_to(info.frame.rip);
    let fault = Fault::new(FaultKind::Exception(info), bt);
    // If the state says unwinding already, `raise` panics (fatal), which is
    // right: two faults in flight cannot both be unwound.
    if let Some(s) = current() {
        debug_assert!(!s.unwinding.load(Ordering::SeqCst));
    }
    raise(fault)
}
