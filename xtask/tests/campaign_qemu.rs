//! A small real campaign in QEMU, run by `cargo xtask test` and so by CI (issue 7's acceptance check).
//!
//! It runs `cargo xtask campaign run` over 10 planned `panic` faults into
//! `fs`, `name` and `crashtest` under `unwind`, `restart` and `none` (30
//! trials, 2 QEMUs at a time, each restored from the machine saved once
//! after boot: the default clean state, `snapshot`), then
//! `cargo xtask campaign replay --clean-state boot` of one activated trial,
//! and checks what a user would check in `trials.jsonl`:
//!
//! - every planned trial was classified and recorded, restored from the
//!   snapshot, and the same faults were activated under every
//!   configuration (they are the same faults);
//! - `unwind` recovers every activated `panic` trial with 0 leaks, and at
//!   least [`MIN_ACTIVATED`] trials were activated, so it cannot pass on
//!   faults that never fired;
//! - `none` recovers no trial;
//! - the replay of an activated trial gives the recorded outcome, booted
//!   where the campaign restored it: the two clean states agree;
//! - no QEMU outlives the run (checked on `xtask`'s process group; two
//!   self-tests on plain processes show that this check and the time bound
//!   below work, and run under plain `cargo test` too).
//!
//! `restart` runs for the table and the checks above that span every
//! configuration; its outcomes are the baseline's to measure, not asserted.
//!
//! Why here, and this way: the test runs the real `xtask` binary
//! (`CARGO_BIN_EXE_xtask`, which only xtask's own tests can name) with the
//! arguments a user types, so it covers the command line, the QEMU runner,
//! the classifier, the results file and `replay` together, exactly as
//! `campaign_fake_qemu.rs` does with a stand-in QEMU; the `campaign` crate
//! reads the results back. It boots the images `cargo xtask test` has just
//! built (`LAZARUS_IMAGES`: the debug build, hence `--debug`, which only
//! labels the manifest) through `--images`, so nothing is built twice, and
//! always boots their `bios.img` (as every campaign does). Without
//! `LAZARUS_IMAGES` (plain `cargo test`) its trials are ignored, as the
//! in-QEMU tests are.
//!
//! The campaign goes to `target/tmp/campaign-qemu/` (cargo's scratch
//! folder for integration tests, apart from the user's `target/campaigns`),
//! started afresh each run and kept afterwards for its logs and report.
//! The images are copied first (to `target/tmp/campaign-qemu-images/`), so
//! that a rebuild of `target/images` while the test runs (someone working
//! in the same tree) cannot change the kernel under the campaign, and the
//! replay boots the very build the campaign recorded.
//! Each trial has the campaign's own timeout ([`TRIAL_TIMEOUT_S`]: a hung
//! guest is a `hang` trial); the whole run and the replay each have a
//! wall-clock bound ([`RUN_LIMIT`], [`REPLAY_LIMIT`]), at which `xtask` and
//! its QEMUs are killed as one process group and the test fails. The
//! summary table is printed at the end, and with every failure.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::fs::{self, File};
use std::io::{self, Read};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, ExitStatus, Stdio};
use std::sync::{Arc, OnceLock};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use campaign::{read_results, summary_table, CleanState, Outcome, Summary, TrialKey, TrialRecord};
use fault_inject::{Config, Model, TrialId};
use lazarus_tests::config::ENV_IMAGES;
use libtest_mimic::{Arguments, Failed, Trial};

/// Prefix of the trials' names.
const PREFIX: &str = "campaign_in_qemu";

/// Planned faults (trial ids `0..TRIALS`); each runs under every
/// configuration: 30 trials, about a minute with two QEMUs under TCG.
const TRIALS: u32 = 10;

/// The plan: the default seed, `panic` into the default targets.
const SEED: &str = "2026";
const MODELS: &str = "panic";
const TARGETS: &str = "fs,name,crashtest";
const CONFIGS: [Config; 3] = [Config::Unwind, Config::Restart, Config::NoRecovery];

/// QEMUs at once: the CI machine has two cores.
const JOBS: &str = "2";

/// Seconds a trial may take to the kernel's banner, and again after it,
/// before it is killed and counted as a `hang`: the campaign's default. A
/// debug trial takes about 5 s with two QEMUs on two cores, but up to 20 s
/// was seen on a developer's machine busy with builds and other QEMUs, and
/// a trial counted as a hang only because the machine was slow would fail
/// the `unwind` check.
const TRIAL_TIMEOUT_S: u64 = 60;

/// Wall-clock bound of the whole `campaign run`. A normal run takes 1-2
/// minutes; this leaves room for a slow machine and a few hangs, and caps
/// what a broken kernel (every trial hanging) can add to CI's 25 minutes.
const RUN_LIMIT: Duration = Duration::from_secs(8 * 60);

/// Wall-clock bound of the replay: one trial, both of its timeouts, and
/// a margin.
const REPLAY_LIMIT: Duration = Duration::from_secs(2 * TRIAL_TIMEOUT_S + 30);

/// Fewest activated `unwind` trials for the recovery check to mean
/// anything: with seed 2026, all 10 faults fire with today's workload, 7
/// with the one before it.
const MIN_ACTIVATED: usize = 3;

/// The programs a trial boot needs on the ramdisk: the workload it starts
/// and the trusted address space whose servers it injects into.
const NEEDED_PROGRAMS: [&str; 2] = ["workload", "tas"];

/// The ramdisk packed next to the images (and into them) by the build.
const RAMDISK_FILE: &str = "ramdisk.tar";

/// The image every campaign boots (`xtask campaign` boots BIOS).
const IMAGE_FILE: &str = "bios.img";

/// How often a running `xtask` is checked for its end.
const POLL: Duration = Duration::from_millis(100);

/// How long killed processes get to disappear before they count as left behind.
const EXIT_GRACE: Duration = Duration::from_secs(5);

/// The same for the harness's self-tests, whose processes are plain `sleep`s.
const SELFTEST_GRACE: Duration = Duration::from_secs(1);

/// Lines of `xtask`'s output quoted in a failure message.
const TAIL_LINES: usize = 40;

/// Offending trials whose log excerpt a failure message quotes (the
/// others' logs are named).
const EXCERPTS_SHOWN: usize = 1;

/// What to do when there are no images.
const NEEDS_IMAGES: &str = "run `cargo xtask test`, which builds the images";

fn main() -> ExitCode {
    let args = Arguments::from_args();
    let mut trials = harness_selftests();
    let suite = match std::env::var_os(ENV_IMAGES).filter(|v| !v.is_empty()) {
        None => {
            println!("note: {ENV_IMAGES} is not set, so the real-QEMU campaign test is ignored; {NEEDS_IMAGES}");
            trials.extend(placeholders());
            None
        }
        Some(images) => {
            // Relative to the workspace root, where `cargo xtask` and
            // `cargo test` are run from (the test itself runs in `xtask/`).
            let images = workspace_root().join(images);
            let suite = Arc::new(Suite { images, dir: campaign_dir(), run: OnceLock::new() });
            trials.extend(suite.trials());
            Some(suite)
        }
    };
    let conclusion = libtest_mimic::run(&args, trials);
    if let Some(suite) = suite {
        suite.print_table();
    }
    conclusion.exit_code()
}

fn workspace_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}

/// `target/tmp/campaign-qemu`: cargo's scratch folder for integration tests.
fn campaign_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("campaign-qemu")
}

/// `target/tmp/campaign-qemu-images`: the copy of the images the campaign boots.
fn pinned_images_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("campaign-qemu-images")
}

/// Checks of the bound and of the left-behind check on plain processes (no
/// QEMU, no images, so they run under plain `cargo test` too): a run past
/// its limit is killed with everything it started, and a process that
/// outlives its parent is seen and killed.
fn harness_selftests() -> Vec<Trial> {
    vec![
        Trial::test(format!("{PREFIX}::harness_kills_a_run_past_its_limit"), || {
            let mut command = Command::new("sh");
            command.args(["-c", "sleep 60 & sleep 60"]);
            let run = run_bounded(&mut command, Duration::from_secs(1), SELFTEST_GRACE)?;
            let left = group_members(run.group);
            if run.status.is_none() && run.survivors.is_empty() && left.is_empty() && run.wall < Duration::from_secs(30)
            {
                Ok(())
            } else {
                Err(format!(
                    "expected the run killed at 1 s with nothing left; it {} after {:.1} s, left: {:?} {left:?}",
                    run.end(),
                    run.wall.as_secs_f64(),
                    run.survivors
                )
                .into())
            }
        }),
        Trial::test(format!("{PREFIX}::harness_sees_a_process_left_behind"), || {
            let mut command = Command::new("sh");
            command.args(["-c", "sleep 60 & echo started"]);
            let run = run_bounded(&mut command, Duration::from_secs(20), SELFTEST_GRACE)?;
            let seen = run.survivors.iter().any(|s| s.starts_with("sleep (pid "));
            let left = members_after_grace(run.group, EXIT_GRACE);
            if run.succeeded() && run.stdout == "started\n" && seen && left.is_empty() {
                Ok(())
            } else {
                Err(format!(
                    "expected `sleep` seen left behind, then killed; the run {}, printed {:?}, left behind: {:?}, \
                     alive after the kill: {left:?}",
                    run.end(),
                    run.stdout,
                    run.survivors
                )
                .into())
            }
        }),
    ]
}

/// The trials' names, ignored: shown by plain `cargo test`.
fn placeholders() -> Vec<Trial> {
    Check::ALL
        .iter()
        .map(|check| {
            Trial::test(check.name(), || Err(format!("{ENV_IMAGES} is not set: {NEEDS_IMAGES}").into()))
                .with_ignored_flag(true)
        })
        .collect()
}

/// One of the test's checks, each a trial of its own.
#[derive(Debug, Clone, Copy)]
enum Check {
    Recorded,
    UnwindRecovers,
    NoneRecoversNothing,
    Replay,
    NoQemuLeft,
}

impl Check {
    const ALL: [Check; 5] =
        [Check::Recorded, Check::UnwindRecovers, Check::NoneRecoversNothing, Check::Replay, Check::NoQemuLeft];

    fn name(self) -> String {
        let name = match self {
            Check::Recorded => "every_trial_is_classified_and_recorded",
            Check::UnwindRecovers => "unwind_recovers_every_activated_panic_trial_without_leaks",
            Check::NoneRecoversNothing => "none_recovers_no_trial",
            Check::Replay => "replay_gives_the_recorded_outcome",
            Check::NoQemuLeft => "no_qemu_outlives_the_campaign",
        };
        format!("{PREFIX}::{name}")
    }
}

/// What the checks share: the one campaign run, made by the first of them.
struct Suite {
    images: PathBuf,
    dir: PathBuf,
    run: OnceLock<Result<CampaignRun, String>>,
}

/// The finished `campaign run` and its results.
struct CampaignRun {
    /// The copy of the images it booted.
    images: PathBuf,
    process: Finished,
    records: Vec<TrialRecord>,
}

impl Suite {
    fn trials(self: &Arc<Self>) -> Vec<Trial> {
        Check::ALL
            .iter()
            .map(|&check| {
                let suite = Arc::clone(self);
                Trial::test(check.name(), move || suite.check(check))
            })
            .collect()
    }

    fn check(&self, check: Check) -> Result<(), Failed> {
        let run = match self.run.get_or_init(|| self.run_campaign()) {
            Ok(run) => run,
            Err(error) => return Err(format!("the campaign did not run: {error}").into()),
        };
        match check {
            Check::Recorded => self.check_recorded(run),
            Check::UnwindRecovers => self.check_unwind(run),
            Check::NoneRecoversNothing => self.check_none(run),
            Check::Replay => self.check_replay(run),
            Check::NoQemuLeft => match run.process.survivors.as_slice() {
                [] => Ok(()),
                survivors => {
                    Err(format!("processes of `xtask campaign run` outlived it (killed now): {}", survivors.join(", "))
                        .into())
                }
            },
        }
    }

    /// Copies and checks the images, then runs the campaign under its bound.
    fn run_campaign(&self) -> Result<CampaignRun, String> {
        let images = pin_images(&self.images, &pinned_images_dir())?;
        check_ramdisk(&images)?;
        let mut command = self.xtask();
        command.arg("run").args(self.place_args(&images)).args(["--fresh", "--debug", "--jobs", JOBS]);
        command.args(["--trials", &TRIALS.to_string(), "--timeout", &TRIAL_TIMEOUT_S.to_string()]);
        command.args(["--seed", SEED, "--models", MODELS, "--targets", TARGETS, "--configs", &configs_arg()]);
        let process =
            run_bounded(&mut command, RUN_LIMIT, EXIT_GRACE).map_err(|e| format!("cannot run {command:?}: {e}"))?;
        let results = self.dir.join(campaign::TRIALS_FILE_NAME);
        let records = match read_results(&results) {
            Ok(read) => read.records,
            Err(_) if !results.exists() => Vec::new(),
            Err(error) => return Err(format!("cannot read {}: {error}\n{}", results.display(), process.tails())),
        };
        Ok(CampaignRun { images, process, records })
    }

    /// `xtask campaign` on this suite's campaign and images.
    fn xtask(&self) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_xtask"));
        // CI: plain progress lines, no bar.
        command.arg("campaign").env("CI", "true");
        command
    }

    /// The arguments every command takes to find the campaign and images.
    fn place_args(&self, images: &Path) -> [String; 4] {
        ["--name".into(), self.dir.display().to_string(), "--images".into(), images.display().to_string()]
    }

    fn check_recorded(&self, run: &CampaignRun) -> Result<(), Failed> {
        let process = &run.process;
        if !process.succeeded() {
            return Err(self.failure(
                run,
                &format!("`xtask campaign run` {}\n{}", process.end(), process.tails()),
                &[],
            ));
        }
        let wanted: BTreeSet<TrialKey> =
            (0..TRIALS).flat_map(|id| CONFIGS.map(|config| TrialKey { id: TrialId(id), config })).collect();
        let recorded: BTreeSet<TrialKey> = run.records.iter().map(TrialRecord::key).collect();
        if recorded != wanted || run.records.len() != wanted.len() {
            let missing: Vec<String> = wanted.difference(&recorded).map(ToString::to_string).collect();
            let what = format!(
                "expected one record per trial ({} in all), found {} record(s); missing: {}",
                wanted.len(),
                run.records.len(),
                if missing.is_empty() { "none (some are recorded twice)".to_owned() } else { missing.join(" ") }
            );
            return Err(self.failure(run, &what, &[]));
        }
        // The default clean state is the one under test here.
        let booted: Vec<&TrialRecord> =
            run.records.iter().filter(|r| r.clean_state != Some(CleanState::Snapshot)).collect();
        if !booted.is_empty() {
            return Err(self.failure(run, "trials not restored from the snapshot, the default clean state:", &booted));
        }
        // The leak count is what tells the two recovered outcomes apart.
        let inconsistent: Vec<&TrialRecord> = run
            .records
            .iter()
            .filter(|r| match r.outcome {
                Outcome::Recovered => r.leaks != Some(0),
                Outcome::RecoveredLeaky => r.leaks.is_none_or(|l| l == 0),
                _ => false,
            })
            .collect();
        if !inconsistent.is_empty() {
            return Err(self.failure(
                run,
                "recovered trials whose leak count contradicts their outcome:",
                &inconsistent,
            ));
        }
        // The same fault fires or not before any configuration matters.
        let differing: Vec<&TrialRecord> = run
            .records
            .iter()
            .filter(|r| {
                run.records.iter().any(|o| o.id == r.id && o.outcome.is_activated() != r.outcome.is_activated())
            })
            .collect();
        if !differing.is_empty() {
            return Err(self.failure(
                run,
                "the same fault was activated under one configuration and not under another:",
                &differing,
            ));
        }
        Ok(())
    }

    fn check_unwind(&self, run: &CampaignRun) -> Result<(), Failed> {
        let activated: Vec<&TrialRecord> = run
            .records
            .iter()
            .filter(|r| r.config == Config::Unwind && r.model == Model::Panic && r.outcome.is_activated())
            .collect();
        let unrecovered: Vec<&TrialRecord> =
            activated.iter().copied().filter(|r| r.outcome != Outcome::Recovered || r.leaks != Some(0)).collect();
        if !unrecovered.is_empty() {
            let what = format!(
                "unwind: {} of {} activated panic trials were not recovered with 0 leaks:",
                unrecovered.len(),
                activated.len()
            );
            return Err(self.failure(run, &what, &unrecovered));
        }
        if activated.len() < MIN_ACTIVATED {
            let what = format!(
                "unwind: only {} panic trial(s) were activated, fewer than the {MIN_ACTIVATED} this check needs to \
                 mean anything (did the workload stop calling the servers?)",
                activated.len()
            );
            return Err(self.failure(run, &what, &[]));
        }
        Ok(())
    }

    fn check_none(&self, run: &CampaignRun) -> Result<(), Failed> {
        let none: Vec<&TrialRecord> = run.records.iter().filter(|r| r.config == Config::NoRecovery).collect();
        let recovered: Vec<&TrialRecord> = none
            .iter()
            .copied()
            .filter(|r| matches!(r.outcome, Outcome::Recovered | Outcome::RecoveredLeaky))
            .collect();
        if !recovered.is_empty() {
            let what = format!(
                "none: {} of {} trials were recovered, yet nothing restarts a server:",
                recovered.len(),
                none.len()
            );
            return Err(self.failure(run, &what, &recovered));
        }
        if !none.iter().any(|r| r.outcome.is_activated()) {
            return Err(self.failure(run, "none: no trial was activated, so nothing was checked", &[]));
        }
        Ok(())
    }

    /// `xtask campaign replay ID --clean-state boot` of the first activated
    /// `unwind` trial, which the campaign restored from its snapshot.
    fn check_replay(&self, run: &CampaignRun) -> Result<(), Failed> {
        let Some(trial) =
            run.records.iter().filter(|r| r.config == Config::Unwind && r.outcome.is_activated()).min_by_key(|r| r.id)
        else {
            return Err(self.failure(run, "no activated unwind trial to replay", &[]));
        };
        let key = trial.key();
        let mut command = self.xtask();
        command
            .args(["replay", &trial.id.to_string(), "--config", trial.config.name(), "--clean-state", "boot"])
            .args(self.place_args(&run.images));
        let replay =
            run_bounded(&mut command, REPLAY_LIMIT, EXIT_GRACE).map_err(|e| format!("cannot run {command:?}: {e}"))?;
        let prefix = format!("trial {key}: ");
        let verdict = replay.stdout.lines().rev().find_map(|l| l.strip_prefix(&prefix)).map(str::to_owned);
        let replayed =
            verdict.as_deref().and_then(|v| v.split_whitespace().next()).and_then(|o| o.parse::<Outcome>().ok());
        let mut problems = Vec::new();
        if replayed != Some(trial.outcome) {
            problems.push(format!(
                "replay of {key} ({}) gave {}, recorded: {}",
                describe_fault(trial),
                verdict.as_deref().unwrap_or("no verdict"),
                trial.outcome
            ));
        }
        if !replay.succeeded() {
            problems.push(format!("`xtask campaign replay` {}", replay.end()));
        }
        if !replay.survivors.is_empty() {
            problems.push(format!("processes of the replay outlived it (killed now): {}", replay.survivors.join(", ")));
        }
        if problems.is_empty() {
            return Ok(());
        }
        Err(self.failure(run, &format!("{}\n{}", problems.join("\n"), replay.tails()), &[trial]))
    }

    /// A failure message: what failed, the offending trials with their
    /// log excerpts, the summary table and where the campaign is.
    fn failure(&self, run: &CampaignRun, what: &str, offenders: &[&TrialRecord]) -> Failed {
        let mut message = format!("{what}\n");
        for record in offenders {
            let _ = writeln!(
                message,
                "  {} ({}): {}, leaks {}, log: {}",
                record.key(),
                describe_fault(record),
                record.outcome,
                record.leaks.map_or_else(|| "-".to_owned(), |l| l.to_string()),
                self.dir.join("logs").join(format!("{}-{}.log", record.id, record.config)).display()
            );
        }
        for record in offenders.iter().take(EXCERPTS_SHOWN) {
            let _ = writeln!(message, "log excerpt of {}:", record.key());
            for line in record.log_excerpt.lines() {
                let _ = writeln!(message, "    | {line}");
            }
        }
        let _ = write!(message, "{}", self.table(&run.records));
        message.into()
    }

    /// The summary table of the campaign, with where it is.
    fn table(&self, records: &[TrialRecord]) -> String {
        format!(
            "campaign {} ({} trials recorded; logs and report there):\n{}\n",
            self.dir.display(),
            records.len(),
            summary_table(&Summary::from_records(records))
        )
    }

    /// After the trials: the table, if the campaign ran.
    fn print_table(&self) {
        if let Some(Ok(run)) = self.run.get() {
            println!(
                "\nreal-QEMU campaign ({:.0} s, {JOBS} QEMUs at once): `xtask campaign run` {}",
                run.process.wall.as_secs_f64(),
                run.process.end()
            );
            print!("{}", self.table(&run.records));
        }
    }
}

/// `panic:fs:ops.9:site.1043`.
fn describe_fault(record: &TrialRecord) -> String {
    record.injection().map_or_else(|e| format!("unreadable fault: {e}"), |i| i.to_string())
}

fn configs_arg() -> String {
    CONFIGS.map(Config::name).join(",")
}

/// Copies the image and its ramdisk from `images` into `pinned`.
fn pin_images(images: &Path, pinned: &Path) -> Result<PathBuf, String> {
    fs::create_dir_all(pinned).map_err(|e| format!("cannot create {}: {e}", pinned.display()))?;
    for file in [IMAGE_FILE, RAMDISK_FILE] {
        let (from, to) = (images.join(file), pinned.join(file));
        fs::copy(&from, &to)
            .map_err(|e| format!("cannot copy {} to {}: {e}; {NEEDS_IMAGES}", from.display(), to.display()))?;
    }
    Ok(pinned.to_owned())
}

/// Fails unless the images' ramdisk holds the programs a trial needs.
fn check_ramdisk(images: &Path) -> Result<(), String> {
    let path = images.join(RAMDISK_FILE);
    let names = (|| -> io::Result<Vec<String>> {
        let mut archive = tar::Archive::new(File::open(&path)?);
        let mut names = Vec::new();
        for entry in archive.entries()? {
            names.push(entry?.path()?.display().to_string());
        }
        Ok(names)
    })()
    .map_err(|e| format!("cannot read the ramdisk {}: {e}; {NEEDS_IMAGES}", path.display()))?;
    let missing: Vec<&str> = NEEDED_PROGRAMS.into_iter().filter(|p| !names.iter().any(|n| n == p)).collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "the ramdisk {} lacks {} (it has: {}); trials need {}",
            path.display(),
            missing.join(", "),
            names.join(" "),
            NEEDED_PROGRAMS.join(" and ")
        ))
    }
}

/// A finished (or killed) `xtask` process.
struct Finished {
    /// Its exit status; `None` if it was killed at its limit.
    status: Option<ExitStatus>,
    limit: Duration,
    wall: Duration,
    stdout: String,
    stderr: String,
    /// Its process group (its own pid).
    group: i32,
    /// Processes of its group still alive after it ended (then killed).
    survivors: Vec<String>,
}

impl Finished {
    fn succeeded(&self) -> bool {
        self.status.is_some_and(|s| s.success())
    }

    /// How it ended, in words.
    fn end(&self) -> String {
        match self.status {
            Some(status) => format!("ended with {status}"),
            None => format!("was still running after {} s and was killed with its QEMUs", self.limit.as_secs()),
        }
    }

    /// The last lines of its stdout and stderr.
    fn tails(&self) -> String {
        format!("--- xtask stdout (tail)\n{}--- xtask stderr (tail)\n{}---", tail(&self.stdout), tail(&self.stderr))
    }
}

fn tail(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(TAIL_LINES)..].iter().map(|l| format!("{l}\n")).collect()
}

/// Runs `command` in a process group of its own, collecting its output;
/// kills the whole group (it and its QEMUs) if it runs past `limit`, and
/// reports (and kills) any process of the group that outlives it.
fn run_bounded(command: &mut Command, limit: Duration, grace: Duration) -> io::Result<Finished> {
    command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).process_group(0);
    die_with_this_thread(command);
    let started = Instant::now();
    let mut child = command.spawn()?;
    let group = i32::try_from(child.id()).map_err(|_| io::Error::other("pid out of range"))?;
    let stdout = collect(child.stdout.take());
    let stderr = collect(child.stderr.take());
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break Some(status);
        }
        if started.elapsed() >= limit {
            kill_group(group);
            child.wait()?;
            break None;
        }
        thread::sleep(POLL);
    };
    let wall = started.elapsed();
    let survivors = members_after_grace(group, grace);
    if !survivors.is_empty() {
        kill_group(group);
    }
    Ok(Finished { status, limit, wall, stdout: joined(stdout), stderr: joined(stderr), group, survivors })
}

fn collect(pipe: Option<impl Read + Send + 'static>) -> JoinHandle<String> {
    thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(mut pipe) = pipe {
            // A read error only shortens the evidence.
            let _ = pipe.read_to_end(&mut bytes);
        }
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

fn joined(reader: JoinHandle<String>) -> String {
    reader.join().unwrap_or_else(|_| "(output reader panicked)".to_owned())
}

fn kill_group(group: i32) {
    // SAFETY: kill takes plain integers; a negative pid names the process
    // group, which is the child's own (`process_group(0)`).
    unsafe {
        libc::kill(-group, libc::SIGKILL);
    }
}

/// The live (not zombie) processes of `group`, once killed or exiting ones
/// have had `grace` to go.
fn members_after_grace(group: i32, grace: Duration) -> Vec<String> {
    let deadline = Instant::now() + grace;
    loop {
        let members = group_members(group);
        if members.is_empty() || Instant::now() >= deadline {
            return members;
        }
        thread::sleep(POLL);
    }
}

/// `NAME (pid N)` of every live process in process group `group`, from `/proc`.
fn group_members(group: i32) -> Vec<String> {
    let Ok(entries) = fs::read_dir("/proc") else { return Vec::new() };
    entries
        .flatten()
        .filter_map(|entry| {
            let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
            let stat = fs::read_to_string(entry.path().join("stat")).ok()?;
            // `pid (comm) state ppid pgrp ...`; comm may hold spaces and parentheses.
            let (head, rest) = stat.rsplit_once(')')?;
            let name = head.split_once('(')?.1;
            let mut fields = rest.split_whitespace();
            let state = fields.next()?;
            let pgrp: i32 = fields.nth(1)?.parse().ok()?;
            (pgrp == group && state != "Z").then(|| format!("{name} (pid {pid})"))
        })
        .collect()
}

/// Makes the kernel kill `xtask` when the test thread that started it dies
/// (Linux `PR_SET_PDEATHSIG`); its QEMUs die with it the same way, so even
/// a test killed by a signal leaves nothing behind.
#[cfg(target_os = "linux")]
fn die_with_this_thread(command: &mut Command) {
    let parent = std::process::id();
    let hook = move || -> io::Result<()> {
        // SAFETY: prctl(PR_SET_PDEATHSIG, sig) only sets a flag on the
        // calling process; it takes no pointers and is async-signal-safe.
        if unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) } != 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: getppid has no arguments and cannot fail.
        if u32::try_from(unsafe { libc::getppid() }).ok() != Some(parent) {
            // The test died before the flag was set: do not run orphaned.
            return Err(io::Error::from_raw_os_error(libc::ESRCH));
        }
        Ok(())
    };
    // SAFETY: `hook` runs in the forked child before exec and only makes
    // the async-signal-safe system calls above; it allocates nothing.
    unsafe {
        command.pre_exec(hook);
    }
}

#[cfg(not(target_os = "linux"))]
fn die_with_this_thread(_command: &mut Command) {}
