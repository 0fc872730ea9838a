//! Recovery boundaries: run code so that a panic, CPU exception or CFI
//! violation inside it unwinds back here as a [`Fault`].

use alloc::boxed::Box;
use core::mem::MaybeUninit;
use core::sync::atomic::Ordering;

use unwinding::abi::{UnwindException, UnwindReasonCode};
use unwinding::panicking::{self, Exception};

use crate::fault::{Fault, FaultKind};
use crate::thread_state::current;

/// Exception class of Lazarus faults ("LZRS" "FALT").
pub(crate) const CLASS: [u8; 8] = *b"LZRSFALT";

/// The exception object: the unwinder's header, then the fault. `repr(C)`
/// so a pointer to the header is a pointer to the whole.
#[repr(C)]
pub(crate) struct InFlight {
    header: MaybeUninit<UnwindException>,
    pub(crate) fault: Fault,
}

// SAFETY: `wrap` hands out a pointer to a boxed `InFlight` whose first field
// is the header; `unwrap` only receives such pointers (the class is checked
// by `catch_unwind` before calling it) and frees the box exactly once.
unsafe impl Exception for Fault {
    const CLASS: [u8; 8] = CLASS;

    fn wrap(this: Self) -> *mut UnwindException {
        Box::into_raw(Box::new(InFlight { header: MaybeUninit::uninit(), fault: this })).cast()
    }

    unsafe fn unwrap(ex: *mut UnwindException) -> Self {
        // SAFETY: per the impl's contract, `ex` came from `wrap`.
        unsafe { Box::from_raw(ex.cast::<InFlight>()).fault }
    }
}

/// Why a fault could not be raised.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RaiseError {
    /// The thread is in no recovery boundary (or has no unwind state).
    NoBoundary,
    /// The thread is already unwinding a fault: nested faults are not
    /// unwound (they would loop, e.g. the unwinder's own `ud2` abort).
    AlreadyUnwinding,
    /// The thread is in an interrupt or exception handler, whose frame
    /// cannot be unwound through.
    InHandler,
    /// The unwinder found no boundary after all (its reason code).
    Unwinder(i32),
}

/// Runs `f` inside a recovery boundary. A fault raised inside, at any depth,
/// unwinds every frame in between (running their drops, per the rules in
/// `docs/unwinding.md`) and comes back as `Err`.
///
/// Needs the embedder to have set the running thread's state; without one,
/// `f` runs unprotected.
#[allow(clippy::result_large_err)] // a fault moves once; the unwind before it costs far more
pub fn catch<R>(f: impl FnOnce() -> R) -> Result<R, Fault> {
    let Some(state) = current() else { return Ok(f()) };
    state.depth.fetch_add(1, Ordering::SeqCst);
    let result = panicking::catch_unwind::<Fault, R, _>(f);
    state.depth.fetch_sub(1, Ordering::SeqCst);
    match result {
        Ok(v) => Ok(v),
        Err(fault) => {
            state.unwinding.store(false, Ordering::SeqCst);
            state.caught.fetch_add(1, Ordering::Relaxed);
            // `None`: a foreign exception, which nothing in the system raises.
            Err(fault.expect("only Lazarus faults are raised"))
        }
    }
}

/// True if a fault raised now by the running thread could be unwound.
pub fn can_raise() -> bool {
    current().is_some_and(|s| s.can_raise())
}

/// A function that takes over every fault raised inside a boundary before
/// it is unwound; if it returns, the fault is unwound as usual.
pub type RaiseHook = fn(&Fault);

static RAISE_HOOK: spin::Once<RaiseHook> = spin::Once::new();

/// Installs the raise hook (once; later calls are ignored). The trusted
/// address space's `restart` and `none` configurations use it to discard a
/// faulted server's frames without unwinding them, as a kill would.
pub fn set_raise_hook(hook: RaiseHook) {
    RAISE_HOOK.call_once(|| hook);
}

/// Unwinds to the innermost boundary with `fault`. Returns only if that is
/// impossible, saying why; the caller then treats the fault as fatal.
pub fn try_raise(fault: Fault) -> RaiseError {
    let Some(state) = current() else { return RaiseError::NoBoundary };
    if !state.in_boundary() {
        return RaiseError::NoBoundary;
    }
    if state.handler_depth.load(Ordering::SeqCst) > 0 {
        return RaiseError::InHandler;
    }
    if let Some(hook) = RAISE_HOOK.get() {
        hook(&fault);
    }
    if state.unwinding.swap(true, Ordering::SeqCst) {
        return RaiseError::AlreadyUnwinding;
    }
    let UnwindReasonCode(code) = panicking::begin_panic(fault);
    RaiseError::Unwinder(code)
}

/// A function told of a fault that could not be unwound although the
/// thread is in a boundary (the unwinder found no frame to start from, or
/// the fault came while unwinding another); if it returns, the fault is
/// fatal.
pub type UnwindFailedHook = fn(&FaultKind, RaiseError);

static UNWIND_FAILED_HOOK: spin::Once<UnwindFailedHook> = spin::Once::new();

/// Installs the hook for faults that cannot be unwound (once; later calls
/// are ignored). The trusted address space discards the faulted server's
/// frames then, as the `restart` configuration always does, rather than
/// lose every server: a corrupted instruction pointer or stack leaves the
/// unwinder nothing to start from.
pub fn set_unwind_failed_hook(hook: UnwindFailedHook) {
    UNWIND_FAILED_HOOK.call_once(|| hook);
}

/// Unwinds to the innermost boundary with `fault`. If that is impossible,
/// the unwind-failed hook may take the fault; otherwise, panics (a kernel
/// panic, as the thread is not unwinding any more than it can).
pub fn raise(fault: Fault) -> ! {
    let summary = alloc::format!("{}", fault.summary());
    let kind = fault.kind.clone();
    let why = try_raise(fault);
    if let (RaiseError::Unwinder(_) | RaiseError::AlreadyUnwinding, Some(hook)) = (why, UNWIND_FAILED_HOOK.get()) {
        hook(&kind, why);
    }
    panic!("fault outside any recovery boundary ({why:?}): {summary}")
}
