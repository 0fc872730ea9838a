//! Boot options: the kernel command line.
//!
//! QEMU passes it as the fw_cfg file `opt/lazarus/cmdline`: words separated by
//! spaces, each `key=value` or a bare `flag`. Unknown keys are kept and can be
//! reported; the kernel never fails to boot because of a malformed option.

/// The fw_cfg file that carries the command line.
pub const FW_CFG_FILE: &str = "opt/lazarus/cmdline";

/// A parsed command line, borrowing from the original text.
#[derive(Clone, Copy, Debug)]
pub struct Cmdline<'a> {
    text: &'a str,
}

impl<'a> Cmdline<'a> {
    /// Wraps a command line.
    pub fn new(text: &'a str) -> Self {
        Self { text }
    }

    /// Every `(key, value)` pair; a bare flag has the value `""`.
    pub fn options(&self) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
        self.text
            .split_ascii_whitespace()
            .map(|word| word.split_once('=').unwrap_or((word, "")))
    }

    /// The value of the last occurrence of `key`.
    pub fn get(&self, key: &str) -> Option<&'a str> {
        self.options().filter(|(k, _)| *k == key).map(|(_, v)| v).last()
    }

    /// The original text.
    pub fn as_str(&self) -> &'a str {
        self.text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_pairs_and_flags() {
        let c = Cmdline::new("  test=memory verbose  recovery=unwind ");
        let all: Vec<_> = c.options().collect();
        assert_eq!(all, [("test", "memory"), ("verbose", ""), ("recovery", "unwind")]);
        assert_eq!(c.get("test"), Some("memory"));
        assert_eq!(c.get("verbose"), Some(""));
        assert_eq!(c.get("missing"), None);
    }

    #[test]
    fn last_occurrence_wins_and_values_may_hold_equals() {
        let c = Cmdline::new("test=a test=b=c");
        assert_eq!(c.get("test"), Some("b=c"));
    }

    #[test]
    fn empty_line_has_no_options() {
        assert_eq!(Cmdline::new("").options().count(), 0);
    }
}
