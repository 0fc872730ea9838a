//! One finished boot, turned into its trial record.

use std::time::Duration;

use crate::classify::{classify, ClassifyError, TrialEnd};
use crate::excerpt::log_excerpt;
use crate::guest_report::GuestReport;
use crate::record::TrialRecord;
use crate::trial_list::Trial;

/// Reads the serial log of `trial`'s boot, classifies it, and makes the
/// record to append to `trials.jsonl`. `duration` is the host wall-clock
/// time of the boot. An error means the boot is not a valid trial (see
/// `classify`): report it, keep the log, and do not record it, so a resume
/// runs it again.
pub fn evaluate(trial: &Trial, end: TrialEnd, serial_log: &str, duration: Duration) -> Result<TrialRecord, ClassifyError> {
    let report = GuestReport::from_log(serial_log);
    let outcome = classify(trial, end, &report)?;
    Ok(TrialRecord::new(trial, outcome, &report, log_excerpt(serial_log), duration))
}
