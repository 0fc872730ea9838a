//! Starting the system outside test and benchmark boots: the trusted
//! address space with its servers, then the first user program.
//!
//! The trusted address space (TAS, the `tas` image) runs in a thread of its
//! own and serves one endpoint, the *service endpoint*; the first program
//! (`init=NAME`, the shell by default) gets a handle to it as its handle 0.
//! A boot with `trial=` on its command line is a fault-injection trial: when
//! the first program (the workload) ends, the kernel prints `campaign: end`
//! and leaves QEMU, so the host can classify the trial.

use kernel_logic::cmdline::Cmdline;

use crate::exit::{exit_qemu, QemuExit};
use crate::thread::ipc::{self, EndpointId};
use crate::thread::{self, FaultPolicy};
use crate::usermode::{run_user_with, UserExit, UserProgram};
use crate::{kprintln, ramdisk};

/// The program started when not running tests (`init=NAME` chooses another).
pub const DEFAULT_INIT: &str = "shell";
/// The image of the trusted address space in the ramdisk.
const TAS_IMAGE: &str = "tas";
/// The boot option that makes a boot a campaign trial.
const TRIAL_KEY: &str = "trial";

/// Runs a program from the ramdisk on this thread with `handles`; reports
/// how it ended.
fn run_program(name: &str, handles: &[ipc::Handle]) {
    match ramdisk::program(name) {
        Ok(Some(image)) => match run_user_with(UserProgram::Elf(image), handles) {
            Ok(UserExit::Exited(code)) => kprintln!("{name} exited with code {code}"),
            Ok(UserExit::Faulted(report)) => kprintln!("{name} was ended by {report}"),
            Err(e) => kprintln!("cannot run {name}: {e}"),
        },
        Ok(None) => kprintln!("no program '{name}' in the ramdisk"),
        Err(e) => kprintln!("the ramdisk is damaged: {e:?}"),
    }
}

/// Starts the trusted address space in a thread of its own, serving `service`.
pub fn start_tas(service: EndpointId) {
    let handle = ipc::handle(service);
    let started = thread::spawn(TAS_IMAGE, FaultPolicy::Panic, move || run_program(TAS_IMAGE, &[handle]));
    if let Err(e) = started {
        kprintln!("cannot start the trusted address space: {e:?}");
    }
}

/// Starts the TAS, then runs `init`; a trial then ends the boot, anything
/// else keeps the scheduler turning.
pub fn run(init: &str) {
    let service = ipc::create_endpoint();
    start_tas(service);
    kprintln!("starting {init}");
    run_program(init, &[ipc::handle(service)]);
    if Cmdline::new(crate::boot::options()).get(TRIAL_KEY).is_some() {
        kprintln!("campaign: end");
        exit_qemu(QemuExit::Success);
    }
    kprintln!("Kernel running: {} threads. Quit QEMU with Ctrl-A X.", thread::snapshot().len());
    loop {
        thread::sleep_ms(1000);
    }
}
