//! A campaign's trials: every (trial id, configuration) pair, or one shard's.
//!
//! Each trial id names one fault (`fault_inject::plan`); the campaign runs
//! it once per configuration, so the configurations are compared on the
//! same fault list. The list is id-major (trial 0 under every
//! configuration, then trial 1, …) so a campaign stopped early has matched
//! pairs to compare. Shards split by id, so all configurations of a fault
//! land in the same shard.

use std::collections::BTreeSet;

use fault_inject::{plan, CmdlineFragment, Config, Model, PlanError, Seed, Shard, Target, TrialId, TrialSpec};

use crate::record::{TrialKey, TrialRecord};

/// One QEMU run: a fault under a configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Trial {
    /// The fault.
    pub spec: TrialSpec,
    /// The configuration it runs under.
    pub config: Config,
}

impl Trial {
    /// The trial's key in results files.
    pub fn key(&self) -> TrialKey {
        TrialKey { id: self.spec.id, config: self.config }
    }

    /// What goes on the guest's command line.
    pub fn cmdline(&self) -> CmdlineFragment {
        CmdlineFragment { id: self.spec.id, config: self.config, injection: self.spec.injection }
    }
}

/// Why a trial list could not be made.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TrialListError {
    /// No models or no targets.
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// No configurations.
    #[error("no configurations to run")]
    NoConfigs,
    /// A model, target or configuration listed twice (it would weigh double
    /// in the plan, or run every trial twice).
    #[error("`{0}` is listed twice")]
    Duplicate(String),
    /// A trial id outside `0..trials`.
    #[error("trial {id} is not in this campaign, which has trials 0 to {last}", last = .trials.saturating_sub(1))]
    NoSuchTrial {
        /// The id asked for.
        id: TrialId,
        /// The campaign's trial count.
        trials: u32,
    },
    /// A configuration the campaign does not run.
    #[error("this campaign does not run configuration `{0}`")]
    NoSuchConfig(Config),
}

/// A finished trial whose fault is not the one the plan gives its id.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "the results file has trial {key} with seed {found_seed} and fault {found}, but this campaign \
     (seed {seed}) plans {planned}: it was made with another seed, model list or target list"
)]
pub struct ResumeError {
    /// The trial.
    pub key: TrialKey,
    /// The seed in the record.
    pub found_seed: Seed,
    /// The fault in the record.
    pub found: String,
    /// The campaign's seed.
    pub seed: Seed,
    /// The fault the plan gives.
    pub planned: String,
}

/// The trials of a campaign.
///
/// # Invariants
/// Models, targets and configurations are non-empty and free of duplicates.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrialList {
    seed: Seed,
    trials: u32,
    models: Vec<Model>,
    targets: Vec<Target>,
    configs: Vec<Config>,
}

impl TrialList {
    /// `trials` faults planned from `seed` over `models` and `targets`,
    /// each run under every configuration. The order of `models` and
    /// `targets` is part of the plan.
    pub fn new(
        seed: Seed,
        trials: u32,
        models: Vec<Model>,
        targets: Vec<Target>,
        configs: Vec<Config>,
    ) -> Result<Self, TrialListError> {
        if models.is_empty() {
            return Err(PlanError::NoModels.into());
        }
        if targets.is_empty() {
            return Err(PlanError::NoTargets.into());
        }
        if configs.is_empty() {
            return Err(TrialListError::NoConfigs);
        }
        check_unique(&models)?;
        check_unique(&targets)?;
        check_unique(&configs)?;
        Ok(TrialList { seed, trials, models, targets, configs })
    }

    /// The campaign seed.
    pub fn seed(&self) -> Seed {
        self.seed
    }

    /// How many faults (trial ids) the campaign has.
    pub fn trials(&self) -> u32 {
        self.trials
    }

    /// The configurations, in run order.
    pub fn configs(&self) -> &[Config] {
        &self.configs
    }

    /// The fault of trial `id`.
    pub fn spec(&self, id: TrialId) -> Result<TrialSpec, TrialListError> {
        if id.0 >= self.trials {
            return Err(TrialListError::NoSuchTrial { id, trials: self.trials });
        }
        Ok(plan(self.seed, id, &self.models, &self.targets)?)
    }

    /// One trial, e.g. to replay it alone.
    pub fn trial(&self, id: TrialId, config: Config) -> Result<Trial, TrialListError> {
        if !self.configs.contains(&config) {
            return Err(TrialListError::NoSuchConfig(config));
        }
        Ok(Trial { spec: self.spec(id)?, config })
    }

    /// Every trial of `shard`, id-major.
    pub fn shard(&self, shard: Shard) -> impl Iterator<Item = Trial> + '_ {
        shard.ids(self.trials).flat_map(move |id| {
            // The list's invariants (non-empty models and targets) make
            // planning infallible, and `ids` stays below `trials`.
            let spec = plan(self.seed, id, &self.models, &self.targets)
                .unwrap_or_else(|error| unreachable!("checked in TrialList::new: {error}"));
            self.configs.iter().map(move |&config| Trial { spec, config })
        })
    }

    /// The trials of `shard` not yet in `finished`, after checking that
    /// every finished trial of this campaign has the fault the plan gives
    /// it. Finished trials outside the campaign (ids past `trials`, other
    /// configurations) are left alone, so a campaign can be extended.
    pub fn pending(&self, shard: Shard, finished: &[TrialRecord]) -> Result<Vec<Trial>, ResumeError> {
        let mut done = BTreeSet::new();
        for record in finished {
            let Ok(trial) = self.trial(record.id, record.config) else {
                continue;
            };
            let planned = trial.spec.injection;
            let found = record.injection().map(|i| i.to_string()).unwrap_or_else(|e| e.to_string());
            if record.seed != self.seed || record.injection().ok() != Some(planned) {
                return Err(ResumeError {
                    key: record.key(),
                    found_seed: record.seed,
                    found,
                    seed: self.seed,
                    planned: planned.to_string(),
                });
            }
            done.insert(record.key());
        }
        Ok(self.shard(shard).filter(|trial| !done.contains(&trial.key())).collect())
    }
}

fn check_unique<T: Ord + ToString>(items: &[T]) -> Result<(), TrialListError> {
    let mut seen = BTreeSet::new();
    match items.iter().find(|item| !seen.insert(*item)) {
        Some(item) => Err(TrialListError::Duplicate(item.to_string())),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn servers() -> Vec<Target> {
        ["console", "name", "fs", "blk", "crashtest"].iter().map(|n| Target::try_new(n).unwrap()).collect()
    }

    fn list(seed: u64, trials: u32) -> TrialList {
        TrialList::new(Seed(seed), trials, Model::ALL.to_vec(), servers(), Config::ALL.to_vec()).unwrap()
    }

    #[test]
    fn the_same_seed_gives_the_same_list() {
        let a: Vec<Trial> = list(11, 300).shard(Shard::WHOLE).collect();
        let b: Vec<Trial> = list(11, 300).shard(Shard::WHOLE).collect();
        assert_eq!(a, b);
        assert_eq!(a.len(), 900);
        let c: Vec<Trial> = list(12, 300).shard(Shard::WHOLE).collect();
        assert_ne!(a, c);
    }

    #[test]
    fn every_fault_runs_under_every_configuration_id_major() {
        let trials: Vec<Trial> = list(1, 2).shard(Shard::WHOLE).collect();
        let keys: Vec<String> = trials.iter().map(|t| t.key().to_string()).collect();
        assert_eq!(keys, ["0/unwind", "0/restart", "0/none", "1/unwind", "1/restart", "1/none"]);
        assert_eq!(trials[0].spec, trials[2].spec, "same fault under each configuration");
    }

    #[test]
    fn shards_are_disjoint_complete_and_carry_the_same_faults() {
        let campaign = list(5, 1_001);
        let whole: Vec<Trial> = campaign.shard(Shard::WHOLE).collect();
        let mut union: Vec<Trial> = Vec::new();
        for k in 1..=4 {
            union.extend(campaign.shard(Shard::try_new(k, 4).unwrap()));
        }
        assert_eq!(union.len(), whole.len());
        let mut union_keys: Vec<TrialKey> = union.iter().map(Trial::key).collect();
        union_keys.sort();
        union_keys.dedup();
        assert_eq!(union_keys.len(), whole.len(), "no trial in two shards");
        for trial in &union {
            assert_eq!(Some(trial), whole.iter().find(|t| t.key() == trial.key()));
        }
    }

    #[test]
    fn a_trial_can_be_looked_up_alone_for_replay() {
        let campaign = list(5, 10);
        let trial = campaign.trial(TrialId(7), Config::Restart).unwrap();
        assert_eq!(Some(trial), campaign.shard(Shard::WHOLE).find(|t| t.key() == trial.key()));
        assert_eq!(
            trial.cmdline().to_string(),
            format!("trial=7 recovery=restart inject={}", trial.spec.injection)
        );
        assert_eq!(
            campaign.trial(TrialId(10), Config::Unwind),
            Err(TrialListError::NoSuchTrial { id: TrialId(10), trials: 10 })
        );
        let unwind_only =
            TrialList::new(Seed(5), 10, Model::ALL.to_vec(), servers(), vec![Config::Unwind]).unwrap();
        assert_eq!(
            unwind_only.trial(TrialId(1), Config::NoRecovery),
            Err(TrialListError::NoSuchConfig(Config::NoRecovery))
        );
    }

    #[test]
    fn empty_and_duplicate_lists_are_refused() {
        let make = |models: Vec<Model>, targets: Vec<Target>, configs: Vec<Config>| {
            TrialList::new(Seed(1), 1, models, targets, configs)
        };
        assert_eq!(make(vec![], servers(), Config::ALL.to_vec()), Err(PlanError::NoModels.into()));
        assert_eq!(make(Model::ALL.to_vec(), vec![], Config::ALL.to_vec()), Err(PlanError::NoTargets.into()));
        assert_eq!(make(Model::ALL.to_vec(), servers(), vec![]), Err(TrialListError::NoConfigs));
        assert_eq!(
            make(vec![Model::Panic, Model::Panic], servers(), Config::ALL.to_vec()),
            Err(TrialListError::Duplicate("panic".into()))
        );
    }
}
