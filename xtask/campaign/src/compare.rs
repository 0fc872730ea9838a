//! Two finished campaigns, trial by trial.
//!
//! Pairs are trials with the same id and configuration; their faults must
//! be the same (same seed, models and targets), or the comparison would
//! match unrelated trials, so a different fault is an error. For each
//! configuration the comparison counts every transition `A outcome → B
//! outcome`, and lists the trials whose outcome changed, e.g. to replay
//! them.

use std::collections::BTreeMap;

use fault_inject::Config;

use crate::outcome::Outcome;
use crate::record::{TrialKey, TrialRecord};

/// A trial whose outcome differs between the two campaigns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Change {
    /// The trial.
    pub key: TrialKey,
    /// Its outcome in campaign A.
    pub before: Outcome,
    /// Its outcome in campaign B.
    pub after: Outcome,
}

/// The same trial id planned different faults in the two campaigns.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "trial {key} is `{a}` in A but `{b}` in B: the campaigns were planned with different seeds, \
     models or targets, so their trials do not pair up"
)]
pub struct CompareError {
    /// The trial.
    pub key: TrialKey,
    /// Its fault in A (seed and injection).
    pub a: String,
    /// Its fault in B.
    pub b: String,
}

/// The trial-by-trial comparison of campaign A with campaign B.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Comparison {
    /// Per configuration, how many paired trials went from each A outcome
    /// to each B outcome (unchanged ones included, as `x → x`).
    pub transitions: BTreeMap<Config, BTreeMap<(Outcome, Outcome), u64>>,
    /// The paired trials whose outcome changed, by key.
    pub changes: Vec<Change>,
    /// Trials only A has.
    pub only_in_a: Vec<TrialKey>,
    /// Trials only B has.
    pub only_in_b: Vec<TrialKey>,
}

impl Comparison {
    /// How many trials are in both campaigns.
    pub fn paired(&self) -> u64 {
        self.transitions.values().flat_map(|t| t.values()).sum()
    }

    /// Paired trials of `config` that went from `before` to `after`.
    pub fn count(&self, config: Config, before: Outcome, after: Outcome) -> u64 {
        self.transitions.get(&config).and_then(|t| t.get(&(before, after))).copied().unwrap_or(0)
    }
}

fn describe(record: &TrialRecord) -> String {
    match record.injection() {
        Ok(injection) => format!("seed {} {injection}", record.seed),
        Err(error) => format!("seed {} ({error})", record.seed),
    }
}

/// Compares campaign `a` with campaign `b`.
pub fn compare(a: &[TrialRecord], b: &[TrialRecord]) -> Result<Comparison, CompareError> {
    let by_key = |records: &[TrialRecord]| -> BTreeMap<TrialKey, TrialRecord> {
        records.iter().map(|r| (r.key(), r.clone())).collect()
    };
    let (a, b) = (by_key(a), by_key(b));
    let mut comparison = Comparison::default();
    for (key, left) in &a {
        let Some(right) = b.get(key) else {
            comparison.only_in_a.push(*key);
            continue;
        };
        if (left.seed, left.injection().ok()) != (right.seed, right.injection().ok()) {
            return Err(CompareError { key: *key, a: describe(left), b: describe(right) });
        }
        *comparison.transitions.entry(key.config).or_default().entry((left.outcome, right.outcome)).or_default() += 1;
        if left.outcome != right.outcome {
            comparison.changes.push(Change { key: *key, before: left.outcome, after: right.outcome });
        }
    }
    comparison.only_in_b = b.keys().filter(|key| !a.contains_key(key)).copied().collect();
    Ok(comparison)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::tests::record;
    use fault_inject::Seed;

    #[test]
    fn counts_transitions_per_configuration_and_lists_changes() {
        let a = [
            record(0, Config::Unwind, Outcome::ClientError),
            record(1, Config::Unwind, Outcome::Recovered),
            record(2, Config::Unwind, Outcome::ClientError),
            record(0, Config::Restart, Outcome::Hang),
            record(3, Config::Unwind, Outcome::Sdc),
        ];
        let b = [
            record(0, Config::Unwind, Outcome::Recovered),
            record(1, Config::Unwind, Outcome::Recovered),
            record(2, Config::Unwind, Outcome::Recovered),
            record(0, Config::Restart, Outcome::Hang),
            record(4, Config::Unwind, Outcome::Sdc),
        ];
        let comparison = compare(&a, &b).unwrap();
        assert_eq!(comparison.paired(), 4);
        assert_eq!(comparison.count(Config::Unwind, Outcome::ClientError, Outcome::Recovered), 2);
        assert_eq!(comparison.count(Config::Unwind, Outcome::Recovered, Outcome::Recovered), 1);
        assert_eq!(comparison.count(Config::Restart, Outcome::Hang, Outcome::Hang), 1);
        assert_eq!(comparison.count(Config::Restart, Outcome::Hang, Outcome::Recovered), 0);
        let changed: Vec<String> = comparison.changes.iter().map(|c| c.key.to_string()).collect();
        assert_eq!(changed, ["0/unwind", "2/unwind"]);
        assert_eq!(comparison.only_in_a.iter().map(|k| k.to_string()).collect::<Vec<_>>(), ["3/unwind"]);
        assert_eq!(comparison.only_in_b.iter().map(|k| k.to_string()).collect::<Vec<_>>(), ["4/unwind"]);
    }

    #[test]
    fn refuses_to_pair_trials_with_different_faults() {
        let a = [record(0, Config::Unwind, Outcome::Recovered)];
        let mut other_seed = record(0, Config::Unwind, Outcome::Recovered);
        other_seed.seed = Seed(99);
        let error = compare(&a, &[other_seed]).unwrap_err();
        assert_eq!(error.key.to_string(), "0/unwind");
        assert!(error.to_string().contains("seed 1 panic:fs:ops.3:site.9"), "{error}");
        assert!(error.to_string().contains("seed 99"), "{error}");
    }
}
