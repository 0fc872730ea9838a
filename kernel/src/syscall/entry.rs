//! The `syscall` instruction's way into the kernel and `sysret`'s way out.
//!
//! `syscall` leaves the user's RSP in place, the return address in RCX and
//! the user's RFLAGS in R11, with RFLAGS masked by `IA32_FMASK` (interrupts,
//! direction, trap and alignment-check flags cleared). The entry switches to
//! the thread's kernel entry stack — the `rsp0` of the TSS, which
//! `usermode` keeps pointing just below the kernel frames of the process's
//! thread — saves the user state in a [`SyscallFrame`], and calls the
//! dispatcher. One CPU only: the user RSP passes through a static scratch
//! word while interrupts are masked.

use x86_64::registers::model_specific::{Efer, EferFlags, LStar, SFMask, Star};
use x86_64::registers::rflags::RFlags;
use x86_64::VirtAddr;

use crate::gdt;

/// The user state saved at a system call; the dispatcher writes the result
/// into `rax`. Lowest address first, as the entry pushes it.
#[repr(C)]
#[derive(Debug)]
#[allow(missing_docs)] // register names
pub struct SyscallFrame {
    pub r9: u64,
    pub r8: u64,
    pub r10: u64,
    pub rdx: u64,
    pub rsi: u64,
    pub rdi: u64,
    /// The call number on entry, the encoded result on exit.
    pub rax: u64,
    /// The user's RFLAGS (from R11).
    pub rflags: u64,
    /// The user's return address (from RCX).
    pub rip: u64,
    /// The user's stack pointer.
    pub rsp: u64,
}

core::arch::global_asm!(
    ".pushsection .text.lazarus_syscall, \"ax\"",
    ".global lazarus_syscall_entry",
    "lazarus_syscall_entry:",
    "    mov [rip + lazarus_syscall_user_rsp], rsp",
    "    mov rsp, [rip + lazarus_tss + 4]",
    "    push qword ptr [rip + lazarus_syscall_user_rsp]",
    "    push rcx",
    "    push r11",
    "    push rax",
    "    push rdi",
    "    push rsi",
    "    push rdx",
    "    push r10",
    "    push r8",
    "    push r9",
    "    mov rdi, rsp",
    // Keep the user's RBX; use it to realign the stack for the call.
    "    push rbx",
    "    mov rbx, rsp",
    "    and rsp, -16",
    "    call {dispatch}",
    "    mov rsp, rbx",
    "    pop rbx",
    "    cli",
    "    pop r9",
    "    pop r8",
    "    pop r10",
    "    pop rdx",
    "    pop rsi",
    "    pop rdi",
    "    pop rax",
    "    pop r11",
    "    pop rcx",
    "    pop rsp",
    "    sysretq",
    ".popsection",
    ".pushsection .bss.lazarus_syscall_user_rsp, \"aw\", @nobits",
    ".balign 8",
    "lazarus_syscall_user_rsp:",
    "    .quad 0",
    ".popsection",
    dispatch = sym super::dispatch::syscall_dispatch,
);

unsafe extern "C" {
    fn lazarus_syscall_entry();
}

/// Enables `syscall`/`sysret` and points them at the entry.
pub fn init() {
    let sel = gdt::selectors();
    if let Err(e) = Star::write(sel.user_code, sel.user_data, sel.kernel_code, sel.kernel_data) {
        panic!("GDT order does not suit sysret: {e}");
    }
    LStar::write(VirtAddr::new(lazarus_syscall_entry as *const () as u64));
    SFMask::write(RFlags::INTERRUPT_FLAG | RFlags::DIRECTION_FLAG | RFlags::TRAP_FLAG | RFlags::ALIGNMENT_CHECK);
    // SAFETY: enabling the syscall extension only makes `syscall` usable;
    // its entry and segments are set above.
    unsafe { Efer::update(|f| f.insert(EferFlags::SYSTEM_CALL_EXTENSIONS)) };
}
