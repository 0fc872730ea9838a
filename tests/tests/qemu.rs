//! In-QEMU tests: one libtest trial per kernel test case, plus the harness's self-tests.
//!
//! With `LAZARUS_IMAGES` set (by `cargo xtask test`), this boots the kernel
//! once with `test=list` to learn its groups and cases, then registers one
//! trial `<group>::<case>` per case. The first trial of a group to run boots
//! QEMU for the whole group; the group's other trials wait for that boot and
//! read their verdict from it, so each group boots exactly once and
//! independent groups boot in parallel (one per test thread). Two
//! `harness_selftest::*` trials check that the harness itself sees a failing
//! case and a hung guest. One trial, `storage::files_survive_a_reboot`,
//! boots the two `persist_*` groups one after the other on one disk file:
//! what the first writes, the second must read back. Without
//! `LAZARUS_IMAGES` every trial is ignored, so plain `cargo test` passes on
//! a machine without images.

use std::collections::HashMap;
use std::process::ExitCode;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use lazarus_tests::config::Settings;
use lazarus_tests::protocol::CaseOutcome;
use lazarus_tests::qemu::{pid_is_alive, BootCmdline, QemuExit, SCRATCH_DISK_BYTES};
use lazarus_tests::runner::{self, BootEnd, GroupBoot, GroupDisk, GroupRun};
use libtest_mimic::{Arguments, Failed, Trial};

/// Groups with this prefix test the harness, not the kernel: they fail or
/// hang on purpose and get no ordinary trials.
const SELFTEST_PREFIX: &str = "selftest_";

/// Trial-name prefix of the harness's own checks.
const HARNESS_TRIALS: &str = "harness_selftest";

/// The group whose one case always fails, and that case.
const FAIL_GROUP: &str = "selftest_fail";
const FAIL_CASE: &str = "deliberate_failure";

/// The group whose one case spins forever, and that case.
const HANG_GROUP: &str = "selftest_hang";
const HANG_CASE: &str = "hangs_forever";

/// Groups with this prefix are the boots of the reboot test, run in turn
/// on one disk by [`REBOOT_TRIAL`], not as ordinary groups.
const PERSIST_PREFIX: &str = "persist_";

/// The reboot test: its trial, its two groups and the boot options of
/// each (the second boot also runs the disk server's fault under the
/// `restart` configuration, where only its backstop gives device memory
/// back), and its disk file under the log folder.
const REBOOT_TRIAL: &str = "storage::files_survive_a_reboot";
const REBOOT_BOOTS: [(&str, &str); 2] = [
    ("persist_write", "test=persist_write"),
    ("persist_verify", "test=persist_verify recovery=restart"),
];
const REBOOT_DISK: &str = "persist-disk.img";

/// Timeout for the hang self-test, counted from the kernel's banner (the
/// way to the banner gets the ordinary boot timeout, so a slow host does not
/// fail the self-test): several boots' worth (a boot is 3–5 s
/// under TCG) yet short enough not to dominate the run.
const HANG_SELFTEST_TIMEOUT: Duration = Duration::from_secs(20);

/// What to do when there are no images.
const NEEDS_IMAGES: &str = "run `cargo xtask test`, which builds the images";

/// Name of the timings summary under the ktest folder.
const TIMINGS_FILE: &str = "timings.txt";

fn main() -> ExitCode {
    let args = Arguments::from_args();
    let (trials, suite) = match Settings::from_env() {
        Ok(None) => {
            println!(
                "note: LAZARUS_IMAGES is not set, so the in-QEMU tests are ignored; {NEEDS_IMAGES}"
            );
            (trials_without_images(), None)
        }
        Ok(Some(settings)) => {
            let suite = Arc::new(Suite::new(settings));
            (suite.trials(), Some(suite))
        }
        Err(error) => {
            let message = error.to_string();
            (
                vec![Trial::test("qemu::settings", move || Err(message.into()))],
                None,
            )
        }
    };
    let conclusion = libtest_mimic::run(&args, trials);
    if let Some(suite) = suite {
        suite.report_timings();
    }
    conclusion.exit_code()
}

/// Placeholders shown (ignored) by plain `cargo test`.
fn trials_without_images() -> Vec<Trial> {
    let names = [
        format!("in_qemu ({NEEDS_IMAGES})"),
        format!("{HARNESS_TRIALS}::sees_failing_case"),
        format!("{HARNESS_TRIALS}::sees_hung_guest"),
        REBOOT_TRIAL.to_owned(),
    ];
    names
        .into_iter()
        .map(|name| {
            // Run anyway (`--include-ignored`), they say what is missing.
            Trial::test(name, || {
                Err(format!("LAZARUS_IMAGES is not set: {NEEDS_IMAGES}").into())
            })
            .with_ignored_flag(true)
        })
        .collect()
}

/// A group's boot, shared by all its trials: set once by the first of them.
type SharedRun = Arc<OnceLock<Arc<Result<GroupRun, String>>>>;

/// Everything the trials share.
struct Suite {
    settings: Settings,
    /// Expected cases per group, from the listing.
    expected: Mutex<HashMap<String, Vec<String>>>,
    /// One cell per group; the first trial to run fills it by booting.
    runs: Mutex<HashMap<String, SharedRun>>,
    /// Timing lines of every boot, for `timings.txt`.
    timings: Mutex<Vec<String>>,
}

impl Suite {
    fn new(settings: Settings) -> Self {
        Suite {
            settings,
            expected: Mutex::default(),
            runs: Mutex::default(),
            timings: Mutex::default(),
        }
    }

    /// Boots `test=list` and makes the trials; a failed listing becomes one
    /// failing trial that explains it.
    fn trials(self: &Arc<Self>) -> Vec<Trial> {
        let s = &self.settings;
        let listing = match runner::list_cases(&s.machine(), s.timeout) {
            Ok((boot, listing)) => {
                self.note_timing(boot.timing_line(&format!("{}/list", s.firmware)));
                listing
            }
            Err(error) => {
                let message = error.to_string();
                return vec![Trial::test("lazarus::list_cases", move || {
                    Err(message.into())
                })];
            }
        };
        lock(&self.expected).extend(
            listing
                .groups
                .iter()
                .map(|g| (g.name.clone(), g.cases.clone())),
        );

        // The long hang check first, then cases round-robin across groups,
        // so the test threads pick up different groups and boot in parallel.
        let mut trials = vec![self.hang_trial()];
        let mut columns: Vec<Vec<Trial>> = vec![vec![self.fail_trial()], vec![self.reboot_trial()]];
        for group in listing
            .groups
            .iter()
            .filter(|g| !g.name.starts_with(SELFTEST_PREFIX) && !g.name.starts_with(PERSIST_PREFIX))
        {
            columns.push(
                group
                    .cases
                    .iter()
                    .map(|case| self.case_trial(&group.name, case))
                    .collect(),
            );
        }
        let mut columns: Vec<_> = columns.into_iter().map(Vec::into_iter).collect();
        loop {
            let before = trials.len();
            trials.extend(columns.iter_mut().filter_map(Iterator::next));
            if trials.len() == before {
                break;
            }
        }
        trials
    }

    fn case_trial(self: &Arc<Self>, group: &str, case: &str) -> Trial {
        let suite = Arc::clone(self);
        let (group, case) = (group.to_owned(), case.to_owned());
        Trial::test(format!("{group}::{case}"), move || {
            match suite.group_run(&group).as_ref() {
                Ok(run) => match run.case_failure(&case) {
                    None => Ok(()),
                    Some(message) => Err(message.into()),
                },
                Err(error) => Err(format!("group `{group}` did not boot: {error}").into()),
            }
        })
    }

    /// `selftest_fail` must report `deliberate_failure` failed and exit with failure.
    fn fail_trial(self: &Arc<Self>) -> Trial {
        let suite = Arc::clone(self);
        Trial::test(format!("{HARNESS_TRIALS}::sees_failing_case"), move || {
            let run = suite.boot_selftest(FAIL_GROUP, FAIL_CASE, suite.settings.timeout)?;
            let outcome = run.results.outcome(FAIL_CASE);
            let failed = matches!(outcome, Some(CaseOutcome::Failed(_)));
            let exit_failure = run.boot.end == BootEnd::Completed(QemuExit::KernelFailure);
            if failed && exit_failure && run.case_failure(FAIL_CASE).is_some() {
                Ok(())
            } else {
                Err(selftest_failure(
                    &run,
                    &format!(
                        "expected `{FAIL_CASE}` failed and QEMU's failure exit; the runner saw \
                         `{FAIL_CASE}`: {}, QEMU: {}",
                        describe(outcome),
                        run.boot.end
                    ),
                ))
            }
        })
    }

    /// `selftest_hang` must time out, with `hangs_forever` timed out and QEMU gone.
    fn hang_trial(self: &Arc<Self>) -> Trial {
        let suite = Arc::clone(self);
        Trial::test(format!("{HARNESS_TRIALS}::sees_hung_guest"), move || {
            let run = suite.boot_selftest(HANG_GROUP, HANG_CASE, HANG_SELFTEST_TIMEOUT)?;
            let outcome = run.results.outcome(HANG_CASE);
            let timed_out = matches!(run.boot.end, BootEnd::TimedOut(_));
            let case_timed_out = outcome == Some(&CaseOutcome::TimedOut);
            let qemu_gone = !pid_is_alive(run.boot.pid);
            if timed_out && case_timed_out && qemu_gone {
                Ok(())
            } else {
                Err(selftest_failure(
                    &run,
                    &format!(
                        "expected a timeout with `{HANG_CASE}` timed out and QEMU gone; the runner \
                         saw QEMU: {}, `{HANG_CASE}`: {}, QEMU pid {} {}",
                        run.boot.end,
                        describe(outcome),
                        run.boot.pid,
                        if qemu_gone { "gone" } else { "STILL ALIVE" }
                    ),
                ))
            }
        })
    }

    /// The reboot test: a blank disk file, the first boot writes files to
    /// it, the second boot (a new QEMU on the same file) reads them back.
    /// Every case of both boots must pass.
    fn reboot_trial(self: &Arc<Self>) -> Trial {
        let suite = Arc::clone(self);
        Trial::test(REBOOT_TRIAL, move || {
            let s = &suite.settings;
            let disk = s.log_dir.join(REBOOT_DISK);
            let blank = std::fs::create_dir_all(&s.log_dir)
                .and_then(|()| std::fs::File::create(&disk))
                .and_then(|file| file.set_len(SCRATCH_DISK_BYTES));
            blank.map_err(|e| format!("cannot make the blank disk {}: {e}", disk.display()))?;
            for (group, options) in REBOOT_BOOTS {
                let expected = lock(&suite.expected).get(group).cloned().unwrap_or_default();
                if expected.is_empty() {
                    return Err(format!("the kernel lists no group `{group}`").into());
                }
                let cmdline = BootCmdline::try_new(options).map_err(|e| e.to_string())?;
                let how = GroupBoot { cmdline, disk: GroupDisk::Kept(&disk) };
                let run = runner::run_group_with(&s.machine(), group, how, &expected, s.timeout)
                    .map_err(|e| format!("group `{group}` did not boot: {e}"))?;
                suite.note_timing(run.boot.timing_line(&format!("{}/{group}", s.firmware)));
                if let Some(failure) = expected.iter().find_map(|case| run.case_failure(case)) {
                    return Err(format!("boot `{options}` on {}: {failure}", disk.display()).into());
                }
            }
            Ok(())
        })
    }

    /// Boots a self-test group on its own (no sharing: only one trial uses it).
    fn boot_selftest(
        &self,
        group: &str,
        case: &str,
        timeout: Duration,
    ) -> Result<GroupRun, Failed> {
        let s = &self.settings;
        let expected = vec![case.to_owned()];
        let deadlines = runner::Deadlines { to_banner: s.timeout, after_banner: timeout };
        let run = runner::run_group(&s.machine(), group, &expected, deadlines)
            .map_err(|e| Failed::from(format!("group `{group}` did not boot: {e}")))?;
        self.note_timing(run.boot.timing_line(&format!("{}/{group}", s.firmware)));
        Ok(run)
    }

    /// The group's boot: the first caller boots, the others wait for it.
    fn group_run(&self, group: &str) -> Arc<Result<GroupRun, String>> {
        let cell = Arc::clone(lock(&self.runs).entry(group.to_owned()).or_default());
        Arc::clone(cell.get_or_init(|| {
            let s = &self.settings;
            let expected = lock(&self.expected).get(group).cloned().unwrap_or_default();
            let run = runner::run_group(&s.machine(), group, &expected, s.timeout);
            if let Ok(run) = &run {
                self.note_timing(run.boot.timing_line(&format!("{}/{group}", s.firmware)));
            }
            Arc::new(run.map_err(|e| e.to_string()))
        }))
    }

    fn note_timing(&self, line: String) {
        lock(&self.timings).push(line);
    }

    /// Prints the boot timings and writes them to `timings.txt`.
    fn report_timings(&self) {
        let timings = lock(&self.timings);
        if timings.is_empty() {
            return;
        }
        let path = self.settings.log_dir.join(TIMINGS_FILE);
        let text: String = timings.iter().map(|line| format!("{line}\n")).collect();
        println!(
            "\nQEMU boots (serial logs in {}):",
            self.settings.log_dir.display()
        );
        print!("{text}");
        if let Err(error) = std::fs::write(&path, text) {
            eprintln!("warning: cannot write {}: {error}", path.display());
        }
    }
}

fn selftest_failure(run: &GroupRun, what: &str) -> Failed {
    format!("{what}\n{}", run.boot.evidence()).into()
}

fn describe(outcome: Option<&CaseOutcome>) -> String {
    outcome.map_or_else(|| "never mentioned".to_owned(), ToString::to_string)
}

/// Locks `mutex`, ignoring poisoning: a panicking trial leaves the maps whole.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
