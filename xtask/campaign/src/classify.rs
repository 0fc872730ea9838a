//! A trial's outcome, from how the boot ended and what the guest reported.
//!
//! The decision order (the first rule that applies wins):
//!
//! 1. **Not a valid trial** → error, not counted: a `campaign:` line that
//!    breaks the protocol; QEMU ending with a status the guest never
//!    writes (QEMU itself failed); no `armed` line (the boot broke before
//!    the trial began, or the image has no campaign support); an `armed`
//!    line for another trial, configuration or fault.
//! 2. **Never injected** (no `injected` line): `not-activated` if the run
//!    was otherwise clean (it ended, the workload said `ok`, nothing was
//!    detected, no panic, no reset, no timeout); otherwise an error: the
//!    system failed *without* a fault, which says nothing about recovery
//!    and would bias every rate.
//! 3. **`kernel-crash`**: a kernel panic in the log, or a guest reset
//!    (triple fault).
//! 4. **`hang`**: the deadline passed with QEMU still running, whatever the
//!    guest printed before.
//! 5. **Incomplete** → error: the guest exited without `end` or without a
//!    `workload` verdict.
//! 6. **Inconsistent with the configuration** → error: a `recovered` line
//!    under `none`, or resources released by unwinding under `restart`
//!    (the guest did not run the configuration the host asked for).
//! 7. **Not detected**: `ok` → `not-activated` (the fault was masked);
//!    `error` → `client-error`; `wrong` → `sdc`.
//! 8. **Detected**: `wrong` → `sdc` (wrong results after recovery are still
//!    silent corruption); `error` → `client-error`; `ok` with a recovery →
//!    `recovered-leaky` if any recovery leaked, else `recovered`; `ok`
//!    with no recovery → error (a faulted server that was not restarted
//!    cannot pass the final health check, so the report contradicts itself).

use crate::guest_line::Verdict;
use crate::guest_report::{GuestReport, ProtocolProblem};
use crate::outcome::Outcome;
use crate::trial_list::Trial;
use fault_inject::{Config, Injection, TrialId};

/// QEMU's exit status when the guest writes its success byte (0x10) to
/// `isa-debug-exit`: `(0x10 << 1) | 1`. Mirrors `tests/src/qemu.rs`.
pub const GUEST_EXIT_SUCCESS: i32 = 33;

/// QEMU's exit status when the guest writes its failure byte (0x11):
/// `(0x11 << 1) | 1`. Mirrors `tests/src/qemu.rs`.
pub const GUEST_EXIT_FAILURE: i32 = 35;

/// How the trial's QEMU ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrialEnd {
    /// QEMU exited by itself with this status.
    Exited {
        /// The process exit status.
        status: i32,
    },
    /// The guest reset (with `-no-reboot`, QEMU then exits with status 0):
    /// almost always a triple fault.
    GuestReset,
    /// The deadline passed and the runner killed QEMU.
    TimedOut,
}

/// Why a boot could not be classified as a trial. The trial is not
/// counted; the runner reports it and a resumed campaign retries it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ClassifyError {
    /// A `campaign:` line broke the protocol.
    #[error("the guest broke the campaign protocol: {0}")]
    Protocol(ProtocolProblem),
    /// QEMU ended with a status the guest never writes.
    #[error("QEMU exited with status {status}, which the guest never writes: QEMU itself failed")]
    QemuFailed {
        /// The exit status.
        status: i32,
    },
    /// The guest never printed `armed`.
    #[error("the guest never armed the trial ({how}): the boot broke before the trial began, or the image has no campaign support")]
    NeverArmed {
        /// How the boot ended, in words.
        how: String,
    },
    /// The guest armed something else than what the host asked for.
    #[error("the guest armed trial {got_id} under {got_config} with {got}, but the host asked for trial {want_id} under {want_config} with {want}")]
    WrongTrial {
        /// The trial id the guest armed.
        got_id: TrialId,
        /// The configuration it armed.
        got_config: Config,
        /// The fault it armed.
        got: Injection,
        /// The trial id asked for.
        want_id: TrialId,
        /// The configuration asked for.
        want_config: Config,
        /// The fault asked for.
        want: Injection,
    },
    /// The system failed although the fault never fired.
    #[error("the fault was never injected, yet the run failed ({what}): the system fails without faults")]
    FailedWithoutFault {
        /// What went wrong.
        what: String,
    },
    /// The guest exited before finishing the protocol.
    #[error("the guest exited without a `{missing}` line")]
    Incomplete {
        /// The missing line's verb.
        missing: &'static str,
    },
    /// The report does not fit the configuration, or contradicts itself.
    #[error("inconsistent report: {0}")]
    Inconsistent(String),
}

/// Classifies one trial; see the module documentation for the order.
pub fn classify(trial: &Trial, end: TrialEnd, report: &GuestReport) -> Result<Outcome, ClassifyError> {
    // 1. A valid trial.
    if let Some(problem) = report.problems.first() {
        return Err(ClassifyError::Protocol(problem.clone()));
    }
    if let TrialEnd::Exited { status } = end {
        if status != GUEST_EXIT_SUCCESS && status != GUEST_EXIT_FAILURE {
            return Err(ClassifyError::QemuFailed { status });
        }
    }
    let Some((armed, _)) = report.armed else {
        return Err(ClassifyError::NeverArmed { how: describe_failure(end, report) });
    };
    let want = trial.spec.injection;
    if (armed.id, armed.config, armed.injection) != (trial.spec.id, trial.config, want) {
        return Err(ClassifyError::WrongTrial {
            got_id: armed.id,
            got_config: armed.config,
            got: armed.injection,
            want_id: trial.spec.id,
            want_config: trial.config,
            want,
        });
    }

    // 2. Never injected.
    let verdict = report.workload.as_ref().map(|w| w.verdict);
    if !report.injected() {
        let clean = report.kernel_panic.is_none()
            && matches!(end, TrialEnd::Exited { .. })
            && report.ended
            && verdict == Some(Verdict::Ok)
            && !report.detected();
        return if clean {
            Ok(Outcome::NotActivated)
        } else {
            Err(ClassifyError::FailedWithoutFault { what: describe_failure(end, report) })
        };
    }

    // 3. and 4. The machine died or stopped.
    if report.kernel_panic.is_some() || end == TrialEnd::GuestReset {
        return Ok(Outcome::KernelCrash);
    }
    if end == TrialEnd::TimedOut {
        return Ok(Outcome::Hang);
    }

    // 5. Complete.
    if !report.ended {
        return Err(ClassifyError::Incomplete { missing: "end" });
    }
    let Some(verdict) = verdict else {
        return Err(ClassifyError::Incomplete { missing: "workload" });
    };

    // 6. Consistent with the configuration.
    match trial.config {
        Config::NoRecovery if !report.recoveries.is_empty() => {
            return Err(ClassifyError::Inconsistent(
                "a server was restarted under `none`, which has no recovery".to_owned(),
            ));
        }
        Config::Restart if report.released_by_unwinding().unwrap_or(0) > 0 => {
            return Err(ClassifyError::Inconsistent(
                "resources were released by unwinding under `restart`, which does not unwind".to_owned(),
            ));
        }
        _ => {}
    }

    // 7. and 8. What the workload saw, and what recovery did.
    match (report.detected(), verdict) {
        (_, Verdict::Wrong) => Ok(Outcome::Sdc),
        (_, Verdict::Error) => Ok(Outcome::ClientError),
        (false, Verdict::Ok) => Ok(Outcome::NotActivated),
        (true, Verdict::Ok) => match report.leaks() {
            None => Err(ClassifyError::Inconsistent(
                "a fault was detected and nothing was restarted, yet the workload and health check passed".to_owned(),
            )),
            Some(0) => Ok(Outcome::Recovered),
            Some(_) => Ok(Outcome::RecoveredLeaky),
        },
    }
}

/// What went wrong in a run, in words, for error messages.
fn describe_failure(end: TrialEnd, report: &GuestReport) -> String {
    let mut what = Vec::new();
    if let Some(panic) = &report.kernel_panic {
        what.push(format!("kernel panic at line {}: {}", panic.line, panic.message));
    }
    match end {
        TrialEnd::Exited { status } => what.push(format!("QEMU exited with status {status}")),
        TrialEnd::GuestReset => what.push("the guest reset".to_owned()),
        TrialEnd::TimedOut => what.push("timed out".to_owned()),
    }
    if report.detected() {
        what.push("a fault was detected".to_owned());
    }
    match report.workload.as_ref().map(|w| w.verdict) {
        Some(Verdict::Ok) | None => {}
        Some(Verdict::Error) => what.push("the workload saw an error".to_owned()),
        Some(Verdict::Wrong) => what.push("the workload got wrong results".to_owned()),
    }
    if report.armed.is_some() && !report.ended {
        what.push("no `end` line".to_owned());
    }
    what.join("; ")
}
