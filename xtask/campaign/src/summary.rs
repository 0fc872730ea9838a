//! Aggregating trials per configuration and fault model.
//!
//! A cell is a (configuration, model) pair: its trials, how many were
//! activated, the count of each outcome, and the recovery rate
//! `recovered / activated` with its Wilson 95 % interval. Each
//! configuration also gets a row over all its models. The summary can be
//! fed one record at a time, so a runner can show it live.

use std::collections::BTreeMap;

use fault_inject::{Config, Model};

use crate::counts::OutcomeCounts;
use crate::outcome::Outcome;
use crate::record::TrialRecord;
use crate::stats::WilsonInterval;

/// One row of the summary.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SummaryRow {
    /// The configuration.
    pub config: Config,
    /// The model, or `None` for the configuration's total over all models.
    pub model: Option<Model>,
    /// The counts.
    pub counts: OutcomeCounts,
}

impl SummaryRow {
    /// `recovered / activated` with its Wilson 95 % interval.
    pub fn rate(&self) -> WilsonInterval {
        self.counts.recovery_rate()
    }
}

/// Outcome counts per (configuration, model), and recovery latencies.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    cells: BTreeMap<(Config, Model), OutcomeCounts>,
    latencies: BTreeMap<Config, Vec<u64>>,
}

impl Summary {
    /// The summary of `records`.
    pub fn from_records<'a>(records: impl IntoIterator<Item = &'a TrialRecord>) -> Self {
        let mut summary = Summary::default();
        for record in records {
            summary.add(record);
        }
        summary
    }

    /// Counts one more trial.
    pub fn add(&mut self, record: &TrialRecord) {
        self.cells.entry((record.config, record.model)).or_default().add(record.outcome);
        let recovered = matches!(record.outcome, Outcome::Recovered | Outcome::RecoveredLeaky);
        if let (true, Some(latency)) = (recovered, record.latency) {
            self.latencies.entry(record.config).or_default().push(latency);
        }
    }

    /// The configurations seen, in table order.
    pub fn configs(&self) -> Vec<Config> {
        let mut configs: Vec<Config> = self.cells.keys().map(|(config, _)| *config).collect();
        configs.dedup();
        configs
    }

    /// The models seen, in table order.
    pub fn models(&self) -> Vec<Model> {
        let mut models: Vec<Model> = self.cells.keys().map(|(_, model)| *model).collect();
        models.sort();
        models.dedup();
        models
    }

    /// The counts of one cell (empty if no trial has run there).
    pub fn cell(&self, config: Config, model: Model) -> OutcomeCounts {
        self.cells.get(&(config, model)).copied().unwrap_or_default()
    }

    /// The counts of a configuration over all models.
    pub fn config_total(&self, config: Config) -> OutcomeCounts {
        let mut total = OutcomeCounts::default();
        for ((c, _), counts) in &self.cells {
            if *c == config {
                total.merge(counts);
            }
        }
        total
    }

    /// Every row: per configuration, one per model seen, then the total.
    pub fn rows(&self) -> Vec<SummaryRow> {
        let mut rows = Vec::new();
        for config in self.configs() {
            for ((c, model), counts) in &self.cells {
                if *c == config {
                    rows.push(SummaryRow { config, model: Some(*model), counts: *counts });
                }
            }
            rows.push(SummaryRow { config, model: None, counts: self.config_total(config) });
        }
        rows
    }

    /// Recovery latencies (ns) of the recovered and recovered-leaky trials
    /// of `config`, in the order they were added.
    pub fn latencies(&self, config: Config) -> &[u64] {
        self.latencies.get(&config).map_or(&[], Vec::as_slice)
    }

    /// Whether no trial has been added.
    pub fn is_empty(&self) -> bool {
        self.cells.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::tests::record;

    #[test]
    fn aggregates_per_configuration_and_model_with_totals() {
        let mut records = vec![
            record(0, Config::Unwind, Outcome::Recovered),
            record(1, Config::Unwind, Outcome::Recovered),
            record(2, Config::Unwind, Outcome::NotActivated),
            record(3, Config::Unwind, Outcome::RecoveredLeaky),
            record(0, Config::NoRecovery, Outcome::Hang),
        ];
        let mut memflip = record(4, Config::Unwind, Outcome::Sdc);
        memflip.model = Model::Memflip;
        records.push(memflip);
        let summary = Summary::from_records(&records);

        assert_eq!(summary.configs(), [Config::Unwind, Config::NoRecovery]);
        assert_eq!(summary.models(), [Model::Panic, Model::Memflip]);
        let panic = summary.cell(Config::Unwind, Model::Panic);
        assert_eq!((panic.trials(), panic.activated(), panic.get(Outcome::Recovered)), (4, 3, 2));
        let rate = SummaryRow { config: Config::Unwind, model: Some(Model::Panic), counts: panic }.rate();
        assert_eq!((rate.successes(), rate.trials()), (2, 3));

        let rows = summary.rows();
        let labels: Vec<String> = rows
            .iter()
            .map(|r| format!("{}/{}", r.config, r.model.map_or("all".to_owned(), |m| m.to_string())))
            .collect();
        assert_eq!(labels, ["unwind/panic", "unwind/memflip", "unwind/all", "none/panic", "none/all"]);
        assert_eq!(rows[2].counts.trials(), 5);
        assert_eq!(rows[2].counts.activated(), 4);
        assert_eq!(summary.cell(Config::Restart, Model::Cfi).trials(), 0);
    }

    #[test]
    fn keeps_latencies_of_recovered_trials_only() {
        let mut hang = record(9, Config::Unwind, Outcome::Hang);
        hang.latency = Some(1);
        let summary = Summary::from_records(&[
            record(0, Config::Unwind, Outcome::Recovered),
            record(1, Config::Unwind, Outcome::RecoveredLeaky),
            hang,
        ]);
        assert_eq!(summary.latencies(Config::Unwind), [50_000, 51_000]);
        assert!(summary.latencies(Config::Restart).is_empty());
    }
}
