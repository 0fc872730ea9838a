//! What every campaign command shows of its results: the records read back, the summary table, the report.
//!
//! The table and the report are the `campaign` crate's (`summary_table`,
//! `write_report`); this file only reads, prints and says where things went.

use std::path::Path;

use campaign::{read_results, summary_table, write_report, ReportFiles, Summary, TrialRecord};

use crate::campaign::error::CampaignError;
use crate::shell;

/// The records of a results file, which must exist. A torn last line (a
/// run that was killed) is left out, with a note.
pub fn read_records(path: &Path) -> Result<Vec<TrialRecord>, CampaignError> {
    if !path.is_file() {
        return Err(CampaignError::NoResults { path: path.to_owned() });
    }
    let read = read_results(path)?;
    if let Some(torn) = read.torn_tail {
        shell::note(format!(
            "campaign: {}:{}: an incomplete last line ({} bytes, from a run that was stopped) is left out",
            path.display(),
            torn.line,
            torn.bytes
        ));
    }
    Ok(read.records)
}

/// Prints how many trials campaign `label` has and its summary table, then
/// writes its report into `dir`: how every command that changes results ends.
pub fn summarise(dir: &Path, label: &str, records: &[TrialRecord]) -> Result<ReportFiles, CampaignError> {
    println!("campaign {label}: {} trials recorded", records.len());
    print_summary(records);
    report(dir, label, records)
}

/// Prints the summary table of `records` on stdout: per configuration and
/// model, the outcome counts and the recovery rate with its Wilson 95 %
/// interval.
pub fn print_summary(records: &[TrialRecord]) {
    println!("{}", summary_table(&Summary::from_records(records)));
}

/// Writes the report of campaign `label` into `dir` and says where.
pub fn report(dir: &Path, label: &str, records: &[TrialRecord]) -> Result<ReportFiles, CampaignError> {
    let files = write_report(dir, label, records)?;
    shell::note(format!(
        "campaign: report written to {} (charts: {}, {}, {})",
        files.html.display(),
        file_name(&files.rates_svg),
        file_name(&files.outcomes_svg),
        file_name(&files.latency_svg)
    ));
    Ok(files)
}

fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned())
}
