//! Trials in QEMU: one captured boot, or restore, per trial, killed at its deadline.
//!
//! The QEMU command line, the serial capture, the deadline and the kill
//! are `lazarus_tests`' (`Machine::command` and `runner::boot`, the same
//! code the in-QEMU tests use): a QEMU still running at the deadline is
//! killed and reaped before `execute` returns, and one whose runner dies
//! is killed by the kernel (`PR_SET_PDEATHSIG`). With the `snapshot` clean
//! state the command is the same plus `-incoming` from the state saved
//! once for the run (`snapshot`); the restored kernel prints a `Lazarus`
//! line at once, so the two deadlines mean the same as for a boot: to the
//! banner (here, the restore), and from it to the trial's end.

use std::path::Path;
use std::time::Duration;

use campaign::{CleanState, Trial};
use lazarus_tests::runner::{self, BootError, Deadlines, Machine};

use crate::campaign::error::CampaignError;
use crate::campaign::executor::{trial_cmdline, trial_end, Execution, TrialExecutor};
use crate::campaign::layout::CampaignDir;
use crate::campaign::snapshot::{self, SavedState};
use crate::shell;

/// Bytes in a megabyte, for the size of the saved machine.
const BYTES_PER_MB: f64 = 1e6;

/// The executor for `clean_state`: for `snapshot`, boots `machine` once and
/// saves it in `dir` first (its serial log: `logs/snapshot.log`, or
/// `logs/snapshot.replay.log` for a `replay`).
pub fn prepare(
    machine: Machine,
    timeout: Duration,
    clean_state: CleanState,
    dir: &CampaignDir,
    replay: bool,
) -> Result<QemuExecutor, CampaignError> {
    match clean_state {
        CleanState::Boot => Ok(QemuExecutor::booting(machine, timeout)),
        CleanState::Snapshot => {
            let log = dir.snapshot_log_file(replay);
            let saved = snapshot::save(&machine, timeout, &dir.snapshot_dir(), &log)
                .map_err(|source| CampaignError::Snapshot { log, source })?;
            shell::note(format!(
                "campaign: clean state: booted once and saved the machine where a trial starts \
                 ({:.1} MB in {:.1} s); trials restore it",
                saved.bytes() as f64 / BYTES_PER_MB,
                saved.took().as_secs_f64()
            ));
            Ok(QemuExecutor::restoring(machine, timeout, saved))
        }
    }
}

/// Boots trials on a machine (firmware, image, QEMU binary), or restores
/// them from a machine saved after boot.
#[derive(Debug)]
pub struct QemuExecutor {
    machine: Machine,
    deadlines: Deadlines,
    saved: Option<SavedState>,
}

impl QemuExecutor {
    /// Boots every trial on `machine`, allowing each trial `timeout` to
    /// reach the kernel's banner and `timeout` again after it.
    pub fn booting(machine: Machine, timeout: Duration) -> Self {
        QemuExecutor { machine, deadlines: Deadlines::from(timeout), saved: None }
    }

    /// Starts every trial from `saved`, which must have been saved from
    /// `machine`, with the same deadlines.
    pub fn restoring(machine: Machine, timeout: Duration, saved: SavedState) -> Self {
        QemuExecutor { machine, deadlines: Deadlines::from(timeout), saved: Some(saved) }
    }

    /// How trials reach their clean state.
    pub fn clean_state(&self) -> CleanState {
        match self.saved {
            Some(_) => CleanState::Snapshot,
            None => CleanState::Boot,
        }
    }
}

impl TrialExecutor for QemuExecutor {
    fn execute(&self, trial: &Trial, log_path: &Path) -> Result<Execution, BootError> {
        let mut command = self.machine.command(trial_cmdline(trial)?);
        if let Some(saved) = &self.saved {
            command = command.incoming(saved.path());
        }
        let boot = runner::boot(&command, self.deadlines, log_path)?;
        Ok(Execution {
            end: trial_end(boot.end),
            serial_log: boot.lines.join("\n"),
            duration: boot.wall,
            log_path: boot.log_path,
            clean_state: self.clean_state(),
        })
    }
}
