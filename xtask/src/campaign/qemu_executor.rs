//! Trials in QEMU: one captured boot per trial, killed at its deadline.
//!
//! The QEMU command line, the serial capture, the deadline and the kill
//! are `lazarus_tests`' (`Machine::command` and `runner::boot`, the same
//! code the in-QEMU tests use): a QEMU still running at the deadline is
//! killed and reaped before `execute` returns, and one whose runner dies
//! is killed by the kernel (`PR_SET_PDEATHSIG`).

use std::path::Path;
use std::time::Duration;

use campaign::Trial;
use lazarus_tests::runner::{self, BootError, Deadlines, Machine};

use crate::campaign::executor::{trial_cmdline, trial_end, Execution, TrialExecutor};

/// Boots trials on a machine (firmware, image, QEMU binary).
#[derive(Debug, Clone)]
pub struct QemuExecutor {
    machine: Machine,
    deadlines: Deadlines,
}

impl QemuExecutor {
    /// Boots on `machine`, allowing each trial `timeout` to reach the
    /// kernel's banner and `timeout` again after it.
    pub fn new(machine: Machine, timeout: Duration) -> Self {
        QemuExecutor { machine, deadlines: Deadlines::from(timeout) }
    }
}

impl TrialExecutor for QemuExecutor {
    fn execute(&self, trial: &Trial, log_path: &Path) -> Result<Execution, BootError> {
        let command = self.machine.command(trial_cmdline(trial)?);
        let boot = runner::boot(&command, self.deadlines, log_path)?;
        Ok(Execution {
            end: trial_end(boot.end),
            serial_log: boot.lines.join("\n"),
            duration: boot.wall,
            log_path: boot.log_path,
        })
    }
}
