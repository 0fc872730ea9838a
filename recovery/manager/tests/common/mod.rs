//! A scripted embedder for the integration tests: carries out the manager's steps and reports them, failing the ones a test asks to fail.

#![allow(dead_code)]

use std::collections::VecDeque;
use std::mem::discriminant;

use recovery_manager::*;

/// Steps one test may hand out before it is declared a loop.
pub const STEP_BUDGET: usize = 10_000;

pub fn name(name: &str) -> ServerName {
    ServerName::try_new(name).unwrap()
}

pub fn t(ticks: u64) -> Tick {
    Tick::new(ticks)
}

pub fn d(ticks: u64) -> Ticks {
    Ticks::new(ticks)
}

/// The ledger snapshots the embedder reports for one server.
#[derive(Clone, Copy, Debug, Default)]
pub struct Ledger {
    /// At `Serve`: the new instance's baseline.
    pub baseline: Resources,
    /// At a fault (or `Stop`), before unwinding.
    pub held: Resources,
    /// After unwinding (under `restart`, the embedder reports `held`).
    pub after_unwind: Resources,
    /// After `DropState`.
    pub after_drop: Resources,
    /// After `Reclaim`: a leak if not zero.
    pub after_reclaim: Resources,
}

/// A step to fail: for `server`, steps like `step` (same variant), `times` times.
#[derive(Clone, Copy, Debug)]
pub struct Failure {
    pub server: ServerId,
    pub step: Step,
    pub cause: FaultCause,
    pub times: usize,
}

pub struct Sim {
    pub manager: Manager,
    pub now: Tick,
    pub queue: VecDeque<Action>,
    /// Every action carried out, in order, with its time.
    pub log: Vec<(Tick, Action)>,
    pub failures: Vec<Failure>,
    pub ledgers: Vec<Ledger>,
    /// Wake-ups taken by `settle`.
    pub wakeups: usize,
}

impl Sim {
    pub fn new(specs: Vec<ServerSpec>, config: RecoveryConfig) -> Self {
        let n = specs.len();
        let registry = Registry::try_new(specs).unwrap();
        Sim {
            manager: Manager::new(registry, config),
            now: Tick::ZERO,
            queue: VecDeque::new(),
            log: Vec::new(),
            failures: Vec::new(),
            ledgers: vec![Ledger::default(); n],
            wakeups: 0,
        }
    }

    /// One server named `name` with `policy`.
    pub fn single(policy: RestartPolicy, config: RecoveryConfig) -> (Self, ServerId) {
        let sim = Sim::new(vec![ServerSpec::new(name("srv"), policy)], config);
        let id = sim.id("srv");
        (sim, id)
    }

    /// Starts every server and runs until nothing is left to do.
    pub fn started(mut self) -> Self {
        self.settle();
        self
    }

    pub fn id(&self, name: &str) -> ServerId {
        self.manager.registry().id_of(name).unwrap()
    }

    pub fn state(&self, id: ServerId) -> ServerState {
        self.manager.registry().get(id).unwrap().state()
    }

    pub fn generation(&self, id: ServerId) -> Generation {
        self.manager.registry().get(id).unwrap().generation()
    }

    pub fn fail(&mut self, server: ServerId, step: Step, cause: FaultCause, times: usize) {
        self.failures.push(Failure { server, step, cause, times });
    }

    pub fn unwind_report(&self, id: ServerId) -> Released {
        let ledger = self.ledgers[id.index()];
        match self.manager.config() {
            RecoveryConfig::Unwind => Released::try_new(ledger.held, ledger.after_unwind).unwrap(),
            _ => Released::nothing(ledger.held),
        }
    }

    /// Reports a fault of `id` at the current time; queues the actions.
    pub fn fault(&mut self, id: ServerId, cause: FaultCause) {
        let fault = Fault::new(cause, self.unwind_report(id));
        let actions = self.manager.on_fault(id, fault, self.now).unwrap();
        self.queue.extend(actions);
    }

    /// Moves time to `now` and polls.
    pub fn advance_to(&mut self, now: Tick) {
        self.now = self.now.max(now);
        let actions = self.manager.poll(self.now).unwrap();
        self.queue.extend(actions);
    }

    /// Carries out every queued action, and those they lead to, without
    /// letting time pass.
    pub fn run(&mut self) {
        let actions = self.manager.poll(self.now).unwrap();
        self.queue.extend(actions);
        while let Some(action) = self.queue.pop_front() {
            assert!(self.log.len() < STEP_BUDGET, "the manager keeps handing out steps: a loop");
            self.log.push((self.now, action));
            let outcome = self.outcome(action);
            let next = self.manager.step_done(action.server, action.step, outcome, self.now).unwrap();
            self.queue.extend(next);
        }
    }

    /// Runs, jumping time to each wake-up, until nothing is left to do.
    pub fn settle(&mut self) {
        loop {
            self.run();
            match self.manager.next_wakeup() {
                Some(at) => {
                    self.log_wakeup();
                    self.advance_to(at);
                }
                None => break,
            }
        }
    }

    fn log_wakeup(&mut self) {
        self.wakeups += 1;
        assert!(self.wakeups < STEP_BUDGET, "wake-ups that hand out nothing: a loop");
    }

    /// The outcome the embedder reports for `action`.
    pub fn outcome(&mut self, action: Action) -> StepOutcome {
        let ledger = self.ledgers[action.server.index()];
        if let Some(failure) = self
            .failures
            .iter_mut()
            .find(|f| f.times > 0 && f.server == action.server && discriminant(&f.step) == discriminant(&action.step))
        {
            failure.times -= 1;
            return StepOutcome::Failed(Fault::unaccounted(failure.cause));
        }
        match action.step {
            Step::Stop => StepOutcome::Stopped(self.unwind_report(action.server)),
            Step::DropState => StepOutcome::Owns(ledger.after_drop),
            Step::Reclaim => StepOutcome::Owns(ledger.after_reclaim),
            Step::Serve => StepOutcome::Owns(ledger.baseline),
            _ => StepOutcome::Done,
        }
    }

    /// The steps carried out for `id`, in order.
    pub fn steps_of(&self, id: ServerId) -> Vec<Step> {
        self.log.iter().filter(|(_, a)| a.server == id).map(|&(_, a)| a.step).collect()
    }

    /// The servers whose `Init` ran, in order.
    pub fn inits(&self) -> Vec<ServerId> {
        self.log.iter().filter(|(_, a)| a.step == Step::Init).map(|&(_, a)| a.server).collect()
    }

    pub fn clear_log(&mut self) {
        self.log.clear();
    }
}

/// A panic, the commonest cause in tests.
pub const PANIC: FaultCause = FaultCause::Panic;
