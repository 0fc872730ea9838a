//! Server states, and why a dead server is dead.
//!
//! The state is what the shell lists and what [`crate::Registry::check_call`]
//! reads; the manager moves it, and never out of `Dead`.

use core::fmt;

use crate::fault::FaultCause;
use crate::server_id::ServerId;

/// Where a server is in its life.
///
/// ```text
///  Starting ──Serve done──▶ Serving ──fault──▶ Faulted ──gate passed──▶ Restarting ──Serve done──▶ Serving
///     │                        │                  ▲                          │
///     └──── a step fails ──────┼──────────────────┴──────── a step fails ────┘
///                              └──escalation restarts a dependency──▶ Restarting
///  any state but Dead ──policy gives up / config `none` / dependency dead──▶ Dead (final)
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ServerState {
    /// The first instance is being started.
    Starting,
    /// An instance is serving requests.
    Serving,
    /// The instance faulted: it is being torn down, or waits for its
    /// restart (a back-off delay, a dependency that is not serving yet).
    Faulted {
        /// The latest fault.
        cause: FaultCause,
    },
    /// A new instance is being started (its generation bumped, `init`
    /// running, kept state being restored), or a healthy instance is being
    /// stopped because a server it depends on is restarted.
    Restarting,
    /// The server will not run again. Final: nothing restarts a dead server.
    Dead {
        /// Why it was given up.
        why: DeadReason,
    },
}

impl ServerState {
    /// Whether the server is dead.
    pub const fn is_dead(&self) -> bool {
        matches!(self, ServerState::Dead { .. })
    }

    /// Whether an instance is serving requests.
    pub const fn is_serving(&self) -> bool {
        matches!(self, ServerState::Serving)
    }
}

impl fmt::Display for ServerState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServerState::Starting => f.write_str("starting"),
            ServerState::Serving => f.write_str("serving"),
            ServerState::Faulted { cause } => write!(f, "faulted ({cause})"),
            ServerState::Restarting => f.write_str("restarting"),
            ServerState::Dead { why } => write!(f, "dead ({why})"),
        }
    }
}

/// Why a server was marked dead.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DeadReason {
    /// The configuration is `none`: faulted servers are not restarted.
    NoRecovery,
    /// The server exceeded its restart limit, whose escalation is
    /// [`crate::Escalation::MarkDead`].
    LimitReached,
    /// The server exceeded its limit again within one window of restarting
    /// its dependents ([`crate::Escalation::RestartDependents`]).
    EscalationFailed,
    /// This many recovery attempts in a row failed before an instance served.
    FailedAttempts {
        /// The failed attempts.
        attempts: u32,
    },
    /// The generation reached `u32::MAX`; a restart would have to reuse one.
    GenerationsExhausted,
    /// A server it depends on is dead, so it cannot be started.
    DependencyDead {
        /// The dead dependency.
        dependency: ServerId,
    },
}

impl fmt::Display for DeadReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeadReason::NoRecovery => f.write_str("no recovery configured"),
            DeadReason::LimitReached => f.write_str("restart limit reached"),
            DeadReason::EscalationFailed => f.write_str("restarting its dependents did not help"),
            DeadReason::FailedAttempts { attempts } => write!(f, "{attempts} recovery attempts failed in a row"),
            DeadReason::GenerationsExhausted => f.write_str("generations exhausted"),
            DeadReason::DependencyDead { dependency } => write!(f, "its dependency {dependency} is dead"),
        }
    }
}
