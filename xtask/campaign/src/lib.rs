//! Host side of fault-injection campaigns: trial lists, classification, statistics, results files, comparison and reports.
//!
//! A campaign boots the guest once per trial and configuration, with one
//! fault planned by `fault-inject`; the guest reports what happened on its
//! serial console, and this crate turns that into numbers a researcher can
//! publish. The QEMU side (booting, timing out, parallelism, the progress
//! bar and the `cargo xtask campaign` command line) lives in `xtask`; it
//! calls in here for everything else:
//!
//! - [`TrialList`]: the trials of a campaign or of one shard, and which are
//!   still to run when a campaign resumes; [`CleanState`]: whether a trial
//!   booted or restored a snapshot taken after boot;
//! - [`GuestReport`] and [`classify`] (through [`evaluate`]): the guest's
//!   `campaign:` lines and the end of the boot, turned into an [`Outcome`];
//! - [`ResultsWriter`], [`read_results`], [`merge_files`]: the
//!   `trials.jsonl` file, one [`TrialRecord`] per line;
//! - [`Summary`], [`WilsonInterval`], [`compare`], [`write_report`]: the
//!   tables, intervals, trial-by-trial comparisons and HTML report.
//!
//! Design principles:
//! - pure where it can be: everything but the results file and the report
//!   writer works on values, so the classifier is tested on recorded logs
//!   and the statistics on known values, without QEMU;
//! - a trial is counted only when it is understood: a boot that breaks the
//!   protocol, or fails without any fault, is a typed error that names the
//!   cause, never a guessed outcome that would bias the rates;
//! - results files are append-only and self-checking: every record carries
//!   its fault, so a resume, a merge or a comparison can verify that it is
//!   combining trials of the same plan;
//! - well-kept crates for the generic parts (serde, comfy-table, minijinja,
//!   plotters); the code here is the campaign's own logic.

mod classify;
mod clean_state;
mod compare;
mod counts;
mod evaluate;
mod excerpt;
mod guest_line;
mod guest_report;
mod merge;
mod outcome;
mod record;
mod report;
mod report_charts;
mod results_file;
mod stats;
mod summary;
mod summary_table;
mod trial_list;

pub use classify::{classify, ClassifyError, TrialEnd, GUEST_EXIT_FAILURE, GUEST_EXIT_SUCCESS};
pub use clean_state::{CleanState, UnknownCleanState};
pub use compare::{compare, Change, CompareError, Comparison};
pub use counts::OutcomeCounts;
pub use evaluate::evaluate;
pub use excerpt::{log_excerpt, EXCERPT_MAX_BYTES};
pub use guest_line::{
    parse_line, Armed, Detection, DetectionKind, GuestLine, GuestLineError, Recovery, Verdict,
    WorkloadVerdict, MARKER,
};
pub use guest_report::{GuestReport, KernelPanic, ProtocolProblem, KERNEL_PANIC_MARKER};
pub use merge::{merge_files, merge_records, MergeError, MergeSummary};
pub use outcome::{Outcome, UnknownOutcome};
pub use record::{TrialKey, TrialRecord};
pub use report::{write_report, ReportError, ReportFiles};
pub use results_file::{read_results, ReadBack, ResultsError, ResultsWriter, TornTail, TRIALS_FILE_NAME};
pub use stats::{StatsError, WilsonInterval, Z_95};
pub use summary::{Summary, SummaryRow};
pub use summary_table::{comparison_table, summary_table};
pub use trial_list::{ResumeError, Trial, TrialList, TrialListError};
