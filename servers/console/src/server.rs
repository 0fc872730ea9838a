//! [`ConsoleServer`]: the line buffer and its discipline.

use alloc::vec::Vec;

use server_api::ops::console::{ConsoleOp, LINE_BYTES_MAX};
use server_api::{Env, InitNote, LockId, Payload, Request, Server, Status};

use crate::sites;

/// The console server: the current, unfinished line.
///
/// # Invariants
/// - `line` holds fewer than `LINE_BYTES_MAX` bytes and no `\n` between
///   requests (a full or ended line is sent at once), so it never grows
///   past the capacity allocated at `init`.
#[derive(Debug)]
pub struct ConsoleServer {
    line: Vec<u8>,
}

impl Server for ConsoleServer {
    const SITES: u32 = sites::COUNT;
    const KEPT_WORDS: usize = 0;

    fn init(_env: &mut dyn Env) -> (Self, InitNote) {
        (ConsoleServer { line: Vec::with_capacity(LINE_BYTES_MAX) }, InitNote::NothingKept)
    }

    fn handle(&mut self, env: &mut dyn Env, request: &Request) -> Result<Payload, Status> {
        env.site(sites::ENTRY);
        match ConsoleOp::from_number(request.op).ok_or(Status::BadRequest)? {
            ConsoleOp::Write => {
                let (bytes, len) = request.payload.to_bytes();
                let bytes = bytes.get(..len).ok_or(Status::BadRequest)?;
                self.write(env, bytes);
                Ok(Payload::word(bytes.len() as u64))
            }
            ConsoleOp::Flush => {
                env.site(sites::FLUSH);
                self.send(env)?;
                Ok(Payload::EMPTY)
            }
        }
    }
}

impl ConsoleServer {
    /// Adds `bytes` to the line, sending it each time it ends or fills.
    /// A line that cannot go out now (the console lock is held) is sent
    /// with the next one, in one piece.
    fn write(&mut self, env: &mut dyn Env, bytes: &[u8]) {
        for &byte in bytes {
            self.line.push(byte);
            if byte == b'\n' || self.line.len() >= LINE_BYTES_MAX {
                env.site(sites::LINE);
                // Busy: kept, sent with the next line.
                let _ = self.send(env);
            }
        }
    }

    /// Sends the line as it is, holding the shared console lock, and
    /// starts a new one; `Err(Busy)` (the line kept) if another instance
    /// holds the lock.
    fn send(&mut self, env: &mut dyn Env) -> Result<(), Status> {
        if self.line.is_empty() {
            return Ok(());
        }
        let line = &self.line;
        env.locked(LockId::CONSOLE, &mut |env| env.console_write(line))?;
        self.line.clear();
        Ok(())
    }
}
