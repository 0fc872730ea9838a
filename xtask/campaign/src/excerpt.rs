//! The part of a serial log worth keeping with a trial's record.
//!
//! Whole logs stay in the runner's log directory; the record keeps what
//! explains the outcome at a glance: every `campaign:` line, a kernel panic
//! with the backtrace after it, and the last lines before the end.

use crate::guest_line::parse_line;
use crate::guest_report::kernel_panic_message;

/// Longest excerpt, in bytes: room for the protocol lines, a panic and its
/// backtrace, while 10,000 trials stay near 40 MB of `trials.jsonl`.
pub const EXCERPT_MAX_BYTES: usize = 4096;

/// Lines kept after a kernel panic line: the location and a backtrace.
const PANIC_CONTEXT_LINES: usize = 20;

/// Lines kept at the end of the log: what the guest did last.
const TAIL_LINES: usize = 15;

/// Appended when the excerpt is cut at [`EXCERPT_MAX_BYTES`].
const TRUNCATED_NOTE: &str = "[… excerpt truncated]";

/// The excerpt of `log`: kept lines in order, each run of skipped lines
/// replaced by `[… N lines …]`.
pub fn log_excerpt(log: &str) -> String {
    let lines: Vec<&str> = log.lines().map(|line| line.trim_end_matches('\r')).collect();
    let mut keep = vec![false; lines.len()];
    let mut panic_seen = false;
    for (index, line) in lines.iter().enumerate() {
        if parse_line(line).is_some() {
            keep[index] = true;
        }
        if !panic_seen && kernel_panic_message(line).is_some() {
            panic_seen = true;
            let last = (index + PANIC_CONTEXT_LINES).min(lines.len() - 1);
            keep[index..=last].iter_mut().for_each(|k| *k = true);
        }
    }
    let tail_start = lines.len().saturating_sub(TAIL_LINES);
    keep[tail_start..].iter_mut().for_each(|k| *k = true);

    let mut excerpt = String::new();
    let mut skipped = 0;
    for (line, kept) in lines.iter().zip(&keep) {
        if !kept {
            skipped += 1;
            continue;
        }
        if skipped > 0 {
            let noun = if skipped == 1 { "line" } else { "lines" };
            excerpt.push_str(&format!("[… {skipped} {noun} …]\n"));
            skipped = 0;
        }
        excerpt.push_str(line);
        excerpt.push('\n');
    }
    truncate(excerpt)
}

fn truncate(mut excerpt: String) -> String {
    if excerpt.len() <= EXCERPT_MAX_BYTES {
        return excerpt;
    }
    let mut cut = EXCERPT_MAX_BYTES - TRUNCATED_NOTE.len() - 1;
    while !excerpt.is_char_boundary(cut) {
        cut -= 1;
    }
    excerpt.truncate(cut);
    excerpt.push('\n');
    excerpt.push_str(TRUNCATED_NOTE);
    excerpt
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_protocol_lines_and_the_tail_and_counts_what_it_skips() {
        let mut log = String::from("boot banner\r\ncampaign: armed id=1 config=unwind spec=hang:fs:ops.1:site.1\r\n");
        for i in 0..100 {
            log.push_str(&format!("noise {i}\r\n"));
        }
        log.push_str("campaign: injected at=5\r\n");
        for i in 0..30 {
            log.push_str(&format!("late {i}\r\n"));
        }
        let excerpt = log_excerpt(&log);
        let lines: Vec<&str> = excerpt.lines().collect();
        assert_eq!(lines[0], "[… 1 line …]");
        assert_eq!(lines[1], "campaign: armed id=1 config=unwind spec=hang:fs:ops.1:site.1");
        assert_eq!(lines[2], "[… 100 lines …]");
        assert_eq!(lines[3], "campaign: injected at=5");
        assert_eq!(lines[4], "[… 15 lines …]");
        assert_eq!(lines[5], "late 15");
        assert_eq!(*lines.last().unwrap(), "late 29");
        assert!(!excerpt.contains('\r'));
    }

    #[test]
    fn keeps_a_kernel_panic_with_its_backtrace() {
        let mut log = String::from("KERNEL PANIC: double fault\n");
        for i in 0..60 {
            log.push_str(&format!("  frame {i}\n"));
        }
        let excerpt = log_excerpt(&log);
        assert!(excerpt.starts_with("KERNEL PANIC: double fault\n  frame 0\n"));
        assert!(excerpt.contains("  frame 19\n[… 25 lines …]\n  frame 45\n"));
    }

    #[test]
    fn is_cut_at_the_limit_on_a_character_boundary() {
        let log: String = (0..2_000).map(|i| format!("campaign: bogus é line {i}\n")).collect();
        let excerpt = log_excerpt(&log);
        assert!(excerpt.len() <= EXCERPT_MAX_BYTES);
        assert!(excerpt.ends_with(TRUNCATED_NOTE));
        assert_eq!(log_excerpt(""), "");
    }
}
