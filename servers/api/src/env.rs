//! What the trusted address space gives a server while it serves: its
//! fault-injection sites, its kept-state region, the console, the
//! time-stamp counter, calls to the other servers (with a buffer lent for
//! bulk data), and the locks they share.

use core::fmt;

use crate::message::{Payload, Request};
use crate::server_id::ServerId;
use crate::status::Status;

/// A lock shared between servers, by number. The TAS records which
/// instance holds each; a lock held by an instance that faults is released
/// by unwinding (the holder's frames drop their guard) or, when its frames
/// are discarded, by the backstop.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LockId(pub u8);

impl LockId {
    /// The console: held while a line is written out, so lines from
    /// different servers do not interleave.
    pub const CONSOLE: LockId = LockId(0);
    /// Locks the TAS has.
    pub const COUNT: usize = 4;
}

/// Why a call to another server failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallError {
    /// The callee faulted while serving the call; it is being restarted.
    /// `generation` is the instance that faulted.
    ServerFault {
        /// The callee.
        server: ServerId,
        /// Its instance that faulted.
        generation: u32,
    },
    /// The callee answered with this status, or could not be called
    /// (`ServerDead`, `Restarting`, `Busy` for a cycle, `BadRequest`).
    Refused(Status),
}

impl CallError {
    /// The status a client would see for it.
    pub const fn status(self) -> Status {
        match self {
            CallError::ServerFault { .. } => Status::ServerFault,
            CallError::Refused(status) => status,
        }
    }
}

impl fmt::Display for CallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallError::ServerFault { server, generation } => {
                write!(f, "{server} generation {generation} faulted during the call")
            }
            CallError::Refused(status) => write!(f, "{status}"),
        }
    }
}

/// The server's surroundings during `init` and `handle`.
pub trait Env {
    /// An injection site: a place in the server's code where a fault armed
    /// by a campaign (or by `inject` in the shell) may fire. `site` numbers
    /// the site within the server, from 0 to `Server::SITES - 1`; the call
    /// costs nothing when no fault is armed.
    fn site(&mut self, site: u32);

    /// The server's kept-state region: memory outside its heap that
    /// survives its restarts (open it with `resilient_store`). Empty for a
    /// server that keeps nothing.
    fn kept(&mut self) -> &mut [u64];

    /// Writes `bytes` to the system console as they are (no line
    /// discipline: that is the console server's job; other servers write
    /// whole lines of their own through [`crate::log_line`]). The TAS
    /// passes them to the kernel's console; output the console cannot take
    /// is dropped, never blocked on.
    fn console_write(&mut self, bytes: &[u8]);

    /// The time-stamp counter: ticks that only grow (under QEMU's
    /// `-icount shift=0`, one per guest instruction), for a server to time
    /// what it does (crashtest's `TimeCalls`). Not a clock to act on: a
    /// server's answers must not depend on it.
    fn cycles(&self) -> u64;

    /// Calls another server directly (no kernel, no copy beyond the four
    /// words), through its proxy: a recovery boundary, so a fault of the
    /// callee comes back as [`CallError::ServerFault`] and the callee is
    /// restarted, while the caller goes on.
    fn call(&mut self, request: &Request) -> Result<Payload, CallError>;

    /// Calls another server as [`Env::call`] does, lending it `buffer`
    /// for the duration of the call: bulk data (disk sectors) that a
    /// 24-byte payload cannot carry. The callee reads and writes the bytes
    /// in place through its [`Env::lent`]; nothing is copied on the way.
    /// When the call returns, normally or with the callee's fault, the
    /// loan is over: the callee never keeps a reference to it, and a
    /// faulted callee may have written part of it.
    fn call_with(&mut self, request: &Request, buffer: &mut [u8]) -> Result<Payload, CallError>;

    /// The buffer the caller lent with this request ([`Env::call_with`]),
    /// for as long as the request is served; `None` if it lent none (a
    /// request from a user program over IPC never lends one). A server
    /// whose operation needs bulk data answers `BadRequest` without it.
    fn lent(&mut self) -> Option<&mut [u8]>;

    /// Runs `body` holding the shared lock `lock`. `Err(Busy)` without
    /// running it if another instance holds the lock. If `body` faults, the
    /// lock is released all the same (by unwinding or by the backstop).
    fn locked(&mut self, lock: LockId, body: &mut dyn FnMut(&mut dyn Env)) -> Result<(), Status>;
}
