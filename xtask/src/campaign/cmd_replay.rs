//! `cargo xtask campaign replay ID`: one trial of a campaign, booted again alone.
//!
//! The trial comes from the campaign's manifest (the same plan gives the
//! same fault and command line), and boots with the campaign's build and
//! timeout, from the clean state its record names (`--clean-state`
//! chooses; `boot` for a trial with no record). Its serial console is
//! printed as it comes (and kept in `logs/ID-CONFIG.replay.log`), then its
//! outcome is compared with the recorded one. The results file is only
//! read: a replay never changes it.

use std::io;
use std::process::ExitCode;

use campaign::{evaluate, read_results, CleanState, Outcome, TrialListError};

use crate::campaign::args::ReplayArgs;
use crate::campaign::error::CampaignError;
use crate::campaign::executor::{trial_cmdline, TrialExecutor};
use crate::campaign::follow;
use crate::campaign::layout::{campaigns_root, CampaignDir};
use crate::campaign::manifest::Manifest;
use crate::campaign::prepare;
use crate::campaign::qemu_executor;
use crate::paths::Paths;
use crate::shell;

/// Runs `cargo xtask campaign replay`.
pub fn run(args: ReplayArgs) -> Result<ExitCode, CampaignError> {
    let root = campaigns_root(&Paths::discover());
    let label = args.name.label(&root);
    let dir = CampaignDir::new(args.name.dir(&root));
    let manifest_path = dir.manifest_file();
    let manifest = Manifest::read(&manifest_path)?.ok_or(CampaignError::NoManifest { path: manifest_path })?;
    let list = manifest.trial_list()?;
    let config = match args.config {
        Some(config) => config,
        None => *list.configs().first().ok_or(TrialListError::NoConfigs)?,
    };
    let trial = list.trial(args.id, config)?;
    let key = trial.key();
    let recorded = read_results(&dir.results_file())?.records.into_iter().find(|r| r.key() == key);
    let cmdline = trial_cmdline(&trial).map_err(|e| CampaignError::Boot { key, source: e.into() })?;
    let clean_state = args
        .clean_state
        .or_else(|| recorded.as_ref().and_then(|r| r.clean_state))
        .unwrap_or(CleanState::Boot);
    shell::note(format!(
        "campaign: replaying trial {key} of {label}: {}; recorded outcome: {}",
        trial.spec.injection,
        recorded.as_ref().map_or_else(|| "none".to_owned(), |r| r.outcome.to_string())
    ));
    shell::note(format!("campaign: boot options: {cmdline}; clean state: {clean_state}"));

    let machine = prepare::machine(&args.image, manifest.release, &dir.logs_dir())?;
    let executor = qemu_executor::prepare(machine, manifest.timeout(), clean_state, &dir, true)?;
    let log_path = dir.replay_log_file(key);
    // The follower must not show the previous replay's log.
    match std::fs::remove_file(&log_path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => {
            return Err(CampaignError::Io { what: format!("removing {}", log_path.display()), source: e });
        }
        _ => {}
    }
    let execution = follow::while_running(&log_path, &mut io::stdout(), || executor.execute(&trial, &log_path))
        .map_err(|source| CampaignError::Boot { key, source })?;

    let outcome = match evaluate(&trial, execution.end, &execution.serial_log, execution.duration) {
        Ok(record) => record.outcome,
        Err(error) => {
            shell::error(format!("trial {key} not classified: {error}\n    log: {}", log_path.display()));
            return Ok(ExitCode::FAILURE);
        }
    };
    let (verdict, code) = verdict(outcome, recorded.map(|r| r.outcome));
    println!("trial {key}: {outcome} ({verdict}); log: {}", log_path.display());
    Ok(code)
}

/// What a replay's outcome says against the recorded one, and the exit code.
fn verdict(outcome: Outcome, recorded: Option<Outcome>) -> (String, ExitCode) {
    match recorded {
        Some(recorded) if recorded == outcome => ("the same as recorded".to_owned(), ExitCode::SUCCESS),
        Some(recorded) => (format!("DIFFERS from the recorded {recorded}"), ExitCode::FAILURE),
        None => ("no recorded outcome to compare with".to_owned(), ExitCode::SUCCESS),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_different_outcome_fails() {
        assert_eq!(verdict(Outcome::Hang, Some(Outcome::Hang)).1, ExitCode::SUCCESS);
        let (text, code) = verdict(Outcome::Sdc, Some(Outcome::Recovered));
        assert_eq!((text.as_str(), code), ("DIFFERS from the recorded recovered", ExitCode::FAILURE));
        assert_eq!(verdict(Outcome::Sdc, None).1, ExitCode::SUCCESS);
    }
}
