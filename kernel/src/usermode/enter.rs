//! The two assembly routines that cross into ring 3 and back.
//!
//! `lazarus_enter_user` saves the kernel's callee-saved registers and flags
//! on the kernel stack, stores the stack pointer in a slot, and `iretq`s to
//! ring 3. `lazarus_resume_kernel` is its counterpart, used when the thread
//! leaves its process (exit, fault, `thread_exit`, stop): it loads the saved stack pointer, restores the registers
//! and returns from `lazarus_enter_user` with a value — as a `longjmp` to
//! the `setjmp` that `lazarus_enter_user` is. Everything below the saved
//! stack pointer (system-call and interrupt frames) is abandoned.

use crate::saved_context::{pop_saved_context, push_saved_context};

core::arch::global_asm!(
    ".pushsection .text.lazarus_usermode, \"ax\"",
    ".global lazarus_enter_user",
    "lazarus_enter_user:",
    // rdi = slot for the kernel stack pointer, rsi = user rip, rdx = user rsp,
    // rcx = user code selector, r8 = user data selector, r9 = the user's
    // first argument (its rdi).
    push_saved_context!(),
    // Nothing may run on the trampoline stack but this crossing.
    "    cli",
    "    mov [rdi], rsp",
    // Entries from ring 3 (interrupts and `syscall`) land just below.
    "    mov [rip + lazarus_kernel_stack_top], rsp",
    // The `iretq` frame goes on the entry area's trampoline stack, which
    // the user view maps too.
    "    lea rsp, [rip + lazarus_pti_stack_top]",
    "    push r8",
    "    push rdx",
    // User RFLAGS: interrupts on, nothing else (bit 1 always reads as one).
    "    push 0x202",
    "    push rcx",
    "    push rsi",
    // Leave no kernel values in registers the user can read.
    "    xor ebx, ebx",
    "    xor ecx, ecx",
    "    xor edx, edx",
    "    xor esi, esi",
    "    mov rdi, r9",
    "    xor ebp, ebp",
    "    xor r8d, r8d",
    "    xor r9d, r9d",
    "    xor r10d, r10d",
    "    xor r11d, r11d",
    "    xor r12d, r12d",
    "    xor r13d, r13d",
    "    xor r14d, r14d",
    "    xor r15d, r15d",
    // RAX too, once the entry area has loaded the user view with it.
    "    jmp lazarus_pti_iret_fresh",
    ".global lazarus_resume_kernel",
    "lazarus_resume_kernel:",
    // rdi = the saved kernel stack pointer, rsi = the value to return.
    "    mov rsp, rdi",
    "    mov rax, rsi",
    pop_saved_context!(),
    "    ret",
    ".popsection",
);

unsafe extern "C" {
    fn lazarus_enter_user(slot: *mut u64, rip: u64, rsp: u64, cs: u64, ss: u64, arg: u64) -> u64;
    fn lazarus_resume_kernel(saved_rsp: u64, value: u64) -> !;
}

/// Enters ring 3 at `rip` with stack `rsp` and `arg` in RDI (every other
/// register zero); returns the value passed to
/// [`resume_kernel`] when the process ends.
///
/// # Safety
/// The active address space must map `rip` and `rsp` for the user; `slot`
/// must stay valid until the matching `resume_kernel`, and every way back to
/// the kernel from ring 3 must end in that call with the slot's value.
pub unsafe fn enter_user(slot: *mut u64, rip: u64, rsp: u64, cs: u64, ss: u64, arg: u64) -> u64 {
    // SAFETY: forwarded to the caller's guarantees.
    unsafe { lazarus_enter_user(slot, rip, rsp, cs, ss, arg) }
}

/// Returns from the `enter_user` whose saved stack pointer is `saved_rsp`.
///
/// # Safety
/// `saved_rsp` must come from the slot of an `enter_user` of the running
/// thread that has not returned yet; the frames below it are abandoned
/// without being dropped, so they must own nothing.
pub unsafe fn resume_kernel(saved_rsp: u64, value: u64) -> ! {
    // SAFETY: forwarded to the caller's guarantees.
    unsafe { lazarus_resume_kernel(saved_rsp, value) }
}

/// Address of `lazarus_resume_kernel`, for rewriting a trap frame.
pub fn resume_kernel_address() -> u64 {
    lazarus_resume_kernel as *const () as u64
}
