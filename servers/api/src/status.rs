//! The status of a reply: success, or a typed error saying who is at fault.

use core::fmt;

/// A reply's status (the low byte of its first word).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Status {
    /// Done.
    Ok = 0,
    /// The server faulted while serving this request; it is being
    /// restarted. The reply's generation is the instance that faulted.
    ServerFault = 1,
    /// The server is dead (its policy gave up, or the `none` configuration).
    ServerDead = 2,
    /// The request is malformed: unknown server or operation, bad length.
    BadRequest = 3,
    /// No such file, name or entry.
    NotFound = 4,
    /// The server's capacity is exhausted (files, bytes, names).
    NoSpace = 5,
    /// A file handle that is not open.
    BadHandle = 6,
    /// The name is already taken.
    Exists = 7,
    /// The server is restarting and not yet serving; retry.
    Restarting = 8,
    /// The handle was opened at an older generation of the server and its
    /// state was not kept.
    StaleGeneration = 9,
    /// Not now: a lock shared between servers is held by another instance,
    /// or the server is already serving (a cycle of calls between servers).
    Busy = 10,
    /// The server has no device to serve it with: `blk` found no disk, or
    /// another process holds it.
    NoDevice = 11,
    /// The disk failed: it answered a request with an error or not at
    /// all, or could not be reached. For a change to a file, the change
    /// is made and kept across restarts, but not on the disk yet.
    DiskError = 12,
}

impl Status {
    const ALL: [Status; 13] = [
        Status::Ok,
        Status::ServerFault,
        Status::ServerDead,
        Status::BadRequest,
        Status::NotFound,
        Status::NoSpace,
        Status::BadHandle,
        Status::Exists,
        Status::Restarting,
        Status::StaleGeneration,
        Status::Busy,
        Status::NoDevice,
        Status::DiskError,
    ];

    /// The status with this code.
    pub fn from_code(code: u8) -> Option<Self> {
        Self::ALL.into_iter().find(|s| *s as u8 == code)
    }

    /// Whether a client may simply retry an idempotent request after this.
    pub const fn is_transient(self) -> bool {
        matches!(self, Status::ServerFault | Status::Restarting)
    }

    /// A short description.
    pub const fn describe(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::ServerFault => "the server faulted and is being restarted",
            Status::ServerDead => "the server is dead",
            Status::BadRequest => "malformed request",
            Status::NotFound => "not found",
            Status::NoSpace => "no space left",
            Status::BadHandle => "not an open handle",
            Status::Exists => "already exists",
            Status::Restarting => "the server is restarting",
            Status::StaleGeneration => "the handle belongs to an older instance",
            Status::Busy => "busy: a shared lock is held, or the server is in a call already",
            Status::NoDevice => "no device: there is no disk, or another process holds it",
            Status::DiskError => "the disk failed the request (a change is kept, not yet on the disk)",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_are_distinct() {
        for (i, s) in Status::ALL.into_iter().enumerate() {
            assert_eq!(s as u8, i as u8);
            assert_eq!(Status::from_code(s as u8), Some(s));
        }
        assert_eq!(Status::from_code(200), None);
    }
}
