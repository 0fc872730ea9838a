//! The terminal tables: the campaign summary and a comparison's transitions.
//!
//! Plain ASCII borders, so the tables survive CI logs, e-mail and
//! `less` unchanged; no colours, for the same reason.

use comfy_table::presets::ASCII_FULL_CONDENSED;
use comfy_table::{CellAlignment, ContentArrangement, Table};

use crate::compare::Comparison;
use crate::outcome::Outcome;
use crate::summary::Summary;

/// The outcomes that get a column of their own: all but not-activated,
/// which is `trials - activated` and listed first in `Outcome::ALL`.
const OUTCOME_COLUMNS: &[Outcome] = Outcome::ALL.split_at(1).1;
const _: () = assert!(matches!(Outcome::ALL[0], Outcome::NotActivated));

/// Label of a configuration's row over all models.
const ALL_MODELS: &str = "all";

fn new_table(header: Vec<String>) -> Table {
    let mut table = Table::new();
    table.load_style(ASCII_FULL_CONDENSED).set_content_arrangement(ContentArrangement::Disabled).force_no_tty();
    table.set_header(header);
    table
}

fn right_align_from(table: &mut Table, first_numeric: usize) {
    for column in table.column_iter_mut().skip(first_numeric) {
        column.set_cell_alignment(CellAlignment::Right);
    }
}

/// One row per configuration and model, then the configuration's total:
/// trials, activated, each outcome but not-activated, and the recovery
/// rate with its Wilson 95 % interval and counts.
pub fn summary_table(summary: &Summary) -> Table {
    let mut header = vec!["config".to_owned(), "model".to_owned(), "trials".to_owned(), "activated".to_owned()];
    header.extend(OUTCOME_COLUMNS.iter().map(|o| o.name().to_owned()));
    header.push("recovery rate [95% CI] (recovered/activated)".to_owned());
    let mut table = new_table(header);
    for row in summary.rows() {
        let mut cells = vec![
            row.config.to_string(),
            row.model.map_or_else(|| ALL_MODELS.to_owned(), |m| m.to_string()),
            row.counts.trials().to_string(),
            row.counts.activated().to_string(),
        ];
        cells.extend(OUTCOME_COLUMNS.iter().map(|&o| row.counts.get(o).to_string()));
        cells.push(row.rate().to_string());
        table.add_row(cells);
    }
    right_align_from(&mut table, 2);
    table
}

/// One row per configuration and transition `A → B` that occurred,
/// unchanged outcomes included, with the number of trials.
pub fn comparison_table(comparison: &Comparison) -> Table {
    let header = ["config", "outcome in A", "outcome in B", "trials", ""].map(str::to_owned).to_vec();
    let mut table = new_table(header);
    for (config, transitions) in &comparison.transitions {
        for ((before, after), count) in transitions {
            let mark = if before == after { "" } else { "changed" };
            table.add_row(vec![
                config.to_string(),
                before.to_string(),
                after.to_string(),
                count.to_string(),
                mark.to_owned(),
            ]);
        }
    }
    right_align_from(&mut table, 3);
    table
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::compare;
    use crate::record::tests::record;
    use fault_inject::Config;

    #[test]
    fn the_summary_table_shows_counts_and_the_rate_with_its_interval() {
        let mut records: Vec<_> = (0..8).map(|i| record(i, Config::Unwind, Outcome::Recovered)).collect();
        records.push(record(8, Config::Unwind, Outcome::Hang));
        records.push(record(9, Config::Unwind, Outcome::ClientError));
        records.push(record(10, Config::Unwind, Outcome::NotActivated));
        let text = summary_table(&Summary::from_records(&records)).to_string();
        for expected in ["config", "recovered-leaky", "kernel-crash", "unwind", "panic", "all"] {
            assert!(text.contains(expected), "{expected} missing:\n{text}");
        }
        // 8 of 10 activated: Wilson [49.0%, 94.3%].
        assert!(text.contains("80.0% [49.0%, 94.3%] (8/10)"), "{text}");
        let panic_row = text.lines().find(|l| l.contains("panic")).unwrap();
        let cells: Vec<&str> = panic_row.split('|').map(str::trim).filter(|c| !c.is_empty()).collect();
        assert_eq!(cells[..10], ["unwind", "panic", "11", "10", "8", "0", "1", "0", "1", "0"]);
        assert!(text.is_ascii(), "ASCII only:\n{text}");
    }

    #[test]
    fn the_comparison_table_lists_each_transition_once() {
        let a = [record(0, Config::Unwind, Outcome::ClientError), record(1, Config::Unwind, Outcome::ClientError)];
        let b = [record(0, Config::Unwind, Outcome::Recovered), record(1, Config::Unwind, Outcome::Recovered)];
        let text = comparison_table(&compare(&a, &b).unwrap()).to_string();
        let row = text.lines().find(|l| l.contains("client-error")).unwrap();
        let cells: Vec<&str> = row.split('|').map(str::trim).filter(|c| !c.is_empty()).collect();
        assert_eq!(cells, ["unwind", "client-error", "recovered", "2", "changed"]);
    }
}
