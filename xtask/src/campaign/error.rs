//! What can stop a campaign command, each error saying which campaign, which step and why.
//!
//! A trial the classifier refuses is *not* one of these: it is reported,
//! its log kept, and the run goes on (see `scheduler`). These are the
//! failures after which the command cannot go on: a build, a QEMU that
//! cannot start, a results file that cannot be written, a resume that
//! would mix two campaigns.

use std::io;
use std::path::PathBuf;

use campaign::{CompareError, MergeError, ReportError, ResultsError, ResumeError, TrialKey, TrialListError};
use lazarus_tests::runner::BootError;

use crate::campaign::manifest::ManifestError;
use crate::campaign::name::NameError;
use crate::campaign::settings::SettingsError;
use crate::campaign::snapshot::SnapshotError;
use crate::error::XtaskError;

/// A failed campaign command.
#[derive(Debug, thiserror::Error)]
pub enum CampaignError {
    /// Installing the prerequisites or building the image failed.
    #[error(transparent)]
    Xtask(#[from] XtaskError),
    /// A trial's QEMU could not be started, or its log written.
    #[error("trial {key}: {source}")]
    Boot {
        /// The trial.
        key: TrialKey,
        /// What went wrong.
        source: BootError,
    },
    /// The machine trials restore could not be saved (`--clean-state snapshot`).
    #[error("could not save the clean state trials start from: {source}\n    log: {}\n    (`--clean-state boot` boots every trial instead)", log.display())]
    Snapshot {
        /// The serial log of the boot that was to be saved.
        log: PathBuf,
        /// What went wrong.
        source: SnapshotError,
    },
    /// The options do not fit the campaign being resumed.
    #[error("cannot continue campaign {campaign}: {source}")]
    Settings {
        /// The campaign.
        campaign: String,
        /// What does not fit.
        source: SettingsError,
    },
    /// The results already recorded are of another plan.
    #[error("cannot continue campaign {campaign}: {source}; pick another --name, or pass --fresh to discard its results")]
    Resume {
        /// The campaign.
        campaign: String,
        /// The first record that does not fit.
        source: ResumeError,
    },
    /// The plan is not valid (an empty or repeated list entry).
    #[error("invalid campaign: {0}")]
    Plan(#[from] TrialListError),
    /// A derived campaign name is not a valid folder name.
    #[error(transparent)]
    Name(#[from] NameError),
    /// The manifest could not be read or written.
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    /// The results file could not be read or written.
    #[error(transparent)]
    Results(#[from] ResultsError),
    /// The report could not be written.
    #[error(transparent)]
    Report(#[from] ReportError),
    /// The two campaigns do not pair up.
    #[error(transparent)]
    Compare(#[from] CompareError),
    /// The shards could not be merged.
    #[error(transparent)]
    Merge(#[from] MergeError),
    /// A campaign with no manifest where one is needed (replay).
    #[error("{path} does not exist: no campaign was run there (`cargo xtask campaign run --name NAME` starts one)")]
    NoManifest {
        /// Where the manifest should be.
        path: PathBuf,
    },
    /// Shards of different campaigns.
    #[error("{first} and {second} are different campaigns (seed, models, targets, timeout or build differ); only shards of one campaign can be merged")]
    MixedManifests {
        /// A manifest.
        first: PathBuf,
        /// One that differs from it.
        second: PathBuf,
    },
    /// A results file that is not there.
    #[error("no results at {path}: no campaign was run there")]
    NoResults {
        /// The results file.
        path: PathBuf,
    },
    /// Another process runs this campaign.
    #[error("another `cargo xtask campaign` is running the campaign in {dir}; wait for it, or pick another --name")]
    Locked {
        /// The campaign folder.
        dir: PathBuf,
    },
    /// A file-system step failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// What the operating system said.
        source: io::Error,
    },
}
