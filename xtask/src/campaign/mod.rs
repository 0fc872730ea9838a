//! `cargo xtask campaign`: fault-injection campaigns in QEMU, and their results.
//!
//! `run` starts QEMU once per trial and configuration, in parallel, with
//! each trial's fault on the boot command line (booting, or restoring a
//! machine saved once after boot: `snapshot`), and hands every
//! finished boot to the `campaign` crate, which classifies it and appends
//! it to `target/campaigns/NAME/trials.jsonl`; `replay` reruns one trial
//! alone; `report`, `compare` and `merge` work on finished results. All the
//! campaign logic (plan, classifier, statistics, results file, report)
//! lives in the `campaign` crate; this module owns the QEMU boots, the
//! parallelism, the progress display, the campaign directory and the
//! command line.

mod args;
mod cmd_compare;
mod cmd_merge;
mod cmd_replay;
mod cmd_report;
mod cmd_run;
mod defaults;
mod error;
mod executor;
mod follow;
mod layout;
mod manifest;
mod name;
mod outputs;
mod prepare;
mod progress;
mod qemu_executor;
mod qmp;
mod scheduler;
mod settings;
mod snapshot;

pub use args::CampaignArgs;
pub use error::CampaignError;
