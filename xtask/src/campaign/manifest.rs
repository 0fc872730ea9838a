//! `campaign.json`: what a campaign is, remembered beside its results.
//!
//! The results file checks each record against the plan, but it cannot say
//! what the plan *was*: the model and target lists (in order), the seed,
//! the number of trials, the configurations. The manifest keeps them, with
//! the per-trial timeout and the build, so that a resume continues the same
//! campaign (and refuses to mix in another), and `replay` can rebuild any
//! trial from the campaign's name alone. It is small JSON, written through
//! a temporary file and a rename, so it is never half-written.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use campaign::{TrialList, TrialListError};
use fault_inject::{Config, Model, Seed, Target};
use serde::{Deserialize, Serialize};

/// The manifest format this xtask writes and reads.
pub const MANIFEST_VERSION: u32 = 1;

/// Suffix of the temporary file a manifest is written through.
const TEMP_SUFFIX: &str = "tmp";

/// Why a manifest could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// The file system refused.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        source: io::Error,
    },
    /// The file is not a manifest.
    #[error("{path} is not a campaign manifest: {source}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// What serde said.
        source: serde_json::Error,
    },
    /// A manifest of another format version.
    #[error("{path} has manifest version {found}; this xtask reads version {MANIFEST_VERSION}")]
    Version {
        /// The file.
        path: PathBuf,
        /// The version found.
        found: u32,
    },
}

/// Everything that defines a campaign.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// [`MANIFEST_VERSION`].
    pub version: u32,
    /// The plan's seed.
    pub seed: Seed,
    /// Trial ids `0..trials`.
    pub trials: u32,
    /// The models, in plan order.
    pub models: Vec<Model>,
    /// The targets, in plan order.
    pub targets: Vec<Target>,
    /// The configurations each trial runs under, in run order.
    pub configs: Vec<Config>,
    /// Seconds a trial may run before it counts as a hang.
    pub timeout_s: u64,
    /// Whether the kernel is the release build (else debug).
    pub release: bool,
}

impl Manifest {
    /// The campaign's trials. Fails if the lists are empty or repeat an entry.
    pub fn trial_list(&self) -> Result<TrialList, TrialListError> {
        TrialList::new(self.seed, self.trials, self.models.clone(), self.targets.clone(), self.configs.clone())
    }

    /// The per-trial timeout.
    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout_s)
    }

    /// Whether `other` plans the same fault for every trial id both have:
    /// same seed, same models and targets in the same order.
    pub fn same_plan(&self, other: &Manifest) -> bool {
        (self.seed, &self.models, &self.targets) == (other.seed, &other.models, &other.targets)
    }

    /// Reads the manifest at `path`; `Ok(None)` if there is none.
    pub fn read(path: &Path) -> Result<Option<Manifest>, ManifestError> {
        let text = match fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(ManifestError::Io { path: path.to_owned(), source }),
        };
        // The version first, so a future format gets a clear message rather
        // than a complaint about a field.
        #[derive(Deserialize)]
        struct Version {
            version: u32,
        }
        let parse_error = |source| ManifestError::Parse { path: path.to_owned(), source };
        let Version { version } = serde_json::from_str(&text).map_err(parse_error)?;
        if version != MANIFEST_VERSION {
            return Err(ManifestError::Version { path: path.to_owned(), found: version });
        }
        serde_json::from_str(&text).map(Some).map_err(parse_error)
    }

    /// Writes the manifest to `path` through a temporary file beside it.
    pub fn write(&self, path: &Path) -> Result<(), ManifestError> {
        let io_error = |source| ManifestError::Io { path: path.to_owned(), source };
        let mut text = serde_json::to_string_pretty(self)
            .map_err(|source| ManifestError::Parse { path: path.to_owned(), source })?;
        text.push('\n');
        let temp = path.with_extension(TEMP_SUFFIX);
        fs::write(&temp, text).map_err(io_error)?;
        fs::rename(&temp, path).map_err(io_error)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A small manifest for tests.
    pub(crate) fn manifest() -> Manifest {
        Manifest {
            version: MANIFEST_VERSION,
            seed: Seed(7),
            trials: 4,
            models: vec![Model::Panic, Model::Cfi],
            targets: vec![Target::try_new("fs").unwrap(), Target::try_new("name").unwrap()],
            configs: vec![Config::Unwind, Config::NoRecovery],
            timeout_s: 30,
            release: true,
        }
    }

    #[test]
    fn round_trips_as_readable_json() {
        let temp = tempfile::tempdir().unwrap();
        let path = temp.path().join("campaign.json");
        assert!(Manifest::read(&path).unwrap().is_none());
        manifest().write(&path).unwrap();
        let text = fs::read_to_string(&path).unwrap();
        for expected in [r#""seed": 7"#, r#""models": ["#, r#""cfi""#, r#""none""#, r#""timeout_s": 30"#] {
            assert!(text.contains(expected), "{expected} missing:\n{text}");
        }
        assert_eq!(Manifest::read(&path).unwrap(), Some(manifest()));
        assert_eq!(manifest().trial_list().unwrap().trials(), 4);
    }

    #[test]
    fn refuses_other_versions_and_other_files() {
        let temp = tempfile::tempdir().unwrap();
        let path = temp.path().join("campaign.json");
        fs::write(&path, r#"{"version": 9, "whatever": true}"#).unwrap();
        let error = Manifest::read(&path).unwrap_err();
        assert!(error.to_string().contains("version 9"), "{error}");
        fs::write(&path, r#"{"version": 1, "seed": 1}"#).unwrap();
        assert!(matches!(Manifest::read(&path), Err(ManifestError::Parse { .. })));
        let mut bad = serde_json::to_value(manifest()).unwrap();
        bad["models"][0] = "meltdown".into();
        fs::write(&path, bad.to_string()).unwrap();
        assert!(matches!(Manifest::read(&path), Err(ManifestError::Parse { .. })));
    }

    #[test]
    fn the_plan_is_seed_models_and_targets_in_order() {
        let a = manifest();
        let mut b = manifest();
        b.trials = 100;
        b.configs = Config::ALL.to_vec();
        b.timeout_s = 5;
        assert!(a.same_plan(&b));
        b.models.reverse();
        assert!(!a.same_plan(&b));
    }
}
