//! What the tests of the servers share: a trusted address space of their
//! own to run a user program against.
//!
//! Each call starts a new TAS (its own process serving a new endpoint), so
//! a case sees servers at generation 1 whatever the cases before it did.
//! The TAS stays blocked on its endpoint after the program ends.

use alloc::format;

use crate::ramdisk;
use crate::thread::ipc::{self, EndpointId};
use crate::usermode::{run_user_with, UserExit, UserProgram};

/// The image `name` from the ramdisk.
pub fn program(name: &str) -> &'static [u8] {
    ramdisk::program(name).expect("ramdisk readable").unwrap_or_else(|| panic!("the ramdisk has {name}"))
}

/// Starts a TAS serving a new endpoint, as the system does; returns the
/// endpoint.
fn start_tas() -> EndpointId {
    let ep = ipc::create_endpoint();
    crate::system::start_tas(ep);
    ep
}

/// Runs the program `name` with a fresh TAS's endpoint as its handle 0;
/// how it ended.
pub fn run_with_tas(name: &str) -> UserExit {
    let ep = start_tas();
    run_user_with(UserProgram::Elf(program(name)), &[ipc::handle(ep)]).expect("the program loads")
}

/// Passes if check `bit` of the `recoverytest` run in `run` held: its exit
/// code has the bit clear. The program runs once (against a fresh TAS),
/// for all the cases of a group that read its checks, on the first call;
/// it prints each check's details.
pub fn check(run: &spin::Once<UserExit>, bit: u32) {
    match run.call_once(|| run_with_tas("recoverytest")) {
        UserExit::Exited(code) if code & (1 << bit) == 0 => {}
        UserExit::Exited(code) => panic!("{}", format!("check {bit} failed (exit code {code:#b}; its output is above)")),
        UserExit::Faulted(r) => panic!("recoverytest faulted: {r}"),
    }
}
