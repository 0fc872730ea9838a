//! Running one trial: the interface the scheduler drives, and what a trial boot is.
//!
//! [`TrialExecutor`] is the seam between scheduling and booting: the
//! scheduler (parallelism, resume, results) runs against it, QEMU is one
//! implementation (`qemu_executor`), and the scheduler's tests use a fake.
//! This file also fixes the two facts every executor shares: the boot
//! command line of a trial, and how QEMU's end becomes a [`TrialEnd`].

use std::path::{Path, PathBuf};
use std::time::Duration;

use campaign::{CleanState, Trial, TrialEnd};
use lazarus_tests::qemu::{
    debug_exit_status, BootCmdline, CmdlineError, QemuExit, GUEST_RESET_STATUS, KERNEL_EXIT_FAILURE, KERNEL_EXIT_SUCCESS,
};
use lazarus_tests::runner::{BootEnd, BootError};

/// The user program a trial boot starts: it runs the operations against
/// the servers, checks them against the golden results and prints the
/// `campaign: workload` verdict.
pub const WORKLOAD_PROGRAM: &str = "workload";

/// The kernel boot option that names the first user program.
pub const INIT_KEY: &str = "init";

/// Base of the exit status a shell reports for a process killed by a
/// signal (128 + signal number); a QEMU killed by someone else's signal
/// is reported to the classifier that way, as a status the guest never
/// writes.
const SIGNAL_STATUS_BASE: i32 = 128;

/// One finished trial boot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Execution {
    /// How QEMU ended.
    pub end: TrialEnd,
    /// The serial console, one line per line.
    pub serial_log: String,
    /// Host wall-clock time of the boot.
    pub duration: Duration,
    /// Where the full serial log was written.
    pub log_path: PathBuf,
    /// Whether QEMU booted or restored the trial's clean state.
    pub clean_state: CleanState,
}

/// Something that can boot a trial.
///
/// `Sync`: the scheduler calls it from several threads at once, one trial
/// per thread.
pub trait TrialExecutor: Sync {
    /// Boots `trial`, writes its serial log to `log_path`, and returns when
    /// the boot has ended (by itself or at the deadline; nothing of it may
    /// be left running). An error means the boot could not happen at all
    /// (no QEMU, no image, no log), which stops the campaign.
    fn execute(&self, trial: &Trial, log_path: &Path) -> Result<Execution, BootError>;
}

/// The boot options of a trial: `init=workload` and the trial's fragment,
/// `trial=ID recovery=CONFIG inject=MODEL:TARGET:TRIGGER:LOCATION`.
pub fn trial_cmdline(trial: &Trial) -> Result<BootCmdline, CmdlineError> {
    BootCmdline::try_new(&format!("{INIT_KEY}={WORKLOAD_PROGRAM} {}", trial.cmdline()))
}

/// How the classifier sees QEMU's end: its exit status as it is (33 and
/// 35 are the guest's own verdicts), status 0 as a guest reset (triple
/// fault, with `-no-reboot`), the deadline as a timeout.
pub fn trial_end(end: BootEnd) -> TrialEnd {
    match end {
        BootEnd::TimedOut(_) => TrialEnd::TimedOut,
        BootEnd::Completed(QemuExit::GuestReset) => TrialEnd::GuestReset,
        BootEnd::Completed(exit) => TrialEnd::Exited { status: exit_status(exit) },
    }
}

/// The process exit status behind a QEMU end other than a reset.
fn exit_status(exit: QemuExit) -> i32 {
    match exit {
        QemuExit::KernelSuccess => debug_exit_status(KERNEL_EXIT_SUCCESS),
        QemuExit::KernelFailure => debug_exit_status(KERNEL_EXIT_FAILURE),
        QemuExit::GuestReset => GUEST_RESET_STATUS,
        QemuExit::Status(status) => status,
        QemuExit::Signal(signal) => SIGNAL_STATUS_BASE + signal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use campaign::{TrialList, GUEST_EXIT_FAILURE, GUEST_EXIT_SUCCESS};
    use fault_inject::{Config, Model, Seed, Target, TrialId};

    #[test]
    fn qemu_ends_map_to_what_the_classifier_expects() {
        let completed = |code| trial_end(BootEnd::Completed(QemuExit::from_code(code)));
        assert_eq!(completed(33), TrialEnd::Exited { status: GUEST_EXIT_SUCCESS });
        assert_eq!(completed(35), TrialEnd::Exited { status: GUEST_EXIT_FAILURE });
        assert_eq!(completed(0), TrialEnd::GuestReset);
        assert_eq!(completed(1), TrialEnd::Exited { status: 1 });
        assert_eq!(trial_end(BootEnd::Completed(QemuExit::Signal(9))), TrialEnd::Exited { status: 137 });
        assert_eq!(trial_end(BootEnd::TimedOut(Duration::from_secs(60))), TrialEnd::TimedOut);
    }

    #[test]
    fn the_cmdline_starts_the_workload_and_carries_the_trial() {
        let targets = vec![Target::try_new("fs").unwrap()];
        let list = TrialList::new(Seed(3), 5, vec![Model::Panic], targets, vec![Config::Restart]).unwrap();
        let trial = list.trial(TrialId(4), Config::Restart).unwrap();
        let cmdline = trial_cmdline(&trial).unwrap();
        assert_eq!(cmdline.as_str(), format!("init=workload trial=4 recovery=restart inject={}", trial.spec.injection));
        assert!(cmdline.as_str().contains("inject=panic:fs:ops."));
    }
}
