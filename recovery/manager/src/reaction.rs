//! The manager's reaction to a fault: record it, ask the policy, plan a restart, an escalation or a death.
//!
//! Every fault, whether of a serving instance or of a step of a recovery,
//! comes through here, so the same rules (configuration, failed-attempt
//! cap, policy, escalation) apply to all of them.

use crate::fault::FaultCause;
use crate::limit::Escalation;
use crate::manager::Manager;
use crate::plan::{Plan, Teardown};
use crate::policy::Decision;
use crate::report::RestartReason;
use crate::run::Episode;
use crate::server_id::ServerId;
use crate::state::{DeadReason, ServerState};
use crate::time::Tick;

impl Manager {
    /// Records a fault of `id` at `now` and plans what follows.
    /// `failed_attempt`: the fault is a step of a recovery that faulted.
    pub(crate) fn fault(&mut self, id: ServerId, cause: FaultCause, now: Tick, failed_attempt: bool) {
        let Some(server) = self.registry.get_mut(id) else {
            return;
        };
        // Every event's time is at least the manager's, which is at least
        // every tick recorded, so the history accepts it.
        let recorded = server.history_mut().record(now);
        debug_assert!(recorded.is_ok(), "fault ticks are recorded in order");
        server.set_state(ServerState::Faulted { cause });
        self.react(id, now, failed_attempt);
    }

    fn react(&mut self, id: ServerId, now: Tick, failed_attempt: bool) {
        let Some(server) = self.registry.get(id) else {
            return;
        };
        let policy = *server.policy();
        let decision = policy.decide(server.history(), now);
        if !self.config.restarts() {
            return self.die(id, DeadReason::NoRecovery);
        }
        if failed_attempt {
            let run = &mut self.runs[id.index()];
            run.failed_attempts = run.failed_attempts.saturating_add(1);
            if run.failed_attempts >= policy.max_failed_attempts().get() {
                let attempts = run.failed_attempts;
                return self.die(id, DeadReason::FailedAttempts { attempts });
            }
        }
        match decision {
            Decision::RestartNow => self.plan_restart(id, now),
            Decision::RestartAt(at) => self.plan_restart(id, at),
            Decision::Escalate(Escalation::MarkDead) => self.die(id, DeadReason::LimitReached),
            Decision::Escalate(Escalation::RestartDependents) => {
                let window = policy.limit().map(|limit| limit.window());
                let run = &mut self.runs[id.index()];
                let again = run.last_escalation.zip(window).is_some_and(|(last, window)| now.since(last) < window);
                if again {
                    return self.die(id, DeadReason::EscalationFailed);
                }
                run.last_escalation = Some(now);
                if let Some(server) = self.registry.get_mut(id) {
                    server.history_mut().clear();
                }
                self.plan_restart(id, now);
                for dependent in self.registry.dependents_of(id) {
                    self.restart_dependent(dependent, id, now);
                }
            }
        }
    }

    /// Plans a faulted server's restart, its new instance no earlier than
    /// `not_before`.
    fn plan_restart(&mut self, id: ServerId, not_before: Tick) {
        let Some(to) = self.registry.get(id).and_then(|server| server.generation().next().ok()) else {
            return self.die(id, DeadReason::GenerationsExhausted);
        };
        let run = &mut self.runs[id.index()];
        let teardown = Teardown {
            stop: false,
            drop_state: self.config.drops_state() && run.has_state,
            reclaim: run.needs_reclaim,
        };
        run.plan = Plan::restart(teardown, to, not_before);
    }

    /// Plans the restart of a healthy dependent of `cause`. Servers not
    /// serving are left alone: they are already on their way to a new
    /// instance, whose start waits for `cause` to serve again.
    fn restart_dependent(&mut self, id: ServerId, cause: ServerId, now: Tick) {
        let Some(server) = self.registry.get_mut(id) else {
            return;
        };
        if !server.state().is_serving() {
            return;
        }
        let Ok(to) = server.generation().next() else {
            return self.die(id, DeadReason::GenerationsExhausted);
        };
        server.set_state(ServerState::Restarting);
        let run = &mut self.runs[id.index()];
        run.awaiting_first_request = false;
        run.has_state = true;
        run.needs_reclaim = true;
        run.episode = Some(Episode::new(RestartReason::Dependency(cause), now));
        let teardown = Teardown { stop: true, drop_state: self.config.drops_state(), reclaim: true };
        run.plan = Plan::restart(teardown, to, now);
    }

    /// Marks a server dead, for good, and plans its teardown: under the
    /// configurations that recover, what it owns is still dropped and
    /// reclaimed (and checked for leaks); under `none` nothing is.
    pub(crate) fn die(&mut self, id: ServerId, why: DeadReason) {
        let Some(server) = self.registry.get_mut(id) else {
            return;
        };
        server.set_state(ServerState::Dead { why });
        let recovers = self.config.restarts();
        let run = &mut self.runs[id.index()];
        run.episode = None;
        run.awaiting_first_request = false;
        let teardown = Teardown {
            stop: false,
            drop_state: recovers && self.config.drops_state() && run.has_state,
            reclaim: recovers && run.needs_reclaim,
        };
        run.plan = Plan::death(teardown);
    }
}
