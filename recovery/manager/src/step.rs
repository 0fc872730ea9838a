//! Steps of the restart sequence: what the manager asks the embedder to do, and what the embedder reports back.
//!
//! The manager does nothing itself: it hands out [`Action`]s, one step for
//! one server at a time, and the embedder (the TAS runtime, or a test)
//! carries each out and reports its [`StepOutcome`] with
//! [`crate::Manager::step_done`]. A step that faults is reported as
//! [`StepOutcome::Failed`] and handled as a fault of the server.

use crate::fault::Fault;
use crate::generation::Generation;
use crate::resources::{Released, Resources};
use crate::server_id::ServerId;

/// One step, for one server.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Step {
    /// Stop a healthy instance (not faulted) because a server it depends
    /// on is being restarted by an escalation. Under `unwind`, unwind its
    /// threads as a fault would; under `restart`, kill them.
    /// Report [`StepOutcome::Stopped`].
    Stop,
    /// Drop the instance's state object, running its `Drop`s (`unwind`
    /// configuration only). Report [`StepOutcome::Owns`] with what the
    /// instance still owns after.
    DropState,
    /// The backstop: reclaim everything the instance still owns (its heap,
    /// handles, locks, grants, pending IPC) from the per-instance records,
    /// and reset its heap. Report [`StepOutcome::Owns`] with what it still
    /// owns after: anything left is a leak.
    Reclaim,
    /// Give the server's endpoint the next generation, `to`, so that calls
    /// and handles of the old one fail. Report [`StepOutcome::Done`].
    BumpGeneration {
        /// The new instance's generation.
        to: Generation,
    },
    /// Run the server's `init`, creating a new state object.
    /// Report [`StepOutcome::Done`].
    Init,
    /// Restore the state the server chose to keep from its resilient
    /// store. Report [`StepOutcome::Done`].
    RestoreKeptState,
    /// Open the server to requests. Report [`StepOutcome::Owns`] with what
    /// the new instance owns: its baseline.
    Serve,
    /// The server is dead: make every call to it fail cleanly from now on
    /// (callers waiting get an error, its endpoint is closed). Report
    /// [`StepOutcome::Done`].
    Retire,
}

impl Step {
    /// The shape of outcome this step reports when it succeeds.
    pub const fn expected_outcome(self) -> ExpectedOutcome {
        match self {
            Step::Stop => ExpectedOutcome::Stopped,
            Step::DropState | Step::Reclaim | Step::Serve => ExpectedOutcome::Owns,
            Step::BumpGeneration { .. } | Step::Init | Step::RestoreKeptState | Step::Retire => ExpectedOutcome::Done,
        }
    }

    /// Whether this step begins a new instance: the point where a restart
    /// waits for its back-off delay and for its dependencies to serve.
    pub const fn begins_instance(self) -> bool {
        matches!(self, Step::BumpGeneration { .. } | Step::Init)
    }

    /// Whether this step belongs to starting an instance (so a dead server
    /// is never given it).
    pub const fn is_start(self) -> bool {
        matches!(self, Step::BumpGeneration { .. } | Step::Init | Step::RestoreKeptState | Step::Serve)
    }
}

/// What the embedder reports after carrying out a step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepOutcome {
    /// The step is done (steps with nothing to count).
    Done,
    /// The step is done, and this is the instance's ledger after it:
    /// after [`Step::DropState`] and [`Step::Reclaim`], what the old
    /// instance still owns; after [`Step::Serve`], what the new one owns.
    Owns(Resources),
    /// [`Step::Stop`] is done: the instance's ledger before and after.
    Stopped(Released),
    /// The step faulted (its unwinding has finished). It counts as a fault
    /// of the server: recorded, and the policy applies.
    Failed(Fault),
}

/// The shape of a successful outcome.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ExpectedOutcome {
    /// [`StepOutcome::Done`].
    Done,
    /// [`StepOutcome::Owns`].
    Owns,
    /// [`StepOutcome::Stopped`].
    Stopped,
}

impl ExpectedOutcome {
    /// Whether `outcome` has this shape, or is a failure (always allowed).
    pub const fn admits(self, outcome: &StepOutcome) -> bool {
        matches!(
            (self, outcome),
            (_, StepOutcome::Failed(_))
                | (ExpectedOutcome::Done, StepOutcome::Done)
                | (ExpectedOutcome::Owns, StepOutcome::Owns(_))
                | (ExpectedOutcome::Stopped, StepOutcome::Stopped(_))
        )
    }
}

/// A step the embedder must carry out for a server, then report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Action {
    /// The server.
    pub server: ServerId,
    /// The step.
    pub step: Step,
}
