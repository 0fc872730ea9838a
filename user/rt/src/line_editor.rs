//! A line editor for a serial terminal: printable characters, backspace,
//! Ctrl-U, and a history walked with the up and down arrows.
//!
//! Pure logic: bytes in, bytes to echo and finished lines out, so it is
//! tested on the host. Lines and history are fixed-size (no allocation).

/// Longest line, in bytes; typing beyond it is ignored.
pub const LINE_MAX: usize = 128;
/// Lines kept in the history.
pub const HISTORY: usize = 16;

const BACKSPACE: u8 = 0x7F;
const CTRL_H: u8 = 0x08;
const CTRL_U: u8 = 0x15;
const ESC: u8 = 0x1B;
/// Erases one character on the terminal: back, space, back.
const RUB_OUT: &[u8] = b"\x08 \x08";

#[derive(Clone, Copy)]
struct Line {
    bytes: [u8; LINE_MAX],
    len: usize,
}

impl Line {
    const EMPTY: Self = Self { bytes: [0; LINE_MAX], len: 0 };

    fn as_str(&self) -> &str {
        core::str::from_utf8(&self.bytes[..self.len]).unwrap_or("")
    }
}

/// Where an escape sequence is (arrows are `ESC [ A` / `ESC [ B`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Escape {
    None,
    Started,
    Bracket,
}

/// What feeding a byte produced.
#[derive(Debug, PartialEq, Eq)]
pub enum Event<'a> {
    /// Nothing to do (an unfinished escape sequence, an ignored key).
    Nothing,
    /// Bytes to echo to the terminal.
    Echo(&'a [u8]),
    /// A finished line (the newline is for the caller to echo).
    Line(&'a str),
}

/// The editor.
pub struct LineEditor {
    line: Line,
    history: [Line; HISTORY],
    /// Lines in `history` (up to `HISTORY`), newest at `(next + HISTORY - 1) % HISTORY`.
    stored: usize,
    next: usize,
    /// How far back the arrows have gone (0: the line being typed).
    back: usize,
    escape: Escape,
    /// Scratch for echoes that redraw the line.
    echo: [u8; 3 * LINE_MAX + 3],
    /// The finished line, kept so `Event::Line` can borrow it.
    done: Line,
}

impl Default for LineEditor {
    fn default() -> Self {
        Self::new()
    }
}

impl LineEditor {
    /// An empty editor.
    pub const fn new() -> Self {
        Self {
            line: Line::EMPTY,
            history: [Line::EMPTY; HISTORY],
            stored: 0,
            next: 0,
            back: 0,
            escape: Escape::None,
            echo: [0; 3 * LINE_MAX + 3],
            done: Line::EMPTY,
        }
    }

    /// Feeds one byte typed by the user.
    pub fn feed(&mut self, byte: u8) -> Event<'_> {
        match (self.escape, byte) {
            (Escape::Started, b'[') => {
                self.escape = Escape::Bracket;
                return Event::Nothing;
            }
            (Escape::Bracket, b'A') => {
                self.escape = Escape::None;
                return self.recall(self.back + 1);
            }
            (Escape::Bracket, b'B') => {
                self.escape = Escape::None;
                return self.recall(self.back.saturating_sub(1));
            }
            (Escape::Started | Escape::Bracket, _) => {
                self.escape = Escape::None;
                return Event::Nothing;
            }
            (Escape::None, _) => {}
        }
        match byte {
            ESC => {
                self.escape = Escape::Started;
                Event::Nothing
            }
            b'\r' | b'\n' => {
                self.done = self.line;
                self.line = Line::EMPTY;
                self.back = 0;
                if self.done.len > 0 {
                    self.history[self.next] = self.done;
                    self.next = (self.next + 1) % HISTORY;
                    self.stored = (self.stored + 1).min(HISTORY);
                }
                Event::Line(self.done.as_str())
            }
            BACKSPACE | CTRL_H => {
                if self.line.len == 0 {
                    return Event::Nothing;
                }
                self.line.len -= 1;
                Event::Echo(RUB_OUT)
            }
            CTRL_U => {
                let n = self.erase_echo(0);
                self.line.len = 0;
                Event::Echo(&self.echo[..n])
            }
            b' '..=b'~' if self.line.len < LINE_MAX => {
                self.line.bytes[self.line.len] = byte;
                self.line.len += 1;
                self.echo[0] = byte;
                Event::Echo(&self.echo[..1])
            }
            _ => Event::Nothing,
        }
    }

    /// Writes rub-outs for the whole current line into `echo` from `at`;
    /// returns the end.
    fn erase_echo(&mut self, at: usize) -> usize {
        let mut n = at;
        for _ in 0..self.line.len {
            self.echo[n..n + 3].copy_from_slice(RUB_OUT);
            n += 3;
        }
        n
    }

    /// Shows the line `back` entries back in the history (0: empty line).
    fn recall(&mut self, back: usize) -> Event<'_> {
        let back = back.min(self.stored);
        if back == self.back {
            return Event::Nothing;
        }
        self.back = back;
        let n = self.erase_echo(0);
        self.line = if back == 0 { Line::EMPTY } else { self.history[(self.next + HISTORY - back) % HISTORY] };
        let len = self.line.len;
        self.echo[n..n + len].copy_from_slice(&self.line.bytes[..len]);
        Event::Echo(&self.echo[..n + len])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `input`; returns the finished lines and everything echoed.
    fn type_all(e: &mut LineEditor, input: &[u8]) -> (Vec<String>, Vec<u8>) {
        let (mut lines, mut echoed) = (Vec::new(), Vec::new());
        for &b in input {
            match e.feed(b) {
                Event::Line(l) => lines.push(l.to_string()),
                Event::Echo(bytes) => echoed.extend_from_slice(bytes),
                Event::Nothing => {}
            }
        }
        (lines, echoed)
    }

    #[test]
    fn lines_and_echo() {
        let mut e = LineEditor::new();
        let (lines, echoed) = type_all(&mut e, b"ps\rhelp\n");
        assert_eq!(lines, ["ps", "help"]);
        assert_eq!(echoed, b"pshelp");
    }

    #[test]
    fn backspace_and_ctrl_u() {
        let mut e = LineEditor::new();
        let (lines, echoed) = type_all(&mut e, b"pq\x7fs\r");
        assert_eq!(lines, ["ps"]);
        assert_eq!(echoed, b"pq\x08 \x08s");
        let (lines, _) = type_all(&mut e, b"junk\x15mem\r\x7f\x7f\r");
        assert_eq!(lines, ["mem", ""], "Ctrl-U clears; backspace on an empty line does nothing");
    }

    #[test]
    fn history_with_arrows() {
        let mut e = LineEditor::new();
        type_all(&mut e, b"one\rtwo\r");
        let up = b"\x1b[A";
        let down = b"\x1b[B";
        let (lines, _) = type_all(&mut e, &[&up[..], &b"\r"[..]].concat());
        assert_eq!(lines, ["two"]);
        let (lines, echoed) = type_all(&mut e, &[&up[..], &up[..], &up[..], &b"\r"[..]].concat());
        assert_eq!(lines, ["one"], "up past the oldest stays on it");
        assert!(echoed.ends_with(b"one"));
        let (lines, _) = type_all(&mut e, &[&up[..], &down[..], &down[..], &b"x\r"[..]].concat());
        assert_eq!(lines, ["x"], "down below the newest is an empty line");
    }

    #[test]
    fn long_lines_and_unknown_keys_are_ignored_safely() {
        let mut e = LineEditor::new();
        let long = [b'a'; LINE_MAX + 10];
        let (_, echoed) = type_all(&mut e, &long);
        assert_eq!(echoed.len(), LINE_MAX);
        let (lines, _) = type_all(&mut e, b"\x01\x1b[Z\x1bq\r");
        assert_eq!(lines[0].len(), LINE_MAX);
        for _ in 0..HISTORY * 2 {
            type_all(&mut e, b"x\r");
        }
        let (lines, _) = type_all(&mut e, b"\x1b[A\r");
        assert_eq!(lines, ["x"]);
    }
}
