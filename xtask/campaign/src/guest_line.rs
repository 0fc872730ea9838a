//! One `campaign:` line of the guest's serial console, decoded.
//!
//! The protocol itself (what the guest prints and when) is described in
//! `guest_report`; this file reads single lines. A line is a protocol line
//! when the marker `campaign:` starts it, after any whitespace, control
//! bytes or terminal escape sequences. A line where other output comes
//! first (two writers interleaved on the serial port) still counts if the
//! text after the marker decodes; otherwise it is ordinary log output that
//! happens to mention the marker.
//!
//! Fields are `key=value` words in any order; keys the host does not know
//! are ignored, so the guest can add fields without breaking older hosts.
//! `detail=` is last and takes the rest of the line, spaces included.

use std::fmt;
use std::str::FromStr;

use fault_inject::{Config, Injection, Target, TrialId};
use serde::{Deserialize, Serialize};

/// The marker that starts every protocol line.
pub const MARKER: &str = "campaign:";

/// The field that takes the rest of its line.
const DETAIL_FIELD: &str = "detail";

/// Byte that starts a terminal escape sequence.
const ESCAPE: char = '\u{1b}';

/// `armed`: the guest read the trial from its command line and armed it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Armed {
    /// The trial id it read.
    pub id: TrialId,
    /// The recovery configuration it booted with.
    pub config: Config,
    /// The fault it armed.
    pub injection: Injection,
}

/// What detected a fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DetectionKind {
    /// A Rust panic in the server.
    Panic,
    /// A CPU exception in a server thread (page fault, #GP, #UD, stack guard…).
    Exception,
    /// A failed control-flow-integrity check.
    Cfi,
    /// The watchdog: the server stopped answering.
    Watchdog,
}

impl DetectionKind {
    const ALL: [DetectionKind; 4] =
        [DetectionKind::Panic, DetectionKind::Exception, DetectionKind::Cfi, DetectionKind::Watchdog];

    /// The name on the wire.
    pub const fn name(self) -> &'static str {
        match self {
            DetectionKind::Panic => "panic",
            DetectionKind::Exception => "exception",
            DetectionKind::Cfi => "cfi",
            DetectionKind::Watchdog => "watchdog",
        }
    }
}

impl fmt::Display for DetectionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for DetectionKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        DetectionKind::ALL
            .into_iter()
            .find(|kind| kind.name() == s)
            .ok_or_else(|| "expected panic, exception, cfi or watchdog".to_owned())
    }
}

/// `detected`: a server fault was detected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Detection {
    /// What detected it.
    pub kind: DetectionKind,
    /// The server that faulted (not necessarily the target: faults spread).
    pub server: Target,
    /// The server instance's generation when it faulted.
    pub generation: u64,
}

/// `recovered`: a faulted server was restarted and its accounting checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Recovery {
    /// The server restarted.
    pub server: Target,
    /// From detection to the restarted server's first answer, in guest
    /// nanoseconds.
    pub latency_ns: u64,
    /// Resources released by unwinding (every `Drop` that ran).
    pub released_by_unwinding: u64,
    /// Resources the backstop reclaimed at restart because unwinding did not.
    pub reclaimed_by_backstop: u64,
    /// Resources still unaccounted for after both: leaks.
    pub leaks: u64,
}

/// The workload's judgement of its own results.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Every result matched the golden results and every server answered
    /// the final health check.
    Ok,
    /// A call failed and could not be retried past, or a server did not
    /// answer the health check: the client saw the failure.
    Error,
    /// Some result differed from the golden results, with no error seen.
    Wrong,
}

impl FromStr for Verdict {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "ok" => Ok(Verdict::Ok),
            "error" => Ok(Verdict::Error),
            "wrong" => Ok(Verdict::Wrong),
            _ => Err("expected ok, error or wrong".to_owned()),
        }
    }
}

/// `workload`: the verdict and a free-text detail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkloadVerdict {
    /// The verdict.
    pub verdict: Verdict,
    /// What the workload says about it (may be empty).
    pub detail: String,
}

/// One protocol line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GuestLine {
    /// `armed id=<id> config=<config> spec=<MODEL:TARGET:TRIGGER:LOCATION>`.
    Armed(Armed),
    /// `injected at=<ns>`: the fault fired, this many guest nanoseconds
    /// after boot.
    Injected {
        /// Guest time of the injection, in nanoseconds.
        at_ns: u64,
    },
    /// `detected kind=<kind> server=<name> generation=<n>`.
    Detected(Detection),
    /// `recovered server=<name> latency_ns=<n> released_by_unwinding=<n>
    /// reclaimed_by_backstop=<n> leaks=<n>`.
    Recovered(Recovery),
    /// `workload verdict=<ok|error|wrong> detail=<text>`.
    Workload(WorkloadVerdict),
    /// `end`: the trial is over; nothing after it is part of the protocol.
    End,
}

/// Why a protocol line could not be decoded.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum GuestLineError {
    /// The word after the marker is not a known verb.
    #[error("unknown verb `{0}`")]
    UnknownVerb(String),
    /// A word that is not `key=value`.
    #[error("`{verb}`: `{word}` is not key=value")]
    NotKeyValue {
        /// The verb of the line.
        verb: &'static str,
        /// The word.
        word: String,
    },
    /// A required field is missing.
    #[error("`{verb}` lacks `{field}=`")]
    MissingField {
        /// The verb of the line.
        verb: &'static str,
        /// The missing field.
        field: &'static str,
    },
    /// A field's value does not parse.
    #[error("`{verb}`: `{field}={value}`: {reason}")]
    BadValue {
        /// The verb of the line.
        verb: &'static str,
        /// The field.
        field: &'static str,
        /// Its value.
        value: String,
        /// Why it was refused.
        reason: String,
    },
}

/// Decodes one serial line: `None` for ordinary log output.
pub fn parse_line(raw: &str) -> Option<Result<GuestLine, GuestLineError>> {
    let line = raw.trim_end_matches(['\r', '\n']);
    let at = line.find(MARKER)?;
    let body = line[at + MARKER.len()..].trim();
    let decoded = parse_body(body);
    if is_noise(&line[..at]) || decoded.is_ok() {
        Some(decoded)
    } else {
        None
    }
}

/// Whether text before the marker is only whitespace, control bytes and
/// terminal escape sequences (`ESC [ … final`).
fn is_noise(prefix: &str) -> bool {
    let mut chars = prefix.chars().peekable();
    while let Some(c) = chars.next() {
        if c == ESCAPE && chars.peek() == Some(&'[') {
            chars.next();
            // Parameters and intermediates, up to the final byte @ to ~.
            for c in chars.by_ref() {
                if ('@'..='~').contains(&c) {
                    break;
                }
            }
        } else if !(c.is_whitespace() || c.is_control()) {
            return false;
        }
    }
    true
}

/// The `key=value` words of a line.
struct Fields<'a> {
    verb: &'static str,
    pairs: Vec<(&'a str, &'a str)>,
}

impl<'a> Fields<'a> {
    fn read(verb: &'static str, text: &'a str) -> Result<Self, GuestLineError> {
        let pairs = text
            .split_whitespace()
            .map(|word| {
                word.split_once('=').ok_or_else(|| GuestLineError::NotKeyValue { verb, word: word.to_owned() })
            })
            .collect::<Result<_, _>>()?;
        Ok(Fields { verb, pairs })
    }

    fn raw(&self, field: &'static str) -> Result<&'a str, GuestLineError> {
        self.pairs
            .iter()
            .rev()
            .find(|(key, _)| *key == field)
            .map(|(_, value)| *value)
            .ok_or(GuestLineError::MissingField { verb: self.verb, field })
    }

    fn get<T>(&self, field: &'static str) -> Result<T, GuestLineError>
    where
        T: FromStr,
        T::Err: fmt::Display,
    {
        let value = self.raw(field)?;
        value.parse().map_err(|error: T::Err| GuestLineError::BadValue {
            verb: self.verb,
            field,
            value: value.to_owned(),
            reason: error.to_string(),
        })
    }
}

fn parse_body(body: &str) -> Result<GuestLine, GuestLineError> {
    let (verb, rest) = body.split_once(char::is_whitespace).unwrap_or((body, ""));
    match verb {
        "armed" => {
            let f = Fields::read("armed", rest)?;
            Ok(GuestLine::Armed(Armed { id: f.get("id")?, config: f.get("config")?, injection: f.get("spec")? }))
        }
        "injected" => {
            let f = Fields::read("injected", rest)?;
            Ok(GuestLine::Injected { at_ns: f.get("at")? })
        }
        "detected" => {
            let f = Fields::read("detected", rest)?;
            Ok(GuestLine::Detected(Detection {
                kind: f.get("kind")?,
                server: f.get("server")?,
                generation: f.get("generation")?,
            }))
        }
        "recovered" => {
            let f = Fields::read("recovered", rest)?;
            Ok(GuestLine::Recovered(Recovery {
                server: f.get("server")?,
                latency_ns: f.get("latency_ns")?,
                released_by_unwinding: f.get("released_by_unwinding")?,
                reclaimed_by_backstop: f.get("reclaimed_by_backstop")?,
                leaks: f.get("leaks")?,
            }))
        }
        "workload" => {
            let (fields, detail) = split_detail(rest);
            let f = Fields::read("workload", fields)?;
            Ok(GuestLine::Workload(WorkloadVerdict { verdict: f.get("verdict")?, detail: detail.to_owned() }))
        }
        "end" => Ok(GuestLine::End),
        other => Err(GuestLineError::UnknownVerb(other.to_owned())),
    }
}

/// Splits `… detail=<rest of line>` into the fields before it and the detail.
fn split_detail(text: &str) -> (&str, &str) {
    let key = DETAIL_FIELD;
    let mut search_from = 0;
    while let Some(found) = text[search_from..].find(key) {
        let at = search_from + found;
        let starts_word = at == 0 || text[..at].ends_with(char::is_whitespace);
        let value_at = at + key.len();
        if starts_word && text[value_at..].starts_with('=') {
            return (&text[..at], text[value_at + 1..].trim_end());
        }
        search_from = value_at;
    }
    (text, "")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(text: &str) -> GuestLine {
        parse_line(text).expect("a protocol line").expect("decodes")
    }

    #[test]
    fn decodes_every_verb() {
        let GuestLine::Armed(armed) = line("campaign: armed id=17 config=unwind spec=regflip:fs:ticks.40:rsp.5") else {
            panic!("not armed")
        };
        assert_eq!(armed.id, TrialId(17));
        assert_eq!(armed.config, Config::Unwind);
        assert_eq!(armed.injection.to_string(), "regflip:fs:ticks.40:rsp.5");
        assert_eq!(line("campaign: injected at=1500000"), GuestLine::Injected { at_ns: 1_500_000 });
        assert_eq!(
            line("campaign: detected kind=exception server=fs generation=0"),
            GuestLine::Detected(Detection {
                kind: DetectionKind::Exception,
                server: Target::try_new("fs").unwrap(),
                generation: 0
            })
        );
        assert_eq!(
            line("campaign: recovered server=fs latency_ns=84000 released_by_unwinding=7 reclaimed_by_backstop=1 leaks=0"),
            GuestLine::Recovered(Recovery {
                server: Target::try_new("fs").unwrap(),
                latency_ns: 84_000,
                released_by_unwinding: 7,
                reclaimed_by_backstop: 1,
                leaks: 0
            })
        );
        assert_eq!(
            line("campaign: workload verdict=wrong detail=read 3: expected 0x41, got 0x43"),
            GuestLine::Workload(WorkloadVerdict {
                verdict: Verdict::Wrong,
                detail: "read 3: expected 0x41, got 0x43".into()
            })
        );
        assert_eq!(line("campaign: end"), GuestLine::End);
    }

    #[test]
    fn tolerates_line_endings_escapes_reordered_and_unknown_fields() {
        assert_eq!(line("campaign: end\r\n"), GuestLine::End);
        assert_eq!(line("\u{1b}[0m\u{1b}[1;32m  campaign: end"), GuestLine::End);
        assert_eq!(line("campaign: injected   extra=1 at=5\r"), GuestLine::Injected { at_ns: 5 });
    }

    #[test]
    fn a_detail_keeps_its_spaces_and_equals_signs() {
        let GuestLine::Workload(verdict) = line("campaign: workload verdict=error detail=open(/a) = Err(ServerFault { server: fs })") else {
            panic!("not workload")
        };
        assert_eq!(verdict.detail, "open(/a) = Err(ServerFault { server: fs })");
        let GuestLine::Workload(verdict) = line("campaign: workload verdict=ok") else { panic!("not workload") };
        assert_eq!(verdict.detail, "");
    }

    #[test]
    fn a_glued_line_counts_only_if_it_decodes() {
        assert_eq!(parse_line("[fs] reading block 7campaign: end"), Some(Ok(GuestLine::End)));
        assert_eq!(parse_line("shell: echo campaign: hello"), None);
        assert_eq!(parse_line("ordinary log output"), None);
    }

    #[test]
    fn malformed_lines_say_what_is_wrong() {
        assert_eq!(parse_line("campaign: exploded"), Some(Err(GuestLineError::UnknownVerb("exploded".into()))));
        assert_eq!(
            parse_line("campaign: injected"),
            Some(Err(GuestLineError::MissingField { verb: "injected", field: "at" }))
        );
        assert_eq!(
            parse_line("campaign: injected at=soon"),
            Some(Err(GuestLineError::BadValue {
                verb: "injected",
                field: "at",
                value: "soon".into(),
                reason: "invalid digit found in string".into()
            }))
        );
        assert_eq!(
            parse_line("campaign: end now"),
            Some(Ok(GuestLine::End)),
            "`end` takes no fields and ignores trailing words"
        );
        assert!(matches!(
            parse_line("campaign: detected kind=meltdown server=fs generation=1"),
            Some(Err(GuestLineError::BadValue { field: "kind", .. }))
        ));
        assert!(matches!(
            parse_line("campaign: armed id=1 config=unwind spec=panic:fs:ops.1:rax.3"),
            Some(Err(GuestLineError::BadValue { field: "spec", .. }))
        ));
        assert_eq!(
            parse_line("campaign: workload detail=it failed verdict=ok"),
            Some(Err(GuestLineError::MissingField { verb: "workload", field: "verdict" })),
            "detail= takes the rest of the line, so it must come last"
        );
        assert!(matches!(
            parse_line("campaign: recovered server=fs latency_ns"),
            Some(Err(GuestLineError::NotKeyValue { verb: "recovered", .. }))
        ));
    }
}
