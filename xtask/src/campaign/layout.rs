//! A campaign's folder: where its results, manifest, serial logs and report go.
//!
//! ```text
//! target/campaigns/NAME/
//!   campaign.json          the manifest: seed, trials, models, targets, ... (resume, replay)
//!   trials.jsonl           one record per finished trial (the `campaign` crate's format)
//!   logs/ID-CONFIG.log     the full serial log of each trial's boot
//!   logs/ID-CONFIG.replay.log   the log of its latest `replay`
//!   logs/snapshot.log      the boot saved as the trials' clean state (`--clean-state snapshot`)
//!   snapshot/ready-PID.state    that saved machine, while the run (or replay) PID uses it
//!   index.html, *.svg      the report
//!   campaign.lock          held while a `run` appends to trials.jsonl (kept by `--fresh`)
//! ```

use std::fs::{self, File, TryLockError};
use std::io;
use std::path::{Path, PathBuf};

use campaign::{TrialKey, TRIALS_FILE_NAME};

use crate::campaign::error::CampaignError;
use crate::paths::Paths;

/// Folder under the target directory that holds every campaign.
pub const CAMPAIGNS_DIR_NAME: &str = "campaigns";

/// The manifest's file name.
pub const MANIFEST_FILE_NAME: &str = "campaign.json";

/// The lock file's name.
const LOCK_FILE_NAME: &str = "campaign.lock";

/// The serial logs' folder name.
const LOGS_DIR_NAME: &str = "logs";

/// The folder of saved machines (the `snapshot` clean state).
const SNAPSHOT_DIR_NAME: &str = "snapshot";

/// The name of the saved boot's serial log, in `logs/`.
const SNAPSHOT_LOG_NAME: &str = "snapshot";

/// `target/campaigns`: where campaigns named on the command line live.
pub fn campaigns_root(paths: &Paths) -> PathBuf {
    paths.target.join(CAMPAIGNS_DIR_NAME)
}

/// One campaign's folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CampaignDir {
    path: PathBuf,
}

/// Holds a campaign's lock; dropping it releases the lock.
#[derive(Debug)]
pub struct CampaignLock {
    _file: File,
}

impl CampaignDir {
    /// The campaign in folder `path`.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        CampaignDir { path: path.into() }
    }

    /// The folder.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// `trials.jsonl`.
    pub fn results_file(&self) -> PathBuf {
        self.path.join(TRIALS_FILE_NAME)
    }

    /// `campaign.json`.
    pub fn manifest_file(&self) -> PathBuf {
        self.path.join(MANIFEST_FILE_NAME)
    }

    /// `logs/`.
    pub fn logs_dir(&self) -> PathBuf {
        self.path.join(LOGS_DIR_NAME)
    }

    /// `logs/ID-CONFIG.log`: the serial log of a trial's campaign boot.
    pub fn log_file(&self, key: TrialKey) -> PathBuf {
        self.logs_dir().join(format!("{}-{}.log", key.id, key.config))
    }

    /// `logs/ID-CONFIG.replay.log`: the serial log of its latest replay.
    pub fn replay_log_file(&self, key: TrialKey) -> PathBuf {
        self.logs_dir().join(format!("{}-{}.replay.log", key.id, key.config))
    }

    /// `snapshot/`: where a run keeps the machine it saved after boot.
    pub fn snapshot_dir(&self) -> PathBuf {
        self.path.join(SNAPSHOT_DIR_NAME)
    }

    /// `logs/snapshot.log`, or `logs/snapshot.replay.log` for a replay:
    /// the serial log of the boot that was saved.
    pub fn snapshot_log_file(&self, replay: bool) -> PathBuf {
        let suffix = if replay { ".replay" } else { "" };
        self.logs_dir().join(format!("{SNAPSHOT_LOG_NAME}{suffix}.log"))
    }

    /// Creates the folder and takes its lock, so that two runs never append
    /// to one results file at once. Fails at once if another process holds it.
    pub fn lock(&self) -> Result<CampaignLock, CampaignError> {
        let io_error = |what: &str, source| CampaignError::Io { what: format!("{what} {}", self.path.display()), source };
        fs::create_dir_all(&self.path).map_err(|e| io_error("creating", e))?;
        let lock_path = self.path.join(LOCK_FILE_NAME);
        let file = File::create(&lock_path).map_err(|e| io_error("creating the lock file in", e))?;
        match file.try_lock() {
            Ok(()) => Ok(CampaignLock { _file: file }),
            Err(TryLockError::WouldBlock) => Err(CampaignError::Locked { dir: self.path.clone() }),
            Err(TryLockError::Error(e)) => Err(io_error("locking", e)),
        }
    }

    /// Empties the folder but for its lock (`--fresh`): results, manifest,
    /// logs and report. Taking the lock first proves no run is using them.
    pub fn clear(&self, _lock: &CampaignLock) -> Result<(), CampaignError> {
        let io_error = |path: &Path, source| CampaignError::Io { what: format!("removing {}", path.display()), source };
        let entries = fs::read_dir(&self.path).map_err(|e| io_error(&self.path, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| io_error(&self.path, e))?;
            let path = entry.path();
            if entry.file_name() == LOCK_FILE_NAME {
                continue;
            }
            let is_dir = entry.file_type().map_err(|e| io_error(&path, e))?.is_dir();
            let removed = if is_dir { fs::remove_dir_all(&path) } else { fs::remove_file(&path) };
            match removed {
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(io_error(&path, e)),
                _ => {}
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fault_inject::{Config, TrialId};

    #[test]
    fn files_are_named_for_the_trial() {
        let dir = CampaignDir::new("/t/campaigns/quick");
        let key = TrialKey { id: TrialId(17), config: Config::NoRecovery };
        assert_eq!(dir.log_file(key), Path::new("/t/campaigns/quick/logs/17-none.log"));
        assert_eq!(dir.replay_log_file(key), Path::new("/t/campaigns/quick/logs/17-none.replay.log"));
        assert_eq!(dir.results_file(), Path::new("/t/campaigns/quick/trials.jsonl"));
        assert_eq!(dir.manifest_file(), Path::new("/t/campaigns/quick/campaign.json"));
        assert_eq!(dir.snapshot_dir(), Path::new("/t/campaigns/quick/snapshot"));
        assert_eq!(dir.snapshot_log_file(false), Path::new("/t/campaigns/quick/logs/snapshot.log"));
        assert_eq!(dir.snapshot_log_file(true), Path::new("/t/campaigns/quick/logs/snapshot.replay.log"));
    }

    #[test]
    fn a_second_run_is_locked_out_until_the_first_ends() {
        let temp = tempfile::tempdir().unwrap();
        let dir = CampaignDir::new(temp.path().join("c"));
        let first = dir.lock().unwrap();
        let error = dir.lock().unwrap_err();
        assert!(matches!(error, CampaignError::Locked { .. }), "{error}");
        assert!(error.to_string().contains("another"), "{error}");
        fs::create_dir_all(dir.logs_dir()).unwrap();
        fs::write(dir.results_file(), "{}\n").unwrap();
        dir.clear(&first).unwrap();
        let left: Vec<_> = fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(left, [LOCK_FILE_NAME]);
        drop(first);
        dir.lock().unwrap();
    }
}
