//! The console server's part: a line and a flush in every round.
//!
//! | step | request | sites (`console_server::sites`) |
//! |---|---|---|
//! | a line, `\n` included, in one request | `Write` | `ENTRY`, `LINE` |
//! | flush (nothing is pending) | `Flush` | `FLUSH` |
//!
//! The console keeps nothing and its output cannot be read back, so a
//! write cut by a fault is redone: a line may show twice, none is lost.
//! The lines never start with `campaign:`, which the campaign runner
//! reads.

use core::fmt::{self, Write};

use lazarus_rt::client::console;
use server_api::PAYLOAD_BYTES;

use crate::failure::Check;
use crate::redo::redo_blind;

/// A line short enough for one `Write` request.
struct Line {
    bytes: [u8; PAYLOAD_BYTES],
    len: usize,
}

impl Write for Line {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len + s.len();
        self.bytes.get_mut(self.len..end).ok_or(fmt::Error)?.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// Writes `text` and a `\n` as one line, then flushes.
fn line(text: fmt::Arguments<'_>) -> Check {
    let mut line = Line { bytes: [0; PAYLOAD_BYTES], len: 0 };
    // A line too long for one request is cut: a shorter line does as well.
    let _ = line.write_fmt(text);
    let len = line.len.min(PAYLOAD_BYTES - 1);
    if let Some(end) = line.bytes.get_mut(len) {
        *end = b'\n';
    }
    let bytes = line.bytes.get(..=len).unwrap_or(&line.bytes);
    redo_blind("console write", || console::write(bytes))?;
    redo_blind("console flush", console::flush)
}

/// Round `round` of the console: a short line naming the round.
pub fn round(round: u64) -> Check {
    line(format_args!("workload: round {round}"))
}

/// The final check: the console answers.
pub fn finish() -> Check {
    line(format_args!("workload: done"))
}
