//! What a run will do: the command line's options against the campaign's own manifest.
//!
//! A new campaign takes each option given, and the default for the rest.
//! A resumed one takes its recorded values for what the command line
//! leaves out, and refuses a value that differs from its record: a
//! different seed, model or target list would plan other faults under the
//! same trial ids, and a different timeout or build would measure
//! something else. Two changes only add trials, so they are allowed:
//! raising `--trials`, and adding configurations to `--configs`.

use std::fmt::Display;
use std::num::NonZeroUsize;
use std::thread;

use fault_inject::{Model, Seed, Target};

use crate::campaign::args::RunOptions;
use crate::campaign::defaults;
use crate::campaign::manifest::{Manifest, MANIFEST_VERSION};
use crate::campaign::name::{CampaignName, CampaignRef, NameError};

/// QEMUs at once when the number of CPUs cannot be found out.
const FALLBACK_JOBS: NonZeroUsize = NonZeroUsize::MIN;

/// A command-line value the campaign's record does not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    /// The option differs from what the campaign was started with.
    #[error(
        "it was started with --{option} {recorded}, not {given}; leave --{option} out to continue it, \
         pick another --name, or pass --fresh to discard its results"
    )]
    Mismatch {
        /// The option's name.
        option: &'static str,
        /// The recorded value.
        recorded: String,
        /// The value given.
        given: String,
    },
    /// `--release` or `--debug` differs from the campaign's build.
    #[error(
        "it was started with the {recorded} build, not the {given} build; leave --{given} out to continue \
         it, pick another --name, or pass --fresh to discard its results"
    )]
    Build {
        /// The recorded build.
        recorded: &'static str,
        /// The build asked for.
        given: &'static str,
    },
    /// The option would leave out trials the campaign already has.
    #[error(
        "it already has --{option} {recorded}, and {given} would leave some of them out; leave --{option} \
         out to continue it, pick another --name, or pass --fresh to discard its results"
    )]
    Shrink {
        /// The option's name.
        option: &'static str,
        /// The recorded value.
        recorded: String,
        /// The value given.
        given: String,
    },
}

/// The run's campaign definition, and how it extends the recorded one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// The campaign, as the manifest will record it.
    pub manifest: Manifest,
    /// What this run adds to a resumed campaign, in words (e.g.
    /// `--trials 20 -> 100`); empty for a new or unchanged one.
    pub extensions: Vec<String>,
}

/// The default targets, parsed.
pub fn default_targets() -> Vec<Target> {
    defaults::TARGETS
        .iter()
        .map(|name| Target::try_new(name).unwrap_or_else(|e| unreachable!("default target `{name}`: {e}")))
        .collect()
}

/// The campaign a run is for: `--name`, or the name derived from the plan.
pub fn campaign(options: &RunOptions) -> Result<CampaignRef, NameError> {
    if let Some(name) = &options.name {
        return Ok(name.clone());
    }
    let models = options.models.as_deref().unwrap_or(defaults::MODELS);
    let targets = options.targets.clone().unwrap_or_else(default_targets);
    derived_name(options.seed.unwrap_or(defaults::SEED), models, &targets).map(CampaignRef::Name)
}

/// `quick` for the default plan; otherwise `seed<S>-<models>-<targets>`,
/// with `all` for the default model list and `+` between list entries,
/// so that rerunning a command with the same plan finds its campaign.
pub fn derived_name(seed: Seed, models: &[Model], targets: &[Target]) -> Result<CampaignName, NameError> {
    if seed == defaults::SEED && models == defaults::MODELS && targets == default_targets() {
        return CampaignName::try_new(defaults::NAME);
    }
    let models = if models == defaults::MODELS { "all".to_owned() } else { joined(models, "+") };
    CampaignName::try_new(&format!("seed{seed}-{models}-{}", joined(targets, "+")))
}

/// How many QEMUs run at once: `--jobs`, or one per CPU.
pub fn jobs(options: &RunOptions) -> NonZeroUsize {
    options
        .jobs
        .and_then(|jobs| NonZeroUsize::new(usize::try_from(jobs).ok()?))
        .unwrap_or_else(|| thread::available_parallelism().unwrap_or(FALLBACK_JOBS))
}

/// The campaign this run continues (`recorded`) or starts, with the
/// options applied.
pub fn resolve(options: &RunOptions, recorded: Option<&Manifest>) -> Result<Resolved, SettingsError> {
    let Some(recorded) = recorded else {
        let manifest = Manifest {
            version: MANIFEST_VERSION,
            seed: options.seed.unwrap_or(defaults::SEED),
            trials: options.trials.unwrap_or(defaults::TRIALS),
            models: options.models.clone().unwrap_or_else(|| defaults::MODELS.to_vec()),
            targets: options.targets.clone().unwrap_or_else(default_targets),
            configs: options.configs.clone().unwrap_or_else(|| defaults::CONFIGS.to_vec()),
            timeout_s: options.timeout.unwrap_or(defaults::TIMEOUT.as_secs()),
            release: options.release().unwrap_or(defaults::RELEASE),
        };
        return Ok(Resolved { manifest, extensions: Vec::new() });
    };
    same("seed", &options.seed, &recorded.seed, |s| s.to_string())?;
    same("models", &options.models, &recorded.models, |m| joined(m, ","))?;
    same("targets", &options.targets, &recorded.targets, |t| joined(t, ","))?;
    same("timeout", &options.timeout, &recorded.timeout_s, u64::to_string)?;
    if let Some(release) = options.release().filter(|&r| r != recorded.release) {
        return Err(SettingsError::Build { recorded: build_name(recorded.release), given: build_name(release) });
    }

    let mut manifest = recorded.clone();
    let mut extensions = Vec::new();
    if let Some(trials) = options.trials.filter(|&t| t != recorded.trials) {
        if trials < recorded.trials {
            return Err(shrink("trials", &recorded.trials, &trials));
        }
        extensions.push(format!("--trials {} -> {trials}", recorded.trials));
        manifest.trials = trials;
    }
    if let Some(configs) = options.configs.as_ref().filter(|c| **c != recorded.configs) {
        if !recorded.configs.iter().all(|c| configs.contains(c)) {
            return Err(shrink("configs", &joined(&recorded.configs, ","), &joined(configs, ",")));
        }
        extensions.push(format!("--configs {} -> {}", joined(&recorded.configs, ","), joined(configs, ",")));
        manifest.configs = configs.clone();
    }
    Ok(Resolved { manifest, extensions })
}

/// Refuses `given` if it is there and differs from `recorded`.
fn same<T: PartialEq>(
    option: &'static str,
    given: &Option<T>,
    recorded: &T,
    show: impl Fn(&T) -> String,
) -> Result<(), SettingsError> {
    match given {
        Some(given) if given != recorded => {
            Err(SettingsError::Mismatch { option, recorded: show(recorded), given: show(given) })
        }
        _ => Ok(()),
    }
}

fn shrink(option: &'static str, recorded: &dyn Display, given: &dyn Display) -> SettingsError {
    SettingsError::Shrink { option, recorded: recorded.to_string(), given: given.to_string() }
}

fn build_name(release: bool) -> &'static str {
    if release {
        "release"
    } else {
        "debug"
    }
}

fn joined<T: Display>(items: &[T], separator: &str) -> String {
    items.iter().map(ToString::to_string).collect::<Vec<_>>().join(separator)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::campaign::manifest::tests::manifest;
    use fault_inject::Config;

    fn options() -> RunOptions {
        RunOptions::default()
    }

    #[test]
    fn a_new_campaign_takes_the_defaults_and_is_called_quick() {
        let resolved = resolve(&options(), None).unwrap();
        let m = &resolved.manifest;
        assert_eq!((m.seed, m.trials, m.timeout_s, m.release), (Seed(2026), 20, 60, true));
        assert_eq!(m.models, Model::ALL);
        assert_eq!(m.configs, Config::ALL);
        assert_eq!(joined(&m.targets, ","), "fs,name,crashtest");
        assert!(resolved.extensions.is_empty());
        assert_eq!(campaign(&options()).unwrap().to_string(), "quick");
    }

    #[test]
    fn other_plans_get_names_of_their_own() {
        let mut o = options();
        o.seed = Some(Seed(7));
        assert_eq!(campaign(&o).unwrap().to_string(), "seed7-all-fs+name+crashtest");
        o.models = Some(vec![Model::Panic, Model::Cfi]);
        o.targets = Some(vec![Target::try_new("fs").unwrap()]);
        assert_eq!(campaign(&o).unwrap().to_string(), "seed7-panic+cfi-fs");
        // The trial count and configurations do not change the plan, so
        // not the name either: raising --trials extends `quick`.
        let mut o = options();
        o.trials = Some(500);
        o.configs = Some(vec![Config::Unwind]);
        assert_eq!(campaign(&o).unwrap().to_string(), "quick");
        o.name = Some("mine".parse().unwrap());
        assert_eq!(campaign(&o).unwrap().to_string(), "mine");
    }

    #[test]
    fn a_resumed_campaign_keeps_what_is_left_out() {
        let recorded = manifest();
        let resolved = resolve(&options(), Some(&recorded)).unwrap();
        assert_eq!(resolved.manifest, recorded);
        assert!(resolved.extensions.is_empty());
        let mut same = options();
        same.seed = Some(recorded.seed);
        same.timeout = Some(recorded.timeout_s);
        same.release = true;
        assert_eq!(resolve(&same, Some(&recorded)).unwrap().manifest, recorded);
    }

    #[test]
    fn a_different_plan_timeout_or_build_is_refused_with_a_way_out() {
        let recorded = manifest();
        let mut o = options();
        o.seed = Some(Seed(8));
        let error = resolve(&o, Some(&recorded)).unwrap_err();
        assert_eq!(
            error.to_string(),
            "it was started with --seed 7, not 8; leave --seed out to continue it, pick another --name, \
             or pass --fresh to discard its results"
        );
        let mut o = options();
        o.models = Some(vec![Model::Cfi, Model::Panic]);
        assert!(resolve(&o, Some(&recorded)).unwrap_err().to_string().contains("--models panic,cfi, not cfi,panic"));
        let mut o = options();
        o.timeout = Some(31);
        assert!(matches!(resolve(&o, Some(&recorded)), Err(SettingsError::Mismatch { option: "timeout", .. })));
        let mut o = options();
        o.debug = true;
        let error = resolve(&o, Some(&recorded)).unwrap_err().to_string();
        assert!(error.starts_with("it was started with the release build, not the debug build; leave --debug out"), "{error}");
    }

    #[test]
    fn more_trials_or_configurations_extend_and_fewer_are_refused() {
        let recorded = manifest();
        let mut o = options();
        o.trials = Some(10);
        o.configs = Some(Config::ALL.to_vec());
        let resolved = resolve(&o, Some(&recorded)).unwrap();
        assert_eq!((resolved.manifest.trials, resolved.manifest.configs.len()), (10, 3));
        assert_eq!(resolved.extensions, ["--trials 4 -> 10", "--configs unwind,none -> unwind,restart,none"]);

        let mut o = options();
        o.trials = Some(3);
        assert!(matches!(resolve(&o, Some(&recorded)), Err(SettingsError::Shrink { option: "trials", .. })));
        let mut o = options();
        o.configs = Some(vec![Config::Unwind]);
        let error = resolve(&o, Some(&recorded)).unwrap_err().to_string();
        assert!(error.starts_with("it already has --configs unwind,none, and unwind would leave"), "{error}");
    }

    #[test]
    fn jobs_default_to_the_cpus() {
        assert!(jobs(&options()).get() >= 1);
        let mut o = options();
        o.jobs = Some(3);
        assert_eq!(jobs(&o).get(), 3);
    }
}
