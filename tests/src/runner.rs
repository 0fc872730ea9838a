//! Boots QEMU once, reads the serial console under a deadline, and judges the boot.
//!
//! [`boot`] runs one QEMU with a captured console: every serial line is
//! timestamped, written to the boot's log file as it arrives, and kept; when
//! the deadline passes QEMU is killed and the boot is [`BootEnd::TimedOut`].
//! [`list_cases`] and [`run_group`] build on it for the two kinds of test
//! boot, and [`GroupRun`] turns a group boot into a verdict per case, with a
//! message that carries the serial tail and the log path when it fails.

use std::fmt::{self, Write as _};
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

use crate::protocol::{
    self, CaseOutcome, GroupResults, Listing, ListingError, ProtocolProblem, StreamEnd,
};
use crate::qemu::{BootCmdline, CmdlineError, Console, Firmware, QemuCommand, QemuError, QemuExit};

/// The kernel's banner starts with this word; its first appearance marks
/// "boot-to-banner", the boot time we track.
pub const BANNER_MARKER: &str = "Lazarus";

/// Serial lines quoted in a failure message: enough to show a panic and its
/// backtrace, short enough to read in a test report.
pub const SERIAL_TAIL_LINES: usize = 30;

/// How often to check whether QEMU has exited once its console closed.
const EXIT_POLL_INTERVAL: Duration = Duration::from_millis(10);

/// How long to wait for the console pipes to close once QEMU has ended; they
/// close at once unless some other process inherited them.
const PIPE_DRAIN_GRACE: Duration = Duration::from_secs(2);

/// Prefix of the lines the runner adds to a serial log (command, verdict),
/// so they cannot be mistaken for guest output.
pub const LOG_NOTE_PREFIX: &str = "## host:";

/// How a boot ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BootEnd {
    /// QEMU exited by itself with this status.
    Completed(QemuExit),
    /// QEMU was still running at the deadline and was killed.
    TimedOut(Duration),
}

impl fmt::Display for BootEnd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BootEnd::Completed(exit) => write!(f, "{exit}"),
            BootEnd::TimedOut(after) => write!(
                f,
                "timed out: QEMU still running after {} s, killed",
                after.as_secs()
            ),
        }
    }
}

/// Why a boot could not happen or be recorded.
#[derive(Debug, thiserror::Error)]
pub enum BootError {
    /// QEMU could not be started or stopped (missing binary, image, firmware).
    #[error(transparent)]
    Qemu(#[from] QemuError),
    /// The group name cannot go on the kernel command line.
    #[error(transparent)]
    Cmdline(#[from] CmdlineError),
    /// The serial log could not be written.
    #[error("cannot write serial log {path}: {source}")]
    Log {
        /// The log file.
        path: PathBuf,
        /// What the operating system said.
        source: io::Error,
    },
    /// The command does not capture the console, so there is nothing to read.
    #[error("the QEMU command does not capture the serial console")]
    NotCaptured,
}

/// One finished boot: what the guest printed and how QEMU ended.
#[derive(Debug, Clone)]
pub struct Boot {
    /// How it ended.
    pub end: BootEnd,
    /// Serial lines without their line endings.
    pub lines: Vec<String>,
    /// QEMU's process id (already reaped).
    pub pid: u32,
    /// From spawn to the first line containing [`BANNER_MARKER`].
    pub banner_after: Option<Duration>,
    /// From spawn to QEMU's exit (or its kill).
    pub wall: Duration,
    /// What QEMU printed on stderr.
    pub stderr: String,
    /// The serial log file.
    pub log_path: PathBuf,
}

impl Boot {
    /// The last `count` serial lines, one per line, indented for a report.
    pub fn tail(&self, count: usize) -> String {
        let start = self.lines.len().saturating_sub(count);
        let mut out = String::new();
        for line in &self.lines[start..] {
            // Firmware escape sequences would garble a terminal report.
            let shown: String = line
                .chars()
                .map(|c| {
                    if c.is_control() && c != '\t' {
                        '\u{FFFD}'
                    } else {
                        c
                    }
                })
                .collect();
            let _ = writeln!(out, "    | {shown}");
        }
        if self.lines.is_empty() {
            out.push_str("    (the guest printed nothing)\n");
        }
        out
    }

    /// One line for the timings summary: `<label>: boot-to-banner ..., wall ..., <end>`.
    pub fn timing_line(&self, label: &str) -> String {
        let banner = match self.banner_after {
            Some(after) => format!("boot-to-banner {:.2} s", after.as_secs_f64()),
            None => format!("boot-to-banner - (no line with `{BANNER_MARKER}`)"),
        };
        format!(
            "{label}: {banner}, wall {:.2} s, {}",
            self.wall.as_secs_f64(),
            self.end
        )
    }

    /// The serial tail plus QEMU's stderr and the log path, for failure messages.
    pub fn evidence(&self) -> String {
        let mut out = format!(
            "last {} serial lines (full log: {}):\n{}",
            SERIAL_TAIL_LINES.min(self.lines.len()),
            self.log_path.display(),
            self.tail(SERIAL_TAIL_LINES)
        );
        let stderr = self.stderr.trim();
        if !stderr.is_empty() {
            let _ = writeln!(out, "QEMU stderr:\n    {}", stderr.replace('\n', "\n    "));
        }
        out.truncate(out.trim_end().len());
        out
    }
}

/// How long a boot may run: up to the kernel's banner, and from the banner
/// on. Two clocks, so that a slow host (a loaded CI machine can take many
/// times longer to boot) is never taken for a hung guest, while a guest that
/// hangs before its banner still times out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadlines {
    /// From QEMU's start to the banner line.
    pub to_banner: Duration,
    /// From the banner line to QEMU's end.
    pub after_banner: Duration,
}

impl From<Duration> for Deadlines {
    /// The same limit for both stretches.
    fn from(limit: Duration) -> Self {
        Deadlines { to_banner: limit, after_banner: limit }
    }
}

/// Boots `command` (which must capture the console), reads the serial
/// console until QEMU exits or a deadline passes, and logs it to `log_path`.
pub fn boot(command: &QemuCommand, deadlines: impl Into<Deadlines>, log_path: &Path) -> Result<Boot, BootError> {
    let deadlines = deadlines.into();
    let log_error = |source| BootError::Log {
        path: log_path.to_owned(),
        source,
    };
    if let Some(dir) = log_path.parent() {
        std::fs::create_dir_all(dir).map_err(log_error)?;
    }
    let mut log = File::create(log_path).map_err(log_error)?;
    writeln!(log, "{LOG_NOTE_PREFIX} {command}").map_err(log_error)?;

    let started = Instant::now();
    let deadline = |banner: Option<Duration>| match banner {
        Some(after) => started + after + deadlines.after_banner,
        None => started + deadlines.to_banner,
    };
    // From here on `process` kills QEMU if anything below returns early or panics.
    let mut process = command.spawn()?;
    let pid = process.pid();
    let stdout = process.take_stdout().ok_or(BootError::NotCaptured)?;
    let stderr = process.take_stderr().ok_or(BootError::NotCaptured)?;

    let (sender, receiver) = mpsc::channel::<(Instant, String)>();
    let (stderr_sender, stderr_receiver) = mpsc::channel::<String>();
    // Detached readers: each ends when its pipe closes, i.e. when QEMU ends.
    thread::spawn(move || read_lines(stdout, &sender));
    thread::spawn(move || {
        // The receiver may be gone after a timeout; then nobody needs it.
        let _ = stderr_sender.send(read_all(stderr));
    });

    let mut record = Recorder {
        started,
        lines: Vec::new(),
        banner_after: None,
        log: &mut log,
    };
    let mut timed_out = false;
    loop {
        let left = deadline(record.banner_after).saturating_duration_since(Instant::now());
        match receiver.recv_timeout(left) {
            Ok((at, raw)) => record.line(at, &raw).map_err(log_error)?,
            Err(RecvTimeoutError::Timeout) => {
                timed_out = true;
                break;
            }
            Err(RecvTimeoutError::Disconnected) => break,
        }
    }
    // The console closed (QEMU is exiting) or time is up.
    let end = loop {
        if let Some(status) = process.try_wait()? {
            break BootEnd::Completed(QemuExit::from_status(status));
        }
        if timed_out || Instant::now() >= deadline(record.banner_after) {
            process.kill()?;
            // The limit that ran out.
            let limit = match record.banner_after {
                Some(_) => deadlines.after_banner,
                None => deadlines.to_banner,
            };
            break BootEnd::TimedOut(limit);
        }
        thread::sleep(EXIT_POLL_INTERVAL);
    };
    let wall = started.elapsed();
    // QEMU is gone, so its pipes close and the readers finish; collect what
    // they still hold. Only a stray process that inherited the pipes could
    // keep them open: then give up after a grace period instead of hanging.
    let grace_end = Instant::now() + PIPE_DRAIN_GRACE;
    loop {
        let left = grace_end.saturating_duration_since(Instant::now());
        match receiver.recv_timeout(left) {
            Ok((at, raw)) => record.line(at, &raw).map_err(log_error)?,
            Err(_) => break,
        }
    }
    let left = grace_end.saturating_duration_since(Instant::now());
    let stderr = stderr_receiver
        .recv_timeout(left)
        .unwrap_or_else(|_| String::from("(not collected: the pipe stayed open after QEMU ended)"));

    let boot = Boot {
        end,
        lines: record.lines,
        pid,
        banner_after: record.banner_after,
        wall,
        stderr,
        log_path: log_path.to_owned(),
    };
    writeln!(log, "{LOG_NOTE_PREFIX} {}", boot.timing_line("boot")).map_err(log_error)?;
    if !boot.stderr.trim().is_empty() {
        writeln!(log, "{LOG_NOTE_PREFIX} QEMU stderr: {}", boot.stderr.trim())
            .map_err(log_error)?;
    }
    Ok(boot)
}

/// Collects serial lines, writes them to the log and spots the banner.
struct Recorder<'a> {
    started: Instant,
    lines: Vec<String>,
    banner_after: Option<Duration>,
    log: &'a mut File,
}

impl Recorder<'_> {
    fn line(&mut self, at: Instant, raw: &str) -> io::Result<()> {
        let line = raw.trim_end_matches(['\r', '\n']).replace('\r', "");
        writeln!(self.log, "{line}")?;
        if self.banner_after.is_none() && line.contains(BANNER_MARKER) {
            self.banner_after = Some(at.saturating_duration_since(self.started));
        }
        self.lines.push(line);
        Ok(())
    }
}

/// Sends each line read from `source`, with the time it arrived, until EOF.
fn read_lines(source: impl Read, sender: &mpsc::Sender<(Instant, String)>) {
    let mut reader = BufReader::new(source);
    let mut buffer = Vec::new();
    loop {
        buffer.clear();
        match reader.read_until(b'\n', &mut buffer) {
            Ok(0) | Err(_) => return,
            Ok(_) => {
                let line = String::from_utf8_lossy(&buffer).into_owned();
                if sender.send((Instant::now(), line)).is_err() {
                    return;
                }
            }
        }
    }
}

fn read_all(mut source: impl Read) -> String {
    let mut bytes = Vec::new();
    // A read error just ends the capture; stderr is only evidence.
    let _ = source.read_to_end(&mut bytes);
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Why the `test=list` boot gave no listing.
#[derive(Debug, thiserror::Error)]
pub enum ListError {
    /// The boot itself failed.
    #[error(transparent)]
    Boot(#[from] BootError),
    /// The boot ran but the listing is unusable.
    #[error("the test=list boot gave no usable listing: {error}; QEMU: {end}\n{evidence}")]
    Listing {
        /// What is wrong with the listing.
        error: ListingError,
        /// How the boot ended.
        end: BootEnd,
        /// Serial tail and log path.
        evidence: String,
    },
}

/// What to boot and where its logs go: the same for every boot of a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Machine {
    /// Which firmware boots.
    pub firmware: Firmware,
    /// The disk image for that firmware.
    pub image: PathBuf,
    /// The QEMU binary (name on `PATH`, or a path).
    pub qemu: String,
    /// Folder for the serial logs.
    pub log_dir: PathBuf,
}

impl Machine {
    /// A captured-console QEMU command with these boot options.
    pub fn command(&self, cmdline: BootCmdline) -> QemuCommand {
        QemuCommand::new(self.firmware, &self.image)
            .binary(self.qemu.clone())
            .console(Console::Captured)
            .cmdline(cmdline)
    }

    /// The serial log of the boot named `what`: `<firmware>-<what>.log`.
    pub fn log_path(&self, what: &str) -> PathBuf {
        self.log_dir
            .join(format!("{}-{what}.log", self.firmware.name()))
    }
}

/// Boots with `test=list` and returns the boot and the groups and cases.
pub fn list_cases(machine: &Machine, timeout: Duration) -> Result<(Boot, Listing), ListError> {
    let command = machine.command(BootCmdline::list_tests());
    let boot = boot(&command, timeout, &machine.log_path("list"))?;
    match protocol::collect_listing(boot.lines.iter().map(String::as_str)) {
        Ok(listing) => Ok((boot, listing)),
        Err(error) => Err(ListError::Listing {
            error,
            end: boot.end,
            evidence: boot.evidence(),
        }),
    }
}

/// A group boot and what it said about each case.
#[derive(Debug, Clone)]
pub struct GroupRun {
    /// The firmware it booted with.
    pub firmware: Firmware,
    /// The boot.
    pub boot: Boot,
    /// The cases.
    pub results: GroupResults,
}

/// Something wrong with a group boot as a whole; it fails every case.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GroupProblem {
    /// The boot hit the timeout.
    #[error("{0}")]
    TimedOut(BootEnd),
    /// QEMU's exit status is not the one the printed results call for.
    #[error("QEMU ended with {got}; expected {expected} after the results the kernel printed")]
    WrongExit {
        /// What the printed results call for.
        expected: QemuExit,
        /// What QEMU did.
        got: BootEnd,
    },
    /// The serial stream broke the protocol.
    #[error("protocol: {0}")]
    Protocol(ProtocolProblem),
}

/// Boots `test=<group>` and classifies every case in `expected` (plus any
/// the kernel ran that were not expected).
pub fn run_group(
    machine: &Machine,
    group: &str,
    expected: &[String],
    timeout: impl Into<Deadlines>,
) -> Result<GroupRun, BootError> {
    // Every group boot has a blank virtio disk (the `blk` and `storage`
    // groups drive it; the TAS of the others formats it or finds it held),
    // its writes kept in QEMU's overlay.
    let boot_with = GroupBoot { cmdline: BootCmdline::run_group(group)?, disk: GroupDisk::Scratch };
    run_group_with(machine, group, boot_with, expected, timeout)
}

/// The virtio disk of a group boot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupDisk<'a> {
    /// The blank scratch disk, its writes dropped at the end.
    Scratch,
    /// This raw image, which keeps what the guest writes.
    Kept(&'a Path),
}

/// How a group is booted: its boot options (`test=<group>` and any
/// others) and its disk.
#[derive(Debug, Clone)]
pub struct GroupBoot<'a> {
    /// The boot options.
    pub cmdline: BootCmdline,
    /// The disk.
    pub disk: GroupDisk<'a>,
}

/// Boots a group as `how` says and classifies every case in `expected`,
/// as [`run_group`] does; the serial log is named after `group`.
pub fn run_group_with(
    machine: &Machine,
    group: &str,
    how: GroupBoot<'_>,
    expected: &[String],
    timeout: impl Into<Deadlines>,
) -> Result<GroupRun, BootError> {
    let command = machine.command(how.cmdline);
    let command = match how.disk {
        GroupDisk::Scratch => command.scratch_disk(&machine.log_dir),
        GroupDisk::Kept(path) => command.disk(path),
    };
    let boot = boot(&command, timeout, &machine.log_path(group))?;
    let end = match boot.end {
        BootEnd::Completed(_) => StreamEnd::Exited,
        BootEnd::TimedOut(_) => StreamEnd::TimedOut,
    };
    let results =
        protocol::collect_group(group, expected, boot.lines.iter().map(String::as_str), end);
    Ok(GroupRun {
        firmware: machine.firmware,
        boot,
        results,
    })
}

impl GroupRun {
    /// The exit the printed results call for: failure if any case failed.
    pub fn expected_exit(&self) -> QemuExit {
        if self.results.kernel_reported_failure() {
            QemuExit::KernelFailure
        } else {
            QemuExit::KernelSuccess
        }
    }

    /// What is wrong with the group as a whole (empty when nothing is).
    pub fn problems(&self) -> Vec<GroupProblem> {
        let mut problems = Vec::new();
        match self.boot.end {
            BootEnd::TimedOut(_) => problems.push(GroupProblem::TimedOut(self.boot.end)),
            BootEnd::Completed(exit) if exit != self.expected_exit() => {
                problems.push(GroupProblem::WrongExit {
                    expected: self.expected_exit(),
                    got: self.boot.end,
                })
            }
            BootEnd::Completed(_) => {}
        }
        problems.extend(
            self.results
                .problems
                .iter()
                .cloned()
                .map(GroupProblem::Protocol),
        );
        problems
    }

    /// `None` if `case` passed and the group is sound; otherwise the failure
    /// message: the case's outcome, the group's problems, the serial tail and
    /// the log path.
    pub fn case_failure(&self, case: &str) -> Option<String> {
        let outcome = self.results.outcome(case);
        let problems = self.problems();
        if outcome.is_some_and(CaseOutcome::is_pass) && problems.is_empty() {
            return None;
        }
        let mut message = match outcome {
            Some(CaseOutcome::Passed) => "the case passed, but its group boot failed".to_owned(),
            Some(outcome) => outcome.to_string(),
            None => format!("the group boot never mentioned case `{case}`"),
        };
        let group = &self.results.group;
        if problems.is_empty() {
            let _ = write!(
                message,
                "\ngroup `{group}` ({}): {}",
                self.firmware, self.boot.end
            );
        } else {
            let _ = write!(message, "\ngroup `{group}` ({}) failed:", self.firmware);
            for problem in &problems {
                let _ = write!(message, "\n  - {problem}");
            }
        }
        let _ = write!(message, "\n{}", self.boot.evidence());
        Some(message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::collect_group;

    fn fake_run(lines: &[&str], end: BootEnd, expected: &[&str]) -> GroupRun {
        let expected: Vec<String> = expected.iter().map(|s| (*s).to_owned()).collect();
        let stream_end = match end {
            BootEnd::Completed(_) => StreamEnd::Exited,
            BootEnd::TimedOut(_) => StreamEnd::TimedOut,
        };
        GroupRun {
            firmware: Firmware::Bios,
            results: collect_group("g", &expected, lines.iter().copied(), stream_end),
            boot: Boot {
                end,
                lines: lines.iter().map(|s| (*s).to_owned()).collect(),
                pid: 0,
                banner_after: None,
                wall: Duration::ZERO,
                stderr: String::new(),
                log_path: PathBuf::from("target/ktest/bios-g.log"),
            },
        }
    }

    const GOOD: &[&str] = &[
        "Lazarus 0.1",
        "ktest: group g 2 cases",
        "ktest: start a",
        "ktest: pass a",
        "ktest: start b",
        "ktest: pass b",
        "ktest: done g passed=2 failed=0",
    ];

    #[test]
    fn all_passed_with_success_exit_is_clean() {
        let run = fake_run(
            GOOD,
            BootEnd::Completed(QemuExit::KernelSuccess),
            &["a", "b"],
        );
        assert_eq!(run.problems(), []);
        assert_eq!(run.case_failure("a"), None);
        assert_eq!(run.case_failure("b"), None);
    }

    #[test]
    fn wrong_exit_fails_even_passing_cases() {
        let run = fake_run(GOOD, BootEnd::Completed(QemuExit::GuestReset), &["a", "b"]);
        let message = run.case_failure("a").unwrap();
        assert!(message.contains("the case passed, but its group boot failed"));
        assert!(message.contains("triple fault"));
        assert!(message.contains("target/ktest/bios-g.log"));
        assert!(message.contains("    | ktest: done g passed=2 failed=0"));
    }

    #[test]
    fn a_failed_case_expects_the_failure_exit() {
        let lines = [
            "ktest: group g 2 cases",
            "ktest: start a",
            "ktest: fail a: boom",
            "ktest: start b",
            "ktest: pass b",
            "ktest: done g passed=1 failed=1",
        ];
        let run = fake_run(
            &lines,
            BootEnd::Completed(QemuExit::KernelFailure),
            &["a", "b"],
        );
        assert_eq!(run.problems(), []);
        assert!(run.case_failure("a").unwrap().starts_with("failed: boom"));
        assert_eq!(run.case_failure("b"), None);
    }

    #[test]
    fn crash_message_quotes_the_last_lines() {
        let lines = ["ktest: group g 2 cases", "ktest: start a", "PANIC: oops"];
        let run = fake_run(
            &lines,
            BootEnd::Completed(QemuExit::KernelFailure),
            &["a", "b"],
        );
        let crash = run.case_failure("a").unwrap();
        assert!(crash.starts_with("crashed:"));
        assert!(crash.contains("    | PANIC: oops"));
        assert!(run.case_failure("b").unwrap().starts_with("not run"));
    }

    #[test]
    fn timeout_is_a_group_problem() {
        let lines = ["ktest: group g 1 cases", "ktest: start a"];
        let run = fake_run(&lines, BootEnd::TimedOut(Duration::from_secs(20)), &["a"]);
        assert_eq!(run.problems().len(), 1);
        assert!(run.case_failure("a").unwrap().starts_with("timed out"));
    }

    /// Where the unit tests keep their stand-in QEMUs and logs.
    fn unit_dir() -> PathBuf {
        crate::config::ktest_dir().join("unit-tests")
    }

    /// Stand-in QEMUs (shell scripts), written once per test process. Each
    /// is written under a private name and renamed into place, so a test
    /// process running at the same time never sees a half-written script.
    fn fake_qemu(name: &str) -> String {
        use std::os::unix::fs::PermissionsExt;
        static DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
        let dir = DIR.get_or_init(|| {
            let dir = unit_dir().join("fake-qemu");
            std::fs::create_dir_all(&dir).unwrap();
            let scripts = [
                (
                    "passes",
                    "printf 'firmware noise\\r\\nLazarus 0.1 on fake QEMU\\r\\n'\n\
                     echo \"args: $*\"\n\
                     echo 'ktest: group g 1 cases'\n\
                     echo 'ktest: start a'\n\
                     echo 'ktest: pass a'\n\
                     echo 'ktest: done g passed=1 failed=0'\n\
                     echo 'a QEMU warning' >&2\n\
                     exit 33\n",
                ),
                (
                    "hangs",
                    "echo 'ktest: group g 1 cases'\necho 'ktest: start a'\nexec sleep 60\n",
                ),
                // A child that keeps the console pipe open after "QEMU" dies.
                ("leaks_pipe", "sleep 4 &\necho 'Lazarus'\nexec sleep 60\n"),
            ];
            for (name, body) in scripts {
                let staging = dir.join(format!("{name}.{}.tmp", std::process::id()));
                std::fs::write(&staging, format!("#!/bin/sh\n{body}")).unwrap();
                std::fs::set_permissions(&staging, std::fs::Permissions::from_mode(0o755)).unwrap();
                std::fs::rename(&staging, dir.join(name)).unwrap();
            }
            dir
        });
        dir.join(name).to_str().unwrap().to_owned()
    }

    /// A machine booting the stand-in `qemu`, logging under the test's own folder.
    fn fake_machine(qemu: &str, test: &str) -> Machine {
        Machine {
            firmware: Firmware::Bios,
            // Any existing file will do: the stand-in never reads it.
            image: std::env::current_exe().unwrap(),
            qemu: fake_qemu(qemu),
            log_dir: unit_dir().join(test),
        }
    }

    #[test]
    fn boot_records_lines_exit_banner_and_log() {
        let machine = fake_machine("passes", "boot_records");
        let run = run_group(&machine, "g", &["a".to_owned()], Duration::from_secs(30)).unwrap();
        assert_eq!(run.boot.end, BootEnd::Completed(QemuExit::KernelSuccess));
        assert_eq!(run.problems(), []);
        assert_eq!(run.case_failure("a"), None);
        assert!(run.boot.banner_after.is_some());
        assert_eq!(run.boot.lines[1], "Lazarus 0.1 on fake QEMU");
        assert!(run.boot.lines[2].contains("name=opt/lazarus/cmdline,string=test=g"));
        assert_eq!(run.boot.stderr.trim(), "a QEMU warning");
        let log = std::fs::read_to_string(machine.log_path("g")).unwrap();
        assert!(log.starts_with(LOG_NOTE_PREFIX));
        assert!(log.contains("\nktest: pass a\n"));
        assert!(log.contains("boot-to-banner"));
    }

    #[test]
    fn a_hang_is_killed_at_the_deadline() {
        let run = run_group(
            &fake_machine("hangs", "hang"),
            "g",
            &["a".to_owned()],
            Duration::from_millis(500),
        )
        .unwrap();
        assert_eq!(run.boot.end, BootEnd::TimedOut(Duration::from_millis(500)));
        assert_eq!(run.results.outcome("a"), Some(&CaseOutcome::TimedOut));
        assert!(!crate::qemu::pid_is_alive(run.boot.pid));
        assert!(run.boot.wall < Duration::from_secs(5));
    }

    #[test]
    fn a_leaked_pipe_does_not_hang_the_runner() {
        let started = Instant::now();
        let run = list_cases(
            &fake_machine("leaks_pipe", "leak"),
            Duration::from_millis(500),
        );
        assert!(matches!(run, Err(ListError::Listing { .. })));
        assert!(started.elapsed() < Duration::from_secs(4));
    }

    #[test]
    fn a_missing_qemu_is_a_clear_error() {
        let mut machine = fake_machine("passes", "missing");
        machine.qemu = "lazarus-no-such-qemu".to_owned();
        let error = run_group(&machine, "g", &[], Duration::from_secs(1)).unwrap_err();
        assert!(error
            .to_string()
            .contains("sudo apt-get install qemu-system-x86 ovmf"));
    }

    #[test]
    fn timing_line_mentions_banner_and_end() {
        let mut run = fake_run(
            GOOD,
            BootEnd::Completed(QemuExit::KernelSuccess),
            &["a", "b"],
        );
        run.boot.banner_after = Some(Duration::from_millis(3_412));
        run.boot.wall = Duration::from_millis(5_000);
        assert_eq!(
            run.boot.timing_line("bios/g"),
            "bios/g: boot-to-banner 3.41 s, wall 5.00 s, exit status 33 (kernel reported success)"
        );
    }
}
