//! The manager's errors: building a registry, checking a call, reporting an event.
//!
//! Each says who is at fault. A [`RegistryError`] is a mistake in the
//! server declarations; a [`CallError`] is what a caller's proxy tells its
//! caller (the call did not reach a live instance, and why); an
//! [`EventError`] is a mistake of the embedder's (an event that does not
//! fit what the manager asked for), refused without changing anything.

use alloc::vec::Vec;
use core::fmt;

use crate::generation::Generation;
use crate::resources::AccountingError;
use crate::server_id::ServerId;
use crate::server_name::ServerName;
use crate::state::{DeadReason, ServerState};
use crate::step::{ExpectedOutcome, Step};
use crate::time::TimeWentBackwards;

/// Why a set of server declarations does not make a registry.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RegistryError {
    /// Two servers have the same name.
    #[error("two servers are named {0}")]
    DuplicateName(ServerName),
    /// A server depends on a server nobody declared.
    #[error("{server} depends on {dependency}, which is not declared")]
    UnknownDependency {
        /// The server that declared the dependency.
        server: ServerName,
        /// The name that matches no server.
        dependency: ServerName,
    },
    /// The dependencies form a cycle, so no server in it could start first.
    #[error("dependency cycle: {0}")]
    Cycle(CyclePath),
    /// More servers than a [`ServerId`] can number.
    #[error("{count} servers declared; at most {} fit", u16::MAX as usize + 1)]
    TooManyServers {
        /// Servers declared.
        count: usize,
    },
}

/// The servers of a dependency cycle: each depends on the next, and the
/// last on the first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CyclePath(pub Vec<ServerName>);

impl fmt::Display for CyclePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for name in &self.0 {
            write!(f, "{name} -> ")?;
        }
        match self.0.first() {
            Some(first) => write!(f, "{first}"),
            None => Ok(()),
        }
    }
}

/// Why a call must not go to a server's instance. A proxy checks before
/// every call and turns this into the caller's error; client stubs may
/// retry idempotent requests on [`CallError::Stale`] and
/// [`CallError::NotServing`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    /// No server has this id (the caller's mistake).
    #[error("no such server")]
    Unknown,
    /// The server is dead and will not come back.
    #[error("the server is dead: {why}")]
    Dead {
        /// Why it was given up.
        why: DeadReason,
    },
    /// The call was meant for an instance that was since replaced.
    #[error("generation is stale; the server is now at generation {current}")]
    Stale {
        /// The server's current generation.
        current: Generation,
    },
    /// The generation was never issued (the caller's mistake: a corrupted
    /// or forged handle).
    #[error("generation was never issued; the server is at generation {current}")]
    NotIssued {
        /// The server's current generation.
        current: Generation,
    },
    /// The generation is current, but the instance is starting or being
    /// recovered and takes no calls yet.
    #[error("generation {current} is not serving yet")]
    NotServing {
        /// The server's current generation.
        current: Generation,
    },
}

/// An event the manager refused. The manager is left as it was.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    /// No server has this id.
    #[error("{0} is not registered")]
    UnknownServer(ServerId),
    /// The event is dated before one already reported.
    #[error(transparent)]
    TimeWentBackwards(#[from] TimeWentBackwards),
    /// A fault of a server that is dead: none of its code runs any more.
    #[error("{server} is dead ({why}); it cannot fault")]
    Dead {
        /// The server.
        server: ServerId,
        /// Why it is dead.
        why: DeadReason,
    },
    /// A fault of a server with no instance serving. A fault during a step
    /// is reported as that step's outcome ([`crate::StepOutcome::Failed`]).
    #[error("{server} is {state}: a fault now must be reported as the outcome of its step")]
    NotRunning {
        /// The server.
        server: ServerId,
        /// Its state.
        state: ServerState,
    },
    /// A step reported done that the manager did not ask for.
    #[error("{server} reported {reported:?} done, but the step asked for is {outstanding:?}")]
    NotOutstanding {
        /// The server.
        server: ServerId,
        /// The step reported.
        reported: Step,
        /// The step the manager is waiting for, if any.
        outstanding: Option<Step>,
    },
    /// A step's outcome of the wrong shape.
    #[error("{server}: step {step:?} must report {expected:?}")]
    WrongOutcome {
        /// The server.
        server: ServerId,
        /// The step.
        step: Step,
        /// The outcome it must report (or `Failed`).
        expected: ExpectedOutcome,
    },
    /// A ledger snapshot that contradicts the last one.
    #[error("{server}: {error}")]
    Accounting {
        /// The server.
        server: ServerId,
        /// What is inconsistent.
        error: AccountingError,
    },
}
