//! The command line of `cargo xtask campaign`: subcommands, options and their `--help`.
//!
//! Every doc comment here is user-facing: clap turns it into `--help`.
//! `cargo xtask campaign` with no subcommand is `cargo xtask campaign run`.
//! Run options that a campaign remembers (seed, trials, models, targets,
//! configurations, timeout, build) are `Option`s here: left out, a new
//! campaign takes the default and a resumed one its own recorded value
//! (`settings` decides).

use std::error::Error;
use std::path::PathBuf;
use std::process::ExitCode;
use std::str::FromStr;

use clap::builder::{PossibleValuesParser, TypedValueParser};
use campaign::CleanState;
use clap::{Args, Subcommand};
use fault_inject::{Config, Model, Seed, Shard, Target, TrialId};

use crate::campaign::error::CampaignError;
use crate::campaign::name::CampaignRef;
use crate::campaign::{cmd_compare, cmd_merge, cmd_replay, cmd_report, cmd_run, defaults};

/// Run fault-injection campaigns in QEMU and work with their results.
///
/// Without a subcommand: `run`. Results go to target/campaigns/NAME/
/// (trials.jsonl, the serial logs, the HTML report); see docs/campaigns.md.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct CampaignArgs {
    /// What to do (default: run).
    #[command(subcommand)]
    pub command: Option<CampaignCommand>,
    /// The options of `run`, for `cargo xtask campaign` without a subcommand.
    #[command(flatten)]
    pub run: RunOptions,
}

impl CampaignArgs {
    /// The subcommand, `run` when none was given.
    pub fn command(self) -> CampaignCommand {
        self.command.unwrap_or(CampaignCommand::Run(self.run))
    }

    /// Runs the subcommand; the exit code is its verdict.
    pub fn run(self) -> Result<ExitCode, CampaignError> {
        match self.command() {
            CampaignCommand::Run(options) => cmd_run::run(options),
            CampaignCommand::Compare(args) => cmd_compare::run(args),
            CampaignCommand::Replay(args) => cmd_replay::run(args),
            CampaignCommand::Report(args) => cmd_report::run(args),
            CampaignCommand::Merge(args) => cmd_merge::run(args),
        }
    }
}

/// The subcommands of `cargo xtask campaign`.
#[derive(Debug, Subcommand)]
pub enum CampaignCommand {
    /// Build (release by default), then boot every pending trial under each
    /// configuration, --jobs at a time; append each outcome to
    /// target/campaigns/NAME/trials.jsonl, keep each serial log in logs/,
    /// then print the summary table and write the HTML report. Finished
    /// trials are skipped, so rerunning the same command resumes. Exits
    /// non-zero if any boot could not be classified (a rerun retries it).
    Run(RunOptions),
    /// Compare two campaigns trial by trial (same seed, models and
    /// targets): how many trials went from each outcome in A to each
    /// outcome in B, per configuration, and which trials changed.
    Compare(CompareArgs),
    /// Rerun one trial of a campaign alone, printing its serial log as it
    /// comes; print its outcome and whether it matches the recorded one.
    /// Exits non-zero if it differs or cannot be classified.
    Replay(ReplayArgs),
    /// Print the summary table and rewrite the HTML report
    /// (index.html and its SVG charts) from a campaign's trials.jsonl.
    Report(ReportArgs),
    /// Join the results of shards (`run --shard K/N`, possibly from other
    /// machines) into one campaign, and write its report.
    Merge(MergeArgs),
}

/// Options of `cargo xtask campaign run`.
#[derive(Debug, Clone, Default, Args)]
pub struct RunOptions {
    /// Number of faults to plan (trial ids 0..N); each runs under every
    /// configuration. Raising it extends a campaign.
    /// [default: 20; a resumed campaign keeps its own]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub trials: Option<u32>,
    /// Recovery configurations to run each fault under, comma-separated.
    /// [default: unwind,restart,none; a resumed campaign keeps its own]
    #[arg(long, value_name = "CONFIG,...", value_delimiter = ',', value_parser = one_of::<Config>(Config::ALL.map(Config::name)))]
    pub configs: Option<Vec<Config>>,
    /// Fault models to draw from, comma-separated; the order is part of
    /// the plan. [default: all of them; a resumed campaign keeps its own]
    #[arg(long, value_name = "MODEL,...", value_delimiter = ',', value_parser = one_of::<Model>(Model::ALL.map(Model::name)))]
    pub models: Option<Vec<Model>>,
    /// Servers to inject into, comma-separated; the order is part of the
    /// plan. [default: fs,name,crashtest; a resumed campaign keeps its own]
    #[arg(long, value_name = "SERVER,...", value_delimiter = ',')]
    pub targets: Option<Vec<Target>>,
    /// The plan's seed, decimal or 0x-hex: the same seed, models and
    /// targets give the same fault in every trial.
    /// [default: 2026; a resumed campaign keeps its own]
    #[arg(long, value_name = "SEED")]
    pub seed: Option<Seed>,
    /// The campaign: a name under target/campaigns, or a path with a `/`
    /// to a campaign folder. [default: `quick` for the default seed,
    /// models and targets; otherwise a name derived from them]
    #[arg(long, value_name = "NAME")]
    pub name: Option<CampaignRef>,
    /// How many QEMUs run at once. [default: the number of CPUs]
    #[arg(long, short = 'j', value_name = "J", value_parser = clap::value_parser!(u32).range(1..))]
    pub jobs: Option<u32>,
    /// Run only shard K of N (K from 1): the trial ids equal to K-1 modulo
    /// N. Shards of one campaign can run on different machines; `merge`
    /// joins their results.
    #[arg(long, value_name = "K/N", default_value_t = Shard::WHOLE)]
    pub shard: Shard,
    /// Seconds a trial may run (to the kernel's banner, and again after
    /// it) before QEMU is killed and the trial counts as a hang.
    /// [default: 60; a resumed campaign keeps its own]
    #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..))]
    pub timeout: Option<u64>,
    /// Boot the release build of the kernel. [default, unless a resumed
    /// campaign was run with --debug]
    #[arg(long, conflicts_with = "debug")]
    pub release: bool,
    /// Boot the debug build of the kernel instead of the release build.
    #[arg(long)]
    pub debug: bool,
    /// Discard the campaign's earlier results, logs and report, and start
    /// it anew (otherwise finished trials are kept and skipped).
    #[arg(long)]
    pub fresh: bool,
    /// How each trial's QEMU reaches the clean state a trial starts from:
    /// `snapshot` boots once, saves the machine where a trial starts, and
    /// restores it for every trial (about 2 s faster per trial); `boot`
    /// boots every trial. The outcomes are the same; each record says which
    /// it was. [default: snapshot]
    #[arg(long, value_name = "HOW", value_parser = one_of::<CleanState>(CleanState::ALL.map(CleanState::name)))]
    pub clean_state: Option<CleanState>,
    /// Boot the disk image in DIR (its bios.img) instead of building one:
    /// keeps a long campaign on one build while the tree changes.
    #[command(flatten)]
    pub image: ImageOptions,
}

impl RunOptions {
    /// `--clean-state`, or the default.
    pub fn clean_state(&self) -> CleanState {
        self.clean_state.unwrap_or(defaults::CLEAN_STATE)
    }

    /// `Some(true)` for `--release`, `Some(false)` for `--debug`, `None`
    /// when neither was given.
    pub fn release(&self) -> Option<bool> {
        match (self.release, self.debug) {
            (true, _) => Some(true),
            (_, true) => Some(false),
            _ => None,
        }
    }
}

/// Where the disk image comes from.
#[derive(Debug, Clone, Default, Args)]
pub struct ImageOptions {
    /// Boot DIR/bios.img instead of building the kernel and its images
    /// (the toolchain is then not needed). The QEMU binary can be replaced
    /// through LAZARUS_QEMU, as for `cargo xtask test`.
    #[arg(long, value_name = "DIR")]
    pub images: Option<PathBuf>,
}

/// Options of `cargo xtask campaign compare`.
#[derive(Debug, Args)]
pub struct CompareArgs {
    /// Campaign A: a name under target/campaigns, or a path (with a `/`)
    /// to a campaign folder or a trials.jsonl file.
    #[arg(value_name = "A")]
    pub a: CampaignRef,
    /// Campaign B, the same way.
    #[arg(value_name = "B")]
    pub b: CampaignRef,
}

/// Options of `cargo xtask campaign replay`.
#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// The trial id to rerun.
    #[arg(value_name = "ID")]
    pub id: TrialId,
    /// The configuration to rerun it under. [default: the campaign's first]
    #[arg(long, value_name = "CONFIG", value_parser = one_of::<Config>(Config::ALL.map(Config::name)))]
    pub config: Option<Config>,
    /// The campaign (name, or path with a `/`); its campaign.json says
    /// how to plan, build and time the trial.
    #[arg(long, value_name = "NAME", default_value = defaults::NAME)]
    pub name: CampaignRef,
    /// Boot the trial, or restore it from a snapshot taken after a boot
    /// (see `run --help`). [default: as the recorded trial started; boot
    /// if it has no record]
    #[arg(long, value_name = "HOW", value_parser = one_of::<CleanState>(CleanState::ALL.map(CleanState::name)))]
    pub clean_state: Option<CleanState>,
    /// Where the disk image comes from.
    #[command(flatten)]
    pub image: ImageOptions,
}

/// Options of `cargo xtask campaign report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The campaign (name, or path with a `/`).
    #[arg(long, value_name = "NAME", default_value = defaults::NAME)]
    pub name: CampaignRef,
}

/// Options of `cargo xtask campaign merge`.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The merged campaign (name, or path with a `/`); it may be one of
    /// the inputs, but an unrelated existing results file is not replaced.
    #[arg(value_name = "OUT")]
    pub out: CampaignRef,
    /// The shards' campaigns (names, folders or trials.jsonl files).
    #[arg(value_name = "IN", required = true, num_args = 1..)]
    pub inputs: Vec<CampaignRef>,
}

/// A parser that accepts one of `names` (listed in `--help` and in the
/// error for anything else) and turns it into a `T`.
fn one_of<T>(names: impl IntoIterator<Item = &'static str>) -> impl TypedValueParser<Value = T>
where
    T: FromStr + Clone + Send + Sync + 'static,
    T::Err: Into<Box<dyn Error + Send + Sync + 'static>>,
{
    PossibleValuesParser::new(names).try_map(|name| name.parse::<T>())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use clap::error::ErrorKind;
    use clap::{CommandFactory, Parser};

    fn parse(args: &[&str]) -> Result<CampaignCommand, clap::Error> {
        let cli = Cli::try_parse_from(["xtask", "campaign"].iter().chain(args))?;
        let Command::Campaign(campaign) = cli.command else {
            panic!("not the campaign command");
        };
        Ok((*campaign).command())
    }

    fn run_options(args: &[&str]) -> RunOptions {
        match parse(args).unwrap() {
            CampaignCommand::Run(options) => options,
            other => panic!("not run: {other:?}"),
        }
    }

    fn error(args: &[&str]) -> String {
        parse(args).unwrap_err().to_string()
    }

    #[test]
    fn without_a_subcommand_it_runs_and_every_option_is_left_to_the_campaign() {
        let options = run_options(&[]);
        assert_eq!(
            (options.trials, &options.configs, &options.models, &options.targets, options.seed, &options.name),
            (None, &None, &None, &None, None, &None)
        );
        assert_eq!((options.jobs, options.timeout, options.release(), options.fresh), (None, None, None, false));
        assert_eq!((options.clean_state, options.clean_state()), (None, CleanState::Snapshot));
        assert_eq!(options.shard, Shard::WHOLE);
        assert_eq!(options.image.images, None);
        assert_eq!(run_options(&["run"]).trials, None);
    }

    #[test]
    fn every_run_option_parses() {
        let args = [
            "run", "--trials", "5", "--configs", "unwind,none", "--models", "panic,cfi", "--targets", "fs,blk",
            "--seed", "0x10", "--name", "big", "-j", "3", "--shard", "2/4", "--timeout", "9", "--debug", "--fresh",
            "--images", "/imgs", "--clean-state", "boot",
        ];
        let o = run_options(&args);
        assert_eq!(o.trials, Some(5));
        assert_eq!(o.configs, Some(vec![Config::Unwind, Config::NoRecovery]));
        assert_eq!(o.models, Some(vec![Model::Panic, Model::Cfi]));
        assert_eq!(o.targets.as_ref().unwrap().iter().map(ToString::to_string).collect::<Vec<_>>(), ["fs", "blk"]);
        assert_eq!(o.seed, Some(Seed(16)));
        assert_eq!(o.name.as_ref().unwrap().to_string(), "big");
        assert_eq!((o.jobs, o.timeout, o.release(), o.fresh), (Some(3), Some(9), Some(false), true));
        assert_eq!(o.shard.to_string(), "2/4");
        assert_eq!(o.image.images, Some(PathBuf::from("/imgs")));
        assert_eq!(o.clean_state(), CleanState::Boot);
        assert_eq!(run_options(&["--clean-state", "snapshot"]).clean_state, Some(CleanState::Snapshot));
        assert_eq!(run_options(&["--release"]).release(), Some(true));
        assert!(matches!(run_options(&["--name", "./elsewhere/c1"]).name, Some(CampaignRef::Path(_))));
    }

    #[test]
    fn bad_arguments_are_clear_errors() {
        for (args, expected) in [
            (&["--trials", "0"][..], "0 is not in 1.."),
            (&["--models", "panic,meltdown"], "[possible values: panic, regflip, memflip, wildptr, cfi, hang, stackoverflow]"),
            (&["--configs", "unwind,retry"], "[possible values: unwind, restart, none]"),
            (&["--targets", "FS"], "only a-z, 0-9, '-' and '_' are allowed"),
            (&["--seed", "12x"], "seed is not a number"),
            (&["--shard", "5/4"], "shard 5 of 4 does not exist"),
            (&["--shard", "2"], "a shard is written K/N"),
            (&["--timeout", "0"], "0 is not in 1.."),
            (&["--jobs", "0"], "0 is not in 1.."),
            (&["--clean-state", "loadvm"], "[possible values: boot, snapshot]"),
            (&["--name", "a b"], "use letters, digits"),
            (&["--release", "--debug"], "cannot be used with"),
            (&["--trials", "5", "report"], "the subcommand 'report' cannot be used with '--trials <N>'"),
            (&["merge", "out"], "required"),
            (&["replay", "x"], "trial id"),
        ] {
            let message = error(args);
            assert!(message.contains(expected), "{args:?}: expected {expected:?} in:\n{message}");
        }
        assert_eq!(parse(&["--help"]).unwrap_err().kind(), ErrorKind::DisplayHelp);
    }

    #[test]
    fn the_other_subcommands_parse_with_their_defaults() {
        let CampaignCommand::Compare(args) = parse(&["compare", "quick", "./shards/b/trials.jsonl"]).unwrap() else {
            panic!("not compare");
        };
        assert_eq!((args.a.to_string(), args.b.to_string()), ("quick".into(), "./shards/b/trials.jsonl".into()));
        let CampaignCommand::Replay(args) = parse(&["replay", "17"]).unwrap() else { panic!("not replay") };
        assert_eq!((args.id, args.config, args.name.to_string()), (TrialId(17), None, defaults::NAME.into()));
        assert_eq!(args.clean_state, None);
        let CampaignCommand::Replay(args) =
            parse(&["replay", "3", "--config", "restart", "--name", "big", "--images", "i", "--clean-state", "snapshot"]).unwrap()
        else {
            panic!("not replay")
        };
        assert_eq!((args.config, args.name.to_string()), (Some(Config::Restart), "big".into()));
        assert_eq!(args.clean_state, Some(CleanState::Snapshot));
        let CampaignCommand::Report(args) = parse(&["report"]).unwrap() else { panic!("not report") };
        assert_eq!(args.name.to_string(), defaults::NAME);
        let CampaignCommand::Merge(args) = parse(&["merge", "all", "s1", "s2"]).unwrap() else { panic!("not merge") };
        assert_eq!(args.out.to_string(), "all");
        assert_eq!(args.inputs.len(), 2);
    }

    #[test]
    fn help_states_the_defaults_the_code_uses() {
        let mut cli = Cli::command();
        let help = cli
            .find_subcommand_mut("campaign")
            .and_then(|c| c.find_subcommand_mut("run"))
            .expect("campaign run")
            .render_long_help()
            .to_string();
        let targets = defaults::TARGETS.join(",");
        for expected in [
            format!("[default: {};", defaults::TRIALS),
            format!("[default: {};", defaults::SEED),
            format!("[default: {};", defaults::TIMEOUT.as_secs()),
            format!("[default: {targets};"),
            format!("`{}` for the default", defaults::NAME),
            "[default: unwind,restart,none;".to_owned(),
            "[default: 1/1]".to_owned(),
            format!("[default: {}]", defaults::CLEAN_STATE),
        ] {
            let flat = help.split_whitespace().collect::<Vec<_>>().join(" ");
            assert!(flat.contains(&expected), "{expected:?} not in:\n{help}");
        }
        assert_eq!(defaults::CONFIGS, Config::ALL);
    }
}
