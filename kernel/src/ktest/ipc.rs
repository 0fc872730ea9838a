//! IPC tests: round trips between two user processes, the fast and slow
//! paths, handles that are bad or stale, a server that ends owing a
//! reply; calls with a timeout and one-way sends (`process_memory.rs`).
//!
//! The counters (`ipc::counters`, `ipc::direct_transfers`) show which path
//! moved each message: the fast path from the `syscall` entry (direct when
//! the other thread is resumed straight into ring 3), or the slow path
//! through the dispatcher.

use lazarus_abi::{Syscall, SyscallError};

use super::user::{call3_with, call_with};
use super::process_memory as pm;
use super::{Case, Group};
use crate::ramdisk;
use crate::thread::ipc::{self, EndpointId};
use crate::thread::{self, FaultPolicy};
use crate::usermode::{run_user_with, UserExit, UserProgram};
use kernel_logic::sched::State;

/// The group.
pub static GROUP: Group = Group {
    name: "ipc",
    cases: &[
        Case { name: "round_trips_take_the_fast_path_when_the_server_waits", run: fast_path },
        Case { name: "a_call_waits_when_no_server_is_ready", run: slow_path },
        Case { name: "bad_handles_are_refused", run: bad_handles },
        Case { name: "a_handle_from_before_a_restart_is_stale", run: stale_handle },
        Case { name: "a_stale_or_bad_handle_is_refused_while_the_server_waits", run: stale_handle_while_waiting },
        Case { name: "a_server_that_ends_owing_a_reply_answers_a_fast_caller", run: dead_peer },
        Case { name: "a_server_waiting_elsewhere_does_not_take_the_call", run: other_endpoint },
        Case { name: "timed_calls_refuse_bad_arguments", run: pm::timed_calls_bad_arguments },
        // memprobe's checks, by the bit of its exit code (user/memprobe).
        Case { name: "recv_timeout_times_out", run: || pm::memprobe_check(9) },
        Case { name: "a_call_nobody_takes_times_out_and_is_withdrawn", run: || pm::memprobe_check(10) },
        Case { name: "a_late_reply_never_reaches_a_later_call", run: || pm::memprobe_check(11) },
        Case { name: "send_delivers_one_way_and_times_out", run: || pm::memprobe_check(12) },
    ],
};

/// Round trips `ping` makes (see `user/ping`), each two transfers.
const PING_CALLS: u64 = 1001;

pub(super) fn program(name: &str) -> &'static [u8] {
    ramdisk::program(name).expect("ramdisk readable").expect("the program is in the ramdisk")
}

/// Runs `name` with one handle to `ep` in a new thread; the handle joins to
/// its exit code.
fn spawn_process(name: &'static str, ep: EndpointId) -> thread::JoinHandle<i64> {
    spawn_program(name, name, ipc::handle(ep))
}

/// Runs the ramdisk program `name` with one handle in a new thread named
/// `thread`; the handle joins to its exit code.
pub(super) fn spawn_program(thread: &'static str, name: &'static str, handle: ipc::Handle) -> thread::JoinHandle<i64> {
    thread::spawn(thread, FaultPolicy::Panic, move || {
        match run_user_with(UserProgram::Elf(program(name)), &[handle]).expect("loads") {
            UserExit::Exited(code) => code,
            UserExit::Faulted(r) => panic!("{name} faulted: {r}"),
        }
    })
    .expect("spawn")
}

/// Waits until the thread named `name` is blocked (in IPC).
pub(super) fn wait_blocked(name: &str) {
    for _ in 0..200 {
        if thread::snapshot().iter().any(|t| t.name == name && t.state == State::Blocked) {
            return;
        }
        thread::sleep_ms(5);
    }
    panic!("{name} never blocked");
}

/// Transfers so far: (fast, of which direct, slow).
fn transfers() -> (u64, u64, u64) {
    let (fast, slow) = ipc::counters();
    (fast, ipc::direct_transfers(), slow)
}

fn fast_path() {
    let ep = ipc::create_endpoint();
    let server = spawn_process("echo", ep);
    wait_blocked("echo");
    let (fast0, direct0, slow0) = transfers();
    let client = spawn_process("ping", ep);
    assert_eq!(client.join().expect("no fault"), 0, "every answer was right and the last call got PeerGone");
    assert_eq!(server.join().expect("no fault"), 0);
    let (fast1, direct1, slow1) = transfers();
    let (fast, direct) = (fast1 - fast0, direct1 - direct0);
    // The calls, the stop call and the replies.
    assert_eq!(fast, 2 * PING_CALLS + 1, "calls and replies on the fast path");
    assert_eq!(slow1, slow0, "no transfer needed the slow path");
    // Only the first call found echo blocked in `recv` (the slow path's
    // kind of block): it returned into echo's kernel code. From then on each
    // side blocked through the fast path and was resumed from its frame.
    assert_eq!(fast - direct, 1, "every transfer but the first resumed its peer straight into ring 3");
}

fn slow_path() {
    let ep = ipc::create_endpoint();
    let (_, slow0) = ipc::counters();
    let client = spawn_process("ping", ep);
    wait_blocked("ping");
    let (_, slow1) = ipc::counters();
    assert_eq!(slow1, slow0 + 1, "the first call queued: no server yet");
    let server = spawn_process("echo", ep);
    assert_eq!(client.join().expect("no fault"), 0);
    assert_eq!(server.join().expect("no fault"), 0);
}

fn err(e: SyscallError) -> i64 {
    -(e as i64)
}

fn bad_handles() {
    let ep = ipc::create_endpoint();
    let handles = [ipc::handle(ep)];
    assert_eq!(call_with(Syscall::Call as u64, 1, 0, &handles), err(SyscallError::BadHandle));
    assert_eq!(call_with(Syscall::Recv as u64, u64::MAX, 0, &handles), err(SyscallError::BadHandle));
    assert_eq!(call_with(Syscall::Call as u64, 0, 0, &[]), err(SyscallError::BadHandle), "no handles at all");
}

fn stale_handle() {
    let ep = ipc::create_endpoint();
    let old = ipc::handle(ep);
    ipc::restart_endpoint(ep);
    assert_eq!(call_with(Syscall::Call as u64, 0, 0, &[old]), err(SyscallError::StaleHandle));
    assert_eq!(call_with(Syscall::Recv as u64, 0, 0, &[old]), err(SyscallError::StaleHandle));
    assert_eq!(call_with(Syscall::ReplyRecv as u64, 0, 0, &[old]), err(SyscallError::StaleHandle));
}

/// A first message word that makes `echo` exit without answering.
const STOP: u64 = u64::MAX;

/// A server waits on the endpoint, so a good handle would take the fast
/// path: a stale one, or one out of the table, still gets its typed error
/// and moves nothing; the server keeps waiting.
fn stale_handle_while_waiting() {
    let ep = ipc::create_endpoint();
    let old = ipc::handle(ep);
    ipc::restart_endpoint(ep);
    let server = spawn_process("echo", ep);
    wait_blocked("echo");
    let before = transfers();
    let locks = crate::sync::held_locks();
    assert_eq!(call_with(Syscall::Call as u64, 0, 1, &[old]), err(SyscallError::StaleHandle));
    assert_eq!(call_with(Syscall::Call as u64, 1, 1, &[ipc::handle(ep)]), err(SyscallError::BadHandle));
    assert_eq!(call_with(Syscall::Call as u64, u64::MAX, 1, &[ipc::handle(ep)]), err(SyscallError::BadHandle));
    assert_eq!(call_with(Syscall::ReplyRecv as u64, 0, 1, &[old]), err(SyscallError::StaleHandle));
    assert_eq!(transfers(), before, "no message moved");
    assert_eq!(crate::sync::held_locks(), locks, "no lock left held");
    assert!(thread::snapshot().iter().any(|t| t.name == "echo" && t.state == State::Blocked), "echo still waits");
    // A good handle: the fast path hands echo the stop word; echo ends
    // without answering, so the kernel answers `PeerGone`.
    assert_eq!(call_with(Syscall::Call as u64, 0, STOP, &[ipc::handle(ep)]), err(SyscallError::PeerGone));
    let after = transfers();
    assert_eq!((after.0 - before.0, after.2 - before.2), (1, 0), "the good call took the fast path");
    assert_eq!(server.join().expect("no fault"), 0);
}

/// The caller blocked through the fast path (its frame kept for a direct
/// resume); its server ends owing it a reply: the kernel's `PeerGone`
/// still reaches it, through the scheduler.
fn dead_peer() {
    let ep = ipc::create_endpoint();
    let server = spawn_process("echo", ep);
    wait_blocked("echo");
    let (fast0, _, slow0) = transfers();
    // Two round trips, then the stop word (see `call3_with`: RSI and RDX
    // are the first two words).
    for i in 0..2 {
        let h = [ipc::handle(ep)];
        assert_eq!(call3_with(Syscall::Call as u64, 0, i, 0, &h), 0, "echo answered call {i}");
    }
    assert_eq!(call_with(Syscall::Call as u64, 0, STOP, &[ipc::handle(ep)]), err(SyscallError::PeerGone));
    assert_eq!(server.join().expect("no fault"), 0);
    let (fast1, _, slow1) = transfers();
    assert_eq!((fast1 - fast0, slow1 - slow0), (5, 0), "three calls and two replies, all on the fast path");
}

/// A server waits on endpoint A; a call on endpoint B, which nobody
/// serves, queues (slow path) and is answered `PeerGone` when B restarts.
fn other_endpoint() {
    let (a, b) = (ipc::create_endpoint(), ipc::create_endpoint());
    let server = spawn_process("echo", a);
    wait_blocked("echo");
    let (fast0, _, slow0) = transfers();
    let hb = ipc::handle(b);
    let caller = thread::spawn("b-caller", FaultPolicy::Panic, move || call_with(Syscall::Call as u64, 0, 1, &[hb]))
        .expect("spawn");
    wait_blocked("b-caller");
    let (fast1, _, slow1) = transfers();
    assert_eq!((fast1 - fast0, slow1 - slow0), (0, 1), "the call on B queued");
    ipc::restart_endpoint(b);
    assert_eq!(caller.join().expect("no fault"), err(SyscallError::PeerGone));
    assert_eq!(call_with(Syscall::Call as u64, 0, STOP, &[ipc::handle(a)]), err(SyscallError::PeerGone));
    assert_eq!(server.join().expect("no fault"), 0);
}
