//! The campaign's progress: a live bar on a terminal, a plain line now and then elsewhere.
//!
//! On a terminal, an `indicatif` bar shows done/total, the ETA and the
//! outcome counts so far, and messages (a trial that could not be
//! classified) print above it. Without one (a pipe, a log file, `CI` set),
//! a bar would only litter the log, so one plain line is printed every
//! [`PLAIN_EVERY`] trials and at the end instead.

use std::io::{self, IsTerminal};
use std::time::{Duration, Instant};

use campaign::{Outcome, OutcomeCounts};
use indicatif::{HumanDuration, ProgressBar, ProgressStyle};

/// Without a terminal, a progress line after this many trials: often
/// enough to see a campaign move, rare enough that a 1,000-trial log
/// stays readable.
pub const PLAIN_EVERY: u64 = 10;

/// The bar: elapsed time, bar, done/total, ETA, then the counts as wide as
/// the terminal allows.
const BAR_TEMPLATE: &str = "[{elapsed_precise}] [{bar:30}] {pos}/{len} trials, ETA {eta} | {wide_msg}";

/// The bar's fill characters: done, current, to do (ASCII, like the tables).
const BAR_CHARS: &str = "=> ";

/// The environment variable CI systems set (to `true`).
const CI_VARIABLE: &str = "CI";

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgressMode {
    /// An `indicatif` bar on stderr.
    Bar,
    /// A plain line on stderr every [`PLAIN_EVERY`] trials.
    Plain,
}

impl ProgressMode {
    /// A bar when stderr is a terminal and this is not CI.
    pub fn detect() -> Self {
        let ci = std::env::var(CI_VARIABLE).is_ok_and(|value| !matches!(value.trim(), "" | "0" | "false"));
        if !ci && io::stderr().is_terminal() {
            ProgressMode::Bar
        } else {
            ProgressMode::Plain
        }
    }
}

/// The progress of one run.
#[derive(Debug)]
pub struct Progress {
    bar: Option<ProgressBar>,
    total: u64,
    done: u64,
    counts: OutcomeCounts,
    unclassified: u64,
    started: Instant,
    /// `done` when the last plain line was printed.
    shown: u64,
}

impl Progress {
    /// Progress over `total` trials, shown as `mode` says.
    pub fn new(mode: ProgressMode, total: u64) -> Self {
        let bar = (mode == ProgressMode::Bar).then(|| {
            let style = ProgressStyle::with_template(BAR_TEMPLATE)
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars(BAR_CHARS);
            let bar = ProgressBar::new(total).with_style(style);
            bar.set_message(OutcomeCounts::default().to_string());
            bar
        });
        Progress {
            bar,
            total,
            done: 0,
            counts: OutcomeCounts::default(),
            unclassified: 0,
            started: Instant::now(),
            shown: 0,
        }
    }

    /// One more trial finished with `outcome`.
    pub fn finished(&mut self, outcome: Outcome) {
        self.counts.add(outcome);
        self.advance();
    }

    /// One more boot that could not be classified; `message` says why and
    /// where its log is.
    pub fn unclassified(&mut self, message: &str) {
        self.unclassified += 1;
        self.note(message);
        self.advance();
    }

    /// Prints `message` on stderr, above the bar if there is one.
    pub fn note(&self, message: &str) {
        match &self.bar {
            Some(bar) => bar.suspend(|| eprintln!("{message}")),
            None => eprintln!("{message}"),
        }
    }

    /// Removes the bar; prints the last plain line if it was not printed yet.
    pub fn finish(&mut self) {
        match &self.bar {
            Some(bar) => bar.finish_and_clear(),
            None if self.shown != self.done => self.print_line(),
            None => {}
        }
    }

    fn advance(&mut self) {
        self.done += 1;
        match &self.bar {
            Some(bar) => {
                bar.set_message(self.counts_text());
                bar.inc(1);
            }
            None if self.done.is_multiple_of(PLAIN_EVERY) || self.done == self.total => self.print_line(),
            None => {}
        }
    }

    fn print_line(&mut self) {
        eprintln!("{}", self.line());
        self.shown = self.done;
    }

    /// The outcome counts so far, with the unclassified boots.
    fn counts_text(&self) -> String {
        match self.unclassified {
            0 => self.counts.to_string(),
            n if self.counts.trials() == 0 => format!("not classified {n}"),
            n => format!("{} · not classified {n}", self.counts),
        }
    }

    /// The plain progress line.
    fn line(&self) -> String {
        let elapsed = self.started.elapsed();
        let eta = eta(elapsed, self.done, self.total)
            .map_or_else(|| "unknown".to_owned(), |left| HumanDuration(left).to_string());
        format!(
            "campaign: {}/{} trials, {} elapsed, ETA {eta}: {}",
            self.done,
            self.total,
            HumanDuration(elapsed),
            self.counts_text()
        )
    }
}

/// Time left if the trials still to run take as long as those done so far.
fn eta(elapsed: Duration, done: u64, total: u64) -> Option<Duration> {
    if done == 0 {
        return None;
    }
    let left = u32::try_from(total.saturating_sub(done)).ok()?;
    let done = u32::try_from(done).ok()?;
    Some(elapsed / done * left)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_eta_extrapolates_from_the_trials_done() {
        assert_eq!(eta(Duration::from_secs(10), 0, 100), None);
        assert_eq!(eta(Duration::from_secs(10), 5, 20), Some(Duration::from_secs(30)));
        assert_eq!(eta(Duration::from_secs(10), 20, 20), Some(Duration::ZERO));
    }

    #[test]
    fn the_plain_line_counts_outcomes_and_unclassified_boots() {
        let mut progress = Progress::new(ProgressMode::Plain, 40);
        assert_eq!(progress.counts_text(), "no trials yet");
        progress.finished(Outcome::Recovered);
        progress.finished(Outcome::Recovered);
        progress.finished(Outcome::Hang);
        progress.unclassified("trial 3/none: not classified");
        assert_eq!(progress.done, 4);
        let line = progress.line();
        assert!(line.starts_with("campaign: 4/40 trials, "), "{line}");
        assert!(line.ends_with(": recovered 2 · hang 1 · not classified 1"), "{line}");
    }

    #[test]
    fn the_bar_template_is_valid() {
        assert!(ProgressStyle::with_template(BAR_TEMPLATE).is_ok());
    }
}
