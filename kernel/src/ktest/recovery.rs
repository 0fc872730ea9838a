//! Recovery of the trusted address space's servers, end to end: the TAS
//! serves a user program through kernel IPC; faults are injected into its
//! servers; the program must see its results intact and every server back.
//!
//! Each case starts its own TAS (its own process and service endpoint) and
//! runs one user program against it, which checks everything it can see
//! (results, typed errors, the servers' generations and accounting through
//! the system server) and exits 0 only if all held.

use alloc::format;

use super::{Case, Group};
use crate::ramdisk;
use crate::thread::ipc::{self, EndpointId};
use crate::thread::{self, FaultPolicy};
use crate::usermode::{run_user_with, UserExit, UserProgram};

/// The group.
pub static GROUP: Group = Group {
    name: "recovery",
    cases: &[
        Case { name: "the_workload_passes_with_no_fault", run: workload_passes },
    ],
};

fn program(name: &str) -> &'static [u8] {
    ramdisk::program(name).expect("ramdisk readable").unwrap_or_else(|| panic!("the ramdisk has {name}"))
}

/// Starts a TAS serving a new endpoint; returns the endpoint.
fn start_tas() -> EndpointId {
    let ep = ipc::create_endpoint();
    let handle = ipc::handle(ep);
    thread::spawn("tas", FaultPolicy::Panic, move || {
        let exit = run_user_with(UserProgram::Elf(program("tas")), &[handle]).expect("tas loads");
        crate::kprintln!("tas ended: {exit:?}");
    })
    .expect("spawn the TAS");
    ep
}

/// Runs `name` against a fresh TAS; panics unless it exits 0.
fn run_against_tas(name: &str) {
    let ep = start_tas();
    match run_user_with(UserProgram::Elf(program(name)), &[ipc::handle(ep)]).expect("loads") {
        UserExit::Exited(0) => {}
        UserExit::Exited(code) => panic!("{}", format!("{name} failed with code {code} (its output is above)")),
        UserExit::Faulted(r) => panic!("{name} faulted: {r}"),
    }
}

fn workload_passes() {
    run_against_tas("workload");
}
