//! The recovery manager: events in, steps out.
//!
//! The embedder reports events (a fault, a step done, the time, a first
//! request) and gets back the [`Action`]s to carry out next. The manager
//! never blocks and never waits on a server: a back-off is a tick in a
//! plan, picked up by [`Manager::poll`]; a step is a request the embedder
//! answers when it is done. Every event is checked before anything
//! changes, so a refused event leaves the manager as it was.

use alloc::vec::Vec;

use crate::accounting::{Accounting, ResourceCounters};
use crate::config::RecoveryConfig;
use crate::error::EventError;
use crate::fault::Fault;
use crate::latency::LatencyStats;
use crate::plan::Plan;
use crate::registry::{Registry, Server};
use crate::report::{RecoveryReport, RestartReason};
use crate::resources::Released;
use crate::run::{Episode, Run};
use crate::server_id::ServerId;
use crate::state::ServerState;
use crate::step::{Action, Step, StepOutcome};
use crate::time::{Tick, TimeWentBackwards};

/// The recovery manager of one system.
///
/// ```
/// use recovery_manager::*;
///
/// let fs = ServerName::try_new("fs").unwrap();
/// let registry = Registry::try_new([ServerSpec::new(fs, RestartPolicy::immediate())]).unwrap();
/// let mut manager = Manager::new(registry, RecoveryConfig::Unwind);
/// let id = manager.registry().id_of("fs").unwrap();
///
/// // First start: init, restore, serve.
/// let mut now = Tick::new(0);
/// let mut actions = manager.poll(now).unwrap();
/// while let Some(Action { server, step }) = actions.pop() {
///     let outcome = match step.expected_outcome() {
///         ExpectedOutcome::Owns => StepOutcome::Owns(Resources::ZERO),
///         ExpectedOutcome::Stopped => StepOutcome::Stopped(Released::NOTHING),
///         ExpectedOutcome::Done => StepOutcome::Done,
///     };
///     actions.extend(manager.step_done(server, step, outcome, now).unwrap());
/// }
/// assert_eq!(manager.registry().get(id).unwrap().state(), ServerState::Serving);
///
/// // A panic: the manager asks to drop the state, reclaim, bump, init…
/// now = Tick::new(100);
/// let actions = manager.on_fault(id, Fault::unaccounted(FaultCause::Panic), now).unwrap();
/// assert_eq!(actions, [Action { server: id, step: Step::DropState }]);
/// ```
#[derive(Clone, Debug)]
pub struct Manager {
    pub(crate) registry: Registry,
    pub(crate) config: RecoveryConfig,
    pub(crate) runs: Vec<Run>,
    pub(crate) accounting: Vec<Accounting>,
    pub(crate) latency: Vec<LatencyStats>,
    pub(crate) reports: Vec<Option<RecoveryReport>>,
    pub(crate) totals: ResourceCounters,
    pub(crate) now: Tick,
}

impl Manager {
    /// A manager for `registry`'s servers under `config`. Every server is
    /// [`ServerState::Starting`]; the first [`Manager::poll`] hands out the
    /// `init` of those that depend on nothing.
    pub fn new(registry: Registry, config: RecoveryConfig) -> Self {
        let n = registry.len();
        Manager {
            registry,
            config,
            runs: (0..n).map(|_| Run::first_start()).collect(),
            accounting: (0..n).map(|_| Accounting::default()).collect(),
            latency: (0..n).map(|_| LatencyStats::default()).collect(),
            reports: (0..n).map(|_| None).collect(),
            totals: ResourceCounters::default(),
            now: Tick::ZERO,
        }
    }

    /// The time: hands out the steps whose gate is open (a back-off delay
    /// over, dependencies serving).
    pub fn poll(&mut self, now: Tick) -> Result<Vec<Action>, EventError> {
        self.check_time(now)?;
        self.now = now;
        Ok(self.advance())
    }

    /// A serving server faulted at `now`, and its unwinding has finished.
    pub fn on_fault(&mut self, id: ServerId, fault: Fault, now: Tick) -> Result<Vec<Action>, EventError> {
        self.check_time(now)?;
        match self.server(id)?.state() {
            ServerState::Serving => {}
            ServerState::Dead { why } => return Err(EventError::Dead { server: id, why }),
            state => return Err(EventError::NotRunning { server: id, state }),
        }
        self.now = now;
        let run = &mut self.runs[id.index()];
        run.awaiting_first_request = false;
        run.has_state = true;
        run.needs_reclaim = true;
        run.episode = Some(Episode::new(RestartReason::Fault(fault.cause), now));
        self.credit_unwinding(id, &fault.released);
        self.fault(id, fault.cause, now, false);
        Ok(self.advance())
    }

    /// The embedder carried out `step` for `id`, with `outcome`.
    pub fn step_done(
        &mut self,
        id: ServerId,
        step: Step,
        outcome: StepOutcome,
        now: Tick,
    ) -> Result<Vec<Action>, EventError> {
        self.check_time(now)?;
        self.server(id)?;
        let run = &self.runs[id.index()];
        if run.outstanding != Some(step) {
            return Err(EventError::NotOutstanding { server: id, reported: step, outstanding: run.outstanding });
        }
        let expected = step.expected_outcome();
        if !expected.admits(&outcome) {
            return Err(EventError::WrongOutcome { server: id, step, expected });
        }
        // What a drop or the backstop released: the ledger can only shrink.
        let released = match (step, outcome) {
            (Step::DropState | Step::Reclaim, StepOutcome::Owns(after)) => {
                Released::try_new(run.owned, after).map_err(|error| EventError::Accounting { server: id, error })?
            }
            _ => Released::NOTHING,
        };
        self.now = now;
        self.runs[id.index()].outstanding = None;
        match outcome {
            StepOutcome::Failed(fault) => self.step_failed(id, step, fault, now),
            outcome => self.step_succeeded(id, step, outcome, released),
        }
        Ok(self.advance())
    }

    /// The new instance of `id` served its first request at `now`. Returns
    /// the recovery's report, with its latency, the first time after a
    /// recovery; `None` otherwise.
    pub fn on_first_request(&mut self, id: ServerId, now: Tick) -> Result<Option<RecoveryReport>, EventError> {
        self.check_time(now)?;
        let serving = self.server(id)?.state().is_serving();
        self.now = now;
        let run = &mut self.runs[id.index()];
        if !serving || !run.awaiting_first_request {
            return Ok(None);
        }
        run.awaiting_first_request = false;
        let Some(report) = self.reports[id.index()].as_mut() else {
            return Ok(None);
        };
        let latency = now.since(report.began);
        report.latency = Some(latency);
        self.latency[id.index()].record(latency);
        Ok(Some(*report))
    }

    /// The earliest tick at which [`Manager::poll`] will hand out a step
    /// that only time is waiting for (a back-off delay): the embedder sets
    /// a timer for it. A tick at or before [`Manager::now`] means "poll
    /// now" (time passed in an event that hands out nothing, such as
    /// [`Manager::on_first_request`]). `None`: nothing waits on time alone.
    pub fn next_wakeup(&self) -> Option<Tick> {
        self.registry
            .iter()
            .filter(|&(id, _)| self.runs[id.index()].outstanding.is_none() && self.runs[id.index()].plan.at_gate())
            .filter(|(_, server)| {
                // A gate waiting for a dependency to serve opens on that
                // dependency's `Serve`, not on a timer.
                server
                    .dependencies()
                    .iter()
                    .all(|&d| self.registry.get(d).is_none_or(|s| s.state().is_serving() || s.state().is_dead()))
            })
            .filter_map(|(id, _)| self.runs[id.index()].plan.not_before())
            .min()
    }

    /// The servers.
    pub const fn registry(&self) -> &Registry {
        &self.registry
    }

    /// The configuration.
    pub const fn config(&self) -> RecoveryConfig {
        self.config
    }

    /// The latest time reported.
    pub const fn now(&self) -> Tick {
        self.now
    }

    /// The steps still ahead of a server (not counting the outstanding one).
    pub fn plan(&self, id: ServerId) -> Option<&Plan> {
        self.runs.get(id.index()).map(|run| &run.plan)
    }

    /// The step handed out to a server and not yet reported.
    pub fn outstanding(&self, id: ServerId) -> Option<Step> {
        self.runs.get(id.index()).and_then(|run| run.outstanding)
    }

    /// A server's accounting.
    pub fn accounting(&self, id: ServerId) -> Option<&Accounting> {
        self.accounting.get(id.index())
    }

    /// The accounting counters of every server together.
    pub const fn totals(&self) -> &ResourceCounters {
        &self.totals
    }

    /// A server's recovery latencies.
    pub fn latency(&self, id: ServerId) -> Option<&LatencyStats> {
        self.latency.get(id.index())
    }

    /// A server's latest recovery report.
    pub fn last_report(&self, id: ServerId) -> Option<&RecoveryReport> {
        self.reports.get(id.index()).and_then(Option::as_ref)
    }

    fn check_time(&self, now: Tick) -> Result<(), TimeWentBackwards> {
        if now < self.now {
            Err(TimeWentBackwards { last: self.now, now })
        } else {
            Ok(())
        }
    }

    fn server(&self, id: ServerId) -> Result<&Server, EventError> {
        self.registry.get(id).ok_or(EventError::UnknownServer(id))
    }
}
