//! `cargo xtask campaign report`: the summary table and the HTML report, from the results file alone.

use std::process::ExitCode;

use crate::campaign::args::ReportArgs;
use crate::campaign::error::CampaignError;
use crate::campaign::layout::campaigns_root;
use crate::campaign::outputs;
use crate::paths::Paths;

/// Runs `cargo xtask campaign report`.
pub fn run(args: ReportArgs) -> Result<ExitCode, CampaignError> {
    let root = campaigns_root(&Paths::discover());
    let records = outputs::read_records(&args.name.results_file(&root))?;
    outputs::summarise(&args.name.dir(&root), &args.name.label(&root), &records)?;
    Ok(ExitCode::SUCCESS)
}
