//! Recovery of the trusted address space's servers, end to end: the TAS
//! serves a user program through kernel IPC; faults are injected into its
//! servers; the program must see its results intact and every server back.
//!
//! Each case starts its own TAS (its own process and service endpoint) and
//! runs one user program against it, which checks everything it can see
//! (results, typed errors, the servers' generations and accounting through
//! the system server) and exits 0 only if all held.

use alloc::format;

use lazarus_abi::{Syscall, SyscallError};

use super::services::{self, run_with_tas};
use super::user::call3_with;
use super::{Case, Group};
use crate::thread::ipc;
use crate::usermode::UserExit;

/// The group.
pub static GROUP: Group = Group {
    name: "recovery",
    cases: &[
        Case { name: "the_workload_passes_with_no_fault", run: workload_passes },
        Case { name: "calls_to_a_server_that_ended_fail_cleanly", run: ended_server_fails_cleanly },
        Case { name: "every_fault_kind_in_every_server_is_recovered", run: || check(0) },
        Case { name: "a_stale_generation_gets_the_typed_error", run: || check(1) },
        Case { name: "an_idempotent_request_is_retried_and_succeeds", run: || check(2) },
        Case { name: "a_thousand_fs_restarts_lose_nothing", run: || check(3) },
        Case { name: "servers_call_servers_and_shared_locks_outlive_faults", run: || check(4) },
        Case { name: "kept_state_bit_flips_are_corrected_or_detected", run: || check(5) },
        Case { name: "the_policy_escalates_after_too_many_faults", run: || check(6) },
    ],
};

/// How the `recoverytest` program ended: it runs once, for all the cases
/// that read its checks.
static CHECKS: spin::Once<UserExit> = spin::Once::new();

/// Passes if check `bit` of `user/recoverytest` (its `checks::ALL`, in
/// the same order as the cases above) held.
fn check(bit: u32) {
    services::check(&CHECKS, bit);
}

/// Runs `name` against a fresh TAS; panics unless it exits 0.
fn run_against_tas(name: &str) {
    match run_with_tas(name) {
        UserExit::Exited(0) => {}
        UserExit::Exited(code) => panic!("{}", format!("{name} failed with code {code} (its output is above)")),
        UserExit::Faulted(r) => panic!("{name} faulted: {r}"),
    }
}

/// A server process that ends (here `hello`, which exits at once) leaves
/// its clients a typed error, never a call that waits forever.
fn ended_server_fails_cleanly() {
    let ep = ipc::create_endpoint();
    let client_handle = ipc::handle(ep);
    let server = crate::system::start_server("hello", ep, false).expect("spawn the server");
    server.join().expect("the server's thread ends");
    let answer = call3_with(Syscall::Call as u64, 0, 1, 2, &[client_handle]);
    assert_eq!(answer, -(SyscallError::StaleHandle as i64), "the call fails at once with StaleHandle");
}

fn workload_passes() {
    run_against_tas("workload");
}
