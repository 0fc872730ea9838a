//! How the workload fails, and how its results are checked against the
//! golden ones: a call that failed for good (`error`), or a result that
//! differs (`wrong`).

use core::fmt;

use lazarus_rt::client::ClientError;

use crate::tally;

/// Why the workload failed.
pub enum Failure {
    /// A call failed for good: after the stubs' retries of idempotent
    /// requests, or the workload's redos of the others.
    Error(&'static str, ClientError),
    /// A result differed from the golden one.
    Wrong(&'static str),
    /// A number differed from the golden one: what, expected, got.
    Mismatch(&'static str, u64, u64),
}

/// A check's result: the value, or why the workload failed.
pub type Check<T = ()> = Result<T, Failure>;

impl Failure {
    /// The verdict word of the `campaign: workload` line.
    pub fn verdict(&self) -> &'static str {
        match self {
            Failure::Error(..) => "error",
            Failure::Wrong(_) | Failure::Mismatch(..) => "wrong",
        }
    }

    /// The program's exit code: 1 for an error, 2 for a wrong result.
    pub fn exit_code(&self) -> i32 {
        match self {
            Failure::Error(..) => 1,
            Failure::Wrong(_) | Failure::Mismatch(..) => 2,
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Error(what, error) => write!(f, "{what}: {error}"),
            Failure::Wrong(what) => f.write_str(what),
            Failure::Mismatch(what, expected, got) => write!(f, "{what}: expected {expected}, got {got}"),
        }
    }
}

/// `result` of one stub call, counted (see [`tally`]) and passed on.
pub fn sent<T>(result: Result<T, ClientError>) -> Result<T, ClientError> {
    tally::add_call();
    result
}

/// `result` of the stub call `what`, counted; its failure is an error.
pub fn called<T>(what: &'static str, result: Result<T, ClientError>) -> Check<T> {
    sent(result).map_err(|error| Failure::Error(what, error))
}

/// `Ok` if `got` is `expected`, else a mismatch of `what`.
pub fn same(what: &'static str, expected: u64, got: u64) -> Check {
    if got == expected {
        Ok(())
    } else {
        Err(Failure::Mismatch(what, expected, got))
    }
}

/// Whether `error` says the server faulted or is restarting: the request
/// may be redone (and, if it is not idempotent, may have taken effect).
pub fn is_transient(error: &ClientError) -> bool {
    matches!(error, ClientError::Server(status) if status.is_transient())
}
