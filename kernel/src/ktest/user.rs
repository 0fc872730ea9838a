//! User-mode tests: processes in their own address spaces, system calls with
//! good and bad arguments, isolation (SMEP, SMAP, NX, kernel memory), and
//! faults that end only the process that took them.
//!
//! The programs are a few instructions of position-independent assembly
//! each, copied into a fresh address space by `usermode::run_user`.

use core::sync::atomic::{AtomicBool, Ordering};

use kernel_logic::layout::HEAP_START;
use kernel_logic::trap_frame::PageFaultCode;
use lazarus_abi::layout::{USER_CODE_BASE, USER_END};
use lazarus_abi::{Syscall, SyscallError};
use x86_64::structures::paging::{Page, PageTableFlags};
use x86_64::VirtAddr;

use super::{trigger, Case, Group};
use crate::accounting;
use crate::cpu::UserAccess;
use crate::interrupts::exceptions::FaultReport;
use crate::memory::address_space::AddressSpace;
use crate::thread::{self, FaultPolicy};
use crate::ramdisk;
use crate::thread::ipc::Handle;
use crate::usermode::{run_user, run_user_with, LoadError, UserExit, UserProgram};
use kernel_logic::elf::ElfError;

/// The group.
pub static GROUP: Group = Group {
    name: "user",
    cases: &[
        Case { name: "process_exits_with_its_code", run: exits_with_code },
        Case { name: "debug_write_returns_its_length", run: debug_write_works },
        Case { name: "bad_syscall_arguments_get_typed_errors", run: bad_arguments },
        Case { name: "user_read_of_kernel_memory_ends_the_process", run: reads_kernel_memory },
        Case { name: "ring_3_sees_only_the_entry_area_of_the_kernel", run: sees_only_the_entry_area },
        Case { name: "user_write_to_its_code_ends_the_process", run: writes_code },
        Case { name: "user_execute_of_stack_ends_the_process_nx", run: executes_stack },
        Case { name: "user_privileged_instruction_ends_the_process", run: privileged_instruction },
        Case { name: "user_divide_by_zero_ends_the_process", run: divides_by_zero },
        Case { name: "smep_stops_kernel_executing_user_pages", run: smep },
        Case { name: "smap_stops_kernel_reading_user_pages", run: smap },
        Case { name: "timer_preempts_user_code", run: preempts_user_code },
        Case { name: "processes_leave_no_frames_or_heap_behind", run: no_leaks },
        Case { name: "elf_program_from_the_ramdisk_runs", run: elf_program_runs },
        Case { name: "malformed_elf_images_are_refused", run: malformed_elf_refused },
    ],
};

core::arch::global_asm!(
    ".pushsection .rodata.lazarus_user_programs, \"a\"",
    // exit(42)
    ".global lazarus_up_exit42",
    "lazarus_up_exit42:",
    "    mov edi, 42",
    "    mov eax, {exit}",
    "    syscall",
    "    ud2",
    ".global lazarus_up_exit42_end",
    "lazarus_up_exit42_end:",
    // exit(debug_write(msg, len))
    ".global lazarus_up_hello",
    "lazarus_up_hello:",
    "    lea rdi, [rip + 2f]",
    "    lea rsi, [rip + 3f]",
    "    sub rsi, rdi",
    "    mov eax, {write}",
    "    syscall",
    "    mov rdi, rax",
    "    mov eax, {exit}",
    "    syscall",
    "    ud2",
    "2:  .ascii \"hello from ring 3\\n\"",
    "3:",
    ".global lazarus_up_hello_end",
    "lazarus_up_hello_end:",
    // exit(syscall(params[0], params[1..7])): the kernel test writes the
    // number and six arguments (RDI, RSI, RDX, R10, R8, R9) at the label
    // `params` before the process starts. With params[7] non-zero, a call
    // that succeeds exits with RDX instead (an IPC reply's second word).
    ".global lazarus_up_call",
    "lazarus_up_call:",
    "    mov rax, [rip + lazarus_up_call_params]",
    "    mov rdi, [rip + lazarus_up_call_params + 8]",
    "    mov rsi, [rip + lazarus_up_call_params + 16]",
    "    mov rdx, [rip + lazarus_up_call_params + 24]",
    "    mov r10, [rip + lazarus_up_call_params + 32]",
    "    mov r8, [rip + lazarus_up_call_params + 40]",
    "    mov r9, [rip + lazarus_up_call_params + 48]",
    "    syscall",
    "    cmp qword ptr [rip + lazarus_up_call_params + 56], 0",
    "    je 5f",
    "    test rax, rax",
    "    js 5f",
    "    mov rax, rdx",
    "5:  mov rdi, rax",
    "    mov eax, {exit}",
    "    syscall",
    "    ud2",
    ".global lazarus_up_call_text",
    "lazarus_up_call_text:",
    "    .ascii \"(user text)\\n\"",
    "    .balign 8",
    ".global lazarus_up_call_params",
    "lazarus_up_call_params:",
    "    .quad 0, 0, 0, 0, 0, 0, 0, 0",
    ".global lazarus_up_call_end",
    "lazarus_up_call_end:",
    // Reads the kernel heap.
    // Reads the word at the address in its last eight bytes (the kernel
    // heap, unless a test writes another there).
    ".global lazarus_up_read_kernel",
    "lazarus_up_read_kernel:",
    "    mov rax, [rip + 2f]",
    "    mov rax, [rax]",
    "    ud2",
    "2:  .quad {heap}",
    ".global lazarus_up_read_kernel_end",
    "lazarus_up_read_kernel_end:",
    // Writes its own (read-only) code.
    ".global lazarus_up_write_code",
    "lazarus_up_write_code:",
    "    lea rax, [rip]",
    "    mov [rax], rax",
    "    ud2",
    ".global lazarus_up_write_code_end",
    "lazarus_up_write_code_end:",
    // Puts a `ret` on its (no-execute) stack and jumps to it.
    ".global lazarus_up_exec_stack",
    "lazarus_up_exec_stack:",
    "    mov byte ptr [rsp - 8], 0xC3",
    "    lea rax, [rsp - 8]",
    "    jmp rax",
    ".global lazarus_up_exec_stack_end",
    "lazarus_up_exec_stack_end:",
    // `hlt` is privileged.
    ".global lazarus_up_hlt",
    "lazarus_up_hlt:",
    "    hlt",
    "    ud2",
    ".global lazarus_up_hlt_end",
    "lazarus_up_hlt_end:",
    ".global lazarus_up_divide",
    "lazarus_up_divide:",
    "    xor ecx, ecx",
    "    mov eax, 1",
    "    xor edx, edx",
    "    div rcx",
    "    ud2",
    ".global lazarus_up_divide_end",
    "lazarus_up_divide_end:",
    // Counts down from a big number without a system call, then exit(7).
    ".global lazarus_up_spin",
    "lazarus_up_spin:",
    "    mov rcx, 30000000",
    "4:  dec rcx",
    "    jnz 4b",
    "    mov edi, 7",
    "    mov eax, {exit}",
    "    syscall",
    "    ud2",
    ".global lazarus_up_spin_end",
    "lazarus_up_spin_end:",
    ".popsection",
    exit = const Syscall::Exit as u64,
    write = const Syscall::DebugWrite as u64,
    heap = const HEAP_START,
);

macro_rules! program {
    ($start:ident, $end:ident) => {{
        unsafe extern "C" {
            static $start: u8;
            static $end: u8;
        }
        let (s, e) = (&raw const $start, &raw const $end);
        // SAFETY: both labels delimit one program in read-only data.
        unsafe { core::slice::from_raw_parts(s, e as usize - s as usize) }
    }};
}
pub(super) use program;

fn run(code: &[u8]) -> UserExit {
    run_user(UserProgram::Code(code)).expect("the address space can be built")
}

/// Runs `syscall(nr, a, b)` in a process with `handles`; returns its result.
pub(super) fn call_with(nr: u64, a: u64, b: u64, handles: &[Handle]) -> i64 {
    call3_with(nr, a, b, 0, handles)
}

/// Runs `syscall(nr, a, b, c)` in a process with `handles`; returns its result.
pub(super) fn call3_with(nr: u64, a: u64, b: u64, c: u64, handles: &[Handle]) -> i64 {
    call6_with(nr, [a, b, c, 0, 0, 0], handles)
}

/// Runs `syscall(nr, args)` (RDI, RSI, RDX, R10, R8, R9) in a process with
/// `handles`; returns its result.
pub(super) fn call6_with(nr: u64, args: [u64; 6], handles: &[Handle]) -> i64 {
    run_call(nr, args, false, handles)
}

/// Runs the IPC call `nr` with `args` in a process with `handles`;
/// returns the second word of the reply (RDX), or the error.
pub(super) fn ipc_word_with(nr: u64, args: [u64; 6], handles: &[Handle]) -> i64 {
    run_call(nr, args, true, handles)
}

fn run_call(nr: u64, args: [u64; 6], reply_word: bool, handles: &[Handle]) -> i64 {
    unsafe extern "C" {
        static lazarus_up_call: u8;
        static lazarus_up_call_params: u8;
    }
    let mut code = alloc::vec::Vec::from(program!(lazarus_up_call, lazarus_up_call_end));
    let offset = &raw const lazarus_up_call_params as usize - &raw const lazarus_up_call as usize;
    let words = core::iter::once(nr).chain(args).chain(core::iter::once(u64::from(reply_word)));
    for (i, w) in words.enumerate() {
        code[offset + 8 * i..offset + 8 * i + 8].copy_from_slice(&w.to_le_bytes());
    }
    exit_code(run_user_with(UserProgram::Code(&code), handles).expect("the address space can be built"))
}

pub(super) fn exit_code(e: UserExit) -> i64 {
    match e {
        UserExit::Exited(code) => code,
        UserExit::Faulted(r) => panic!("process faulted: {r}"),
    }
}

pub(super) fn fault(e: UserExit) -> FaultReport {
    match e {
        UserExit::Faulted(r) => r,
        UserExit::Exited(code) => panic!("process exited with {code} instead of faulting"),
    }
}

fn exits_with_code() {
    assert_eq!(exit_code(run(program!(lazarus_up_exit42, lazarus_up_exit42_end))), 42);
}

fn debug_write_works() {
    let code = exit_code(run(program!(lazarus_up_hello, lazarus_up_hello_end)));
    assert_eq!(code, "hello from ring 3\n".len() as i64);
}

/// Runs `syscall(nr, a, b)` in a process and returns what it returned.
fn call(nr: u64, a: u64, b: u64) -> i64 {
    call_with(nr, a, b, &[])
}

/// The user address of the 12-byte text `(user text)\n` in the call program.
fn user_text() -> u64 {
    unsafe extern "C" {
        static lazarus_up_call: u8;
        static lazarus_up_call_text: u8;
    }
    USER_CODE_BASE + (&raw const lazarus_up_call_text as u64 - &raw const lazarus_up_call as u64)
}

pub(super) fn err(e: SyscallError) -> i64 {
    -(e as i64)
}

fn bad_arguments() {
    let write = Syscall::DebugWrite as u64;
    // A good call, through the same program, as the control.
    assert_eq!(call(write, user_text(), 12), 12);
    assert_eq!(call(write, 0, 10), err(SyscallError::BadAddress), "null");
    assert_eq!(call(write, HEAP_START, 8), err(SyscallError::BadAddress), "kernel address");
    assert_eq!(call(write, 0xFFFF_8000_0000_0000, 8), err(SyscallError::BadAddress), "kernel half");
    assert_eq!(call(write, USER_END - 4, 8), err(SyscallError::BadAddress), "crosses the user end");
    assert_eq!(call(write, u64::MAX - 3, 8), err(SyscallError::BadAddress), "wraps");
    assert_eq!(call(write, 0x1000_0000, 8), err(SyscallError::BadAddress), "unmapped user page");
    assert_eq!(call(write, USER_CODE_BASE + 4095, 2), err(SyscallError::BadAddress), "runs off the code page");
    assert_eq!(call(write, user_text() + 1, 11), 11, "unaligned is fine");
    assert_eq!(call(write, USER_CODE_BASE, 1 << 40), err(SyscallError::TooLong), "huge length");
    assert_eq!(call(999, 0, 0), err(SyscallError::UnknownSyscall));
    assert_eq!(call(u64::MAX, 0, 0), err(SyscallError::UnknownSyscall));
    assert_eq!(call(Syscall::SleepMs as u64, 1 << 50, 0), err(SyscallError::InvalidArgument));
    assert_eq!(call(Syscall::SleepMs as u64, 10, 0), 0);
    assert_eq!(call(Syscall::Yield as u64, 0, 0), 0);
}

fn reads_kernel_memory() {
    let r = fault(run(program!(lazarus_up_read_kernel, lazarus_up_read_kernel_end)));
    assert_eq!(r.vector, 14);
    assert_eq!(r.cr2, Some(HEAP_START));
    let code = PageFaultCode(r.frame.error_code);
    // Not even mapped in ring 3's view of the address space.
    assert!(code.user() && !code.present() && !code.write(), "{code}");
}

/// The page-fault error code of a user read of `addr`.
fn user_read_fault(addr: u64) -> PageFaultCode {
    let mut code = alloc::vec::Vec::from(program!(lazarus_up_read_kernel, lazarus_up_read_kernel_end));
    let at = code.len() - 8;
    code[at..].copy_from_slice(&addr.to_le_bytes());
    let r = fault(run(&code));
    assert_eq!((r.vector, r.cr2), (14, Some(addr)), "a page fault at the address read");
    PageFaultCode(r.frame.error_code)
}

/// Page-table isolation: ring 3's view of the kernel is the entry area
/// alone. Its pages are there (supervisor-only: a protection violation);
/// the kernel's code, heap, thread stacks and map of physical memory are
/// not mapped at all (with the kernel's view, each would be a protection
/// violation too).
fn sees_only_the_entry_area() {
    let entry_area = [crate::memory::isolation::trampoline_top() - 8, crate::syscall::entry_range().start];
    for addr in entry_area {
        let code = user_read_fault(addr);
        assert!(code.user() && code.present(), "entry area {addr:#x}: {code}");
    }
    let stack = thread::current_stack().expect("a test thread has a stack").start;
    let elsewhere = [
        HEAP_START,
        stack,
        sees_only_the_entry_area as *const () as u64,
        crate::memory::frames::phys_offset().as_u64() + 0x10_0000,
    ];
    for addr in elsewhere {
        assert!(crate::memory::paging::translate(x86_64::VirtAddr::new(addr)).is_some(), "{addr:#x} is mapped for the kernel");
        let code = user_read_fault(addr);
        assert!(code.user() && !code.present(), "kernel memory at {addr:#x} is in ring 3's view: {code}");
    }
}

fn writes_code() {
    let r = fault(run(program!(lazarus_up_write_code, lazarus_up_write_code_end)));
    let code = PageFaultCode(r.frame.error_code);
    assert!(r.vector == 14 && code.user() && code.present() && code.write(), "{code}");
    assert_eq!(r.cr2, Some(USER_CODE_BASE + 7), "the address of the store's own instruction end");
}

fn executes_stack() {
    let r = fault(run(program!(lazarus_up_exec_stack, lazarus_up_exec_stack_end)));
    let code = PageFaultCode(r.frame.error_code);
    assert!(r.vector == 14 && code.user() && code.instruction_fetch(), "{code}");
}

fn privileged_instruction() {
    let r = fault(run(program!(lazarus_up_hlt, lazarus_up_hlt_end)));
    assert_eq!(r.vector, 13);
    assert_eq!(r.frame.rip, USER_CODE_BASE);
}

fn divides_by_zero() {
    let r = fault(run(program!(lazarus_up_divide, lazarus_up_divide_end)));
    assert_eq!(r.vector, 0);
    assert_eq!(r.frame.cs & 3, 3, "the fault happened in ring 3");
}

/// A kernel thread that has a user address space with one user page at
/// `USER_CODE_BASE` holding a `ret`, and runs `f` in it.
fn with_user_page<T: Send + 'static>(f: fn() -> T) -> Result<T, FaultReport> {
    thread::spawn("user-page", FaultPolicy::Kill, move || {
        let mut space = AddressSpace::new().expect("space");
        let page = Page::containing_address(VirtAddr::new(USER_CODE_BASE));
        space.map(page, PageTableFlags::empty()).expect("map");
        space.write(USER_CODE_BASE, &[0xC3]).expect("write");
        thread::attach_user(space, &[], None);
        let value = f();
        drop(thread::detach_user());
        value
    })
    .expect("spawn")
    .join()
}

fn smep() {
    let r = with_user_page(|| {
        // SAFETY: calls a `ret`; with SMEP the fetch faults instead, and
        // this thread is killed by it.
        unsafe { trigger::call(USER_CODE_BASE) };
    })
    .expect_err("SMEP must stop the kernel executing a user page");
    let code = PageFaultCode(r.frame.error_code);
    assert!(r.vector == 14 && code.instruction_fetch() && code.present() && !code.user(), "{code}");
    assert_eq!(r.cr2, Some(USER_CODE_BASE));
}

fn smap() {
    // Inside the user-access window the read works...
    let byte = with_user_page(|| {
        let _window = UserAccess::open();
        // SAFETY: the page is mapped (above) and the window is open.
        unsafe { (USER_CODE_BASE as *const u8).read_volatile() }
    })
    .expect("reading with the window open works");
    assert_eq!(byte, 0xC3);
    // ...outside it faults.
    let r = with_user_page(|| {
        // SAFETY: faults on purpose (SMAP); this thread is killed by it.
        unsafe { trigger::read_u64(USER_CODE_BASE) }
    })
    .expect_err("SMAP must stop the kernel reading a user page");
    let code = PageFaultCode(r.frame.error_code);
    assert!(r.vector == 14 && code.present() && !code.user() && !code.write(), "{code}");
}

fn preempts_user_code() {
    static DONE: AtomicBool = AtomicBool::new(false);
    DONE.store(false, Ordering::SeqCst);
    let h = thread::spawn("spinner-process", FaultPolicy::Panic, || {
        let code = exit_code(run(program!(lazarus_up_spin, lazarus_up_spin_end)));
        DONE.store(true, Ordering::SeqCst);
        code
    })
    .expect("spawn");
    // This thread wakes while the process is still counting only if the
    // timer preempts ring-3 code.
    thread::sleep_ms(10);
    let overtaken = !DONE.load(Ordering::SeqCst);
    assert_eq!(h.join().expect("no fault"), 7);
    assert!(overtaken, "the kernel ran while the user process spun");
}

fn no_leaks() {
    run(program!(lazarus_up_exit42, lazarus_up_exit42_end));
    fault(run(program!(lazarus_up_read_kernel, lazarus_up_read_kernel_end)));
    let before = accounting::snapshot();
    for _ in 0..20 {
        assert_eq!(exit_code(run(program!(lazarus_up_exit42, lazarus_up_exit42_end))), 42);
        fault(run(program!(lazarus_up_read_kernel, lazarus_up_read_kernel_end)));
    }
    assert_eq!(accounting::snapshot(), before, "address spaces freed entirely");
}

/// The `hello` program from the ramdisk.
fn hello_image() -> &'static [u8] {
    ramdisk::program("hello").expect("the ramdisk is readable").expect("the ramdisk has hello")
}

fn elf_program_runs() {
    let code = exit_code(run_user(UserProgram::Elf(hello_image())).expect("hello loads"));
    assert_eq!(code, 7, "hello's own checks passed");
}

fn u64_at(image: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(image[at..at + 8].try_into().expect("8 bytes"))
}

/// Offsets of the program headers of loadable segments.
fn load_headers(image: &[u8]) -> alloc::vec::Vec<usize> {
    const PT_LOAD: u32 = 1;
    const PHDR_SIZE: usize = 56;
    let phoff = u64_at(image, 32) as usize;
    let count = usize::from(u16::from_le_bytes([image[56], image[57]]));
    (0..count)
        .map(|i| phoff + i * PHDR_SIZE)
        .filter(|&at| u32::from_le_bytes(image[at..at + 4].try_into().expect("4 bytes")) == PT_LOAD)
        .collect()
}

fn malformed_elf_refused() {
    let good = hello_image();
    exit_code(run_user(UserProgram::Elf(good)).expect("warm up"));
    let loads = load_headers(good);
    assert!(loads.len() >= 2, "hello has code and data segments");
    let before = accounting::snapshot();
    let refused = |image: &[u8]| match run_user(UserProgram::Elf(image)) {
        Err(LoadError::Elf(e)) => e,
        Err(e) => panic!("refused for the wrong reason: {e}"),
        Ok(exit) => panic!("a malformed image ran: {exit:?}"),
    };
    let edit = |f: &dyn Fn(&mut [u8])| {
        let mut copy = alloc::vec::Vec::from(good);
        f(&mut copy);
        copy
    };
    let last = *loads.last().expect("segments");
    let cut = u64_at(good, last + 8) as usize + 1;
    assert_eq!(refused(&good[..cut]), ElfError::BadFileRange { segment: loads.len() - 1 }, "truncated");
    assert_eq!(refused(&good[..40]), ElfError::Malformed, "truncated in the header");
    assert_eq!(refused(&edit(&|i| i[18] = 0x28)), ElfError::WrongMachine(0x28), "ARM");
    assert_eq!(refused(&edit(&|i| i[4] = 1)), ElfError::WrongClass, "32-bit");
    assert_eq!(refused(&edit(&|i| i[16] = 3)), ElfError::NotExecutable(3), "shared object");
    let (first, second) = (loads[0], loads[1]);
    let first_vaddr = u64_at(good, first + 16);
    let overlapping = |i: &mut [u8]| i[second + 16..second + 24].copy_from_slice(&first_vaddr.to_le_bytes());
    assert_eq!(refused(&edit(&overlapping)), ElfError::Overlap { segment: 1 });
    let kernel_half = |i: &mut [u8]| i[first + 16..first + 24].copy_from_slice(&0xFFFF_8000_0000_0000u64.to_le_bytes());
    assert_eq!(refused(&edit(&kernel_half)), ElfError::OutsideUserSpace { segment: 0 });
    let bad_entry = |i: &mut [u8]| i[24..32].copy_from_slice(&first_vaddr.to_le_bytes());
    assert_eq!(refused(&edit(&bad_entry)), ElfError::BadEntry(first_vaddr), "entry in the read-only headers");
    assert_eq!(accounting::snapshot(), before, "refusing an image leaks nothing");
    assert_eq!(exit_code(run_user(UserProgram::Elf(good)).expect("still loads")), 7);
}
