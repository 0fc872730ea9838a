//! The kernel's `ktest:` serial protocol: parsing lines and classifying each case.
//!
//! The kernel prints, among its ordinary log lines:
//!
//! ```text
//! ktest: list <group> <case>            (test=list only, one per case, then)
//! ktest: end-list
//! ktest: group <group> <n> cases
//! ktest: start <case>
//! ktest: pass <case>
//! ktest: fail <case>: <message...>
//! ktest: done <group> passed=<n> failed=<n>
//! ```
//!
//! Everything here is pure: it reads lines already captured and says what
//! happened to each case, and what in the stream broke the protocol.

use std::fmt;

/// The marker that starts every protocol line.
pub const MARKER: &str = "ktest:";

/// One protocol line, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// `list <group> <case>`: one case of the listing.
    Listed {
        /// The group the case belongs to.
        group: String,
        /// The case name.
        case: String,
    },
    /// `end-list`: the listing is complete.
    EndList,
    /// `group <group> <n> cases`: a group run begins.
    Group {
        /// The group's name.
        group: String,
        /// How many cases it will run.
        cases: usize,
    },
    /// `start <case>`.
    Start {
        /// The case name.
        case: String,
    },
    /// `pass <case>`.
    Pass {
        /// The case name.
        case: String,
    },
    /// `fail <case>: <message>`.
    Fail {
        /// The case name.
        case: String,
        /// The kernel's explanation (may be empty).
        message: String,
    },
    /// `done <group> passed=<n> failed=<n>`.
    Done {
        /// The group's name.
        group: String,
        /// Cases the kernel counted as passed.
        passed: usize,
        /// Cases the kernel counted as failed.
        failed: usize,
    },
}

/// Why a line that starts with the marker could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LineError {
    /// The word after the marker is not a known verb.
    #[error("unknown verb `{0}`")]
    UnknownVerb(String),
    /// Fewer or more words than the verb takes.
    #[error("`{verb}` takes {expected}")]
    WrongShape {
        /// The verb.
        verb: &'static str,
        /// The expected shape, for the message.
        expected: &'static str,
    },
    /// A count that is not a number.
    #[error("`{0}` is not a count")]
    BadCount(String),
}

/// A serial line, classified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    /// A protocol line.
    Event(Event),
    /// A line with the marker that does not decode.
    Malformed(LineError),
    /// Ordinary log output.
    Log,
}

/// Removes the line ending (`\n`, `\r\n`, stray `\r`s) and any leading
/// whitespace or control bytes (e.g. firmware escape sequences glued to the
/// start of the kernel's first line).
pub fn clean_line(raw: &str) -> &str {
    raw.trim_end_matches(['\r', '\n'])
        .trim_start_matches(|c: char| c.is_whitespace() || c.is_control())
}

/// Classifies one serial line.
pub fn parse_line(raw: &str) -> Line {
    let line = clean_line(raw);
    let Some(rest) = line.strip_prefix(MARKER) else {
        return Line::Log;
    };
    match parse_event(rest.trim()) {
        Ok(event) => Line::Event(event),
        Err(error) => Line::Malformed(error),
    }
}

fn parse_event(body: &str) -> Result<Event, LineError> {
    let (verb, args) = body.split_once(' ').unwrap_or((body, ""));
    let args = args.trim();
    let words: Vec<&str> = args.split_whitespace().collect();
    match verb {
        "list" => match words.as_slice() {
            [group, case] => Ok(Event::Listed {
                group: (*group).to_owned(),
                case: (*case).to_owned(),
            }),
            _ => Err(shape("list", "a group and a case")),
        },
        "end-list" => match words.as_slice() {
            [] => Ok(Event::EndList),
            _ => Err(shape("end-list", "no arguments")),
        },
        "group" => match words.as_slice() {
            [group, count, "cases" | "case"] => Ok(Event::Group {
                group: (*group).to_owned(),
                cases: parse_count(count)?,
            }),
            _ => Err(shape("group", "`<group> <n> cases`")),
        },
        "start" | "pass" => match words.as_slice() {
            [case] => {
                let case = (*case).to_owned();
                Ok(if verb == "start" {
                    Event::Start { case }
                } else {
                    Event::Pass { case }
                })
            }
            _ if verb == "start" => Err(shape("start", "one case name")),
            _ => Err(shape("pass", "one case name")),
        },
        "fail" => {
            // The case name ends at the first ": " (so a name may contain
            // "::"); a bare trailing ':' means an empty message.
            let (case, message) = match args.split_once(": ") {
                Some((case, message)) => (case.trim(), message.trim()),
                None => (args.strip_suffix(':').unwrap_or(args).trim(), ""),
            };
            if case.is_empty() || case.contains(char::is_whitespace) {
                return Err(shape("fail", "`<case>: <message>`"));
            }
            Ok(Event::Fail {
                case: case.to_owned(),
                message: message.to_owned(),
            })
        }
        "done" => match words.as_slice() {
            [group, passed, failed] => Ok(Event::Done {
                group: (*group).to_owned(),
                passed: parse_count(named(passed, "passed=")?)?,
                failed: parse_count(named(failed, "failed=")?)?,
            }),
            _ => Err(shape("done", "`<group> passed=<n> failed=<n>`")),
        },
        other => Err(LineError::UnknownVerb(other.to_owned())),
    }
}

fn shape(verb: &'static str, expected: &'static str) -> LineError {
    LineError::WrongShape { verb, expected }
}

fn named<'a>(word: &'a str, key: &'static str) -> Result<&'a str, LineError> {
    word.strip_prefix(key)
        .ok_or_else(|| shape("done", "`<group> passed=<n> failed=<n>`"))
}

fn parse_count(text: &str) -> Result<usize, LineError> {
    text.parse()
        .map_err(|_| LineError::BadCount(text.to_owned()))
}

/// The cases of one group, as listed by `test=list`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedGroup {
    /// The group's name (what `test=<group>` takes).
    pub name: String,
    /// Its cases, in listing order.
    pub cases: Vec<String>,
}

/// What a `test=list` boot printed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Listing {
    /// Groups in order of first appearance.
    pub groups: Vec<ListedGroup>,
}

impl Listing {
    /// The cases of `group`, if it was listed.
    pub fn cases(&self, group: &str) -> Option<&[String]> {
        self.groups
            .iter()
            .find(|g| g.name == group)
            .map(|g| g.cases.as_slice())
    }
}

/// Why a `test=list` boot did not give a usable listing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ListingError {
    /// No `end-list` line: the kernel stopped (or hung) before finishing.
    #[error("the listing has no `{MARKER} end-list` line ({0} cases seen before it stopped)")]
    Unfinished(usize),
    /// A protocol line that does not decode.
    #[error("malformed protocol line `{line}`: {error}")]
    Malformed {
        /// The line as printed.
        line: String,
        /// What is wrong with it.
        error: LineError,
    },
    /// The same case listed twice.
    #[error("case `{group}::{case}` is listed twice")]
    Duplicate {
        /// Its group.
        group: String,
        /// The case.
        case: String,
    },
}

/// Reads the listing out of a `test=list` boot's serial lines.
pub fn collect_listing<'a>(
    lines: impl IntoIterator<Item = &'a str>,
) -> Result<Listing, ListingError> {
    let mut listing = Listing::default();
    let mut count = 0;
    for raw in lines {
        match parse_line(raw) {
            Line::Event(Event::Listed { group, case }) => {
                count += 1;
                let index = match listing.groups.iter().position(|g| g.name == group) {
                    Some(index) => index,
                    None => {
                        listing.groups.push(ListedGroup {
                            name: group.clone(),
                            cases: Vec::new(),
                        });
                        listing.groups.len() - 1
                    }
                };
                let cases = &mut listing.groups[index].cases;
                if cases.contains(&case) {
                    return Err(ListingError::Duplicate { group, case });
                }
                cases.push(case);
            }
            Line::Event(Event::EndList) => return Ok(listing),
            Line::Malformed(error) => {
                return Err(ListingError::Malformed {
                    line: clean_line(raw).to_owned(),
                    error,
                })
            }
            Line::Event(_) | Line::Log => {}
        }
    }
    Err(ListingError::Unfinished(count))
}

/// How the serial stream of a group boot ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamEnd {
    /// QEMU exited (for whatever reason) and the stream closed.
    Exited,
    /// The runner gave up waiting and killed QEMU.
    TimedOut,
}

/// What happened to one case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaseOutcome {
    /// `pass` was printed.
    Passed,
    /// `fail` was printed, with this message.
    Failed(String),
    /// `start` was printed, then the guest stopped without `pass` or `fail`.
    Crashed,
    /// Expected (listed or announced) but never started.
    NotRun,
    /// It was running when the runner's timeout expired.
    TimedOut,
}

impl CaseOutcome {
    /// True only for [`CaseOutcome::Passed`].
    pub fn is_pass(&self) -> bool {
        matches!(self, CaseOutcome::Passed)
    }
}

impl fmt::Display for CaseOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CaseOutcome::Passed => f.write_str("passed"),
            CaseOutcome::Failed(message) if message.is_empty() => f.write_str("failed"),
            CaseOutcome::Failed(message) => write!(f, "failed: {message}"),
            CaseOutcome::Crashed => f.write_str(
                "crashed: the guest stopped after `start` without printing pass or fail",
            ),
            CaseOutcome::NotRun => f.write_str("not run: the group never started this case"),
            CaseOutcome::TimedOut => {
                f.write_str("timed out: still running when the runner's timeout expired")
            }
        }
    }
}

/// One case and what happened to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseResult {
    /// The case name.
    pub name: String,
    /// What happened.
    pub outcome: CaseOutcome,
}

/// A way in which a group's serial stream broke the protocol.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolProblem {
    /// No `group` line at all.
    #[error("the kernel never printed `{MARKER} group {0} ...`")]
    NoGroupLine(String),
    /// A `group` or `done` line named another group.
    #[error("asked for group `{expected}` but the kernel ran `{seen}`")]
    WrongGroup {
        /// The group asked for.
        expected: String,
        /// The group named on the line.
        seen: String,
    },
    /// The `group` line's count differs from the listing.
    #[error("the kernel announced {announced} cases but listed {listed}")]
    CountMismatch {
        /// From the `group` line.
        announced: usize,
        /// From the listing.
        listed: usize,
    },
    /// No `done` line (only reported when the guest exited by itself).
    #[error("the kernel never printed `{MARKER} done ...`")]
    NoDoneLine,
    /// The `done` counts disagree with the `pass`/`fail` lines.
    #[error("`done` says passed={reported_passed} failed={reported_failed} but the lines say passed={seen_passed} failed={seen_failed}")]
    DoneMismatch {
        /// `passed=` on the done line.
        reported_passed: usize,
        /// `failed=` on the done line.
        reported_failed: usize,
        /// `pass` lines seen.
        seen_passed: usize,
        /// `fail` lines seen.
        seen_failed: usize,
    },
    /// A case ran that the listing does not have.
    #[error("case `{0}` ran but was not listed")]
    Unlisted(String),
    /// A case started twice.
    #[error("case `{0}` started twice")]
    StartedTwice(String),
    /// `pass` or `fail` for a case other than the running one.
    #[error("`{verb} {case}` while {running} was running")]
    OutOfOrder {
        /// `pass` or `fail`.
        verb: &'static str,
        /// The case named.
        case: String,
        /// The case that was running, or "no case".
        running: String,
    },
    /// A protocol line that does not decode.
    #[error("malformed protocol line `{line}`: {error}")]
    Malformed {
        /// The line as printed.
        line: String,
        /// What is wrong with it.
        error: LineError,
    },
}

/// Everything a group boot's serial stream said about the group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupResults {
    /// The group asked for.
    pub group: String,
    /// Every expected case and every case that ran, in order: expected
    /// cases first in listing order, then unlisted ones as they appeared.
    pub cases: Vec<CaseResult>,
    /// The count from the `group` line, if there was one.
    pub announced: Option<usize>,
    /// The counts from the `done` line, if there was one: (passed, failed).
    pub done: Option<(usize, usize)>,
    /// Protocol violations seen.
    pub problems: Vec<ProtocolProblem>,
}

impl GroupResults {
    /// The outcome of `case`, if the case is known.
    pub fn outcome(&self, case: &str) -> Option<&CaseOutcome> {
        self.cases
            .iter()
            .find(|c| c.name == case)
            .map(|c| &c.outcome)
    }

    /// True if the kernel printed `fail` for at least one case.
    pub fn kernel_reported_failure(&self) -> bool {
        self.cases
            .iter()
            .any(|c| matches!(c.outcome, CaseOutcome::Failed(_)))
    }
}

/// Reads a group boot's serial lines into one outcome per case.
///
/// `expected` holds the cases the listing gave for this group; each of them
/// gets a result even if it never appears (then [`CaseOutcome::NotRun`]).
pub fn collect_group<'a>(
    group: &str,
    expected: &[String],
    lines: impl IntoIterator<Item = &'a str>,
    end: StreamEnd,
) -> GroupResults {
    let mut results = GroupResults {
        group: group.to_owned(),
        cases: Vec::new(),
        announced: None,
        done: None,
        problems: Vec::new(),
    };
    // Outcome so far per case; `None` means "not started".
    let mut state: Vec<(String, Option<CaseOutcome>)> =
        expected.iter().map(|c| (c.clone(), None)).collect();
    let mut running: Option<usize> = None;
    let mut seen_group_line = false;

    for raw in lines {
        let event = match parse_line(raw) {
            Line::Event(event) => event,
            Line::Log => continue,
            Line::Malformed(error) => {
                results.problems.push(ProtocolProblem::Malformed {
                    line: clean_line(raw).to_owned(),
                    error,
                });
                continue;
            }
        };
        match event {
            Event::Group { group: seen, cases } => {
                seen_group_line = true;
                if seen != group {
                    results.problems.push(ProtocolProblem::WrongGroup {
                        expected: group.to_owned(),
                        seen,
                    });
                }
                if !expected.is_empty() && cases != expected.len() {
                    results.problems.push(ProtocolProblem::CountMismatch {
                        announced: cases,
                        listed: expected.len(),
                    });
                }
                results.announced = Some(cases);
            }
            Event::Start { case } => {
                if let Some(previous) = running.take() {
                    // A new start while one runs: the previous one never finished.
                    state[previous].1 = Some(CaseOutcome::Crashed);
                }
                let index = match state.iter().position(|(name, _)| *name == case) {
                    Some(index) => {
                        if state[index].1.is_some() {
                            results
                                .problems
                                .push(ProtocolProblem::StartedTwice(case.clone()));
                        }
                        index
                    }
                    None => {
                        if !expected.is_empty() {
                            results
                                .problems
                                .push(ProtocolProblem::Unlisted(case.clone()));
                        }
                        state.push((case, None));
                        state.len() - 1
                    }
                };
                // Provisional until pass/fail or the end of the stream.
                state[index].1 = Some(CaseOutcome::Crashed);
                running = Some(index);
            }
            Event::Pass { case } => finish(
                &mut state,
                &mut running,
                &mut results,
                "pass",
                case,
                CaseOutcome::Passed,
            ),
            Event::Fail { case, message } => finish(
                &mut state,
                &mut running,
                &mut results,
                "fail",
                case,
                CaseOutcome::Failed(message),
            ),
            Event::Done {
                group: seen,
                passed,
                failed,
            } => {
                if seen != group {
                    results.problems.push(ProtocolProblem::WrongGroup {
                        expected: group.to_owned(),
                        seen,
                    });
                }
                results.done = Some((passed, failed));
            }
            Event::Listed { .. } | Event::EndList => {}
        }
    }

    if let Some(index) = running {
        if end == StreamEnd::TimedOut {
            state[index].1 = Some(CaseOutcome::TimedOut);
        }
        // Otherwise it stays Crashed.
    }
    results.cases = state
        .into_iter()
        .map(|(name, outcome)| CaseResult {
            name,
            outcome: outcome.unwrap_or(CaseOutcome::NotRun),
        })
        .collect();

    if !seen_group_line {
        results
            .problems
            .push(ProtocolProblem::NoGroupLine(group.to_owned()));
    }
    let seen_passed = results.cases.iter().filter(|c| c.outcome.is_pass()).count();
    let seen_failed = results
        .cases
        .iter()
        .filter(|c| matches!(c.outcome, CaseOutcome::Failed(_)))
        .count();
    match results.done {
        Some((passed, failed)) if (passed, failed) != (seen_passed, seen_failed) => {
            results.problems.push(ProtocolProblem::DoneMismatch {
                reported_passed: passed,
                reported_failed: failed,
                seen_passed,
                seen_failed,
            });
        }
        Some(_) => {}
        // A timeout already explains a missing `done`.
        None if end == StreamEnd::Exited => results.problems.push(ProtocolProblem::NoDoneLine),
        None => {}
    }
    results
}

/// Records `pass`/`fail` for `case`, which should be the running one.
fn finish(
    state: &mut Vec<(String, Option<CaseOutcome>)>,
    running: &mut Option<usize>,
    results: &mut GroupResults,
    verb: &'static str,
    case: String,
    outcome: CaseOutcome,
) {
    let index = match *running {
        Some(index) if state[index].0 == case => index,
        _ => {
            results.problems.push(ProtocolProblem::OutOfOrder {
                verb,
                case: case.clone(),
                running: running
                    .map(|i| format!("`{}`", state[i].0))
                    .unwrap_or_else(|| "no case".to_owned()),
            });
            match state.iter().position(|(name, _)| *name == case) {
                Some(index) => index,
                None => {
                    state.push((case, None));
                    state.len() - 1
                }
            }
        }
    };
    state[index].1 = Some(outcome);
    if *running == Some(index) {
        *running = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn parses_every_verb_with_crlf() {
        assert_eq!(
            parse_line("ktest: list memory frames_alloc\r\n"),
            Line::Event(Event::Listed {
                group: "memory".into(),
                case: "frames_alloc".into()
            })
        );
        assert_eq!(parse_line("ktest: end-list\r"), Line::Event(Event::EndList));
        assert_eq!(
            parse_line("ktest: group memory 3 cases\r\n"),
            Line::Event(Event::Group {
                group: "memory".into(),
                cases: 3
            })
        );
        assert_eq!(
            parse_line("ktest: start a\r\n"),
            Line::Event(Event::Start { case: "a".into() })
        );
        assert_eq!(
            parse_line("ktest: pass a\r\n"),
            Line::Event(Event::Pass { case: "a".into() })
        );
        assert_eq!(
            parse_line("ktest: fail a: left: 1, right: 2\r\n"),
            Line::Event(Event::Fail {
                case: "a".into(),
                message: "left: 1, right: 2".into()
            })
        );
        assert_eq!(
            parse_line("ktest: done memory passed=2 failed=1\r\n"),
            Line::Event(Event::Done {
                group: "memory".into(),
                passed: 2,
                failed: 1
            })
        );
    }

    #[test]
    fn other_lines_are_log_and_bad_ones_are_malformed() {
        assert_eq!(parse_line("Lazarus 0.1.0 booting\r\n"), Line::Log);
        assert_eq!(parse_line(""), Line::Log);
        assert_eq!(parse_line("[info] not a ktest: start x"), Line::Log);
        assert_eq!(
            parse_line("ktest: begin x"),
            Line::Malformed(LineError::UnknownVerb("begin".into()))
        );
        assert_eq!(
            parse_line("ktest: group memory lots cases"),
            Line::Malformed(LineError::BadCount("lots".into()))
        );
        assert!(matches!(
            parse_line("ktest: start"),
            Line::Malformed(LineError::WrongShape { verb: "start", .. })
        ));
        assert!(matches!(
            parse_line("ktest: done memory 2 1"),
            Line::Malformed(LineError::WrongShape { verb: "done", .. })
        ));
    }

    #[test]
    fn fail_without_message_and_leading_junk_are_tolerated() {
        assert_eq!(
            parse_line("ktest: fail a"),
            Line::Event(Event::Fail {
                case: "a".into(),
                message: String::new()
            })
        );
        assert_eq!(
            parse_line("ktest: fail m::a:\r\n"),
            Line::Event(Event::Fail {
                case: "m::a".into(),
                message: String::new()
            })
        );
        assert_eq!(
            parse_line("\x1b\u{1}  ktest: pass a"),
            Line::Event(Event::Pass { case: "a".into() })
        );
    }

    #[test]
    fn listing_groups_cases_in_order() {
        let lines = [
            "Lazarus 0.1.0\r\n",
            "ktest: list memory a\r\n",
            "log: something\r\n",
            "ktest: list sched x\r\n",
            "ktest: list memory b\r\n",
            "ktest: end-list\r\n",
        ];
        let listing = collect_listing(lines).unwrap();
        assert_eq!(listing.groups.len(), 2);
        assert_eq!(listing.cases("memory").unwrap(), ["a", "b"]);
        assert_eq!(listing.cases("sched").unwrap(), ["x"]);
        assert_eq!(listing.cases("nope"), None);
    }

    #[test]
    fn listing_errors() {
        assert_eq!(
            collect_listing(["ktest: list m a", "panic!"]),
            Err(ListingError::Unfinished(1))
        );
        assert!(matches!(
            collect_listing(["ktest: list m a", "ktest: list m a", "ktest: end-list"]),
            Err(ListingError::Duplicate { .. })
        ));
        assert!(matches!(
            collect_listing(["ktest: list m", "ktest: end-list"]),
            Err(ListingError::Malformed { .. })
        ));
    }

    #[test]
    fn a_clean_group_with_interleaved_log_lines() {
        let lines = [
            "Lazarus 0.1.0 (test=memory)\r\n",
            "ktest: group memory 2 cases\r\n",
            "ktest: start a\r\n",
            "[frames] 1024 free\r\n",
            "ktest: pass a\r\n",
            "ktest: start b\r\n",
            "ktest: fail b: expected 3, got 4\r\n",
            "ktest: done memory passed=1 failed=1\r\n",
        ];
        let r = collect_group("memory", &names(&["a", "b"]), lines, StreamEnd::Exited);
        assert_eq!(r.problems, []);
        assert_eq!(r.outcome("a"), Some(&CaseOutcome::Passed));
        assert_eq!(
            r.outcome("b"),
            Some(&CaseOutcome::Failed("expected 3, got 4".into()))
        );
        assert_eq!(r.announced, Some(2));
        assert_eq!(r.done, Some((1, 1)));
        assert!(r.kernel_reported_failure());
    }

    #[test]
    fn crash_and_not_run() {
        let lines = [
            "ktest: group memory 3 cases",
            "ktest: start a",
            "ktest: pass a",
            "ktest: start b",
            "PANIC at src/memory.rs:10",
        ];
        let r = collect_group("memory", &names(&["a", "b", "c"]), lines, StreamEnd::Exited);
        assert_eq!(r.outcome("a"), Some(&CaseOutcome::Passed));
        assert_eq!(r.outcome("b"), Some(&CaseOutcome::Crashed));
        assert_eq!(r.outcome("c"), Some(&CaseOutcome::NotRun));
        assert_eq!(r.problems, [ProtocolProblem::NoDoneLine]);
        assert!(!r.kernel_reported_failure());
    }

    #[test]
    fn timeout_marks_the_running_case() {
        let lines = [
            "ktest: group selftest_hang 1 cases",
            "ktest: start hangs_forever",
        ];
        let r = collect_group(
            "selftest_hang",
            &names(&["hangs_forever"]),
            lines,
            StreamEnd::TimedOut,
        );
        assert_eq!(r.outcome("hangs_forever"), Some(&CaseOutcome::TimedOut));
        assert_eq!(r.problems, []);
    }

    #[test]
    fn silent_guest_has_every_case_not_run() {
        let r = collect_group("memory", &names(&["a"]), [], StreamEnd::TimedOut);
        assert_eq!(r.outcome("a"), Some(&CaseOutcome::NotRun));
        assert_eq!(r.problems, [ProtocolProblem::NoGroupLine("memory".into())]);
    }

    #[test]
    fn protocol_violations_are_reported() {
        let lines = [
            "ktest: group other 1 cases",
            "ktest: start a",
            "ktest: start z",
            "ktest: pass q",
            "ktest: pass z",
            "ktest: done other passed=5 failed=0",
        ];
        let r = collect_group("memory", &names(&["a", "b"]), lines, StreamEnd::Exited);
        assert_eq!(r.outcome("a"), Some(&CaseOutcome::Crashed));
        assert_eq!(r.outcome("b"), Some(&CaseOutcome::NotRun));
        assert_eq!(r.outcome("z"), Some(&CaseOutcome::Passed));
        assert_eq!(r.outcome("q"), Some(&CaseOutcome::Passed));
        let problems = &r.problems;
        assert!(problems.contains(&ProtocolProblem::WrongGroup {
            expected: "memory".into(),
            seen: "other".into()
        }));
        assert!(problems.contains(&ProtocolProblem::CountMismatch {
            announced: 1,
            listed: 2
        }));
        assert!(problems.contains(&ProtocolProblem::Unlisted("z".into())));
        assert!(problems
            .iter()
            .any(|p| matches!(p, ProtocolProblem::OutOfOrder { verb: "pass", .. })));
        assert!(problems
            .iter()
            .any(|p| matches!(p, ProtocolProblem::DoneMismatch { .. })));
    }

    #[test]
    fn without_a_listing_cases_come_from_the_stream() {
        let lines = [
            "ktest: group g 1 cases",
            "ktest: start only",
            "ktest: pass only",
            "ktest: done g passed=1 failed=0",
        ];
        let r = collect_group("g", &[], lines, StreamEnd::Exited);
        assert_eq!(r.problems, []);
        assert_eq!(r.cases.len(), 1);
        assert_eq!(r.outcome("only"), Some(&CaseOutcome::Passed));
    }
}
