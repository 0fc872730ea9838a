//! `cargo xtask campaign` end to end against a stand-in QEMU: no kernel, no guest, no QEMU.
//!
//! Each test runs the real `xtask` binary with `--images` (an empty
//! `bios.img`: nothing is built) and `LAZARUS_QEMU` naming
//! `tests/fake-qemu.sh`, which reads the trial from the boot options QEMU
//! would get and prints the guest's `campaign:` lines for it. Campaigns
//! go to a temporary `CARGO_TARGET_DIR`. Together the tests prove
//! run -> trials.jsonl -> summary -> report -> resume (retrying a boot that
//! could not be classified) -> replay, and shards -> merge -> compare, with
//! the timeout killing a hung "QEMU"; and that trials restored from the
//! saved clean state (the default, `--clean-state snapshot`: one saved boot
//! per run, QMP, `-incoming`) give what booted trials give.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use campaign::{read_results, CleanState, Outcome, TrialKey};
use fault_inject::{Config, TrialId};
use lazarus_tests::qemu::pid_is_alive;
use tempfile::TempDir;

/// The stand-in QEMU.
const FAKE_QEMU: &str = include_str!("fake-qemu.sh");

/// Trial ids of the campaigns here: 8 ids under 3 configurations is 24
/// boots, every behaviour of the stand-in at least once.
const TRIALS: &str = "8";

/// Seconds before a trial is killed: the one hanging trial costs this,
/// and every other trial of the stand-in ends in milliseconds, so even a
/// loaded machine never reaches it by accident.
const TIMEOUT: &str = "3";

/// A scratch workplace: the stand-in, an image, the target folder.
struct Workplace {
    temp: TempDir,
}

impl Workplace {
    fn new() -> Self {
        let temp = tempfile::tempdir().unwrap();
        let qemu = temp.path().join("fake-qemu.sh");
        fs::write(&qemu, FAKE_QEMU).unwrap();
        fs::set_permissions(&qemu, fs::Permissions::from_mode(0o755)).unwrap();
        fs::create_dir_all(temp.path().join("images")).unwrap();
        fs::write(temp.path().join("images/bios.img"), b"").unwrap();
        fs::create_dir_all(temp.path().join("state")).unwrap();
        Workplace { temp }
    }

    fn path(&self, relative: &str) -> PathBuf {
        self.temp.path().join(relative)
    }

    fn campaign(&self, name: &str) -> PathBuf {
        self.path("target/campaigns").join(name)
    }

    /// Runs `cargo xtask campaign ARGS` with `env` added.
    fn xtask(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut command = Command::new(env!("CARGO_BIN_EXE_xtask"));
        command
            .arg("campaign")
            .args(args)
            .env("CARGO_TARGET_DIR", self.path("target"))
            .env("LAZARUS_QEMU", self.path("fake-qemu.sh"))
            .env("FAKE_QEMU_STATE", self.path("state"))
            .env("CI", "true")
            .env_remove("FAKE_QEMU_FLAKY")
            .env_remove("FAKE_QEMU_WRONG")
            .env_remove("FAKE_QEMU_NO_AWAIT")
            .env_remove("FAKE_QEMU_MIGRATION_FAILS");
        for (key, value) in env {
            command.env(key, value);
        }
        Run::from(command.output().unwrap())
    }

    /// `campaign run` of TRIALS trials with the fake image and the short timeout.
    fn run(&self, extra: &[&str], env: &[(&str, &str)]) -> Run {
        let images = self.path("images");
        let mut args = vec!["run", "--images", images.to_str().unwrap(), "--trials", TRIALS, "--timeout", TIMEOUT];
        args.extend(["--jobs", "3"]);
        args.extend(extra);
        self.xtask(&args, env)
    }

    fn replay(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let images = self.path("images");
        let mut all = vec!["replay", "--images", images.to_str().unwrap()];
        all.extend(args);
        self.xtask(&all, env)
    }

    fn outcomes(&self, name: &str) -> BTreeMap<TrialKey, Outcome> {
        let records = read_results(&self.campaign(name).join("trials.jsonl")).unwrap().records;
        records.iter().map(|r| (r.key(), r.outcome)).collect()
    }

    /// How the stand-in was started since the last call, counted: `save`,
    /// `boot`, `restore` (one line each in `starts.log`).
    fn starts(&self) -> BTreeMap<String, usize> {
        let path = self.path("state/starts.log");
        let text = fs::read_to_string(&path).unwrap_or_default();
        let _ = fs::remove_file(&path);
        let mut counts = BTreeMap::new();
        for line in text.lines() {
            *counts.entry(line.split_whitespace().next().unwrap_or("").to_owned()).or_insert(0) += 1;
        }
        counts
    }

    /// The clean state each record of campaign `name` names.
    fn clean_states(&self, name: &str) -> Vec<Option<CleanState>> {
        let records = read_results(&self.campaign(name).join("trials.jsonl")).unwrap().records;
        records.iter().map(|r| r.clean_state).collect()
    }
}

fn counts(entries: &[(&str, usize)]) -> BTreeMap<String, usize> {
    entries.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect()
}

/// What one `xtask` process did.
struct Run {
    success: bool,
    stdout: String,
    stderr: String,
}

impl From<Output> for Run {
    fn from(output: Output) -> Self {
        Run {
            success: output.status.success(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

impl Run {
    #[track_caller]
    fn expect(&self, success: bool, needles: &[&str]) -> &Self {
        assert_eq!(self.success, success, "exit status\n{self}");
        for needle in needles {
            assert!(self.stdout.contains(needle) || self.stderr.contains(needle), "{needle:?} missing\n{self}");
        }
        self
    }
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "--- stdout\n{}--- stderr\n{}---", self.stdout, self.stderr)
    }
}

/// What the stand-in does to each trial (see fake-qemu.sh).
fn expected(id: u32, config: Config) -> Outcome {
    match (id, config) {
        (id, _) if id % 4 == 0 => Outcome::NotActivated,
        (5, Config::NoRecovery) => Outcome::Hang,
        (6, Config::Unwind) | (7, Config::NoRecovery) => Outcome::KernelCrash,
        (_, Config::Unwind) => Outcome::Recovered,
        (_, Config::Restart) => Outcome::RecoveredLeaky,
        (_, Config::NoRecovery) => Outcome::ClientError,
    }
}

fn key(id: u32, config: Config) -> TrialKey {
    TrialKey { id: TrialId(id), config }
}

fn all_expected(ids: impl Iterator<Item = u32>) -> BTreeMap<TrialKey, Outcome> {
    ids.flat_map(|id| Config::ALL.map(|config| (key(id, config), expected(id, config)))).collect()
}

#[test]
fn a_campaign_runs_resumes_reports_and_replays() {
    let work = Workplace::new();
    let dir = work.campaign("e2e");
    let flaky = [("FAKE_QEMU_FLAKY", "2/restart")];

    // The first run: one boot cannot be classified, so it fails, but
    // records the other 23 and reports them.
    let first = work.run(&["--name", "e2e"], &flaky);
    first.expect(
        false,
        &[
            "campaign: 10/24 trials",
            "campaign: 24/24 trials",
            "trial 2/restart not classified: the guest never armed the trial",
            "logs/2-restart.log",
            "campaign e2e: 23 trials recorded",
            "recovered-leaky",
            "trials/hour",
            "report written to",
            "run the same command again to retry them",
        ],
    );
    let mut outcomes = all_expected(0..8);
    outcomes.remove(&key(2, Config::Restart));
    assert_eq!(work.outcomes("e2e"), outcomes);
    // The default clean state: one boot saved, every trial restored from it.
    assert_eq!(work.starts(), counts(&[("save", 1), ("restore", 24)]));
    assert!(first.stdout.contains("each restored from a snapshot") || first.stderr.contains("each restored from a snapshot"));
    assert!(work.clean_states("e2e").iter().all(|c| *c == Some(CleanState::Snapshot)));
    assert!(dir.join("logs/snapshot.log").is_file());
    let left: Vec<_> = fs::read_dir(dir.join("snapshot")).unwrap().collect();
    assert!(left.is_empty(), "the saved machine is removed after the run: {left:?}");
    let unwind_row = first.stdout.lines().find(|l| l.contains("| unwind") && l.contains("| all")).unwrap();
    // unwind: 8 trials, 6 activated, 5 recovered, 1 kernel crash.
    assert!(unwind_row.contains("83.3% [43.6%, 97.0%] (5/6)"), "{unwind_row}");
    assert!(dir.join("index.html").is_file() && dir.join("rates.svg").is_file());
    let manifest = fs::read_to_string(dir.join("campaign.json")).unwrap();
    assert!(manifest.contains(r#""seed": 2026"#) && manifest.contains(r#""trials": 8"#), "{manifest}");
    let hang_log = fs::read_to_string(dir.join("logs/5-none.log")).unwrap();
    assert!(hang_log.contains("campaign: injected") && hang_log.contains("timed out"), "{hang_log}");
    let hung: u32 = fs::read_to_string(work.path("state/hang.pid")).unwrap().trim().parse().unwrap();
    assert!(!pid_is_alive(hung), "the hung QEMU was killed");

    // The resume retries the unclassified boot, and only that one.
    work.run(&["--name", "e2e"], &flaky).expect(true, &["23 finished, 1 to run", "campaign e2e: 24 trials recorded"]);
    assert_eq!(work.outcomes("e2e"), all_expected(0..8));
    work.run(&["--name", "e2e"], &[]).expect(true, &["nothing to run"]);

    // Another plan, or fewer trials, under the same name is refused.
    work.run(&["--name", "e2e", "--seed", "9"], &[]).expect(
        false,
        &["cannot continue campaign e2e: it was started with --seed 2026, not 9", "--fresh"],
    );
    work.xtask(&["--name", "e2e", "--trials", "4"], &[]).expect(false, &["--trials 8, and 4 would leave"]);

    // The report is rewritten from the results alone.
    fs::remove_file(dir.join("index.html")).unwrap();
    work.xtask(&["report", "--name", "e2e"], &[]).expect(true, &["campaign e2e: 24 trials recorded"]);
    assert!(dir.join("index.html").is_file());

    // A replay starts one trial again, as it was recorded (restored), and compares.
    work.starts();
    work.replay(&["1", "--config", "unwind", "--name", "e2e"], &[]).expect(
        true,
        &["campaign: armed id=1 config=unwind", "clean state: snapshot", "trial 1/unwind: recovered (the same as recorded)"],
    );
    assert_eq!(work.starts(), counts(&[("save", 1), ("restore", 1)]));
    assert!(dir.join("logs/1-unwind.replay.log").is_file() && dir.join("logs/snapshot.replay.log").is_file());
    work.replay(&["1", "--config", "unwind", "--name", "e2e", "--clean-state", "boot"], &[])
        .expect(true, &["trial 1/unwind: recovered (the same as recorded)"]);
    assert_eq!(work.starts(), counts(&[("boot", 1)]));
    work.replay(&["1", "--name", "e2e"], &[("FAKE_QEMU_WRONG", "1")])
        .expect(false, &["trial 1/unwind: sdc (DIFFERS from the recorded recovered)"]);
    assert_eq!(work.outcomes("e2e"), all_expected(0..8), "a replay records nothing");

    // --fresh starts over.
    work.run(&["--name", "e2e", "--fresh", "--seed", "9", "--configs", "unwind"], &[])
        .expect(true, &["earlier results discarded", "campaign e2e: 8 trials recorded"]);
    assert!(!dir.join("logs/1-unwind.replay.log").exists());
}

#[test]
fn shards_run_apart_merge_into_one_campaign() {
    let work = Workplace::new();
    work.run(&["--name", "s1", "--shard", "1/2"], &[]).expect(true, &["campaign s1: 12 trials recorded"]);
    work.run(&["--name", "s2", "--shard", "2/2"], &[]).expect(true, &["campaign s2: 12 trials recorded"]);
    work.xtask(&["merge", "all", "s1", "s2"], &[])
        .expect(true, &["merged 2 files", "24 trials (0 duplicates dropped)", "campaign all: 24 trials recorded"]);
    assert_eq!(work.outcomes("all"), all_expected(0..8));
    assert!(work.campaign("all").join("campaign.json").is_file());
    assert!(work.campaign("all").join("index.html").is_file());

    work.xtask(&["compare", "s1", "all"], &[]).expect(true, &["12 trials in both, 0 changed", "12 trial(s) only in all"]);
    let s2_file = work.campaign("s2").join("trials.jsonl");
    let compared = work.xtask(&["compare", s2_file.to_str().unwrap(), "all"], &[]);
    compared.expect(true, &["A = s2, B = all: 12 trials in both"]);
    work.replay(&["3", "--config", "restart", "--name", "all"], &[])
        .expect(true, &["trial 3/restart: recovered-leaky (the same as recorded)"]);
}

#[test]
fn a_missing_qemu_image_or_campaign_is_a_clear_error() {
    let work = Workplace::new();
    work.run(&["--name", "noqemu"], &[("LAZARUS_QEMU", "/nonexistent/qemu-system-x86_64")])
        .expect(false, &["/nonexistent/qemu-system-x86_64` was not found", "cargo xtask setup"]);
    let no_image = work.path("state");
    work.xtask(&["run", "--images", no_image.to_str().unwrap(), "--trials", "1"], &[])
        .expect(false, &["bios.img does not exist"]);
    work.xtask(&["compare", "nosuch", "quick"], &[]).expect(false, &["no results at", "nosuch/trials.jsonl"]);
    work.replay(&["1", "--name", "nosuch"], &[]).expect(false, &["campaign.json does not exist"]);
    assert!(!Path::new(&work.campaign("noqemu").join("trials.jsonl")).exists()
        || work.outcomes("noqemu").is_empty());
}

#[test]
fn booted_and_restored_trials_give_the_same_outcomes_trial_by_trial() {
    let work = Workplace::new();
    work.run(&["--name", "booted", "--clean-state", "boot"], &[])
        .expect(true, &["campaign booted: 24 trials recorded", "each booted"]);
    assert_eq!(work.starts(), counts(&[("boot", 24)]));
    assert!(work.clean_states("booted").iter().all(|c| *c == Some(CleanState::Boot)));
    work.run(&["--name", "restored", "--clean-state", "snapshot"], &[])
        .expect(true, &["campaign restored: 24 trials recorded", "saved the machine", "each restored from a snapshot"]);
    assert_eq!(work.starts(), counts(&[("save", 1), ("restore", 24)]));
    assert_eq!(work.outcomes("booted"), work.outcomes("restored"));
    work.xtask(&["compare", "booted", "restored"], &[]).expect(true, &["24 trials in both, 0 changed"]);
    // The clean state is not part of the campaign: a resume may change it.
    let images = work.path("images");
    let resume = ["run", "--name", "booted", "--images", images.to_str().unwrap(), "--trials", "9", "--clean-state", "snapshot"];
    work.xtask(&resume, &[]).expect(true, &["24 finished, 3 to run", "campaign booted: 27 trials recorded"]);
    assert_eq!(work.starts(), counts(&[("save", 1), ("restore", 3)]));
}

#[test]
fn a_clean_state_that_cannot_be_saved_is_a_clear_error() {
    let work = Workplace::new();
    let old_kernel = work.run(&["--name", "old"], &[("FAKE_QEMU_NO_AWAIT", "1")]);
    old_kernel.expect(
        false,
        &[
            "could not save the clean state trials start from: the kernel never printed `snapshot: ready`",
            "logs/snapshot.log",
            "--clean-state boot",
        ],
    );
    let failing = work.run(&["--name", "full"], &[("FAKE_QEMU_MIGRATION_FAILS", "1")]);
    failing.expect(false, &["saving the machine failed: failed: fake: disk full"]);
    for name in ["old", "full"] {
        assert!(work.outcomes(name).is_empty(), "{name}: nothing ran");
        let log = fs::read_to_string(work.campaign(name).join("logs/snapshot.log")).unwrap();
        assert!(log.contains("trial=await"), "{log}");
        let left: Vec<_> = fs::read_dir(work.campaign(name).join("snapshot")).unwrap().collect();
        assert!(left.is_empty(), "{name}: no saved machine left behind: {left:?}");
    }
    assert!(!work.starts().contains_key("restore"));
    // Booting every trial needs no snapshot.
    work.run(&["--name", "old", "--clean-state", "boot"], &[("FAKE_QEMU_NO_AWAIT", "1")])
        .expect(true, &["campaign old: 24 trials recorded"]);
}
