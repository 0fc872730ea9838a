//! [`log_line`]: one line of a server's own on the system console, whole.
//!
//! The console server writes what clients send it; a server that has
//! something to say itself (the disk it found, a disk error) writes a line
//! here. The line is formatted into a buffer on the stack, cut at
//! [`LOG_LINE_BYTES`], and written in one piece under the console lock, so
//! it never interleaves with a line the console server is writing out.

use core::fmt::{self, Write};

use crate::env::{Env, LockId};

/// Longest log line, in bytes, its newline included: longer ones are cut.
pub const LOG_LINE_BYTES: usize = 160;

/// A line being formatted; what does not fit is dropped.
struct Line {
    bytes: [u8; LOG_LINE_BYTES],
    len: usize,
}

impl Write for Line {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        // One byte stays free for the newline.
        let room = LOG_LINE_BYTES - 1 - self.len;
        let taken = text.len().min(room);
        self.bytes[self.len..self.len + taken].copy_from_slice(&text.as_bytes()[..taken]);
        self.len += taken;
        Ok(())
    }
}

/// Writes `args` and a newline to the console as one line. If the console
/// lock is held (never, in practice: no server holds it while calling
/// another), the line is written without it.
pub fn log_line(env: &mut dyn Env, args: fmt::Arguments<'_>) {
    let mut line = Line { bytes: [0; LOG_LINE_BYTES], len: 0 };
    let _ = line.write_fmt(args);
    line.bytes[line.len] = b'\n';
    let text = &line.bytes[..=line.len];
    if env.locked(LockId::CONSOLE, &mut |env| env.console_write(text)).is_err() {
        env.console_write(text);
    }
}
