//! Assembly entry stubs: every vector enters through the same path and
//! leaves the same [`TrapFrame`] for the Rust dispatcher.
//!
//! A stub pushes a zero error code where the CPU pushes none, then its vector
//! number, and jumps to the common entry (through the entry area's
//! `lazarus_pti_trap`, which loads the kernel's view of the address space
//! if the trap came from ring 3), which saves all general registers,
//! calls [`super::dispatch::trap_dispatch`] with a pointer to the frame, and
//! restores everything from the frame (which handlers may have rewritten)
//! before `iretq`. Stubs are 16-byte aligned and 16 bytes apart, so stub `i`
//! is at `lazarus_trap_stubs + 16 * i`.

use kernel_logic::trap_frame::TrapFrame;

/// Distance between two stubs.
pub const STUB_ALIGN: u64 = 16;

macro_rules! trap_stubs {
    ($($vec:literal $kind:ident),* $(,)?) => {
        // In the entry area (`memory/isolation.rs`): page-aligned and
        // padded, so they share their pages with nothing else.
        core::arch::global_asm!(
            ".pushsection .text.lazarus_trap_stubs, \"ax\"",
            ".balign 4096",
            ".global lazarus_trap_stubs",
            "lazarus_trap_stubs:",
            $(trap_stubs!(@stub $vec $kind),)*
            ".balign 4096",
            ".global lazarus_trap_stubs_end",
            "lazarus_trap_stubs_end:",
            ".popsection",
        );
        /// The vectors that have a stub, in stub order.
        pub const STUB_VECTORS: &[u8] = &[$($vec),*];
    };
    (@stub $vec:literal err) => {
        concat!(".balign 16\n push ", stringify!($vec), "\n jmp lazarus_pti_trap")
    };
    (@stub $vec:literal noerr) => {
        concat!(".balign 16\n push 0\n push ", stringify!($vec), "\n jmp lazarus_pti_trap")
    };
}

// The CPU pushes an error code for 8, 10–14, 17, 21, 29 and 30 (Intel SDM
// Vol. 3A, table 6-1); `kernel_logic::trap_frame::has_error_code` is the same
// list and a test in `ktest` checks the two agree.
trap_stubs!(
    0 noerr, 1 noerr, 2 noerr, 3 noerr, 4 noerr, 5 noerr, 6 noerr, 7 noerr,
    8 err, 9 noerr, 10 err, 11 err, 12 err, 13 err, 14 err, 15 noerr,
    16 noerr, 17 err, 18 noerr, 19 noerr, 20 noerr, 21 err, 22 noerr, 23 noerr,
    24 noerr, 25 noerr, 26 noerr, 27 noerr, 28 noerr, 29 err, 30 err, 31 noerr,
    0x20 noerr, 0x21 noerr, 0x22 noerr, 0x23 noerr, 0x24 noerr, 0x25 noerr, 0x26 noerr, 0x27 noerr,
    0x28 noerr, 0x29 noerr, 0x2A noerr, 0x2B noerr, 0x2C noerr, 0x2D noerr, 0x2E noerr, 0x2F noerr,
    0x30 noerr, 0xFF noerr,
);

core::arch::global_asm!(
    ".pushsection .text.lazarus_trap_common, \"ax\"",
    ".global lazarus_trap_common",
    "lazarus_trap_common:",
    "    push rax",
    "    push rbx",
    "    push rcx",
    "    push rdx",
    "    push rsi",
    "    push rdi",
    "    push rbp",
    "    push r8",
    "    push r9",
    "    push r10",
    "    push r11",
    "    push r12",
    "    push r13",
    "    push r14",
    "    push r15",
    // The SysV ABI wants the direction flag clear on every call.
    "    cld",
    "    mov rdi, rsp",
    "    call {dispatch}",
    "    pop r15",
    "    pop r14",
    "    pop r13",
    "    pop r12",
    "    pop r11",
    "    pop r10",
    "    pop r9",
    "    pop r8",
    "    pop rbp",
    "    pop rdi",
    "    pop rsi",
    "    pop rdx",
    "    pop rcx",
    "    pop rbx",
    // Back to ring 3: through the entry area, which loads the user view.
    "    test byte ptr [rsp + 32], 3",
    "    jnz lazarus_pti_iret",
    "    pop rax",
    // Drop the vector and the error code.
    "    add rsp, 16",
    "    iretq",
    ".popsection",
    dispatch = sym super::dispatch::trap_dispatch,
);

unsafe extern "C" {
    static lazarus_trap_stubs: u8;
    static lazarus_trap_stubs_end: u8;
}

/// Where the stubs are (for the entry area's tables).
pub fn stubs_range() -> core::ops::Range<u64> {
    (&raw const lazarus_trap_stubs as u64)..(&raw const lazarus_trap_stubs_end as u64)
}

/// The address of the stub for each stubbed vector.
pub fn stubs() -> impl Iterator<Item = (u8, u64)> {
    let base = &raw const lazarus_trap_stubs as u64;
    STUB_VECTORS.iter().enumerate().map(move |(i, &v)| (v, base + i as u64 * STUB_ALIGN))
}

/// Size check at compile time: the stubs rely on this layout.
const _: () = assert!(core::mem::size_of::<TrapFrame>() == kernel_logic::trap_frame::TRAP_FRAME_SIZE);
