//! The host side of a campaign end to end, with a simulated guest in place
//! of QEMU: plan → boot → evaluate → append → resume → shard and merge →
//! summary, comparison and report.

use std::path::Path;
use std::time::Duration;

use campaign::{
    compare, evaluate, merge_files, read_results, summary_table, write_report, Outcome, ResultsWriter, Summary,
    Trial, TrialEnd, TrialList, TrialRecord, GUEST_EXIT_FAILURE, GUEST_EXIT_SUCCESS, TRIALS_FILE_NAME,
};
use fault_inject::{Config, Model, Seed, Shard, Target};

const SEED: Seed = Seed(2026);
const TRIALS: u32 = 60;

fn campaign(configs: Vec<Config>) -> TrialList {
    let targets = ["console", "name", "fs", "blk", "crashtest"].iter().map(|n| Target::try_new(n).unwrap()).collect();
    TrialList::new(SEED, TRIALS, Model::ALL.to_vec(), targets, configs).unwrap()
}

/// What the simulated guest prints for `trial`: under `unwind` every
/// fault is recovered, under `restart` every third leaks, under `none` the
/// client sees an error; every fifth trial's trigger never fires.
fn simulated_boot(trial: &Trial) -> (TrialEnd, String) {
    let spec = &trial.spec;
    let mut log = format!(
        "Lazarus 0.1.0 booting\r\ncampaign: armed id={} config={} spec={}\r\n",
        spec.id, trial.config, spec.injection
    );
    if spec.id.0.is_multiple_of(5) {
        log.push_str("campaign: workload verdict=ok detail=fault never reached\r\ncampaign: end\r\n");
        return (TrialEnd::Exited { status: GUEST_EXIT_SUCCESS }, log);
    }
    let server = spec.target();
    log.push_str(&format!("campaign: injected at={}\r\n", 1_000_000 * u64::from(spec.id.0)));
    log.push_str(&format!("campaign: detected kind=panic server={server} generation=0\r\n"));
    let (unwound, leaks, verdict) = match trial.config {
        Config::Unwind => (5, 0, "ok"),
        Config::Restart => (0, u64::from(spec.id.0.is_multiple_of(3)), "ok"),
        Config::NoRecovery => (0, 0, "error"),
    };
    if trial.config != Config::NoRecovery {
        log.push_str(&format!(
            "campaign: recovered server={server} latency_ns={} released_by_unwinding={unwound} reclaimed_by_backstop=1 leaks={leaks}\r\n",
            40_000 + 500 * u64::from(spec.id.0)
        ));
    }
    log.push_str(&format!("campaign: workload verdict={verdict} detail=\r\ncampaign: end\r\n"));
    let status = if verdict == "ok" { GUEST_EXIT_SUCCESS } else { GUEST_EXIT_FAILURE };
    (TrialEnd::Exited { status }, log)
}

/// Runs the pending trials of `shard` into `path`, stopping after `limit`.
fn run(list: &TrialList, shard: Shard, path: &Path, limit: usize) -> usize {
    let (mut writer, done) = ResultsWriter::open(path).unwrap();
    let pending = list.pending(shard, &done.records).unwrap();
    for trial in pending.iter().take(limit) {
        let (end, log) = simulated_boot(trial);
        let record = evaluate(trial, end, &log, Duration::from_millis(10)).unwrap();
        writer.append(&record).unwrap();
    }
    pending.len().min(limit)
}

fn records(path: &Path) -> Vec<TrialRecord> {
    read_results(path).unwrap().records
}

#[test]
fn a_campaign_resumes_where_it_stopped_and_runs_nothing_twice() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c").join(TRIALS_FILE_NAME);
    let list = campaign(Config::ALL.to_vec());
    assert_eq!(run(&list, Shard::WHOLE, &path, 50), 50);
    assert_eq!(run(&list, Shard::WHOLE, &path, usize::MAX), 3 * TRIALS as usize - 50);
    assert_eq!(run(&list, Shard::WHOLE, &path, usize::MAX), 0, "a finished campaign has nothing left");
    let all = records(&path);
    assert_eq!(all.len(), 3 * TRIALS as usize);

    let summary = Summary::from_records(&all);
    let unwind = summary.config_total(Config::Unwind);
    // Ids 0, 5, …, 55 never fire: 12 of 60.
    assert_eq!((unwind.trials(), unwind.activated(), unwind.get(Outcome::Recovered)), (60, 48, 48));
    let restart = summary.config_total(Config::Restart);
    // Leaky: activated ids divisible by 3 (not by 5): 3, 6, 9, 12, 18, …
    let leaky = (0..TRIALS).filter(|i| i % 5 != 0 && i % 3 == 0).count() as u64;
    assert_eq!(restart.get(Outcome::RecoveredLeaky), leaky);
    assert_eq!(summary.config_total(Config::NoRecovery).get(Outcome::ClientError), 48);
    let table = summary_table(&summary).to_string();
    assert!(table.contains("100.0% [92.6%, 100.0%] (48/48)"), "{table}");
}

#[test]
fn resuming_with_another_seed_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(TRIALS_FILE_NAME);
    run(&campaign(vec![Config::Unwind]), Shard::WHOLE, &path, 10);
    let targets = vec![Target::try_new("fs").unwrap()];
    let other = TrialList::new(Seed(1), TRIALS, Model::ALL.to_vec(), targets, vec![Config::Unwind]).unwrap();
    let error = other.pending(Shard::WHOLE, &records(&path)).unwrap_err();
    assert!(error.to_string().contains("another seed, model list or target list"), "{error}");
}

#[test]
fn shards_merge_into_the_same_results_as_one_run() {
    let dir = tempfile::tempdir().unwrap();
    let list = campaign(vec![Config::Unwind, Config::Restart]);
    let whole = dir.path().join("whole").join(TRIALS_FILE_NAME);
    run(&list, Shard::WHOLE, &whole, usize::MAX);
    let shards: Vec<_> = (1..=3)
        .map(|k| {
            let path = dir.path().join(format!("shard{k}")).join(TRIALS_FILE_NAME);
            run(&list, Shard::try_new(k, 3).unwrap(), &path, usize::MAX);
            path
        })
        .collect();
    let merged = dir.path().join("merged").join(TRIALS_FILE_NAME);
    let summary = merge_files(&shards, &merged).unwrap();
    assert_eq!((summary.records, summary.duplicates), (2 * TRIALS as usize, 0));

    let comparison = compare(&records(&whole), &records(&merged)).unwrap();
    assert_eq!(comparison.paired(), 2 * u64::from(TRIALS));
    assert!(comparison.changes.is_empty() && comparison.only_in_a.is_empty() && comparison.only_in_b.is_empty());
}

#[test]
fn comparing_configurations_of_one_fault_list_and_reporting_them() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(TRIALS_FILE_NAME);
    run(&campaign(Config::ALL.to_vec()), Shard::WHOLE, &path, usize::MAX);
    let all = records(&path);
    let files = write_report(&dir.path().join("report"), "pipeline", &all).unwrap();
    let html = std::fs::read_to_string(files.html).unwrap();
    assert!(html.contains("180 trials") && html.contains("48/48") && html.contains("0/48"));
}
