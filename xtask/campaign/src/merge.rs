//! Joining the results of a campaign's shards into one file.
//!
//! Each shard (`--shard K/N`) writes its own `trials.jsonl`; merging reads
//! them all, keeps each trial once, and writes one file sorted by trial
//! key. It refuses to mix campaigns (different seeds) and to choose
//! between two records of one trial that disagree. A torn last line in an
//! input (a shard still running, or killed) is left out and reported.

use std::collections::btree_map::{BTreeMap, Entry};
use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use fault_inject::Seed;

use crate::record::{TrialKey, TrialRecord};
use crate::results_file::{read_results, ResultsError, TornTail};

/// Why shard results could not be merged.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    /// An input could not be read.
    #[error(transparent)]
    Read(#[from] ResultsError),
    /// Two inputs record one trial with different faults or outcomes.
    #[error("trial {key} is recorded differently in {first} and {second}")]
    Conflict {
        /// The trial.
        key: TrialKey,
        /// Where it was first seen.
        first: PathBuf,
        /// Where it was seen again.
        second: PathBuf,
    },
    /// Inputs from campaigns with different seeds.
    #[error("{first} has seed {first_seed} but {second} has seed {second_seed}: these are different campaigns")]
    MixedSeeds {
        /// A file of the first seed.
        first: PathBuf,
        /// The first seed.
        first_seed: Seed,
        /// A file of the other seed.
        second: PathBuf,
        /// The other seed.
        second_seed: Seed,
    },
    /// The output exists and is not one of the inputs; merging would lose it.
    #[error("{0} already exists and is not among the inputs; remove it or list it as an input")]
    OutputExists(PathBuf),
    /// The output could not be written.
    #[error("{path}: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// The error.
        source: io::Error,
    },
    /// A record could not be serialised.
    #[error("cannot serialise trial {key}: {source}")]
    Serialise {
        /// The trial.
        key: TrialKey,
        /// What serde said.
        source: serde_json::Error,
    },
}

/// What a merge did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct MergeSummary {
    /// Trials in the merged file.
    pub records: usize,
    /// Records left out because another input had the same trial, agreeing.
    pub duplicates: usize,
    /// Inputs whose last line was torn, and where.
    pub torn: Vec<(PathBuf, TornTail)>,
}

/// Merges records from several sources (each named by its path, for
/// errors); returns them sorted by trial key, and how many duplicates were
/// dropped.
pub fn merge_records(sources: Vec<(PathBuf, Vec<TrialRecord>)>) -> Result<(Vec<TrialRecord>, usize), MergeError> {
    let mut merged: BTreeMap<TrialKey, (TrialRecord, PathBuf)> = BTreeMap::new();
    let mut seed: Option<(Seed, PathBuf)> = None;
    let mut duplicates = 0;
    for (path, records) in sources {
        for record in records {
            match &seed {
                None => seed = Some((record.seed, path.clone())),
                Some((first_seed, first)) if *first_seed != record.seed => {
                    return Err(MergeError::MixedSeeds {
                        first: first.clone(),
                        first_seed: *first_seed,
                        second: path,
                        second_seed: record.seed,
                    });
                }
                Some(_) => {}
            }
            match merged.entry(record.key()) {
                Entry::Vacant(slot) => {
                    slot.insert((record, path.clone()));
                }
                Entry::Occupied(slot) if slot.get().0.agrees_with(&record) => duplicates += 1,
                Entry::Occupied(slot) => {
                    return Err(MergeError::Conflict { key: record.key(), first: slot.get().1.clone(), second: path });
                }
            }
        }
    }
    Ok((merged.into_values().map(|(record, _)| record).collect(), duplicates))
}

/// Merges the results files `inputs` into `output` (which may be one of
/// them). The output is written to a temporary file beside it and renamed
/// into place, so it is never left half-written.
pub fn merge_files(inputs: &[PathBuf], output: &Path) -> Result<MergeSummary, MergeError> {
    if output.exists() && !inputs.iter().any(|input| same_file(input, output)) {
        return Err(MergeError::OutputExists(output.to_owned()));
    }
    let mut sources = Vec::with_capacity(inputs.len());
    let mut summary = MergeSummary::default();
    for input in inputs {
        let read = read_results(input)?;
        summary.duplicates += read.duplicates;
        if let Some(torn) = read.torn_tail {
            summary.torn.push((input.clone(), torn));
        }
        sources.push((input.clone(), read.records));
    }
    let (records, duplicates) = merge_records(sources)?;
    summary.duplicates += duplicates;
    summary.records = records.len();
    write_all(&records, output)?;
    Ok(summary)
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (fs::canonicalize(a), fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

fn write_all(records: &[TrialRecord], output: &Path) -> Result<(), MergeError> {
    let write_error = |source| MergeError::Write { path: output.to_owned(), source };
    if let Some(dir) = output.parent().filter(|dir| !dir.as_os_str().is_empty()) {
        fs::create_dir_all(dir).map_err(write_error)?;
    }
    let mut temporary = output.as_os_str().to_owned();
    temporary.push(".merging");
    let temporary = PathBuf::from(temporary);
    let mut writer = BufWriter::new(File::create(&temporary).map_err(write_error)?);
    for record in records {
        serde_json::to_writer(&mut writer, record)
            .map_err(|source| MergeError::Serialise { key: record.key(), source })?;
        writer.write_all(b"\n").map_err(write_error)?;
    }
    let file = writer.into_inner().map_err(|error| write_error(error.into_error()))?;
    file.sync_all().map_err(write_error)?;
    fs::rename(&temporary, output).map_err(write_error)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::Outcome;
    use crate::record::tests::record;
    use crate::results_file::{ResultsWriter, TRIALS_FILE_NAME};
    use fault_inject::Config;

    fn write_shard(dir: &Path, name: &str, records: &[TrialRecord]) -> PathBuf {
        let path = dir.join(name).join(TRIALS_FILE_NAME);
        let (mut writer, _) = ResultsWriter::open(&path).unwrap();
        for rec in records {
            writer.append(rec).unwrap();
        }
        path
    }

    #[test]
    fn joins_shards_sorted_by_trial_and_keeps_agreeing_duplicates_once() {
        let dir = tempfile::tempdir().unwrap();
        let a = write_shard(
            dir.path(),
            "shard1",
            &[record(2, Config::Unwind, Outcome::Recovered), record(0, Config::Unwind, Outcome::Hang)],
        );
        let b = write_shard(
            dir.path(),
            "shard2",
            &[record(1, Config::Unwind, Outcome::Sdc), record(0, Config::Unwind, Outcome::Hang)],
        );
        let output = dir.path().join("merged").join(TRIALS_FILE_NAME);
        let summary = merge_files(&[a, b], &output).unwrap();
        assert_eq!(summary, MergeSummary { records: 3, duplicates: 1, torn: vec![] });
        let merged = read_results(&output).unwrap().records;
        assert_eq!(merged.iter().map(|r| r.id.0).collect::<Vec<_>>(), [0, 1, 2]);
        assert_eq!(merged[1].outcome, Outcome::Sdc);
    }

    #[test]
    fn refuses_conflicting_duplicates_and_names_both_files() {
        let dir = tempfile::tempdir().unwrap();
        let a = write_shard(dir.path(), "a", &[record(5, Config::Restart, Outcome::Recovered)]);
        let b = write_shard(dir.path(), "b", &[record(5, Config::Restart, Outcome::KernelCrash)]);
        let output = dir.path().join("out.jsonl");
        let error = merge_files(&[a.clone(), b.clone()], &output).unwrap_err();
        assert!(matches!(&error, MergeError::Conflict { first, second, .. } if *first == a && *second == b), "{error}");
        assert!(error.to_string().contains("trial 5/restart"), "{error}");
        assert!(!output.exists(), "nothing written on error");
    }

    #[test]
    fn refuses_to_mix_campaigns() {
        let mut other = record(9, Config::Unwind, Outcome::Recovered);
        other.seed = Seed(2);
        let error = merge_records(vec![
            ("a".into(), vec![record(1, Config::Unwind, Outcome::Recovered)]),
            ("b".into(), vec![other]),
        ])
        .unwrap_err();
        assert!(matches!(error, MergeError::MixedSeeds { first_seed: Seed(1), second_seed: Seed(2), .. }));
    }

    #[test]
    fn reports_torn_inputs_and_merges_into_one_of_its_inputs() {
        let dir = tempfile::tempdir().unwrap();
        let a = write_shard(dir.path(), "a", &[record(0, Config::Unwind, Outcome::Recovered)]);
        let b = write_shard(dir.path(), "b", &[record(1, Config::Unwind, Outcome::Hang)]);
        fs::OpenOptions::new().append(true).open(&b).unwrap().write_all(b"{\"id\":3").unwrap();
        let summary = merge_files(&[a.clone(), b.clone()], &a).unwrap();
        assert_eq!(summary.records, 2);
        assert_eq!(summary.torn, vec![(b, TornTail { line: 2, bytes: 7 })]);
        assert_eq!(read_results(&a).unwrap().records.len(), 2);
    }

    #[test]
    fn will_not_overwrite_an_unrelated_file() {
        let dir = tempfile::tempdir().unwrap();
        let a = write_shard(dir.path(), "a", &[record(0, Config::Unwind, Outcome::Recovered)]);
        let output = dir.path().join("precious.jsonl");
        fs::write(&output, "keep me\n").unwrap();
        assert!(matches!(merge_files(&[a], &output), Err(MergeError::OutputExists(_))));
        assert_eq!(fs::read_to_string(&output).unwrap(), "keep me\n");
    }
}
