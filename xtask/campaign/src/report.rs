//! The HTML report: summary tables and SVG charts, written to a directory.
//!
//! `write_report` writes `index.html` (tables, and the charts inline so
//! the page is one self-contained file) and each chart as its own SVG file
//! (`rates.svg`, `outcomes.svg`, `latency.svg`) for papers and slides. The
//! page is a minijinja template (`templates/report.html`), compiled into
//! the crate; its values are HTML-escaped, the charts are inserted as they
//! are.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use minijinja::value::Serde;
use minijinja::Environment;
use serde::Serialize;

use crate::outcome::Outcome;
use crate::record::TrialRecord;
use crate::report_charts::{draw_charts, ChartError};
use crate::stats::Z_95;
use crate::summary::Summary;

/// The page template; its `.html` name turns on HTML escaping.
const TEMPLATE_NAME: &str = "report.html";
const TEMPLATE: &str = include_str!("../templates/report.html");

/// File names inside the report directory.
const HTML_FILE: &str = "index.html";
const RATES_FILE: &str = "rates.svg";
const OUTCOMES_FILE: &str = "outcomes.svg";
const LATENCY_FILE: &str = "latency.svg";

/// Percent per unit, for display.
const PERCENT: f64 = 100.0;

/// Nanoseconds per microsecond: latencies are shown in µs.
const NS_PER_US: u64 = 1_000;

/// Percentile shown beside the median.
const HIGH_PERCENTILE: u64 = 90;

/// Label of a configuration's row over all models.
const ALL_MODELS: &str = "all";

/// Why the report could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// A chart could not be drawn.
    #[error(transparent)]
    Chart(#[from] ChartError),
    /// The template could not be rendered.
    #[error("cannot render the report page: {0}")]
    Template(#[from] minijinja::Error),
    /// A file could not be written.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The error.
        source: io::Error,
    },
}

/// The files a report consists of.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportFiles {
    /// The page.
    pub html: PathBuf,
    /// The recovery-rate chart.
    pub rates_svg: PathBuf,
    /// The outcome-breakdown chart.
    pub outcomes_svg: PathBuf,
    /// The latency histogram.
    pub latency_svg: PathBuf,
}

#[derive(Serialize)]
struct Page<'a> {
    name: &'a str,
    trials: u64,
    z: f64,
    configs: Vec<String>,
    models: Vec<String>,
    outcome_names: Vec<&'static str>,
    rows: Vec<RowView>,
    latency: Vec<LatencyView>,
    charts: ChartsView<'a>,
}

#[derive(Serialize)]
struct RowView {
    config: String,
    model: String,
    total: bool,
    trials: u64,
    activated: u64,
    counts: Vec<u64>,
    recovered: u64,
    rate: String,
    interval: String,
}

#[derive(Serialize)]
struct LatencyView {
    config: String,
    count: usize,
    median_us: u64,
    p90_us: u64,
    max_us: u64,
}

#[derive(Serialize)]
struct ChartsView<'a> {
    rates: &'a str,
    outcomes: &'a str,
    latency: &'a str,
}

/// Writes the report of the campaign `name` (its `records`) into `dir`,
/// creating it if needed.
pub fn write_report(dir: &Path, name: &str, records: &[TrialRecord]) -> Result<ReportFiles, ReportError> {
    let summary = Summary::from_records(records);
    let charts = draw_charts(&summary)?;
    let page = Page {
        name,
        trials: records.len() as u64,
        z: Z_95,
        configs: summary.configs().iter().map(ToString::to_string).collect(),
        models: summary.models().iter().map(ToString::to_string).collect(),
        outcome_names: Outcome::ALL.iter().map(|o| o.name()).collect(),
        rows: summary.rows().iter().map(row_view).collect(),
        latency: summary
            .configs()
            .into_iter()
            .filter_map(|config| latency_view(config.to_string(), summary.latencies(config)))
            .collect(),
        charts: ChartsView { rates: &charts.rates, outcomes: &charts.outcomes, latency: &charts.latency },
    };
    let mut env = Environment::new();
    env.add_template(TEMPLATE_NAME, TEMPLATE)?;
    let html = env.get_template(TEMPLATE_NAME)?.render(Serde(&page))?;

    fs::create_dir_all(dir).map_err(|source| ReportError::Io { path: dir.to_owned(), source })?;
    let files = ReportFiles {
        html: dir.join(HTML_FILE),
        rates_svg: dir.join(RATES_FILE),
        outcomes_svg: dir.join(OUTCOMES_FILE),
        latency_svg: dir.join(LATENCY_FILE),
    };
    for (path, contents) in [
        (&files.html, &html),
        (&files.rates_svg, &charts.rates),
        (&files.outcomes_svg, &charts.outcomes),
        (&files.latency_svg, &charts.latency),
    ] {
        fs::write(path, contents).map_err(|source| ReportError::Io { path: path.clone(), source })?;
    }
    Ok(files)
}

fn row_view(row: &crate::summary::SummaryRow) -> RowView {
    let rate = row.rate();
    RowView {
        config: row.config.to_string(),
        model: row.model.map_or_else(|| ALL_MODELS.to_owned(), |m| m.to_string()),
        total: row.model.is_none(),
        trials: row.counts.trials(),
        activated: row.counts.activated(),
        counts: Outcome::ALL.iter().map(|&o| row.counts.get(o)).collect(),
        recovered: row.counts.get(Outcome::Recovered),
        rate: rate.estimate().map_or_else(|| "n/a".to_owned(), |p| format!("{:.1}%", p * PERCENT)),
        interval: match rate.estimate() {
            Some(_) => format!("[{:.1}%, {:.1}%]", rate.low() * PERCENT, rate.high() * PERCENT),
            None => "n/a".to_owned(),
        },
    }
}

fn latency_view(config: String, latencies: &[u64]) -> Option<LatencyView> {
    let mut sorted = latencies.to_vec();
    sorted.sort_unstable();
    let max = *sorted.last()?;
    Some(LatencyView {
        config,
        count: sorted.len(),
        median_us: nearest_rank(&sorted, 50) / NS_PER_US,
        p90_us: nearest_rank(&sorted, HIGH_PERCENTILE) / NS_PER_US,
        max_us: max / NS_PER_US,
    })
}

/// The nearest-rank percentile of a sorted, non-empty slice: the smallest
/// value with at least `percent` % of the values at or below it.
fn nearest_rank(sorted: &[u64], percent: u64) -> u64 {
    let n = sorted.len() as u64;
    let rank = (percent * n).div_ceil(100).max(1);
    // rank is in 1..=n, so the index is in bounds.
    sorted[(rank - 1) as usize]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::tests::record;
    use fault_inject::{Config, Model};

    fn campaign() -> Vec<TrialRecord> {
        let mut records = Vec::new();
        for i in 0..10 {
            let outcome = if i < 8 { Outcome::Recovered } else { Outcome::ClientError };
            records.push(record(i, Config::Unwind, outcome));
            records.push(record(i, Config::NoRecovery, if i < 3 { Outcome::NotActivated } else { Outcome::Hang }));
        }
        let mut memflip = record(20, Config::Unwind, Outcome::Sdc);
        memflip.model = Model::Memflip;
        memflip.location = "heap.12.3".parse().unwrap();
        memflip.trigger = "ticks.4".parse().unwrap();
        records.push(memflip);
        records
    }

    #[test]
    fn writes_the_page_and_the_three_charts_with_the_campaigns_numbers() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("campaigns").join("demo");
        let files = write_report(&out, "demo <1>", &campaign()).unwrap();
        for path in [&files.html, &files.rates_svg, &files.outcomes_svg, &files.latency_svg] {
            assert!(path.starts_with(&out) && path.is_file(), "{path:?}");
        }
        let html = fs::read_to_string(&files.html).unwrap();
        assert!(html.contains("Campaign demo &lt;1&gt;"), "the name is escaped");
        assert!(html.contains("21 trials"));
        // unwind/panic: 8 recovered of 10 activated.
        assert!(html.contains("80.0%") && html.contains("[49.0%, 94.3%]") && html.contains("8/10"));
        // none/panic: 0 of 7 activated: [0.0%, 35.4%].
        assert!(html.contains("0.0%") && html.contains("[0.0%, 35.4%]") && html.contains("0/7"));
        // unwind/memflip: 0 of 1.
        assert!(html.contains("0/1"));
        for label in ["recovered-leaky", "kernel-crash", "not-activated", "unwind", "none", "memflip"] {
            assert!(html.contains(label), "{label} missing");
        }
        assert_eq!(html.matches("<svg").count(), 3, "three inline charts");
        // Latencies 50..57 µs: median (nearest rank) 53, p90 57.
        assert!(html.contains("<td class=\"n\">53</td>") && html.contains("<td class=\"n\">57</td>"), "{html}");

        let rates = fs::read_to_string(&files.rates_svg).unwrap();
        assert!(rates.starts_with("<svg") && rates.contains("panic") && rates.contains("memflip"));
        assert!(rates.contains("unwind") && rates.contains("none"), "legend");
        let outcomes = fs::read_to_string(&files.outcomes_svg).unwrap();
        assert!(outcomes.contains("panic · unwind") && outcomes.contains("memflip · none"));
        assert!(outcomes.contains("client-error") && outcomes.contains("sdc"));
        let latency = fs::read_to_string(&files.latency_svg).unwrap();
        assert!(latency.contains("Recovery latency") && latency.contains("µs"));
    }

    #[test]
    fn a_campaign_without_recoveries_still_gets_a_report() {
        let dir = tempfile::tempdir().unwrap();
        let records = [record(0, Config::NoRecovery, Outcome::Hang)];
        let files = write_report(dir.path(), "none-only", &records).unwrap();
        let html = fs::read_to_string(&files.html).unwrap();
        assert!(html.contains("No trial recovered"));
        assert!(fs::read_to_string(&files.latency_svg).unwrap().contains("no recovered trials"));
    }

    #[test]
    fn nearest_rank_percentiles() {
        let values: Vec<u64> = (1..=10).collect();
        assert_eq!(nearest_rank(&values, 50), 5);
        assert_eq!(nearest_rank(&values, 90), 9);
        assert_eq!(nearest_rank(&values, 100), 10);
        assert_eq!(nearest_rank(&[7], 50), 7);
    }
}
