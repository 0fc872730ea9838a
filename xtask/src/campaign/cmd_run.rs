//! `cargo xtask campaign run`: boot every pending trial, record it, summarise, report.
//!
//! The steps: settle the campaign (name, manifest, options: `settings`),
//! lock its folder, read what is finished, plan what is pending, get QEMU
//! and the image ready (only if anything is pending), save the clean state
//! trials start from (`--clean-state snapshot`, the default), run the
//! pending trials in parallel (`scheduler`), then print the summary of the
//! whole campaign and write its report. The exit code is non-zero if any boot
//! could not be classified.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use campaign::{CleanState, ResultsWriter};
use indicatif::HumanDuration;

use crate::campaign::args::RunOptions;
use crate::campaign::error::CampaignError;
use crate::campaign::layout::{campaigns_root, CampaignDir};
use crate::campaign::manifest::Manifest;
use crate::campaign::outputs;
use crate::campaign::prepare;
use crate::campaign::progress::{Progress, ProgressMode};
use crate::campaign::qemu_executor;
use crate::campaign::scheduler::{run_trials, RunReport};
use crate::campaign::settings;
use crate::paths::Paths;
use crate::shell;

/// Seconds per hour, for the trials-per-hour figure.
const SECONDS_PER_HOUR: f64 = 3600.0;

/// Runs `cargo xtask campaign run`.
pub fn run(options: RunOptions) -> Result<ExitCode, CampaignError> {
    let paths = Paths::discover();
    let root = campaigns_root(&paths);
    let campaign = settings::campaign(&options)?;
    let label = campaign.label(&root);
    let dir = CampaignDir::new(campaign.dir(&root));
    let lock = dir.lock()?;
    if options.fresh {
        dir.clear(&lock)?;
        shell::note(format!("campaign: {label}: earlier results discarded (--fresh)"));
    }

    let recorded = Manifest::read(&dir.manifest_file())?;
    let resolved = settings::resolve(&options, recorded.as_ref())
        .map_err(|source| CampaignError::Settings { campaign: label.clone(), source })?;
    let manifest = resolved.manifest;
    let list = manifest.trial_list()?;
    let (mut writer, done) = ResultsWriter::open(&dir.results_file())?;
    if let Some(torn) = done.torn_tail {
        shell::note(format!("campaign: cut off an incomplete last line ({} bytes) left by a stopped run", torn.bytes));
    }
    let pending = list
        .pending(options.shard, &done.records)
        .map_err(|source| CampaignError::Resume { campaign: label.clone(), source })?;
    manifest.write(&dir.manifest_file())?;
    for extension in &resolved.extensions {
        shell::note(format!("campaign: {label}: extended, {extension}"));
    }
    let jobs = settings::jobs(&options);
    shell::note(format!(
        "campaign: {label} in {}: seed {}, {} trials x {} configurations{}; {} finished, {} to run, up to {} at once",
        shell::relative(dir.path(), &paths.root).display(),
        manifest.seed,
        manifest.trials,
        manifest.configs.len(),
        if options.shard.n() > 1 { format!(", shard {}", options.shard) } else { String::new() },
        done.records.len(),
        pending.len(),
        jobs.get().min(pending.len().max(1)),
    ));

    let clean_state = options.clean_state();
    let report = if pending.is_empty() {
        shell::note("campaign: nothing to run: every trial is finished");
        RunReport::default()
    } else {
        let machine = prepare::machine(&options.image, manifest.release, &dir.logs_dir())?;
        // The trials' time includes saving their clean state, once.
        let started = Instant::now();
        let executor = qemu_executor::prepare(machine, manifest.timeout(), clean_state, &dir, false)?;
        let mut progress = Progress::new(ProgressMode::detect(), pending.len() as u64);
        let result = run_trials(&executor, pending, jobs, &dir, &mut writer, &mut progress);
        progress.finish();
        RunReport { elapsed: started.elapsed(), ..result? }
    };
    drop(writer);
    drop(lock);

    let records = outputs::read_records(&dir.results_file())?;
    outputs::summarise(dir.path(), &label, &records)?;
    if report.boots() > 0 {
        let at_once = jobs.get().min(report.boots());
        shell::note(throughput(report.boots(), report.unclassified.len(), report.elapsed, at_once, clean_state));
    }
    if report.unclassified.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    shell::error(format!(
        "{} boot(s) could not be classified and were not recorded; run the same command again to retry them:",
        report.unclassified.len()
    ));
    for unclassified in &report.unclassified {
        eprintln!("  {}", unclassified.message());
    }
    Ok(ExitCode::FAILURE)
}

/// `campaign: this run: N trials (M not classified) in T with J QEMU(s) at once, CLEAN STATE: R trials/hour`.
fn throughput(boots: usize, unclassified: usize, elapsed: Duration, jobs: usize, clean_state: CleanState) -> String {
    let hours = elapsed.as_secs_f64() / SECONDS_PER_HOUR;
    let per_hour = if hours > 0.0 { boots as f64 / hours } else { 0.0 };
    let unclassified = match unclassified {
        0 => String::new(),
        n => format!(" ({n} not classified)"),
    };
    // Whole seconds: a campaign's length needs no milliseconds.
    let elapsed = HumanDuration(Duration::from_secs(elapsed.as_secs()));
    let start = match clean_state {
        CleanState::Boot => "each booted",
        CleanState::Snapshot => "each restored from a snapshot",
    };
    format!(
        "campaign: this run: {boots} trials{unclassified} in {elapsed} with {jobs} QEMU(s) at once, {start}: \
         {per_hour:.0} trials/hour"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throughput_is_trials_per_hour_of_wall_clock() {
        let text = throughput(60, 0, Duration::from_secs(1800), 2, CleanState::Boot);
        assert_eq!(
            text,
            "campaign: this run: 60 trials in 30 minutes with 2 QEMU(s) at once, each booted: 120 trials/hour"
        );
        let text = throughput(3, 1, Duration::from_millis(2500), 3, CleanState::Snapshot);
        assert!(text.starts_with("campaign: this run: 3 trials (1 not classified) in 2 seconds"), "{text}");
        assert!(text.ends_with("at once, each restored from a snapshot: 4320 trials/hour"), "{text}");
    }
}
