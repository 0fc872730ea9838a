//! Tests of the memory system calls (`map`, `unmap`, `grant`, `accept`,
//! `revoke`) and of the IPC calls with a timeout, listed in the `memory`
//! and `ipc` groups.
//!
//! Two kinds: bad arguments and W^X, through a few instructions of
//! position-independent code each (`user::call6_with`, the programs
//! below), which reach every bit pattern the safe runtime cannot express;
//! and the `memprobe` program against two `peer` servers, which checks
//! from ring 3 everything two processes see (run once per boot, each of
//! its checks reported as a case), after which the kernel proves what a
//! process cannot: the grant it left behind is gone from its receiver, and
//! no frame, mapped page or grant is left.

use alloc::format;

use kernel_logic::layout::HEAP_START;
use kernel_logic::trap_frame::PageFaultCode;
use lazarus_abi::layout::{USER_CODE_BASE, USER_END, USER_STACK_TOP};
use lazarus_abi::memory::{GRANT_WRITE, IPC_TIMEOUT_MAX_MS, MAP_EXECUTE, MAP_QUOTA_BYTES, MAP_WRITE};
use lazarus_abi::{Syscall, SyscallError};

use super::ipc::{spawn_program, wait_blocked};
use super::user::{call6_with, exit_code, fault, ipc_word_with, program};
use crate::memory::frames;
use crate::memory::process_memory;
use crate::thread::ipc::{self, Handle};
use crate::thread::{self, memory_calls, FaultPolicy};
use crate::usermode::{run_user, run_user_with, UserExit, UserProgram};
use crate::{accounting, ramdisk};

/// Where the raw programs and calls map: free user space.
const BASE: u64 = 0x1000_0000;
/// Bytes per page.
const PAGE: u64 = 4096;
/// Pages the `map_touch_exit` program maps and writes.
const TOUCHED_PAGES: u64 = 16;

core::arch::global_asm!(
    ".pushsection .rodata.lazarus_memory_programs, \"a\"",
    // map(BASE, len, flags); on an error, straight to the exit with it.
    ".macro lazarus_mp_map len, flags",
    "    mov edi, {base}",
    "    mov esi, \\len",
    "    mov edx, \\flags",
    "    mov eax, {map}",
    "    syscall",
    "    test rax, rax",
    "    jnz 1f",
    ".endm",
    // exit(rax).
    ".macro lazarus_mp_exit",
    "1:  mov rdi, rax",
    "    mov eax, {exit}",
    "    syscall",
    "    ud2",
    ".endm",
    // map(BASE, PAGE, MAP_WRITE), store a `ret` there and call it: NX.
    ".global lazarus_mp_exec_written",
    "lazarus_mp_exec_written:",
    "    lazarus_mp_map {page}, {write}",
    "    mov edi, {base}",
    "    mov byte ptr [rdi], 0xC3",
    "    call rdi",
    "    lazarus_mp_exit",
    ".global lazarus_mp_exec_written_end",
    "lazarus_mp_exec_written_end:",
    // map(BASE, PAGE, read-only), read it (zero), then write it.
    ".global lazarus_mp_write_read_only",
    "lazarus_mp_write_read_only:",
    "    lazarus_mp_map {page}, 0",
    "    mov edi, {base}",
    "    mov rax, [rdi]",
    "    test rax, rax",
    "    jnz 1f",
    "    mov byte ptr [rdi], 1",
    "    lazarus_mp_exit",
    ".global lazarus_mp_write_read_only_end",
    "lazarus_mp_write_read_only_end:",
    // map(BASE, TOUCHED_PAGES pages, MAP_WRITE), write every page, exit(0)
    // without unmapping: the process's end frees them.
    ".global lazarus_mp_map_touch_exit",
    "lazarus_mp_map_touch_exit:",
    "    lazarus_mp_map {touched}, {write}",
    "    mov edi, {base}",
    "    mov ecx, {touched}",
    "2:  mov qword ptr [rdi + rcx - 8], rcx",
    "    sub rcx, {page}",
    "    jnz 2b",
    "    lazarus_mp_exit",
    ".global lazarus_mp_map_touch_exit_end",
    "lazarus_mp_map_touch_exit_end:",
    ".purgem lazarus_mp_map",
    ".purgem lazarus_mp_exit",
    ".popsection",
    base = const BASE,
    page = const PAGE,
    touched = const TOUCHED_PAGES * PAGE,
    write = const MAP_WRITE,
    map = const Syscall::Map as u64,
    exit = const Syscall::Exit as u64,
);

fn err(e: SyscallError) -> i64 {
    -(e as i64)
}

/// `map(vaddr, len, flags)` in a fresh process.
fn map(vaddr: u64, len: u64, flags: u64) -> i64 {
    call6_with(Syscall::Map as u64, [vaddr, len, flags, 0, 0, 0], &[])
}

/// Every bad argument of `map` gets its documented error.
pub(super) fn map_bad_arguments() {
    use SyscallError::*;
    assert_eq!(map(BASE, PAGE, 0), 0, "read-only");
    assert_eq!(map(BASE, PAGE, MAP_WRITE), 0, "writable");
    assert_eq!(map(BASE, 3 * PAGE + 1, MAP_EXECUTE), 0, "executable, a length rounded up");
    assert_eq!(map(BASE, 0, MAP_WRITE), err(InvalidArgument), "length 0");
    assert_eq!(map(BASE, PAGE, MAP_WRITE | MAP_EXECUTE), err(InvalidArgument), "W^X");
    assert_eq!(map(BASE, PAGE, 1 << 2), err(InvalidArgument), "an unknown flag");
    assert_eq!(map(BASE, PAGE, u64::MAX), err(InvalidArgument), "every flag");
    assert_eq!(map(0, PAGE, MAP_WRITE), err(BadAddress), "null");
    assert_eq!(map(BASE + 1, PAGE, MAP_WRITE), err(BadAddress), "unaligned");
    assert_eq!(map(HEAP_START, PAGE, MAP_WRITE), err(BadAddress), "the kernel heap");
    assert_eq!(map(0xFFFF_8000_0000_0000, PAGE, MAP_WRITE), err(BadAddress), "the kernel half");
    assert_eq!(map(USER_END, PAGE, MAP_WRITE), err(BadAddress), "non-canonical");
    assert_eq!(map(USER_END - PAGE, 2 * PAGE, MAP_WRITE), err(BadAddress), "runs past user space");
    assert_eq!(map(!(PAGE - 1), 2 * PAGE, MAP_WRITE), err(BadAddress), "vaddr + len wraps");
    assert_eq!(map(BASE, MAP_QUOTA_BYTES + 1, MAP_WRITE), err(TooLong), "above the quota");
    assert_eq!(map(BASE, u64::MAX, MAP_WRITE), err(TooLong), "huge");
    assert_eq!(map(USER_CODE_BASE, PAGE, MAP_WRITE), err(AddressInUse), "over the code");
    assert_eq!(map(USER_STACK_TOP - PAGE, PAGE, MAP_WRITE), err(AddressInUse), "over the stack");
}

/// `unmap(vaddr, len)` in a fresh process (which mapped nothing).
fn unmap(vaddr: u64, len: u64) -> i64 {
    call6_with(Syscall::Unmap as u64, [vaddr, len, 0, 0, 0, 0], &[])
}

/// Every bad argument of `unmap`, `grant`, `accept` and `revoke` gets its
/// documented error (the ones that need a second process are `memprobe`'s).
pub(super) fn other_calls_bad_arguments() {
    use SyscallError::*;
    assert_eq!(unmap(BASE, PAGE), err(NotMapped), "nothing mapped");
    assert_eq!(unmap(USER_CODE_BASE, PAGE), err(NotMapped), "the code");
    assert_eq!(unmap(USER_STACK_TOP - PAGE, PAGE), err(NotMapped), "the stack");
    assert_eq!(unmap(BASE, 0), err(InvalidArgument), "length 0");
    assert_eq!(unmap(BASE + 1, PAGE), err(BadAddress), "unaligned");
    assert_eq!(unmap(0, PAGE), err(BadAddress), "null");
    assert_eq!(unmap(0xFFFF_8000_0000_0000, PAGE), err(BadAddress), "the kernel half");
    assert_eq!(unmap(!(PAGE - 1), 2 * PAGE), err(BadAddress), "wraps");
    assert_eq!(unmap(BASE, 1 << 40), err(TooLong), "huge");

    let ep = ipc::create_endpoint();
    let grant = |vaddr: u64, len: u64, flags: u64, handles: &[Handle]| {
        call6_with(Syscall::Grant as u64, [vaddr, len, 0, flags, 0, 0], handles)
    };
    let good = [ipc::handle(ep)];
    assert_eq!(grant(BASE, PAGE, 1 << 1, &good), err(InvalidArgument), "an unknown flag");
    assert_eq!(grant(BASE, 0, GRANT_WRITE, &good), err(InvalidArgument), "length 0");
    assert_eq!(grant(BASE + 1, PAGE, 0, &good), err(BadAddress), "unaligned");
    assert_eq!(grant(!(PAGE - 1), 2 * PAGE, 0, &good), err(BadAddress), "wraps");
    assert_eq!(grant(BASE, 1 << 40, 0, &good), err(TooLong), "huge");
    assert_eq!(grant(BASE, PAGE, 0, &[]), err(BadHandle), "no handle");
    assert_eq!(grant(BASE, PAGE, 0, &good), err(PeerGone), "nobody serves the endpoint");
    ipc::restart_endpoint(ep);
    assert_eq!(grant(BASE, PAGE, 0, &good), err(StaleHandle), "a handle from before a restart");

    let one = |nr: Syscall, a: u64, b: u64| call6_with(nr as u64, [a, b, 0, 0, 0, 0], &[]);
    assert_eq!(one(Syscall::Accept, 0, BASE), err(BadGrant), "no grant 0");
    assert_eq!(one(Syscall::Accept, u64::MAX, 0), err(BadGrant), "a made-up id, whatever the address");
    assert_eq!(one(Syscall::Revoke, 0, 0), err(BadGrant), "revoke grant 0");
    assert_eq!(one(Syscall::Revoke, u64::MAX, 0), err(BadGrant), "revoke a made-up id");
}

/// A writable mapping is not executable (W^X): the fetch faults.
pub(super) fn writable_is_not_executable() {
    let r = fault(run_user(UserProgram::Code(program!(lazarus_mp_exec_written, lazarus_mp_exec_written_end))).expect("loads"));
    let code = PageFaultCode(r.frame.error_code);
    assert!(r.vector == 14 && code.user() && code.present() && code.instruction_fetch(), "{code}");
    assert_eq!(r.cr2, Some(BASE));
}

/// A read-only mapping reads as zero, and a write to it faults.
pub(super) fn read_only_is_not_writable() {
    let r = fault(run_user(UserProgram::Code(program!(lazarus_mp_write_read_only, lazarus_mp_write_read_only_end))).expect("loads"));
    let code = PageFaultCode(r.frame.error_code);
    assert!(r.vector == 14 && code.user() && code.present() && code.write(), "{code}");
    assert_eq!(r.cr2, Some(BASE));
}

/// Pages a process maps and never unmaps are freed at its end.
pub(super) fn freed_at_process_end() {
    let touch = || exit_code(run_user(UserProgram::Code(program!(lazarus_mp_map_touch_exit, lazarus_mp_map_touch_exit_end))).expect("loads"));
    assert_eq!(touch(), 0, "warm-up");
    let before = accounting::snapshot();
    for _ in 0..10 {
        assert_eq!(touch(), 0, "mapped and wrote {TOUCHED_PAGES} pages");
    }
    assert_eq!(accounting::snapshot(), before, "every frame came back");
    assert_eq!(process_memory::anonymous_pages(), 0);
}

/// How the `memprobe` run went, for every case that reads it.
struct ProbeRun {
    /// memprobe's end: its exit code has bit `i` set if check `i` failed.
    exit: UserExit,
    /// The first peer's answer to a probe of where memprobe's last grant
    /// was: 1 if nothing is mapped there any more.
    left_free: i64,
    /// The peers' exit codes (the second ends during the run).
    peers: (i64, i64),
    /// Frames allocated after the run minus before it.
    frames_delta: i64,
    /// Anonymous pages and grants left after the run.
    left: (u64, (usize, usize)),
}

static RUN: spin::Once<ProbeRun> = spin::Once::new();

/// Where memprobe's last check has the first peer accept the grant it
/// leaves at its exit (memprobe's `grants::LEFT_AT_EXIT`).
const LEFT_AT_EXIT: u64 = 0x0000_4000_0010_0000;
/// The peer's probe and exit operations (its library's `PROBE`, `EXIT`).
const PEER_PROBE: u64 = 5;
const PEER_EXIT: u64 = 10;

/// Runs memprobe against two peers (handles: the first peer, an endpoint
/// nobody serves, the second peer), then probes the first peer and stops
/// it.
fn probe_run() -> ProbeRun {
    // Warm up the stack slots the peers' threads will use, so their page
    // tables exist before the frames are counted.
    let warm: alloc::vec::Vec<_> = (0..2).map(|_| thread::spawn("warm", FaultPolicy::Panic, || ()).expect("spawn")).collect();
    warm.into_iter().for_each(|h| h.join().expect("no fault"));
    let before = frames::counters().allocated;
    let (a, nobody, b) = (ipc::create_endpoint(), ipc::create_endpoint(), ipc::create_endpoint());
    let peer_a = spawn_program("peer-a", "peer", ipc::handle(a));
    let peer_b = spawn_program("peer-b", "peer", ipc::handle(b));
    wait_blocked("peer-a");
    wait_blocked("peer-b");
    let image = ramdisk::program("memprobe").expect("ramdisk readable").expect("memprobe is in the ramdisk");
    let exit = run_user_with(UserProgram::Elf(image), &[ipc::handle(a), ipc::handle(nobody), ipc::handle(b)]).expect("loads");
    let handle = [ipc::handle(a)];
    let left_free = ipc_word_with(Syscall::Call as u64, [0, PEER_PROBE, LEFT_AT_EXIT, 0, 0, 0], &handle);
    let stop = call6_with(Syscall::Call as u64, [0, PEER_EXIT, 0, 0, 0, 0], &handle);
    assert_eq!(stop, err(SyscallError::PeerGone), "the first peer ends unanswered");
    let peers = (peer_a.join().expect("no fault"), peer_b.join().expect("no fault"));
    let frames_delta = frames::counters().allocated as i64 - before as i64;
    let left = (process_memory::anonymous_pages(), memory_calls::grant_counts());
    ProbeRun { exit, left_free, peers, frames_delta, left }
}

fn probe() -> &'static ProbeRun {
    RUN.call_once(probe_run)
}

/// Passes if memprobe's check `bit` held (it prints each check's details).
pub(super) fn memprobe_check(bit: u32) {
    match &probe().exit {
        UserExit::Exited(code) if code & (1 << bit) == 0 => {}
        UserExit::Exited(code) => panic!("{}", format!("memprobe check {bit} failed (exit code {code:#b}; its output is above)")),
        UserExit::Faulted(r) => panic!("memprobe faulted: {r}"),
    }
}

/// memprobe ended holding a grant the first peer had accepted: its end
/// took the pages from the peer (whose probe finds the address free).
pub(super) fn gone_when_granter_ends() {
    let run = probe();
    assert_eq!(run.left_free, 1, "the peer's mapping of the ended granter's pages is gone");
    assert_eq!(run.peers, (0, 0), "both peers ended well");
}

/// After the run and the peers' ends, no frame, page or grant is left.
pub(super) fn nothing_left_behind() {
    let run = probe();
    assert_eq!(run.frames_delta, 0, "frames back to where they were");
    assert_eq!(run.left, (0, (0, 0)), "no anonymous page and no grant left");
}

/// The IPC calls with a timeout refuse bad arguments with their errors,
/// and fail at once when told not to wait.
pub(super) fn timed_calls_bad_arguments() {
    use SyscallError::*;
    let ep = ipc::create_endpoint();
    let good = [ipc::handle(ep)];
    let timed = |nr: Syscall, handle: u64, timeout: u64, handles: &[Handle]| call6_with(nr as u64, [handle, 1, 2, 3, 4, timeout], handles);
    for nr in [Syscall::CallTimeout, Syscall::RecvTimeout, Syscall::Send] {
        assert_eq!(timed(nr, 1, 10, &good), err(BadHandle), "{nr:?}: no handle 1");
        assert_eq!(timed(nr, u64::MAX, 10, &good), err(BadHandle), "{nr:?}: a huge handle");
        assert_eq!(timed(nr, 0, IPC_TIMEOUT_MAX_MS + 1, &good), err(InvalidArgument), "{nr:?}: above the longest timeout");
        assert_eq!(timed(nr, 0, u64::MAX, &good), err(InvalidArgument), "{nr:?}: a huge timeout");
    }
    assert_eq!(timed(Syscall::CallTimeout, 0, 0, &good), err(InvalidArgument), "a call cannot poll");
    assert_eq!(timed(Syscall::RecvTimeout, 0, 0, &good), err(TimedOut), "nothing queued");
    assert_eq!(timed(Syscall::Send, 0, 0, &good), err(TimedOut), "nobody waits");
    assert_eq!(timed(Syscall::CallTimeout, 0, 20, &good), err(TimedOut), "nobody takes the call");
    ipc::restart_endpoint(ep);
    for nr in [Syscall::CallTimeout, Syscall::RecvTimeout, Syscall::Send] {
        assert_eq!(timed(nr, 0, 10, &good), err(StaleHandle), "{nr:?}: a handle from before a restart");
    }
}
