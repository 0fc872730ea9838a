//! Escape boundaries: run code so that a fault inside it discards every
//! frame in between, without unwinding them, and comes back here.
//!
//! This is the baseline the system is measured against: the `restart`
//! configuration (MINIX 3's kill and restart) and `none`. A discarded frame
//! runs no `Drop`: what it held stays held until the backstop (heap reset)
//! reclaims it, or leaks. The escape is a saved stack pointer and
//! callee-saved registers ([`run`]) restored by [`escape`], installed as the
//! unwinder's raise hook so that panics, CPU exceptions, watchdog faults and
//! CFI violations all take it.

use core::arch::global_asm;
use core::cell::UnsafeCell;

use unwind::fault::FaultKind;
use unwind::thread_state::{self, Mark};

use crate::heap;

global_asm!(
    // u64 lazarus_discardable(u64 *saved_rsp, void (*f)(void *), void *ctx)
    ".pushsection .text.lazarus_discardable, \"ax\"",
    ".global lazarus_discardable",
    ".type lazarus_discardable, @function",
    "lazarus_discardable:",
    // Call-frame information, so that backtraces and the unwinder walk
    // through this frame to the proxy's (without it, every backtrace stops
    // here, after a slow search for a frame description that is not there).
    "    .cfi_startproc",
    "    push rbp",
    "    .cfi_adjust_cfa_offset 8",
    "    .cfi_rel_offset rbp, 0",
    "    push rbx",
    "    .cfi_adjust_cfa_offset 8",
    "    .cfi_rel_offset rbx, 0",
    "    push r12",
    "    .cfi_adjust_cfa_offset 8",
    "    .cfi_rel_offset r12, 0",
    "    push r13",
    "    .cfi_adjust_cfa_offset 8",
    "    .cfi_rel_offset r13, 0",
    "    push r14",
    "    .cfi_adjust_cfa_offset 8",
    "    .cfi_rel_offset r14, 0",
    "    push r15",
    "    .cfi_adjust_cfa_offset 8",
    "    .cfi_rel_offset r15, 0",
    "    mov [rdi], rsp",
    "    mov rdi, rdx",
    // Six pushes after the return address: 16-byte alignment for the call.
    "    sub rsp, 8",
    "    .cfi_adjust_cfa_offset 8",
    "    call rsi",
    "    add rsp, 8",
    "    .cfi_adjust_cfa_offset -8",
    "    xor eax, eax",
    "    pop r15",
    "    .cfi_adjust_cfa_offset -8",
    "    pop r14",
    "    .cfi_adjust_cfa_offset -8",
    "    pop r13",
    "    .cfi_adjust_cfa_offset -8",
    "    pop r12",
    "    .cfi_adjust_cfa_offset -8",
    "    pop rbx",
    "    .cfi_adjust_cfa_offset -8",
    "    pop rbp",
    "    .cfi_adjust_cfa_offset -8",
    "    ret",
    "    .cfi_endproc",
    ".size lazarus_discardable, . - lazarus_discardable",
    // ! lazarus_discard_to(u64 saved_rsp, u64 code)
    ".global lazarus_discard_to",
    "lazarus_discard_to:",
    "    mov rsp, rdi",
    "    mov rax, rsi",
    "    pop r15",
    "    pop r14",
    "    pop r13",
    "    pop r12",
    "    pop rbx",
    "    pop rbp",
    "    ret",
    ".popsection",
);

unsafe extern "C" {
    fn lazarus_discardable(saved_rsp: *mut u64, f: extern "C" fn(*mut u8), ctx: *mut u8) -> u64;
    fn lazarus_discard_to(saved_rsp: u64, code: u64) -> !;
}

/// What was discarded: the fault that triggered the escape.
#[derive(Clone, Debug)]
pub struct Discarded {
    /// The fault as the unwinder would have raised it.
    pub kind: FaultKind,
}

/// The innermost escape boundary of the (one) thread (an outer one is
/// saved on the stack of `run` while an inner one is in force).
struct Escape {
    saved_rsp: u64,
    mark: Mark,
    fault: Option<FaultKind>,
    active: bool,
}

struct EscapeCell(UnsafeCell<Escape>);

// SAFETY: the image has one thread; the cell is reached by it alone, from
// `run`, and from `escape` on the same thread (the fault paths).
unsafe impl Sync for EscapeCell {}

static ESCAPE: EscapeCell = EscapeCell(UnsafeCell::new(Escape {
    saved_rsp: 0,
    mark: Mark::ZERO,
    fault: None,
    active: false,
}));

/// Exit code `lazarus_discardable` returns with after an escape.
const ESCAPED: u64 = 1;

struct Call<F, R> {
    f: Option<F>,
    out: Option<R>,
}

extern "C" fn call_once<F: FnOnce() -> R, R>(ctx: *mut u8) {
    // SAFETY: `run` passes a pointer to its live `Call<F, R>`.
    let call = unsafe { &mut *ctx.cast::<Call<F, R>>() };
    if let Some(f) = call.f.take() {
        call.out = Some(f());
    }
}

/// Runs `f`; a fault inside it discards its frames and returns `Err`.
/// Boundaries nest (a server calling another): a fault goes to the
/// innermost, and the outer one is back in force when it returns.
pub fn run<F: FnOnce() -> R, R>(f: F) -> Result<R, Discarded> {
    let escape = ESCAPE.0.get();
    let mark = thread_state::current().map_or(Mark::ZERO, |s| s.mark());
    // SAFETY: one thread; no reference to the cell is held across calls.
    let outer = unsafe { ((*escape).saved_rsp, (*escape).mark, (*escape).active) };
    // SAFETY: as above.
    unsafe {
        (*escape).mark = mark;
        (*escape).fault = None;
        (*escape).active = true;
    }
    let mut call = Call { f: Some(f), out: None };
    // SAFETY: `lazarus_discardable` saves the callee-saved registers and the
    // stack pointer in the cell, calls `call_once` with `call` (alive for
    // the whole call) and returns 0, or returns `ESCAPED` from `escape`,
    // which restores them; the frames it then skips are abandoned, never
    // resumed.
    let code = unsafe {
        lazarus_discardable(&raw mut (*escape).saved_rsp, call_once::<F, R>, (&raw mut call).cast())
    };
    // SAFETY: as above; the outer boundary's frame is live again.
    let fault = unsafe {
        let fault = (*escape).fault.take();
        ((*escape).saved_rsp, (*escape).mark, (*escape).active) = outer;
        fault
    };
    match (code, call.out) {
        (0, Some(v)) => Ok(v),
        _ => Err(Discarded { kind: fault.unwrap_or(FaultKind::Panic { message: "discarded".into(), location: None }) }),
    }
}

/// Leaves the fault's frames for good, back to the innermost escape
/// boundary, if any (otherwise returns): the raise hook of the discarding
/// configurations, and every configuration's way out of a fault that
/// cannot be unwound.
pub fn escape(kind: &FaultKind) {
    let escape = ESCAPE.0.get();
    // SAFETY: one thread; see `run`.
    let (active, saved_rsp, mark) = unsafe { ((*escape).active, (*escape).saved_rsp, (*escape).mark) };
    if !active {
        return;
    }
    // The copy goes to the exchange heap: the server's is about to be reset.
    heap::leave_all();
    // SAFETY: as above.
    unsafe { (*escape).fault = Some(kind.clone()) };
    if let Some(state) = thread_state::current() {
        state.discard_to(mark);
    }
    crate::supervision::set_active(0);
    // SAFETY: the boundary is active, so `saved_rsp` is the stack pointer
    // `lazarus_discardable` saved in a frame that is still live below us.
    unsafe { lazarus_discard_to(saved_rsp, ESCAPED) }
}
