//! The manager's progress through plans: what a finished step changes, and which steps to hand out next.
//!
//! Each reported step updates the server's bookkeeping (ledger, generation,
//! state); then every server whose next step is ready gets it.

use alloc::vec::Vec;

use crate::fault::Fault;
use crate::leak::LeakReport;
use crate::manager::Manager;
use crate::report::{RecoveryReport, RestartReason};
use crate::resources::{Released, Resources};
use crate::run::Episode;
use crate::server_id::ServerId;
use crate::state::{DeadReason, ServerState};
use crate::step::{Action, Step, StepOutcome};
use crate::time::Tick;

impl Manager {
    /// Books a step that succeeded. The caller checked the outcome's shape,
    /// and made `released` from the ledger before and after a drop or a
    /// reclaim.
    pub(crate) fn step_succeeded(&mut self, id: ServerId, step: Step, outcome: StepOutcome, released: Released) {
        let i = id.index();
        match (step, outcome) {
            (Step::Stop, StepOutcome::Stopped(released)) => self.credit_unwinding(id, &released),
            (Step::DropState, _) => {
                self.credit_unwinding(id, &released);
                self.runs[i].has_state = false;
            }
            (Step::Reclaim, _) => self.reclaimed(id, released.after()),
            (Step::BumpGeneration { to }, _) => {
                if let Some(server) = self.registry.get_mut(id) {
                    let advanced = server.advance_generation(to);
                    debug_assert!(advanced, "a plan's generation is the next one");
                }
                if let Some(episode) = self.runs[i].episode.as_mut() {
                    episode.attempts = episode.attempts.saturating_add(1);
                }
            }
            (Step::Init, _) => self.runs[i].has_state = true,
            (Step::Serve, StepOutcome::Owns(baseline)) => self.serving(id, baseline),
            _ => {}
        }
    }

    /// Books a step that faulted: it is a fault of the server, unless the
    /// server is dead, whose teardown goes on as planned.
    pub(crate) fn step_failed(&mut self, id: ServerId, step: Step, fault: Fault, now: Tick) {
        let i = id.index();
        self.credit_unwinding(id, &fault.released);
        if matches!(step, Step::DropState | Step::Init) {
            // A drop that panicked is not tried again; an `init` that
            // panicked made no state object.
            self.runs[i].has_state = false;
        }
        let dead = self.registry.get(id).is_some_and(|server| server.state().is_dead());
        if dead {
            if let Some(server) = self.registry.get_mut(id) {
                let recorded = server.history_mut().record(now);
                debug_assert!(recorded.is_ok(), "fault ticks are recorded in order");
            }
            if step == Step::Reclaim {
                // A dead server's reclaim is not retried: what it still
                // owns is a leak.
                let owned = self.runs[i].owned;
                self.reclaimed(id, owned);
            }
            return;
        }
        let run = &mut self.runs[i];
        if run.episode.is_none() {
            run.episode = Some(Episode::new(RestartReason::Fault(fault.cause), now));
        }
        // A healthy dependent faulting as it is stopped faulted like any
        // serving instance; every other step belongs to a recovery attempt.
        self.fault(id, fault.cause, now, step != Step::Stop);
    }

    /// Hands out the next step of every server that has none outstanding
    /// and whose gate, if it is at one, is open. Servers are visited in
    /// start order, so a server that dies at its gate is seen dead by its
    /// dependents in the same pass.
    pub(crate) fn advance(&mut self) -> Vec<Action> {
        let mut actions = Vec::new();
        for index in 0..self.registry.start_order().len() {
            let id = self.registry.start_order()[index];
            if self.runs[id.index()].outstanding.is_some() {
                continue;
            }
            if self.runs[id.index()].plan.at_gate() && !self.pass_gate(id) {
                continue;
            }
            let run = &mut self.runs[id.index()];
            let Some(step) = run.plan.pop() else {
                continue;
            };
            if step == Step::Init {
                run.needs_reclaim = true;
            }
            run.outstanding = Some(step);
            actions.push(Action { server: id, step });
        }
        actions
    }

    /// Whether a server at its gate may begin its new instance now; a
    /// server whose dependency is dead dies here instead (and may go on
    /// with its death plan).
    fn pass_gate(&mut self, id: ServerId) -> bool {
        let Some(server) = self.registry.get(id) else {
            return false;
        };
        let state_of = |d: &ServerId| self.registry.get(*d).map(|s| s.state());
        let dead = server.dependencies().iter().copied().find(|d| state_of(d).is_none_or(|s| s.is_dead()));
        let ready = server.dependencies().iter().all(|d| state_of(d).is_some_and(|s| s.is_serving()));
        if let Some(dependency) = dead {
            self.die(id, DeadReason::DependencyDead { dependency });
            return true;
        }
        let run = &mut self.runs[id.index()];
        let due = run.plan.not_before().is_none_or(|at| at <= self.now);
        if !(ready && due) {
            return false;
        }
        run.plan.open_gate();
        if let Some(server) = self.registry.get_mut(id) {
            if matches!(server.state(), ServerState::Faulted { .. }) {
                server.set_state(ServerState::Restarting);
            }
        }
        true
    }

    /// Credits what unwinding (or a drop) released, and takes its result as
    /// the instance's ledger.
    pub(crate) fn credit_unwinding(&mut self, id: ServerId, released: &Released) {
        let i = id.index();
        let amount = released.amount();
        self.accounting[i].counters_mut().add_released(&amount);
        self.totals.add_released(&amount);
        let run = &mut self.runs[i];
        if let Some(episode) = run.episode.as_mut() {
            episode.released = episode.released.saturating_add(&amount);
        }
        run.owned = released.after();
    }

    /// Books the backstop's work: what it reclaimed, and the leak check of
    /// what is left. The instance is finished.
    fn reclaimed(&mut self, id: ServerId, remaining: Resources) {
        let i = id.index();
        let run = &mut self.runs[i];
        let reclaimed = run.owned.excess_over(&remaining);
        let leaks = LeakReport::check(remaining);
        run.owned = Resources::ZERO;
        run.needs_reclaim = false;
        run.has_state = false;
        if let Some(episode) = run.episode.as_mut() {
            episode.reclaimed = episode.reclaimed.saturating_add(&reclaimed);
            episode.leaks = episode.leaks.combine(&leaks);
        }
        for counters in [self.accounting[i].counters_mut(), &mut self.totals] {
            counters.add_reclaimed(&reclaimed);
            counters.add_check(&leaks);
        }
    }

    /// A new instance serves, owning `baseline`: the recovery, if any, is
    /// over, and its report made.
    fn serving(&mut self, id: ServerId, baseline: Resources) {
        let i = id.index();
        let Some(server) = self.registry.get_mut(id) else {
            return;
        };
        server.set_state(ServerState::Serving);
        let generation = server.generation();
        let previous = self.accounting[i].replace_baseline(baseline);
        let run = &mut self.runs[i];
        run.failed_attempts = 0;
        run.owned = baseline;
        let Some(episode) = run.episode.take() else {
            return;
        };
        run.awaiting_first_request = true;
        self.reports[i] = Some(RecoveryReport {
            server: id,
            generation,
            reason: episode.reason,
            began: episode.began,
            attempts: episode.attempts,
            released_by_unwinding: episode.released,
            reclaimed_by_backstop: episode.reclaimed,
            leaks: episode.leaks,
            baseline,
            baseline_growth: previous.map_or(Resources::ZERO, |previous| baseline.excess_over(&previous)),
            latency: None,
        });
    }
}
