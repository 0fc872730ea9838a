//! Running a campaign's pending trials, `jobs` at a time, into its results file.
//!
//! Worker threads take trials from one queue and boot them through a
//! [`TrialExecutor`]; this thread receives each finished boot, classifies
//! it (`campaign::evaluate`), appends the record (one writer per results
//! file) and moves the progress on. A boot the classifier refuses is
//! reported with its log path and not recorded, so a resumed run retries
//! it. A boot that cannot happen at all (no QEMU, no image) stops the
//! queue: the trials already running finish and are recorded, then the
//! error is returned.

use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use campaign::{evaluate, ClassifyError, ResultsWriter, Trial, TrialKey, TrialRecord};
use lazarus_tests::runner::BootError;

use crate::campaign::error::CampaignError;
use crate::campaign::executor::{Execution, TrialExecutor};
use crate::campaign::layout::CampaignDir;
use crate::campaign::progress::Progress;

/// A boot the classifier refused: not a trial result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unclassified {
    /// The trial.
    pub key: TrialKey,
    /// Why it is not a valid trial.
    pub error: ClassifyError,
    /// Its serial log.
    pub log_path: PathBuf,
}

impl Unclassified {
    /// The message shown when it happens: the trial, the reason, the log.
    pub fn message(&self) -> String {
        format!("trial {} not classified: {}\n    log: {}", self.key, self.error, self.log_path.display())
    }
}

/// What one run did.
#[derive(Debug, Default)]
pub struct RunReport {
    /// The trials recorded, in the order they finished.
    pub records: Vec<TrialRecord>,
    /// The boots that could not be classified.
    pub unclassified: Vec<Unclassified>,
    /// Wall-clock time of the run.
    pub elapsed: Duration,
}

impl RunReport {
    /// Boots finished, classified or not.
    pub fn boots(&self) -> usize {
        self.records.len() + self.unclassified.len()
    }
}

/// Boots `trials` with `executor`, at most `jobs` at once, writing their
/// logs into `dir` and their records through `writer`.
pub fn run_trials<E: TrialExecutor>(
    executor: &E,
    trials: Vec<Trial>,
    jobs: NonZeroUsize,
    dir: &CampaignDir,
    writer: &mut ResultsWriter,
    progress: &mut Progress,
) -> Result<RunReport, CampaignError> {
    let started = Instant::now();
    let workers = jobs.get().min(trials.len());
    let queue = Mutex::new(trials.into_iter());
    let stop = AtomicBool::new(false);
    let mut report = RunReport::default();
    let mut failure = None;

    thread::scope(|scope| {
        let (sender, receiver) = mpsc::channel::<(Trial, Result<Execution, BootError>)>();
        for _ in 0..workers {
            let sender = sender.clone();
            let (queue, stop) = (&queue, &stop);
            scope.spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    // A worker that panicked holding the lock left the
                    // iterator intact: carry on with it.
                    let next = queue.lock().unwrap_or_else(PoisonError::into_inner).next();
                    let Some(trial) = next else { break };
                    let result = executor.execute(&trial, &dir.log_file(trial.key()));
                    if sender.send((trial, result)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(sender);
        for (trial, result) in receiver {
            if let Err(error) = record(trial, result, writer, progress, &mut report) {
                stop.store(true, Ordering::Relaxed);
                failure.get_or_insert(error);
            }
        }
    });
    report.elapsed = started.elapsed();
    match failure {
        Some(error) => Err(error),
        None => Ok(report),
    }
}

/// Classifies one finished boot and records it, or reports it.
fn record(
    trial: Trial,
    result: Result<Execution, BootError>,
    writer: &mut ResultsWriter,
    progress: &mut Progress,
    report: &mut RunReport,
) -> Result<(), CampaignError> {
    let execution = result.map_err(|source| CampaignError::Boot { key: trial.key(), source })?;
    match evaluate(&trial, execution.end, &execution.serial_log, execution.duration) {
        Ok(record) => {
            let record = record.started_from(execution.clean_state);
            writer.append(&record)?;
            progress.finished(record.outcome);
            report.records.push(record);
        }
        Err(error) => {
            let unclassified = Unclassified { key: trial.key(), error, log_path: execution.log_path };
            progress.unclassified(&unclassified.message());
            report.unclassified.push(unclassified);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;
    use std::path::Path;
    use std::sync::atomic::AtomicUsize;

    use campaign::{read_results, CleanState, Outcome, TrialEnd, TrialList, GUEST_EXIT_SUCCESS};
    use fault_inject::{Config, Model, Seed, Shard, Target};

    use crate::campaign::progress::ProgressMode;

    /// A guest that recovers every fault, except for the trials it is told
    /// to break (no `armed` line: not classifiable) or to fail to boot.
    struct FakeExecutor {
        broken: BTreeSet<TrialKey>,
        unbootable: Option<TrialKey>,
        running: AtomicUsize,
        most_at_once: AtomicUsize,
        boots: Mutex<Vec<TrialKey>>,
    }

    impl FakeExecutor {
        fn new() -> Self {
            FakeExecutor {
                broken: BTreeSet::new(),
                unbootable: None,
                running: AtomicUsize::new(0),
                most_at_once: AtomicUsize::new(0),
                boots: Mutex::new(Vec::new()),
            }
        }
    }

    impl TrialExecutor for FakeExecutor {
        fn execute(&self, trial: &Trial, log_path: &Path) -> Result<Execution, BootError> {
            if self.unbootable == Some(trial.key()) {
                return Err(BootError::NotCaptured);
            }
            let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
            self.most_at_once.fetch_max(now, Ordering::SeqCst);
            self.boots.lock().unwrap().push(trial.key());
            // Long enough for the other workers to start theirs.
            thread::sleep(Duration::from_millis(20));
            let spec = &trial.spec;
            let serial_log = if self.broken.contains(&trial.key()) {
                "Lazarus booting\nno campaign support here".to_owned()
            } else {
                format!(
                    "campaign: armed id={} config={} spec={}\ncampaign: injected at=5\n\
                     campaign: detected kind=panic server={} generation=0\n\
                     campaign: recovered server={} latency_ns=100 released_by_unwinding=0 reclaimed_by_backstop=0 leaks=0\n\
                     campaign: workload verdict=ok detail=\ncampaign: end",
                    spec.id,
                    trial.config,
                    spec.injection,
                    spec.target(),
                    spec.target()
                )
            };
            self.running.fetch_sub(1, Ordering::SeqCst);
            Ok(Execution {
                end: TrialEnd::Exited { status: GUEST_EXIT_SUCCESS },
                serial_log,
                duration: Duration::from_millis(20),
                log_path: log_path.to_owned(),
                clean_state: CleanState::Snapshot,
            })
        }
    }

    fn list(trials: u32) -> TrialList {
        let targets = vec![Target::try_new("fs").unwrap(), Target::try_new("name").unwrap()];
        TrialList::new(Seed(5), trials, Model::ALL.to_vec(), targets, vec![Config::Unwind, Config::Restart]).unwrap()
    }

    /// One run over the pending trials of `list`, as `campaign run` does it.
    fn run(executor: &FakeExecutor, list: &TrialList, dir: &CampaignDir, jobs: usize) -> Result<RunReport, CampaignError> {
        let (mut writer, done) = ResultsWriter::open(&dir.results_file()).unwrap();
        let pending = list.pending(Shard::WHOLE, &done.records).unwrap();
        let mut progress = Progress::new(ProgressMode::Plain, pending.len() as u64);
        run_trials(executor, pending, NonZeroUsize::new(jobs).unwrap(), dir, &mut writer, &mut progress)
    }

    fn key(id: u32, config: Config) -> TrialKey {
        TrialKey { id: fault_inject::TrialId(id), config }
    }

    #[test]
    fn runs_every_trial_once_in_parallel_and_records_it() {
        let temp = tempfile::tempdir().unwrap();
        let dir = CampaignDir::new(temp.path());
        let executor = FakeExecutor::new();
        let report = run(&executor, &list(6), &dir, 3).unwrap();
        assert_eq!(report.records.len(), 12);
        assert!(report.unclassified.is_empty());
        assert!(report.records.iter().all(|r| r.outcome == Outcome::Recovered));
        assert!(report.records.iter().all(|r| r.clean_state == Some(CleanState::Snapshot)), "each record says how it started");
        let mut boots = executor.boots.lock().unwrap().clone();
        boots.sort();
        boots.dedup();
        assert_eq!(boots.len(), 12, "each trial booted once");
        let most = executor.most_at_once.load(Ordering::SeqCst);
        assert!((2..=3).contains(&most), "{most} at once with 3 jobs");
        assert_eq!(read_results(&dir.results_file()).unwrap().records.len(), 12);
    }

    #[test]
    fn a_resume_skips_finished_trials_and_retries_unclassified_ones() {
        let temp = tempfile::tempdir().unwrap();
        let dir = CampaignDir::new(temp.path());
        let mut executor = FakeExecutor::new();
        executor.broken.insert(key(2, Config::Restart));
        let first = run(&executor, &list(4), &dir, 2).unwrap();
        assert_eq!((first.records.len(), first.unclassified.len()), (7, 1));
        let unclassified = &first.unclassified[0];
        assert_eq!(unclassified.key, key(2, Config::Restart));
        assert!(matches!(unclassified.error, ClassifyError::NeverArmed { .. }));
        let message = unclassified.message();
        assert!(message.contains("trial 2/restart not classified"), "{message}");
        assert!(message.contains("logs/2-restart.log"), "{message}");

        let executor = FakeExecutor::new();
        let second = run(&executor, &list(4), &dir, 2).unwrap();
        assert_eq!(*executor.boots.lock().unwrap(), [key(2, Config::Restart)]);
        assert_eq!((second.records.len(), second.unclassified.len()), (1, 0));

        let executor = FakeExecutor::new();
        assert_eq!(run(&executor, &list(4), &dir, 2).unwrap().boots(), 0);
        assert_eq!(read_results(&dir.results_file()).unwrap().records.len(), 8);
    }

    #[test]
    fn a_boot_that_cannot_happen_stops_the_run_and_keeps_what_finished() {
        let temp = tempfile::tempdir().unwrap();
        let dir = CampaignDir::new(temp.path());
        let mut executor = FakeExecutor::new();
        executor.unbootable = Some(key(1, Config::Unwind));
        let error = run(&executor, &list(20), &dir, 1).unwrap_err();
        assert!(matches!(error, CampaignError::Boot { key: k, .. } if k == key(1, Config::Unwind)), "{error}");
        assert!(error.to_string().starts_with("trial 1/unwind: "), "{error}");
        let recorded = read_results(&dir.results_file()).unwrap().records;
        // 0/unwind and 0/restart ran before it; 1/restart may have started
        // before the stop, and then it is recorded too.
        assert!((2..=3).contains(&recorded.len()), "{}", recorded.len());
        assert!(executor.boots.lock().unwrap().len() < 40, "the queue stopped");
    }
}
