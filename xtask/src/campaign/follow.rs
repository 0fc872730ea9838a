//! Printing a log file as it grows, while something else writes it (like `tail -f`).
//!
//! `runner::boot` writes each serial line to the boot's log as it arrives
//! and returns only when the boot is over; `replay` uses this to show the
//! console live. The file may not exist yet when following starts; it is
//! opened once it does, and read to its end after the work is done, so
//! nothing written is missed.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::Duration;

/// How often the file is checked for more: quick enough to look live, and
/// a negligible load beside QEMU.
const POLL_INTERVAL: Duration = Duration::from_millis(50);

/// Size of one read from the file.
const CHUNK_BYTES: usize = 8 * 1024;

/// Runs `work` while copying what appears in `path` to `out`; returns
/// `work`'s result once the file is copied to its end.
pub fn while_running<T>(path: &Path, out: &mut (impl Write + Send), work: impl FnOnce() -> T) -> T {
    let done = AtomicBool::new(false);
    thread::scope(|scope| {
        let follower = scope.spawn(|| follow(path, &done, out));
        // Stops the follower even if `work` panics, so the scope can end.
        struct Done<'a>(&'a AtomicBool);
        impl Drop for Done<'_> {
            fn drop(&mut self) {
                self.0.store(true, Ordering::Release);
            }
        }
        let result = {
            let _done = Done(&done);
            work()
        };
        // The follower only copies bytes; if it panicked, the log is still on disk.
        let _ = follower.join();
        result
    })
}

/// Copies `path` to `out` as it grows, until `done` and the end of the file.
fn follow(path: &Path, done: &AtomicBool, out: &mut impl Write) {
    let mut file: Option<File> = None;
    let mut chunk = [0u8; CHUNK_BYTES];
    loop {
        // Read `done` before draining: once it is set, the writer has
        // finished, so this drain is the last one needed.
        let finished = done.load(Ordering::Acquire);
        if file.is_none() {
            file = File::open(path).ok();
        }
        if let Some(file) = file.as_mut() {
            loop {
                match file.read(&mut chunk) {
                    Ok(0) => break,
                    // A closed output (e.g. `| head`) must not stop the replay.
                    Ok(read) => {
                        let _ = out.write_all(&chunk[..read]);
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(_) => break,
                }
            }
            let _ = out.flush();
        }
        if finished {
            return;
        }
        thread::sleep(POLL_INTERVAL);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs::OpenOptions;

    #[test]
    fn copies_everything_written_while_running_even_to_a_file_that_comes_late() {
        let temp = tempfile::tempdir().unwrap();
        let path = temp.path().join("boot.log");
        let mut out = Vec::new();
        let answer = while_running(&path, &mut out, || {
            thread::sleep(POLL_INTERVAL * 2);
            let mut log = OpenOptions::new().create(true).append(true).open(&path).unwrap();
            for i in 0..5 {
                writeln!(log, "line {i}").unwrap();
                thread::sleep(POLL_INTERVAL / 2);
            }
            write!(log, "last, without a newline").unwrap();
            42
        });
        assert_eq!(answer, 42);
        assert_eq!(String::from_utf8(out).unwrap(), "line 0\nline 1\nline 2\nline 3\nline 4\nlast, without a newline");
    }

    #[test]
    fn a_file_that_never_comes_prints_nothing() {
        let temp = tempfile::tempdir().unwrap();
        let mut out = Vec::new();
        while_running(&temp.path().join("none.log"), &mut out, || ());
        assert!(out.is_empty());
    }
}
