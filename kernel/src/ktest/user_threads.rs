//! Tests of processes with more than one thread (`thread_create`,
//! `thread_exit`, `thread_join`), in the `user_threads` group.
//!
//! Two kinds: a few instructions of position-independent code each for
//! how a process ends (every way a sibling can be caught when another
//! thread ends the process: spinning in ring 3, sleeping, blocked in IPC)
//! and for the kernel's limits; and the `threadprobe` program, which
//! checks from ring 3 what the runtime's threads give a program (run once
//! per boot, each of its checks reported as a case).

use alloc::format;
use alloc::string::String;

use lazarus_abi::layout::USER_STACK_TOP;
use lazarus_abi::syscall::THREADS_PER_PROCESS;
use lazarus_abi::{Syscall, SyscallError};
use spin::Once;

use super::user::{call6_with, err, exit_code, fault, program};
use super::{Case, Group};
use crate::thread::ipc::{self, Handle};
use crate::thread::{self, FaultPolicy};
use crate::usermode::{run_user_with, UserExit, UserProgram};
use crate::{accounting, console, ramdisk};

/// The group.
pub static GROUP: Group = Group {
    name: "user_threads",
    cases: &[
        Case { name: "exit_stops_spinning_sleeping_and_blocked_threads", run: exit_stops_every_thread },
        Case { name: "a_fault_in_one_thread_ends_the_whole_process", run: fault_in_a_thread },
        Case { name: "the_last_thread_to_exit_gives_the_process_its_code", run: last_thread_exit },
        Case { name: "join_returns_the_code_of_thread_exit", run: join_returns_code },
        Case { name: "thread_create_has_a_quota_per_process", run: quota },
        Case { name: "thread_calls_refuse_bad_arguments", run: bad_arguments },
        Case { name: "processes_with_threads_leave_nothing_behind", run: no_leaks },
        Case { name: "threads_share_memory_and_run_concurrently", run: || probe_check(0) },
        Case { name: "ps_lists_every_thread_with_its_process", run: || probe_check(1) },
        Case { name: "join_refuses_itself_strangers_and_a_second_join", run: || probe_check(2) },
        Case { name: "a_code_is_kept_until_joined", run: || probe_check(3) },
        Case { name: "threads_of_one_process_talk_over_ipc", run: || probe_check(4) },
        Case { name: "a_thread_blocked_in_join_wakes_when_its_target_ends", run: || probe_check(5) },
        Case { name: "the_runtime_gives_out_every_stack_slot_and_no_more", run: || probe_check(6) },
    ],
};

/// What a thread prints if it ever runs on after its process ended.
macro_rules! ran_on {
    () => {
        "BUG: a stopped thread ran on"
    };
}
const RAN_ON: &str = ran_on!();

core::arch::global_asm!(
    ".pushsection .rodata.lazarus_user_thread_programs, \"a\"",
    // rax = thread_create(entry, USER_STACK_TOP - off, 0); to the exit
    // with the error if it fails.
    ".macro lazarus_ut_create entry, off",
    "    lea rdi, [rip + \\entry]",
    "    mov rsi, {stack_top} - \\off",
    "    xor edx, edx",
    "    mov eax, {create}",
    "    syscall",
    "    test rax, rax",
    "    js 9f",
    ".endm",
    // exit(code)
    ".macro lazarus_ut_exit code",
    "    mov edi, \\code",
    "    mov eax, {exit}",
    "    syscall",
    "    ud2",
    ".endm",
    // exit(rax)
    ".macro lazarus_ut_exit_rax",
    "    mov rdi, rax",
    "    mov eax, {exit}",
    "    syscall",
    "    ud2",
    ".endm",
    // thread_exit(code)
    ".macro lazarus_ut_thread_exit code",
    "    mov edi, \\code",
    "    mov eax, {thread_exit}",
    "    syscall",
    "    ud2",
    ".endm",
    // sleep_ms(ms)
    ".macro lazarus_ut_sleep ms",
    "    mov edi, \\ms",
    "    mov eax, {sleep}",
    "    syscall",
    ".endm",
    // A thread that got back to ring 3 from its wait says so, and spins.
    ".macro lazarus_ut_ran_on",
    "    lea rdi, [rip + 8f]",
    "    mov esi, {ran_on_len}",
    "    mov eax, {write}",
    "    syscall",
    "3:  jmp 3b",
    ".endm",
    // Three threads (one spinning in ring 3, one sleeping for a minute, one
    // waiting for a message on handle 0), then exit(7) from the first.
    ".global lazarus_ut_exit_all",
    "lazarus_ut_exit_all:",
    "    lazarus_ut_create 1f, 0x4000",
    "    lazarus_ut_create 2f, 0x8000",
    "    lazarus_ut_create 4f, 0xC000",
    "    lazarus_ut_sleep 30",
    "    lazarus_ut_exit 7",
    "1:  jmp 1b",
    "2:  lazarus_ut_sleep 60000",
    "    lazarus_ut_ran_on",
    "4:  xor edi, edi",
    "    mov eax, {recv}",
    "    syscall",
    "    lazarus_ut_ran_on",
    concat!("8:  .ascii \"", ran_on!(), "\\n\""),
    "9:  lazarus_ut_exit_rax",
    ".global lazarus_ut_exit_all_end",
    "lazarus_ut_exit_all_end:",
    // A thread that reads address 0 after 20 ms, while the first thread
    // waits for a message on handle 0.
    ".global lazarus_ut_fault",
    "lazarus_ut_fault:",
    "    lazarus_ut_create 1f, 0x4000",
    "    xor edi, edi",
    "    mov eax, {recv}",
    "    syscall",
    "    lazarus_ut_ran_on",
    "1:  lazarus_ut_sleep 20",
    "    xor eax, eax",
    "    mov rax, [rax]",
    "    lazarus_ut_ran_on",
    concat!("8:  .ascii \"", ran_on!(), "\\n\""),
    "9:  lazarus_ut_exit_rax",
    ".global lazarus_ut_fault_end",
    "lazarus_ut_fault_end:",
    // The first thread ends with thread_exit(0) at once; the other sleeps
    // 20 ms and ends with thread_exit(5).
    ".global lazarus_ut_last",
    "lazarus_ut_last:",
    "    lazarus_ut_create 1f, 0x4000",
    "    lazarus_ut_thread_exit 0",
    "1:  lazarus_ut_sleep 20",
    "    lazarus_ut_thread_exit 5",
    "9:  lazarus_ut_exit_rax",
    ".global lazarus_ut_last_end",
    "lazarus_ut_last_end:",
    // exit(thread_join(thread_create(thread_exit(1234)))).
    ".global lazarus_ut_join",
    "lazarus_ut_join:",
    "    lazarus_ut_create 1f, 0x4000",
    "    mov rdi, rax",
    "    mov eax, {join}",
    "    syscall",
    "    lazarus_ut_exit_rax",
    "1:  lazarus_ut_thread_exit 1234",
    "9:  lazarus_ut_exit_rax",
    ".global lazarus_ut_join_end",
    "lazarus_ut_join_end:",
    // Creates threads that end at once (never joined) until it fails;
    // exit(created << 8 | -error).
    ".global lazarus_ut_quota",
    "lazarus_ut_quota:",
    "    xor ebx, ebx",
    "5:  lea rdi, [rip + 1f]",
    "    mov rsi, {stack_top} - 0x4000",
    "    xor edx, edx",
    "    mov eax, {create}",
    "    syscall",
    "    test rax, rax",
    "    js 6f",
    "    inc rbx",
    "    jmp 5b",
    "6:  neg rax",
    "    shl rbx, 8",
    "    or rax, rbx",
    "    lazarus_ut_exit_rax",
    // The threads use no stack: the kernel's checks are all they need.
    "1:  lazarus_ut_thread_exit 0",
    ".global lazarus_ut_quota_end",
    "lazarus_ut_quota_end:",
    ".popsection",
    stack_top = const USER_STACK_TOP,
    create = const Syscall::ThreadCreate as u64,
    thread_exit = const Syscall::ThreadExit as u64,
    join = const Syscall::ThreadJoin as u64,
    exit = const Syscall::Exit as u64,
    sleep = const Syscall::SleepMs as u64,
    recv = const Syscall::Recv as u64,
    write = const Syscall::DebugWrite as u64,
    ran_on_len = const RAN_ON.len() + 1,
);

/// Runs `code` with one handle, to an endpoint nobody else uses, on a
/// kernel thread named `name`; returns how it ended. Checks that no thread
/// of the process is left, and that none printed [`RAN_ON`].
fn run_threads(name: &'static str, code: &'static [u8]) -> UserExit {
    // One endpoint for every run (endpoints are never freed): a receiver
    // its process's end failed to withdraw would still be queued on it.
    static ENDPOINT: Once<ipc::EndpointId> = Once::new();
    let handle: Handle = ipc::handle(*ENDPOINT.call_once(ipc::create_endpoint));
    console::capture_start();
    let exit = thread::spawn(name, FaultPolicy::Panic, move || {
        let exit = run_user_with(UserProgram::Code(code), &[handle]).expect("the address space can be built");
        let me = thread::current_id().expect("a thread");
        let left: alloc::vec::Vec<_> = thread::snapshot().into_iter().filter(|t| t.process == Some(me)).collect();
        assert!(left.is_empty(), "threads of the ended process are left: {left:?}");
        exit
    })
    .expect("spawn")
    .join()
    .expect("no kernel fault");
    let output = String::from_utf8_lossy(&console::capture_take()).into_owned();
    assert!(!output.contains(RAN_ON), "a thread returned to ring 3 after its process ended:\n{output}");
    exit
}

fn exit_stops_every_thread() {
    let exit = run_threads("ut-exit-all", program!(lazarus_ut_exit_all, lazarus_ut_exit_all_end));
    assert_eq!(exit_code(exit), 7, "the process ends with the code of its exit");
}

fn fault_in_a_thread() {
    let report = fault(run_threads("ut-fault", program!(lazarus_ut_fault, lazarus_ut_fault_end)));
    assert_eq!(report.vector, 14, "the page fault of the second thread ended the process: {report}");
}

fn last_thread_exit() {
    let exit = run_threads("ut-last", program!(lazarus_ut_last, lazarus_ut_last_end));
    assert_eq!(exit_code(exit), 5, "the last thread's code");
}

fn join_returns_code() {
    let exit = run_threads("ut-join", program!(lazarus_ut_join, lazarus_ut_join_end));
    assert_eq!(exit_code(exit), 1234);
}

fn quota() {
    let exit = exit_code(run_threads("ut-quota", program!(lazarus_ut_quota, lazarus_ut_quota_end)));
    let (created, error) = (exit >> 8, exit & 0xFF);
    assert_eq!(error, SyscallError::QuotaExceeded as i64, "the refusal's error (exit {exit:#x})");
    // Ended but not joined threads count: the first thread and 15 others.
    assert_eq!(created, THREADS_PER_PROCESS as i64 - 1, "threads created before the refusal");
}

fn bad_arguments() {
    let create = Syscall::ThreadCreate as u64;
    let stack = USER_STACK_TOP - 0x4000;
    // The entry: in kernel space, or past user space.
    assert_eq!(call6_with(create, [0xFFFF_8000_0000_0000, stack, 0, 0, 0, 0], &[]), err(SyscallError::BadAddress));
    assert_eq!(call6_with(create, [0x8000_0000_0000, stack, 0, 0, 0, 0], &[]), err(SyscallError::BadAddress));
    // The stack: unaligned, unmapped, null, in kernel space.
    let entry = lazarus_abi::layout::USER_CODE_BASE;
    for bad in [stack + 8, 0x5000_0000, 0, 0xFFFF_8000_0001_0000] {
        assert_eq!(call6_with(create, [entry, bad, 0, 0, 0, 0], &[]), err(SyscallError::BadAddress), "stack {bad:#x}");
    }
    // Codes above u32::MAX; joins of nobody, of the idle thread, of itself.
    assert_eq!(call6_with(Syscall::ThreadExit as u64, [1 << 32, 0, 0, 0, 0, 0], &[]), err(SyscallError::InvalidArgument));
    let join = Syscall::ThreadJoin as u64;
    assert_eq!(call6_with(join, [0xDEAD_BEEF, 0, 0, 0, 0, 0], &[]), err(SyscallError::BadHandle));
    assert_eq!(call6_with(join, [0, 0, 0, 0, 0, 0], &[]), err(SyscallError::BadHandle));
}

fn no_leaks() {
    // Once first: the kernel stacks' page tables and the IPC tables exist.
    for (name, code) in all_programs() {
        run_threads(name, code);
    }
    // Finished threads are reaped by the next switch.
    thread::sleep_ms(20);
    let before = accounting::snapshot();
    for _ in 0..3 {
        for (name, code) in all_programs() {
            run_threads(name, code);
        }
    }
    thread::sleep_ms(20);
    assert_eq!(accounting::snapshot(), before, "kernel stacks, address spaces and records freed entirely");
}

fn all_programs() -> [(&'static str, &'static [u8]); 5] {
    [
        ("ut-exit-all", program!(lazarus_ut_exit_all, lazarus_ut_exit_all_end)),
        ("ut-fault", program!(lazarus_ut_fault, lazarus_ut_fault_end)),
        ("ut-last", program!(lazarus_ut_last, lazarus_ut_last_end)),
        ("ut-join", program!(lazarus_ut_join, lazarus_ut_join_end)),
        ("ut-quota", program!(lazarus_ut_quota, lazarus_ut_quota_end)),
    ]
}

/// The `threadprobe` run's end: its exit code has bit `i` set if check `i`
/// failed.
static PROBE: Once<UserExit> = Once::new();

/// Passes if threadprobe's check `bit` held (it prints each check).
fn probe_check(bit: u32) {
    let exit = PROBE.call_once(|| {
        let image = ramdisk::program("threadprobe").expect("ramdisk readable").expect("threadprobe is in the ramdisk");
        // Handle 0: an endpoint of its own, which one of its threads serves.
        let own = ipc::handle(ipc::create_endpoint());
        thread::spawn("threadprobe", FaultPolicy::Panic, move || run_user_with(UserProgram::Elf(image), &[own]).expect("loads"))
            .expect("spawn")
            .join()
            .expect("no kernel fault")
    });
    match exit {
        UserExit::Exited(code) if code & (1 << bit) == 0 => {}
        UserExit::Exited(code) => panic!("{}", format!("threadprobe check {bit} failed (exit code {code:#b}; its output is above)")),
        UserExit::Faulted(r) => panic!("threadprobe faulted: {r}"),
    }
}
