//! Starting the system outside test and benchmark boots: the trusted
//! address space with its servers, then the first user program.
//!
//! The trusted address space (TAS, the `tas` image) runs in a thread of its
//! own and serves one endpoint, the *service endpoint*; the first program
//! (`init=NAME`, the shell by default) gets a handle to it as its handle 0.
//! A boot with `trial=` on its command line is a fault-injection trial: when
//! the first program (the workload) ends, the kernel prints `campaign: end`
//! and leaves QEMU, so the host can classify the trial.
//!
//! `trial=await` prepares a snapshot instead (docs/campaigns.md, "Clean
//! state"): the kernel stops here, before the TAS starts, prints
//! [`READY_LINE`] and polls the fw_cfg file of its options. The host saves
//! the machine at that point and later restores the saved state into a new
//! QEMU whose fw_cfg carries a trial's options (fw_cfg contents come from
//! QEMU's command line, not from the saved state). The restored kernel sees
//! the new options, makes them *the* boot options (`boot::replace_options`:
//! the TAS reads them through the `boot_options` system call when it
//! starts), prints a line with `Lazarus` (the host's banner marker, from
//! which its per-trial deadline runs) and goes on exactly as a booted trial:
//! the same TAS start, the same workload, the same `campaign: end`.

use alloc::string::String;

use kernel_logic::cmdline::{Cmdline, FW_CFG_FILE};

use crate::exit::{exit_qemu, QemuExit};
use crate::thread::ipc::{self, EndpointId};
use crate::thread::{self, FaultPolicy, JoinHandle, SpawnError};
use crate::usermode::{run_user_with, UserExit, UserProgram};
use crate::{boot, fw_cfg, kprintln, logger, ramdisk};

/// The program started when not running tests (`init=NAME` chooses another).
pub const DEFAULT_INIT: &str = "shell";
/// The image of the trusted address space in the ramdisk.
const TAS_IMAGE: &str = "tas";
/// The boot option that makes a boot a campaign trial.
const TRIAL_KEY: &str = "trial";
/// The `trial=` value of a boot that waits to be saved and restored as a
/// trial's clean state.
const AWAIT_TRIAL: &str = "await";
/// Start of the line an awaiting kernel prints when it is ready to be
/// saved; the host (`xtask/src/campaign/snapshot.rs`) waits for it.
const READY_LINE: &str = "snapshot: ready";
/// How often an awaiting kernel looks for new options: one timer tick, so a
/// restored trial starts at most 10 ms after QEMU resumes it, while the
/// polls (a few hundred port reads each) cost the waiting guest little.
const AWAIT_POLL_MS: u64 = 10;
/// The boot option that names the first program.
const INIT_KEY: &str = "init";
/// The boot option that sets the log level (as read at boot).
const LOG_KEY: &str = "log";

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

/// Runs the ramdisk program `name` in a thread of its own as the server of
/// `service` (its handle 0), with the right to claim devices if `driver`.
/// When it ends, however it ends, the endpoint is restarted: its clients'
/// handles go stale and waiting callers get `PeerGone`, so nobody waits for
/// a server that is gone.
pub fn start_server(name: &'static str, service: EndpointId, driver: bool) -> Result<JoinHandle<()>, SpawnError> {
    let handle = ipc::handle(service);
    thread::spawn(name, FaultPolicy::Panic, move || {
        if driver {
            crate::device::as_driver(|| run_program(name, &[handle]));
        } else {
            run_program(name, &[handle]);
        }
        ipc::restart_endpoint(service);
        kprintln!("{name} ended: calls to its endpoint now fail");
    })
}

/// Starts the trusted address space, serving `service`. It will hold the
/// drivers (the blk server): it may claim devices.
pub fn start_tas(service: EndpointId) {
    if let Err(e) = start_server(TAS_IMAGE, service, true) {
        kprintln!("cannot start the trusted address space: {e:?}");
    }
}

/// Starts the TAS, then runs `init`; a trial then ends the boot, anything
/// else keeps the scheduler turning. A boot with `trial=await` first waits
/// to be restored with new options, and then runs their `init`.
pub fn run(init: &str) {
    let awaits = Cmdline::new(boot::options()).get(TRIAL_KEY) == Some(AWAIT_TRIAL);
    let init = if awaits { await_restore() } else { init };
    let service = ipc::create_endpoint();
    start_tas(service);
    kprintln!("starting {init}");
    run_program(init, &[ipc::handle(service)]);
    if Cmdline::new(boot::options()).get(TRIAL_KEY).is_some() {
        kprintln!("campaign: end");
        exit_qemu(QemuExit::Success);
    }
    kprintln!("Kernel running: {} threads. Quit QEMU with Ctrl-A X.", thread::snapshot().len());
    loop {
        thread::sleep_ms(1000);
    }
}

/// Waits until fw_cfg carries other options than the ones this boot got
/// (which happens only in a QEMU restored from a snapshot of this boot),
/// makes them the boot options and returns the program they name.
fn await_restore() -> &'static str {
    let waiting = boot::options();
    kprintln!("{READY_LINE}: waiting for a trial's options in fw_cfg {FW_CFG_FILE}");
    let options = loop {
        thread::sleep_ms(AWAIT_POLL_MS);
        if let Some(options) = read_new_options(waiting) {
            break options;
        }
    };
    // Only this function replaces the options, and a boot reaches it once.
    let options = boot::replace_options(options).unwrap_or_else(|_| boot::options());
    let parsed = Cmdline::new(options);
    if let Some(level) = parsed.get(LOG_KEY).and_then(logger::parse_level) {
        logger::init(level);
    }
    kprintln!("Lazarus {}: restored from a snapshot; options: {options}", env!("CARGO_PKG_VERSION"));
    parsed.get(INIT_KEY).unwrap_or(DEFAULT_INIT)
}

/// The options in fw_cfg if they are new: not `waiting`, not another
/// `trial=await`, and the same on two reads in a row. The host may save the
/// machine in the middle of a read, so the first read after a restore can
/// mix bytes of the old file (or directory entry) and the new one; the
/// second read cannot, so two equal reads are the new options.
fn read_new_options(waiting: &str) -> Option<String> {
    let first = fw_cfg::read_string(FW_CFG_FILE)?;
    if first == waiting || Cmdline::new(&first).get(TRIAL_KEY) == Some(AWAIT_TRIAL) {
        return None;
    }
    let second = fw_cfg::read_string(FW_CFG_FILE)?;
    (second == first).then_some(first)
}
