//! What a campaign runs when the command line does not say: one place for every default.
//!
//! A resumed campaign takes its own recorded values instead (see
//! `settings`); these apply to a new campaign only.

use std::time::Duration;

use campaign::CleanState;
use fault_inject::{Config, Model, Seed};

/// The servers faults are injected into unless `--targets` says otherwise:
/// the file system, the name server, and `crashtest`, the server that
/// exists to be crashed. Their order is part of the plan, so it never
/// changes for a given campaign (the manifest keeps it).
pub const TARGETS: &[&str] = &["fs", "name", "crashtest"];

/// Trial ids (faults) of a new campaign: each runs under every
/// configuration, so 20 ids are 60 boots, a few minutes on two cores:
/// a quick look, not a measurement (`--trials 1000` is one).
pub const TRIALS: u32 = 20;

/// The seed of a new campaign. Fixed rather than random, so two people
/// running `cargo xtask campaign` get the same fault list and can compare.
pub const SEED: Seed = Seed(2026);

/// Seconds a trial may run, to the kernel's banner and again after it,
/// before QEMU is killed and the trial counts as a `hang`. A trial boots in
/// 2–4 s under TCG and its workload runs for at least 2 s; a minute only
/// expires on a real hang, even with every core busy.
pub const TIMEOUT: Duration = Duration::from_secs(60);

/// The configurations of a new campaign: all three, in table order.
pub const CONFIGS: &[Config] = &Config::ALL;

/// The fault models of a new campaign: all of them, in table order.
pub const MODELS: &[Model] = &Model::ALL;

/// The campaign name when the plan (seed, models, targets) is the default
/// one. Other plans get a name derived from them (`settings::derived_name`).
pub const NAME: &str = "quick";

/// A new campaign boots the release build: trials run several times
/// faster, and the release kernel is what the figures describe.
pub const RELEASE: bool = true;

/// How trials reach their clean state unless `--clean-state` says
/// otherwise: restored from a snapshot taken once per run after boot. It
/// skips firmware, bootloader and kernel start-up in every trial (about 2 s
/// of 4-5 s under TCG) for the cost of one boot per run, and gives the same
/// outcomes trial by trial (docs/campaigns.md, "Clean state"). Not part of
/// the campaign's record: it changes how fast trials run, not what they
/// measure, so a campaign can be resumed either way.
pub const CLEAN_STATE: CleanState = CleanState::Snapshot;
