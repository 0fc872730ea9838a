//! The `bench:` lines the guest prints, read into figures and shown as a
//! table.
//!
//! A line is `bench: NAME median=N p90=N [p99=N] min=N samples=N`, in time-stamp
//! counter ticks of the guest; `bench: end` closes the set. Under QEMU's
//! `-icount shift=0` (which `cargo xtask bench` uses) one tick is one guest
//! instruction.

use std::fmt::Write as _;

/// One benchmark's figures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BenchResult {
    /// Its name.
    pub name: String,
    /// Median, in ticks.
    pub median: u64,
    /// 90th percentile, in ticks.
    pub p90: u64,
    /// 99th percentile, in ticks, if the guest reported it.
    pub p99: Option<u64>,
    /// Minimum, in ticks.
    pub min: u64,
    /// Number of samples.
    pub samples: u64,
}

/// What a benchmark boot printed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct BenchRun {
    /// The results, in the order printed.
    pub results: Vec<BenchResult>,
    /// `bench:` lines that are not results (errors the guest reported).
    pub problems: Vec<String>,
    /// True if `bench: end` was seen.
    pub ended: bool,
}

const PREFIX: &str = "bench: ";

/// Reads every `bench:` line of a boot's console output.
pub fn parse<'a>(lines: impl IntoIterator<Item = &'a str>) -> BenchRun {
    let mut run = BenchRun::default();
    for line in lines {
        let Some(rest) = line.trim_end().strip_prefix(PREFIX) else { continue };
        if rest == "end" {
            run.ended = true;
        } else {
            match parse_result(rest) {
                Some(r) => run.results.push(r),
                None => run.problems.push(rest.to_owned()),
            }
        }
    }
    run
}

fn parse_result(rest: &str) -> Option<BenchResult> {
    let mut words = rest.split_whitespace();
    let name = words.next()?.to_owned();
    let (mut median, mut p90, mut p99, mut min, mut samples) = (None, None, None, None, None);
    for word in words {
        let (key, value) = word.split_once('=')?;
        let value: u64 = value.parse().ok()?;
        match key {
            "median" => median = Some(value),
            "p90" => p90 = Some(value),
            "p99" => p99 = Some(value),
            "min" => min = Some(value),
            "samples" => samples = Some(value),
            _ => return None,
        }
    }
    Some(BenchResult { name, median: median?, p90: p90?, p99, min: min?, samples: samples? })
}

/// The results as an aligned text table.
pub fn table(results: &[BenchResult]) -> String {
    let width = results.iter().map(|r| r.name.len()).max().unwrap_or(0).max("benchmark".len());
    let mut out = format!(
        "{:<width$}  {:>10}  {:>10}  {:>10}  {:>10}  {:>7}\n",
        "benchmark", "median", "p90", "p99", "min", "samples"
    );
    for r in results {
        let p99 = r.p99.map_or_else(|| "-".to_owned(), |p| p.to_string());
        let _ = writeln!(out, "{:<width$}  {:>10}  {:>10}  {:>10}  {:>10}  {:>7}", r.name, r.median, r.p90, p99, r.min, r.samples);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_results_between_log_lines() {
        let out = [
            "[ 0.1] INFO boot",
            "bench: null_syscall median=412 p90=430 min=400 samples=2001\r",
            "hello",
            "bench: restart_fs median=90000 p90=95000 p99=99000 min=80000 samples=1000",
            "bench: the user benchmarks failed: Err(..)",
            "bench: end",
        ];
        let run = parse(out);
        assert!(run.ended);
        assert_eq!(run.results.len(), 2);
        assert_eq!(
            run.results[0],
            BenchResult { name: "null_syscall".into(), median: 412, p90: 430, p99: None, min: 400, samples: 2001 }
        );
        assert_eq!(run.results[1].p99, Some(99000));
        assert_eq!(run.problems, ["the user benchmarks failed: Err(..)"]);
    }

    #[test]
    fn incomplete_lines_are_problems_and_missing_end_is_noticed() {
        let run = parse(["bench: x median=1 p90=2", "bench: y median=a p90=1 min=1 samples=1"]);
        assert!(!run.ended);
        assert!(run.results.is_empty());
        assert_eq!(run.problems.len(), 2);
    }

    #[test]
    fn table_aligns_columns() {
        let t = table(&[
            BenchResult { name: "n".into(), median: 5, p90: 6, p99: None, min: 4, samples: 3 },
            BenchResult { name: "longer".into(), median: 5, p90: 6, p99: Some(7), min: 4, samples: 3 },
        ]);
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(lines.iter().all(|l| l.len() == lines[0].len()));
    }
}
