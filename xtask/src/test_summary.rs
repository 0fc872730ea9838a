//! Totals over libtest's `test result:` lines, and the one closing line `N passed, N failed, N ignored`.
//!
//! Each test binary (unit tests, doc tests, the in-QEMU harness) ends with
//! `test result: ok. 5 passed; 0 failed; 1 ignored; 0 measured; 0 filtered
//! out; finished in 0.01s`; `cargo xtask test` adds them up.

use std::fmt;
use std::ops::AddAssign;

/// The marker libtest (and libtest-mimic) put before the counts.
const RESULT_MARKER: &str = "test result:";

/// Passed, failed and ignored counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    /// Tests that passed.
    pub passed: u64,
    /// Tests that failed.
    pub failed: u64,
    /// Tests that were ignored.
    pub ignored: u64,
}

impl AddAssign for Totals {
    fn add_assign(&mut self, other: Totals) {
        self.passed += other.passed;
        self.failed += other.failed;
        self.ignored += other.ignored;
    }
}

impl fmt::Display for Totals {
    /// The closing line: `N passed, N failed, N ignored`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} passed, {} failed, {} ignored",
            self.passed, self.failed, self.ignored
        )
    }
}

/// Reads the counts from a `test result:` line; `None` for any other line.
pub fn parse_result_line(line: &str) -> Option<Totals> {
    let line = strip_ansi(line);
    let (_, rest) = line.split_once(RESULT_MARKER)?;
    let mut totals = Totals::default();
    let mut found = false;
    // Segments look like "ok. 5 passed", " 0 failed", " 1 ignored", ...
    for segment in rest.split(';') {
        let words: Vec<&str> = segment.split_whitespace().collect();
        let [.., count, label] = words.as_slice() else {
            continue;
        };
        let Ok(count) = count.parse::<u64>() else {
            continue;
        };
        match *label {
            "passed" => totals.passed = count,
            "failed" => totals.failed = count,
            "ignored" => totals.ignored = count,
            _ => continue,
        }
        found = true;
    }
    found.then_some(totals)
}

/// Removes ANSI escape sequences (colored "ok"/"FAILED").
fn strip_ansi(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            // ESC [ parameters final-byte: skip up to a letter.
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_libtest_and_libtest_mimic_lines() {
        assert_eq!(
            parse_result_line(
                "test result: ok. 30 passed; 0 failed; 2 ignored; 0 measured; 0 filtered out; finished in 0.00s"
            ),
            Some(Totals { passed: 30, failed: 0, ignored: 2 })
        );
        assert_eq!(
            parse_result_line(
                "test result: FAILED. 5 passed; 2 failed; 0 ignored; 0 measured; 1 filtered out; finished in 20.00s\r"
            ),
            Some(Totals { passed: 5, failed: 2, ignored: 0 })
        );
        assert_eq!(
            parse_result_line(
                "test result: \x1b[32mok\x1b[0m. 1 passed; 0 failed; 0 ignored; 0 measured"
            ),
            Some(Totals {
                passed: 1,
                failed: 0,
                ignored: 0
            })
        );
    }

    #[test]
    fn ignores_other_lines() {
        assert_eq!(parse_result_line("test memory::a ... ok"), None);
        assert_eq!(parse_result_line("running 3 tests"), None);
        assert_eq!(parse_result_line("test result: weird"), None);
    }

    #[test]
    fn totals_add_up_and_print_the_closing_line() {
        let mut totals = Totals::default();
        totals += Totals {
            passed: 30,
            failed: 0,
            ignored: 0,
        };
        totals += Totals {
            passed: 5,
            failed: 2,
            ignored: 3,
        };
        assert_eq!(totals.to_string(), "35 passed, 2 failed, 3 ignored");
    }
}
