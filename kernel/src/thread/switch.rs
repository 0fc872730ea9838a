//! The context switch: save the callee-saved registers and flags on the old
//! stack, store its stack pointer, load the new one, restore, return.
//!
//! Everything else (caller-saved registers) is saved by the compiler around
//! the call, so a switch costs seven pushes and seven pops. The kernel is
//! built without SSE code (the target's soft-float ABI), so no vector state
//! needs saving.

use crate::saved_context::{pop_saved_context, push_saved_context};

core::arch::global_asm!(
    ".pushsection .text.lazarus_switch, \"ax\"",
    ".global lazarus_switch_stacks",
    "lazarus_switch_stacks:",
    push_saved_context!(),
    "    mov [rdi], rsp",
    "    mov rsp, rsi",
    pop_saved_context!(),
    "    ret",
    // First code of every new thread. Its CFI marks the return address as
    // undefined, so unwinders and backtraces stop here.
    ".global lazarus_thread_start",
    "lazarus_thread_start:",
    "    .cfi_startproc",
    "    .cfi_undefined rip",
    "    xor ebp, ebp",
    "    call {entry}",
    "    ud2",
    "    .cfi_endproc",
    ".popsection",
    entry = sym super::scheduler::thread_entry,
);

unsafe extern "C" {
    fn lazarus_switch_stacks(save_rsp: *mut u64, load_rsp: u64);
    fn lazarus_thread_start();
}

/// Words `lazarus_switch_stacks` pops before returning: r15, r14, r13, r12,
/// rbx, rbp, rflags.
const SAVED_WORDS: u64 = 7;
/// RFLAGS of a new thread: only the always-one bit 1; interrupts stay masked
/// until the thread's entry code enables them.
const INITIAL_RFLAGS: u64 = 0x2;

/// Writes the frame a new thread starts from below `top` and returns the
/// stack pointer to switch to.
///
/// # Safety
/// `top` must be the 16-byte-aligned top of a mapped, writable stack that
/// nothing else uses.
pub unsafe fn prepare_stack(top: u64) -> u64 {
    // Layout, from `top` down: two zero words (keep RSP 16-byte aligned when
    // `lazarus_thread_start` begins, so its `call` leaves the ABI's entry
    // alignment), the return address, RFLAGS, then six zeroed registers.
    let words = [0, 0, lazarus_thread_start as *const () as u64, INITIAL_RFLAGS, 0, 0, 0, 0, 0, 0];
    debug_assert_eq!(words.len() as u64, 3 + SAVED_WORDS);
    let rsp = top - words.len() as u64 * 8;
    for (i, w) in words.iter().rev().enumerate() {
        // SAFETY: rsp..top lies inside the caller's stack.
        unsafe { ((rsp + i as u64 * 8) as *mut u64).write(*w) };
    }
    rsp
}

/// Saves the current context into `*save_rsp` and resumes the one saved at
/// `load_rsp`. Returns when some other thread switches back.
///
/// # Safety
/// Interrupts must be masked; `save_rsp` must stay valid until the switch
/// back; `load_rsp` must come from `prepare_stack` or an earlier save.
pub unsafe fn switch(save_rsp: *mut u64, load_rsp: u64) {
    // SAFETY: forwarded to the caller's guarantees.
    unsafe { lazarus_switch_stacks(save_rsp, load_rsp) }
}
