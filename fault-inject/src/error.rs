//! Why a spelling of the plan's types could not be read.
//!
//! One error type for every parser in the crate, so the injection and the
//! command-line fragment, which are made of the others, pass their fields'
//! errors on unchanged. Errors carry no copy of the text (the crate does not
//! allocate); the caller still has it.

use crate::injection::LocationMismatch;
use crate::target::TargetError;

/// Why a model, configuration, trigger, location, injection or command-line
/// fragment could not be parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// Not one of the seven fault model names.
    #[error("unknown fault model (expected panic, regflip, memflip, wildptr, cfi, hang or stackoverflow)")]
    UnknownModel,
    /// Not one of the three configuration names.
    #[error("unknown configuration (expected unwind, restart or none)")]
    UnknownConfig,
    /// A trigger that is neither `ops.N` nor `ticks.N`.
    #[error("unknown trigger (expected ops.N or ticks.N)")]
    UnknownTrigger,
    /// A location whose first word names no register, region or site kind.
    #[error("unknown location (expected a register, a region, site, ret, fnptr, null or wild)")]
    UnknownLocation,
    /// A field that should be a decimal number is not one, or overflows.
    #[error("{what} is not a number in range")]
    BadNumber {
        /// Which field.
        what: &'static str,
    },
    /// A number at or above its limit.
    #[error("{what} {value} is out of range (must be below {limit})")]
    OutOfRange {
        /// Which field.
        what: &'static str,
        /// The value read.
        value: u64,
        /// The exclusive upper bound.
        limit: u64,
    },
    /// The wrong number of fields.
    #[error("malformed {what}: expected {expected}")]
    WrongShape {
        /// What was being parsed.
        what: &'static str,
        /// Its expected shape.
        expected: &'static str,
    },
    /// An invalid server name.
    #[error(transparent)]
    Target(#[from] TargetError),
    /// A location of the wrong kind for the model.
    #[error(transparent)]
    Mismatch(#[from] LocationMismatch),
    /// A command-line fragment lacks a key the others need.
    #[error("the command line has `{present}=` but no `{missing}=`")]
    MissingKey {
        /// The key that is there.
        present: &'static str,
        /// The key that is missing.
        missing: &'static str,
    },
}
