//! The personality routine: decides, frame by frame, what unwinding runs.
//!
//! The rule (`docs/unwinding.md`):
//! 1. The frame in which a CPU exception happened is skipped — nothing in it
//!    is dropped — unless the faulting instruction is a registered fallible
//!    access (`fallible`), which the compiler treats as a call that may
//!    unwind, so its landing pad is exact.
//! 2. Any other frame runs the landing pad its call-site table gives for the
//!    call it is suspended in.
//! 3. A frame whose address is in a gap of its call-site table (the
//!    compiler decided nothing there unwinds) is skipped; Rust's own
//!    personality would abort the whole unwind there instead.
//!
//! Skipping never drops a value that may not be live; what it leaves behind
//! is counted in the fault's `UnwindRecord` and left to the backstop.

use core::ffi::c_int;

use unwinding::abi::{
    UnwindAction, UnwindContext, UnwindException, UnwindReasonCode, _Unwind_GetIPInfo,
    _Unwind_GetLanguageSpecificData, _Unwind_GetRegionStart, _Unwind_SetGR, _Unwind_SetIP,
};

use crate::boundary::{InFlight, CLASS};
use crate::fallible;
use crate::lsda::{self, Action, Bytes};

/// DWARF register numbers the landing pad receives its arguments in on
/// x86_64: RAX (the exception object) and RDX (the selector).
const REG_EXCEPTION: c_int = 0;
const REG_SELECTOR: c_int = 1;

/// LSDA bytes read straight from memory; the parser reads only within the
/// table the compiler emitted, which lies in the loaded image.
struct RawBytes(*const u8);

impl Bytes for RawBytes {
    fn byte(&self, offset: usize) -> Option<u8> {
        // SAFETY: see the type's comment: offsets stay within the LSDA.
        Some(unsafe { self.0.add(offset).read() })
    }
}

#[lang = "eh_personality"]
unsafe extern "C" fn lazarus_personality(
    version: c_int,
    actions: UnwindAction,
    class: u64,
    exception: *mut UnwindException,
    ctx: &mut UnwindContext<'_>,
) -> UnwindReasonCode {
    if version != 1 {
        return UnwindReasonCode::FATAL_PHASE1_ERROR;
    }
    let search = actions.contains(UnwindAction::SEARCH_PHASE);
    let ours = if class == u64::from_ne_bytes(CLASS) && !exception.is_null() {
        // SAFETY: objects of our class are `InFlight`s made by `Fault::wrap`,
        // alive until caught; the unwinder runs on this thread only.
        Some(unsafe { &mut *exception.cast::<InFlight>() })
    } else {
        None
    };
    let mut exact: c_int = 0;
    let ip = _Unwind_GetIPInfo(ctx, &mut exact) as u64;
    let pc = if exact != 0 { ip } else { ip.wrapping_sub(1) };

    // Rule 1: the faulting frame of a CPU exception.
    let faulting_frame = ours.as_ref().is_some_and(|f| exact != 0 && f.fault.faulting_rip() == Some(ip));
    if faulting_frame && !fallible::is_fault_site(ip) {
        return skip(ours, search, pc);
    }
    let lsda = _Unwind_GetLanguageSpecificData(ctx) as *const u8;
    if lsda.is_null() {
        return UnwindReasonCode::CONTINUE_UNWIND;
    }
    let func = _Unwind_GetRegionStart(ctx) as u64;
    let action = match lsda::find_action(&RawBytes(lsda), lsda as u64, func, pc) {
        Ok(a) => a,
        // An unreadable table: run nothing we cannot trust.
        Err(_) => Action::Gap,
    };
    match action {
        Action::None => UnwindReasonCode::CONTINUE_UNWIND,
        Action::Gap => skip(ours, search, pc),
        Action::Catch(_) if search => UnwindReasonCode::HANDLER_FOUND,
        Action::Cleanup(_) if search => UnwindReasonCode::CONTINUE_UNWIND,
        Action::Cleanup(pad) | Action::Catch(pad) => {
            if let (Action::Cleanup(_), Some(f)) = (action, ours) {
                f.fault.unwind.cleaned();
            }
            _Unwind_SetGR(ctx, REG_EXCEPTION, exception as usize);
            _Unwind_SetGR(ctx, REG_SELECTOR, 0);
            _Unwind_SetIP(ctx, pad as usize);
            UnwindReasonCode::INSTALL_CONTEXT
        }
    }
}

/// Passes over a frame without running anything in it; the cleanup phase
/// records it in the fault (the search phase visits the same frames first).
fn skip(ours: Option<&mut InFlight>, search: bool, pc: u64) -> UnwindReasonCode {
    if let (false, Some(f)) = (search, ours) {
        f.fault.unwind.skipped(pc);
    }
    UnwindReasonCode::CONTINUE_UNWIND
}
