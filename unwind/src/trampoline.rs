//! From a CPU exception to an unwind: the exception handler redirects the
//! faulting thread here instead of returning to the faulting instruction.
//!
//! Unwinding never starts inside the handler: the interrupt frame cannot be
//! unwound through. Instead [`redirect`] rewrites the saved context so that
//! `iretq` resumes the thread in `lazarus_fault_trampoline`, on the thread's
//! fault stack (which works even when the thread's own stack overflowed),
//! with the faulting RSP in R10 and the faulting RIP in R11 (both
//! caller-saved, so no frame relies on their values at a fault). The
//! trampoline saves them and describes, in its CFI, the faulting frame as
//! its caller: CFA = the faulting RSP, return address = the faulting RIP.
//! It is marked as a signal frame, so the unwinder looks the faulting frame
//! up at exactly that RIP rather than RIP - 1. Every other register still
//! holds its value from the moment of the fault.

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
    let Some(mut pending) = state.pending.try_lock() else { return Err(RaiseError::AlreadyUnwinding) };
    *pending = Some(info);
    drop(pending);
    frame.r10 = frame.rsp;
    frame.r11 = frame.rip;
    frame.rsp = fault_stack.end;
    frame.rip = lazarus_fault_trampoline as *const () as u64;
    Ok(())
}

/// Raises the pending exception of the running thread (called by the
/// trampoline; never returns).
extern "C-unwind" fn lazarus_fault_entry() -> ! {
    let info = current().and_then(|s| s.pending.lock().take());
    let Some(info) = info else {
        panic!("fault trampoline entered with no pending exception")
    };
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
