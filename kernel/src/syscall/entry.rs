//! The `syscall` instruction's way into the kernel and `sysret`'s way out,
//! and the IPC fast path's way through.
//!
//! `syscall` leaves the user's RSP in place, the return address in RCX and
//! the user's RFLAGS in R11, with RFLAGS masked by `IA32_FMASK` (interrupts,
//! direction, trap and alignment-check flags cleared). This code is part of
//! the entry area (`memory/isolation.rs`), mapped in ring 3's view: it
//! loads the kernel's view of the address space and switches to the
//! thread's kernel entry stack, which `usermode` keeps just below the
//! kernel frames of the process's thread, saves the user state in a
//! [`SyscallFrame`] and calls the dispatcher. The way out loads the user
//! view last.
//!
//! `call` and `reply_recv` first try the IPC fast path
//! (`thread::ipc::fast_path`; `recv` passes through it to the dispatcher,
//! so that the entry tells IPC calls apart with a single comparison).
//! Their entry also saves the user's callee-saved registers, and two words
//! that make the whole [`IpcFrame`] a context the thread switch can resume
//! (the layout `saved_context` pushes, then a return address). With
//! interrupts still masked the fast path either answers "slow" (the
//! dispatcher then runs as for any call) or has already moved the message,
//! blocked the caller with its saved stack pointer at this frame, and
//! names the stack to load:
//! - the other thread's own `IpcFrame` (it blocked through the fast path
//!   too, and the message is written into its frame): the exit pops its
//!   registers and `sysret`s to it — no Rust code of its own runs;
//! - or a stack pointer saved by an ordinary switch: the exit pops the
//!   saved context and returns into that thread's kernel code.
//!
//! A thread the fast path blocked and that something else wakes (the
//! scheduler's switch, after `restart_endpoint` or a `PeerGone`) returns
//! from the switch into `lazarus_ipc_resume`, which collects what was
//! delivered (`thread::ipc::resume_blocked`) and `sysret`s.

use lazarus_abi::Syscall;
use x86_64::registers::model_specific::{Efer, EferFlags, LStar, SFMask, Star};
use x86_64::registers::rflags::RFlags;
use x86_64::VirtAddr;

use crate::gdt;
use crate::saved_context::pop_saved_context;

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

/// The frame of `call` and `reply_recv`: the user's callee-saved registers
/// and two words below the [`SyscallFrame`], so that it is also a saved
/// context the thread switch resumes (`saved_context`'s order: R15, R14,
/// R13, R12, RBX, RBP, RFLAGS, then the return address). With it the
/// frame holds all sixteen user registers, so a thread blocked by the fast
/// path can be resumed straight into ring 3 from it.
#[repr(C)]
#[derive(Debug)]
#[allow(missing_docs)] // register names
pub struct IpcFrame {
    pub r15: u64,
    pub r14: u64,
    pub r13: u64,
    pub r12: u64,
    pub rbx: u64,
    pub rbp: u64,
    /// RFLAGS the switch loads before returning: interrupts masked.
    pub kernel_rflags: u64,
    /// Where the switch returns: `lazarus_ipc_resume`.
    pub resume: u64,
    /// The registers every system call saves.
    pub sys: SyscallFrame,
}

/// Bytes from an [`IpcFrame`] to its [`SyscallFrame`] (eight words).
const IPC_FRAME_HEAD: usize = 64;
const _: () = assert!(core::mem::offset_of!(IpcFrame, sys) == IPC_FRAME_HEAD);
const _: () = assert!(core::mem::offset_of!(IpcFrame, rbx) == 32);
const _: () = assert!(core::mem::size_of::<SyscallFrame>() == 80);

/// What the fast path tells the entry (returned in RAX:RDX).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FastExit {
    /// The stack pointer to load; 0: take the slow path.
    pub rsp: u64,
    /// Non-zero: `rsp` is the other thread's [`IpcFrame`], to `sysret`
    /// from; zero: a context saved by the switch, to return into.
    pub direct: u64,
}

impl FastExit {
    /// Go the slow way: the dispatcher handles the call.
    pub const SLOW: Self = Self { rsp: 0, direct: 0 };
}

/// The IPC system calls, `call` to `reply_recv`, have consecutive numbers,
/// so the entry tells them from the others with one comparison.
const FIRST_IPC: u64 = Syscall::Call as u64;
const LAST_IPC: u64 = Syscall::ReplyRecv as u64;
const _: () = assert!(Syscall::Recv as u64 == FIRST_IPC + 1 && LAST_IPC == FIRST_IPC + 2);

/// RFLAGS of a context the fast path saves: only the always-one bit 1, so
/// interrupts stay masked until `sysret` loads the user's flags.
const KERNEL_RFLAGS: u64 = 0x2;

core::arch::global_asm!(
    // In the entry area (`memory/isolation.rs`): page-aligned and padded,
    // so ring 3's view of the kernel maps this code and nothing else with
    // it. The first instructions and the last run on the user view.
    ".pushsection .text.lazarus_syscall, \"ax\"",
    ".balign 4096",
    ".global lazarus_syscall_entry",
    "lazarus_syscall_entry:",
    // The kernel view, then the thread's entry stack.
    "    mov [rip + lazarus_pti_user_rsp], rsp",
    "    mov rsp, [rip + lazarus_pti_kernel_cr3]",
    "    mov cr3, rsp",
    "    mov rsp, [rip + lazarus_kernel_stack_top]",
    "    push qword ptr [rip + lazarus_pti_user_rsp]",
    "    push rcx",
    "    push r11",
    "    push rax",
    "    push rdi",
    "    push rsi",
    "    push rdx",
    "    push r10",
    "    push r8",
    "    push r9",
    // The IPC calls (`call`, `recv`, `reply_recv`: consecutive numbers)
    // take the IPC entry; RCX is saved, so free to use.
    "    lea rcx, [rax - {first_ipc}]",
    "    cmp rcx, {last_ipc} - {first_ipc}",
    "    jbe 2f",
    "    mov rdi, rsp",
    // Keep the user's RBX; use it to realign the stack for the call.
    "    push rbx",
    "    mov rbx, rsp",
    "    and rsp, -16",
    "    call {dispatch}",
    "    mov rsp, rbx",
    "    pop rbx",
    "    cli",
    // Restores the SyscallFrame at RSP and returns to ring 3, interrupts
    // masked: the whole frame is read before the user view is loaded.
    "lazarus_syscall_exit:",
    "    pop r9",
    "    pop r8",
    "    pop r10",
    "    pop rdx",
    "    pop rsi",
    // The user's RDI waits in the entry area while RDI loads CR3.
    "    pop qword ptr [rip + lazarus_pti_scratch]",
    "    pop rax",
    "    pop r11",
    "    pop rcx",
    // On the user's stack (mapped in both views) from here: nothing is
    // pushed.
    "    pop rsp",
    "    mov rdi, [rip + lazarus_pti_user_cr3]",
    "    mov cr3, rdi",
    "    mov rdi, [rip + lazarus_pti_scratch]",
    "    sysretq",
    // `call`, `recv`, `reply_recv`: complete the IpcFrame (RCX and R11
    // are saved already, so free to use).
    "2:",
    "    lea rcx, [rip + lazarus_ipc_resume]",
    "    push rcx",
    "    push {kernel_rflags}",
    "    push rbp",
    "    push rbx",
    "    push r12",
    "    push r13",
    "    push r14",
    "    push r15",
    "    mov rdi, rsp",
    "    mov rbx, rsp",
    "    and rsp, -16",
    "    call {fast_path}",
    "    test rax, rax",
    "    jz 3f",
    "    mov rsp, rax",
    "    test rdx, rdx",
    "    jz 4f",
    // Direct: the other thread's IpcFrame, its message already in place.
    "    pop r15",
    "    pop r14",
    "    pop r13",
    "    pop r12",
    "    pop rbx",
    "    pop rbp",
    "    add rsp, 16",
    "    jmp lazarus_syscall_exit",
    // A context saved by the switch: resume it as the switch would.
    "4:",
    pop_saved_context!(),
    "    ret",
    // Slow path: the dispatcher, on the SyscallFrame; then the user's RBX
    // back from the IpcFrame (the others were preserved by the callee).
    "3:",
    "    lea rdi, [rbx + {head}]",
    "    call {dispatch}",
    "    mov rsp, rbx",
    "    mov rbx, [rsp + 32]",
    "    add rsp, {head}",
    "    cli",
    "    jmp lazarus_syscall_exit",
    // A thread the fast path blocked, resumed by the switch (which popped
    // its callee-saved registers from the IpcFrame): RSP is at its
    // SyscallFrame. Collect what was delivered, then back to ring 3.
    ".global lazarus_ipc_resume",
    "lazarus_ipc_resume:",
    "    mov rdi, rsp",
    "    push rbx",
    "    mov rbx, rsp",
    "    and rsp, -16",
    "    call {resume}",
    "    mov rsp, rbx",
    "    pop rbx",
    "    cli",
    "    jmp lazarus_syscall_exit",
    ".balign 4096",
    ".global lazarus_syscall_entry_end",
    "lazarus_syscall_entry_end:",
    ".popsection",
    dispatch = sym super::dispatch::syscall_dispatch,
    fast_path = sym crate::thread::ipc::fast_path,
    resume = sym crate::thread::ipc::resume_blocked,
    first_ipc = const FIRST_IPC,
    last_ipc = const LAST_IPC,
    kernel_rflags = const KERNEL_RFLAGS,
    head = const IPC_FRAME_HEAD,
);

unsafe extern "C" {
    fn lazarus_syscall_entry();
    static lazarus_syscall_entry_end: u8;
}

/// Where the entry is (for the entry area's tables).
pub fn entry_range() -> core::ops::Range<u64> {
    (lazarus_syscall_entry as *const () as u64)..(&raw const lazarus_syscall_entry_end as u64)
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
