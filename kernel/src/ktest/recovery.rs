//! Recovery of the trusted address space's servers, end to end: the TAS
//! serves a user program through kernel IPC; faults are injected into its
//! servers; the program must see its results intact and every server back.
//!
//! Each case starts its own TAS (its own process and service endpoint) and
//! runs one user program against it, which checks everything it can see
//! (results, typed errors, the servers' generations and accounting through
//! the system server) and exits 0 only if all held.

use alloc::format;

use super::services::run_with_tas;
use super::{Case, Group};
use crate::usermode::UserExit;

/// The group.
pub static GROUP: Group = Group {
    name: "recovery",
    cases: &[
        Case { name: "the_workload_passes_with_no_fault", run: workload_passes },
    ],
};

/// Runs `name` against a fresh TAS; panics unless it exits 0.
fn run_against_tas(name: &str) {
    match run_with_tas(name) {
        UserExit::Exited(0) => {}
        UserExit::Exited(code) => panic!("{}", format!("{name} failed with code {code} (its output is above)")),
        UserExit::Faulted(r) => panic!("{name} faulted: {r}"),
    }
}

fn workload_passes() {
    run_against_tas("workload");
}
