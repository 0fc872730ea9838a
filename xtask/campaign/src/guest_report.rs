//! The guest→host result protocol, and a trial's serial log read as one report.
//!
//! During a trial the guest prints, among its ordinary log lines, these
//! lines on the serial console (one per event, `\n` or `\r\n` ended):
//!
//! ```text
//! campaign: armed id=<id> config=<unwind|restart|none> spec=<MODEL:TARGET:TRIGGER:LOCATION>
//! campaign: injected at=<ns>
//! campaign: detected kind=<panic|exception|cfi|watchdog> server=<name> generation=<n>
//! campaign: recovered server=<name> latency_ns=<n> released_by_unwinding=<n> reclaimed_by_backstop=<n> leaks=<n>
//! campaign: workload verdict=<ok|error|wrong> detail=<free text to the end of the line>
//! campaign: end
//! ```
//!
//! - `armed`, once, before the workload starts: the trial as the guest read
//!   it from `trial=`, `recovery=` and `inject=` on its command line; the
//!   host checks that it is the trial it asked for.
//! - `injected`, at most once, printed *before* the fault is applied (so a
//!   fault that kills the machine at once cannot swallow it); absent when
//!   the trigger never fired (the workload ended first, or the site was
//!   never reached, or the region does not exist in the target). `at` is
//!   guest nanoseconds since boot.
//! - `detected`, once per detected server fault, by the kernel or the
//!   recovery manager; `server` is the server that faulted, which need not
//!   be the target when a fault spreads.
//! - `recovered`, once per restart, after the accounting check: `latency_ns`
//!   from detection to the restarted server's first answer; the three
//!   resource counts are those released by unwinding, reclaimed by the
//!   backstop, and unaccounted for (leaks). Never printed under `none`; under
//!   `restart` nothing is unwound, so `released_by_unwinding` is 0.
//! - `workload`, once, after the workload and a final health check of every
//!   server: `ok` only if all results matched the golden results *and*
//!   every server answered; `error` if a call failed past its retries or a
//!   server did not answer; `wrong` if a result differed with no error seen.
//! - `end`, last; then the guest exits QEMU through `isa-debug-exit`.
//!
//! Kernel panics are recognised by the kernel's own `KERNEL PANIC` line.
//! Everything else on the console is ignored. Lines after `end` are not
//! part of the protocol, except a kernel panic, which still counts.

use crate::guest_line::{parse_line, Armed, Detection, GuestLine, GuestLineError, Recovery, WorkloadVerdict};

/// How the kernel's panic handler starts its report (`KERNEL PANIC: …`,
/// `KERNEL PANIC while panicking: …`).
pub const KERNEL_PANIC_MARKER: &str = "KERNEL PANIC";

/// A kernel panic seen in the log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KernelPanic {
    /// The rest of the panic line: the kernel's message.
    pub message: String,
    /// 1-based line number in the log.
    pub line: usize,
}

/// A protocol line that breaks the protocol.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolProblem {
    /// The line has the marker but does not decode.
    #[error("line {line}: {error}")]
    Malformed {
        /// 1-based line number.
        line: usize,
        /// What is wrong with it.
        error: GuestLineError,
    },
    /// An event before `armed`.
    #[error("line {line}: `{verb}` before `armed`")]
    BeforeArmed {
        /// 1-based line number.
        line: usize,
        /// The event.
        verb: &'static str,
    },
    /// A second `armed`, `injected` or `workload` line.
    #[error("line {line}: a second `{verb}`")]
    Repeated {
        /// 1-based line number.
        line: usize,
        /// The event.
        verb: &'static str,
    },
}

/// Everything a trial's serial log says, in protocol terms.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GuestReport {
    /// The `armed` line and its line number.
    pub armed: Option<(Armed, usize)>,
    /// Guest nanoseconds of the `injected` line, and its line number.
    pub injected: Option<(u64, usize)>,
    /// Every `detected` line, in order.
    pub detections: Vec<Detection>,
    /// Every `recovered` line, in order.
    pub recoveries: Vec<Recovery>,
    /// The `workload` line.
    pub workload: Option<WorkloadVerdict>,
    /// Whether `end` was printed.
    pub ended: bool,
    /// The first kernel panic in the log.
    pub kernel_panic: Option<KernelPanic>,
    /// Lines that break the protocol.
    pub problems: Vec<ProtocolProblem>,
}

impl GuestReport {
    /// Reads a whole serial log.
    pub fn from_log(log: &str) -> Self {
        Self::parse(log.lines())
    }

    /// Reads serial lines in order.
    pub fn parse<'a>(lines: impl IntoIterator<Item = &'a str>) -> Self {
        let mut report = GuestReport::default();
        for (index, raw) in lines.into_iter().enumerate() {
            report.read_line(index + 1, raw);
        }
        report
    }

    fn read_line(&mut self, line: usize, raw: &str) {
        if self.kernel_panic.is_none() {
            if let Some(message) = kernel_panic_message(raw) {
                self.kernel_panic = Some(KernelPanic { message: message.to_owned(), line });
            }
        }
        if self.ended {
            return;
        }
        let event = match parse_line(raw) {
            None => return,
            Some(Err(error)) => {
                self.problems.push(ProtocolProblem::Malformed { line, error });
                return;
            }
            Some(Ok(event)) => event,
        };
        if self.armed.is_none() && !matches!(event, GuestLine::Armed(_)) {
            self.problems.push(ProtocolProblem::BeforeArmed { line, verb: verb(&event) });
            return;
        }
        match event {
            GuestLine::Armed(armed) => match self.armed {
                None => self.armed = Some((armed, line)),
                Some(_) => self.problems.push(ProtocolProblem::Repeated { line, verb: "armed" }),
            },
            GuestLine::Injected { at_ns } => match self.injected {
                None => self.injected = Some((at_ns, line)),
                Some(_) => self.problems.push(ProtocolProblem::Repeated { line, verb: "injected" }),
            },
            GuestLine::Detected(detection) => self.detections.push(detection),
            GuestLine::Recovered(recovery) => self.recoveries.push(recovery),
            GuestLine::Workload(verdict) => match self.workload {
                None => self.workload = Some(verdict),
                Some(_) => self.problems.push(ProtocolProblem::Repeated { line, verb: "workload" }),
            },
            GuestLine::End => self.ended = true,
        }
    }

    /// Whether the fault fired.
    pub fn injected(&self) -> bool {
        self.injected.is_some()
    }

    /// Whether any fault was detected. A `recovered` line implies a
    /// detection even if its `detected` line was lost.
    pub fn detected(&self) -> bool {
        !self.detections.is_empty() || !self.recoveries.is_empty()
    }

    /// The first recovery's latency, in guest nanoseconds.
    pub fn latency_ns(&self) -> Option<u64> {
        self.recoveries.first().map(|r| r.latency_ns)
    }

    /// Leaks over all recoveries; `None` when nothing was recovered.
    pub fn leaks(&self) -> Option<u64> {
        self.sum_over_recoveries(|r| r.leaks)
    }

    /// Resources released by unwinding over all recoveries.
    pub fn released_by_unwinding(&self) -> Option<u64> {
        self.sum_over_recoveries(|r| r.released_by_unwinding)
    }

    /// Resources reclaimed by the backstop over all recoveries.
    pub fn reclaimed_by_backstop(&self) -> Option<u64> {
        self.sum_over_recoveries(|r| r.reclaimed_by_backstop)
    }

    fn sum_over_recoveries(&self, field: impl Fn(&Recovery) -> u64) -> Option<u64> {
        (!self.recoveries.is_empty()).then(|| self.recoveries.iter().map(field).sum())
    }
}

fn verb(event: &GuestLine) -> &'static str {
    match event {
        GuestLine::Armed(_) => "armed",
        GuestLine::Injected { .. } => "injected",
        GuestLine::Detected(_) => "detected",
        GuestLine::Recovered(_) => "recovered",
        GuestLine::Workload(_) => "workload",
        GuestLine::End => "end",
    }
}

/// The message of a kernel panic line, if `raw` is one.
pub(crate) fn kernel_panic_message(raw: &str) -> Option<&str> {
    let line = raw.trim_matches(|c: char| c.is_whitespace() || c.is_control());
    let rest = line.strip_prefix(KERNEL_PANIC_MARKER)?;
    Some(rest.trim_start_matches([':', ' ']))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::guest_line::{DetectionKind, Verdict};
    use fault_inject::{Config, TrialId};

    const RECOVERED_LOG: &str = "\
Lazarus 0.1.0 booting\r
[recovery] servers: console name fs blk crashtest\r
campaign: armed id=4 config=unwind spec=panic:fs:ops.12:site.300\r
[workload] op 1 open /data/a\r
campaign: injected at=2200000\r
[fs] panicked at servers/fs/src/dir.rs:88:5: injected panic\r
campaign: detected kind=panic server=fs generation=0\r
campaign: recovered server=fs latency_ns=91000 released_by_unwinding=6 reclaimed_by_backstop=0 leaks=0\r
campaign: workload verdict=ok detail=200 ops, all match\r
campaign: end\r
";

    #[test]
    fn reads_a_recovered_trial_among_ordinary_log_lines() {
        let report = GuestReport::from_log(RECOVERED_LOG);
        let (armed, armed_line) = report.armed.unwrap();
        assert_eq!((armed.id, armed.config, armed_line), (TrialId(4), Config::Unwind, 3));
        assert_eq!(report.injected, Some((2_200_000, 5)));
        assert_eq!(report.detections.len(), 1);
        assert_eq!(report.detections[0].kind, DetectionKind::Panic);
        assert_eq!(report.latency_ns(), Some(91_000));
        assert_eq!(report.leaks(), Some(0));
        assert_eq!(report.released_by_unwinding(), Some(6));
        assert_eq!(report.workload.as_ref().map(|w| w.verdict), Some(Verdict::Ok));
        assert!(report.ended && report.injected() && report.detected());
        assert_eq!(report.kernel_panic, None);
        assert!(report.problems.is_empty(), "{:?}", report.problems);
    }

    #[test]
    fn sums_accounting_over_several_recoveries() {
        let log = "campaign: armed id=1 config=restart spec=memflip:fs:ticks.3:text.10.1\n\
                   campaign: injected at=1\n\
                   campaign: recovered server=fs latency_ns=10 released_by_unwinding=0 reclaimed_by_backstop=4 leaks=1\n\
                   campaign: recovered server=fs latency_ns=30 released_by_unwinding=0 reclaimed_by_backstop=5 leaks=2\n";
        let report = GuestReport::from_log(log);
        assert_eq!(report.latency_ns(), Some(10));
        assert_eq!(report.leaks(), Some(3));
        assert_eq!(report.reclaimed_by_backstop(), Some(9));
        assert!(report.detected(), "a recovery implies a detection");
        assert!(!report.ended);
    }

    #[test]
    fn nothing_recovered_means_no_accounting() {
        let report = GuestReport::from_log("campaign: armed id=1 config=none spec=hang:fs:ops.3:site.1\n");
        assert_eq!((report.latency_ns(), report.leaks()), (None, None));
    }

    #[test]
    fn finds_the_kernel_panic_even_after_end() {
        let log = "campaign: armed id=1 config=unwind spec=hang:fs:ops.3:site.1\ncampaign: end\n\nKERNEL PANIC: page fault in kernel at 0xdead\n  at kernel/src/x.rs:1:1\n";
        let report = GuestReport::from_log(log);
        assert_eq!(
            report.kernel_panic,
            Some(KernelPanic { message: "page fault in kernel at 0xdead".into(), line: 4 })
        );
        let nested = GuestReport::from_log("KERNEL PANIC while panicking: oops");
        assert_eq!(nested.kernel_panic.unwrap().message, "while panicking: oops");
    }

    #[test]
    fn reports_lines_that_break_the_protocol() {
        let log = "campaign: injected at=5\n\
                   campaign: armed id=1 config=unwind spec=hang:fs:ops.3:site.1\n\
                   campaign: armed id=1 config=unwind spec=hang:fs:ops.3:site.1\n\
                   campaign: injected at=6\n\
                   campaign: injected at=7\n\
                   campaign: detected kind=panic server=fs\n\
                   campaign: end\n\
                   campaign: nonsense after the end is not the protocol's business\n";
        let report = GuestReport::from_log(log);
        assert_eq!(report.injected, Some((6, 4)));
        let problems: Vec<String> = report.problems.iter().map(|p| p.to_string()).collect();
        assert_eq!(
            problems,
            [
                "line 1: `injected` before `armed`",
                "line 3: a second `armed`",
                "line 5: a second `injected`",
                "line 6: `detected` lacks `generation=`",
            ]
        );
    }
}
