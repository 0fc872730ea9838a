//! `cargo xtask campaign compare A B`: two campaigns of one plan, trial by trial.
//!
//! The pairing and the counting are `campaign::compare`'s; this prints the
//! transition table, the trials that changed (the ones worth a replay) and
//! the trials only one side has.

use std::fmt::Display;
use std::process::ExitCode;

use campaign::{compare, comparison_table};

use crate::campaign::args::CompareArgs;
use crate::campaign::error::CampaignError;
use crate::campaign::layout::campaigns_root;
use crate::campaign::outputs;
use crate::paths::Paths;

/// Changed trials listed one by one; past this, only their number.
const CHANGES_SHOWN: usize = 20;

/// Trials only one side has, listed by key; past this, only their number.
const UNPAIRED_SHOWN: usize = 10;

/// Runs `cargo xtask campaign compare`.
pub fn run(args: CompareArgs) -> Result<ExitCode, CampaignError> {
    let root = campaigns_root(&Paths::discover());
    let (a_label, b_label) = (args.a.label(&root), args.b.label(&root));
    let a = outputs::read_records(&args.a.results_file(&root))?;
    let b = outputs::read_records(&args.b.results_file(&root))?;
    let comparison = compare(&a, &b)?;
    println!(
        "A = {a_label}, B = {b_label}: {} trials in both, {} changed outcome",
        comparison.paired(),
        comparison.changes.len()
    );
    println!("{}", comparison_table(&comparison));
    if !comparison.changes.is_empty() {
        println!("changed:");
        for change in comparison.changes.iter().take(CHANGES_SHOWN) {
            println!("  {}: {} -> {}", change.key, change.before, change.after);
        }
        more(comparison.changes.len(), CHANGES_SHOWN);
        println!("(replay one with `cargo xtask campaign replay ID --config CONFIG --name {b_label}`)");
    }
    unpaired(&a_label, &comparison.only_in_a);
    unpaired(&b_label, &comparison.only_in_b);
    Ok(ExitCode::SUCCESS)
}

/// `N trials only in NAME: k, k, ...`, if there are any.
fn unpaired(label: &str, keys: &[impl Display]) {
    if keys.is_empty() {
        return;
    }
    let shown: Vec<String> = keys.iter().take(UNPAIRED_SHOWN).map(ToString::to_string).collect();
    let rest = if keys.len() > UNPAIRED_SHOWN { ", ..." } else { "" };
    println!("{} trial(s) only in {label}: {}{rest}", keys.len(), shown.join(", "));
}

fn more(total: usize, shown: usize) {
    if total > shown {
        println!("  ... and {} more", total - shown);
    }
}
