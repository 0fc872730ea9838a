//! IPC tests: round trips between two user processes, the fast and slow
//! paths, handles that are bad or stale, and a server that ends owing a
//! reply.

use lazarus_abi::{Syscall, SyscallError};

use super::user::call_with;
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
    ],
};

/// Round trips `ping` makes (see `user/ping`), each two transfers.
const PING_CALLS: u64 = 1001;

fn program(name: &str) -> &'static [u8] {
    ramdisk::program(name).expect("ramdisk readable").expect("the program is in the ramdisk")
}

/// Runs `name` with one handle to `ep` in a new thread; the handle joins to
/// its exit code.
fn spawn_process(name: &'static str, ep: EndpointId) -> thread::JoinHandle<i64> {
    let handle = ipc::handle(ep);
    thread::spawn(name, FaultPolicy::Panic, move || {
        match run_user_with(UserProgram::Elf(program(name)), &[handle]).expect("loads") {
            UserExit::Exited(code) => code,
            UserExit::Faulted(r) => panic!("{name} faulted: {r}"),
        }
    })
    .expect("spawn")
}

/// Waits until the thread named `name` is blocked (in IPC).
fn wait_blocked(name: &str) {
    for _ in 0..200 {
        if thread::snapshot().iter().any(|t| t.name == name && t.state == State::Blocked) {
            return;
        }
        thread::sleep_ms(5);
    }
    panic!("{name} never blocked");
}

fn fast_path() {
    let ep = ipc::create_endpoint();
    let server = spawn_process("echo", ep);
    wait_blocked("echo");
    let (fast0, slow0) = ipc::counters();
    let client = spawn_process("ping", ep);
    assert_eq!(client.join().expect("no fault"), 0, "every answer was right and the last call got PeerGone");
    assert_eq!(server.join().expect("no fault"), 0);
    let (fast1, slow1) = ipc::counters();
    assert!(fast1 - fast0 >= 2 * PING_CALLS, "calls and replies on the fast path: {}", fast1 - fast0);
    assert_eq!(slow1, slow0, "no transfer needed the slow path");
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
}
