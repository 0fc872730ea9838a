//! Faults as the manager hears of them: what was detected, and what unwinding released.
//!
//! The kernel detects a fault and the unwinder unwinds the faulting thread
//! before the manager is told; a [`Fault`] carries the cause and the
//! instance's resource ledger before and after that unwinding.

use core::fmt;

use crate::resources::Released;

/// Number of x86 exception vectors: vectors 0 to 31 are reserved for
/// exceptions (Intel SDM vol. 3A, §6.2, "Exception and interrupt vectors").
pub const EXCEPTION_VECTORS: u8 = 32;

/// An x86 exception vector, such as 14 for a page fault.
///
/// # Invariants
/// Below [`EXCEPTION_VECTORS`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ExceptionVector(u8);

/// A vector outside the exception range.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("vector {0} is not an exception vector (exceptions are 0 to {max})", max = EXCEPTION_VECTORS - 1)]
pub struct NotAnException(pub u8);

impl ExceptionVector {
    /// Validates an exception vector.
    pub const fn try_new(vector: u8) -> Result<Self, NotAnException> {
        if vector < EXCEPTION_VECTORS {
            Ok(ExceptionVector(vector))
        } else {
            Err(NotAnException(vector))
        }
    }

    /// The vector number.
    pub const fn get(self) -> u8 {
        self.0
    }
}

/// How a server fault was detected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FaultCause {
    /// A Rust panic in the server.
    Panic,
    /// A CPU exception in a server thread (page fault, #GP, #UD, divide
    /// error, a stack-guard hit).
    Exception(ExceptionVector),
    /// A failed control-flow-integrity check.
    Cfi,
    /// The watchdog: the server stopped answering.
    Watchdog,
}

impl FaultCause {
    /// The cause's name in the campaign protocol (`detected kind=…`).
    pub const fn kind(self) -> &'static str {
        match self {
            FaultCause::Panic => "panic",
            FaultCause::Exception(_) => "exception",
            FaultCause::Cfi => "cfi",
            FaultCause::Watchdog => "watchdog",
        }
    }
}

impl fmt::Display for FaultCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FaultCause::Exception(vector) => write!(f, "exception (vector {})", vector.get()),
            other => f.write_str(other.kind()),
        }
    }
}

/// A detected fault of one server instance, reported once its unwinding
/// has finished.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fault {
    /// How it was detected.
    pub cause: FaultCause,
    /// The instance's ledger when the fault was detected and after its
    /// thread was unwound. Under the `restart` configuration nothing is
    /// unwound, so both are the same ([`Released::nothing`]).
    pub released: Released,
}

impl Fault {
    /// A fault of cause `cause` whose unwinding released `released`.
    pub const fn new(cause: FaultCause, released: Released) -> Self {
        Fault { cause, released }
    }

    /// A fault by an instance that owned nothing the ledger counts.
    pub const fn unaccounted(cause: FaultCause) -> Self {
        Fault { cause, released: Released::NOTHING }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exception_vectors_are_below_32() {
        assert_eq!(ExceptionVector::try_new(14).map(ExceptionVector::get), Ok(14));
        assert_eq!(ExceptionVector::try_new(31).map(ExceptionVector::get), Ok(31));
        assert_eq!(ExceptionVector::try_new(32), Err(NotAnException(32)));
    }

    #[test]
    fn kinds_are_the_protocol_names() {
        let page_fault = FaultCause::Exception(ExceptionVector::try_new(14).unwrap());
        let kinds = [FaultCause::Panic, page_fault, FaultCause::Cfi, FaultCause::Watchdog].map(FaultCause::kind);
        assert_eq!(kinds, ["panic", "exception", "cfi", "watchdog"]);
    }
}
