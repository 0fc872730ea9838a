//! Properties over random systems and random fault sequences: no panic, generations only grow, the dead stay dead, and recovery always settles.

use proptest::prelude::*;
use recovery_manager::*;

/// Steps one settling may take before it is declared a loop.
const SETTLE_BUDGET: usize = 10_000;

#[derive(Clone, Debug)]
enum Op {
    /// A serving server faults (refused if it is not serving).
    Fault { server: usize, cause: u8, dt: u64 },
    /// The embedder reports a pending step, done or failed.
    Report { pick: usize, fail: bool, cause: u8, leftover: u64, dt: u64 },
    /// Time passes.
    Poll { dt: u64 },
    /// A server answers a request.
    FirstRequest { server: usize, dt: u64 },
    /// The embedder reports a step nobody asked for.
    Bogus { server: usize, step: u8 },
}

fn cause(n: u8) -> FaultCause {
    match n % 4 {
        0 => FaultCause::Panic,
        1 => FaultCause::Exception(ExceptionVector::try_new(n % EXCEPTION_VECTORS).unwrap()),
        2 => FaultCause::Cfi,
        _ => FaultCause::Watchdog,
    }
}

fn policy(kind: u8, n: u32, window: u64) -> RestartPolicy {
    let pacing = if kind.is_multiple_of(2) {
        RestartPolicy::immediate()
    } else {
        RestartPolicy::backoff(Backoff::try_new(Ticks::new(1 + window % 7), 2, Ticks::new(50)).unwrap())
    };
    match kind % 3 {
        0 => pacing,
        1 => pacing.limited(Limit::try_new(n % 5, Ticks::new(1 + window), Escalation::MarkDead).unwrap()),
        _ => pacing.limited(Limit::try_new(n % 5, Ticks::new(1 + window), Escalation::RestartDependents).unwrap()),
    }
}

/// Up to 6 servers; server `i` may depend on any of `0..i`, so the graph
/// is a DAG (declared in reverse, so the registry has to sort it).
fn system() -> impl Strategy<Value = (Vec<ServerSpec>, RecoveryConfig)> {
    let server = (any::<u8>(), any::<u32>(), 0..300u64, any::<u8>());
    (prop::collection::vec(server, 1..=6), 0..3usize).prop_map(|(servers, config)| {
        let specs = servers
            .iter()
            .enumerate()
            .map(|(i, &(kind, n, window, deps))| {
                let mut spec = ServerSpec::new(ServerName::try_new(&format!("s{i}")).unwrap(), policy(kind, n, window));
                for j in 0..i {
                    if deps & (1 << j) != 0 {
                        spec = spec.depends_on(ServerName::try_new(&format!("s{j}")).unwrap());
                    }
                }
                spec
            })
            .rev()
            .collect();
        (specs, RecoveryConfig::ALL[config])
    })
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        2 => (0..6usize, any::<u8>(), 0..40u64).prop_map(|(server, cause, dt)| Op::Fault { server, cause, dt }),
        6 => (any::<usize>(), prop::bool::weighted(0.3), any::<u8>(), 0..3u64, 0..5u64)
            .prop_map(|(pick, fail, cause, leftover, dt)| Op::Report { pick, fail, cause, leftover, dt }),
        1 => (0..100u64).prop_map(|dt| Op::Poll { dt }),
        1 => (0..6usize, 0..20u64).prop_map(|(server, dt)| Op::FirstRequest { server, dt }),
        1 => (0..6usize, 0..8u8).prop_map(|(server, step)| Op::Bogus { server, step }),
    ]
}

/// The step's successful outcome, owning `leftover` handles where it
/// reports a ledger.
fn success(step: Step, leftover: u64) -> StepOutcome {
    let owns = Resources { handles: leftover, ..Resources::ZERO };
    match step.expected_outcome() {
        ExpectedOutcome::Done => StepOutcome::Done,
        ExpectedOutcome::Owns => StepOutcome::Owns(owns),
        ExpectedOutcome::Stopped => StepOutcome::Stopped(Released::try_new(owns, Resources::ZERO).unwrap()),
    }
}

fn held(leftover: u64) -> Released {
    Released::try_new(
        Resources { handles: leftover + 1, frames: 1, ..Resources::ZERO },
        Resources { handles: leftover, ..Resources::ZERO },
    )
    .unwrap()
}

struct Checker {
    generations: Vec<Generation>,
    dead: Vec<bool>,
}

impl Checker {
    fn new(manager: &Manager) -> Self {
        let n = manager.registry().len();
        Checker { generations: vec![Generation::FIRST; n], dead: vec![false; n] }
    }

    /// Checks the invariants after an event that handed out `actions`.
    fn check(&mut self, manager: &Manager, actions: &[Action]) -> Result<(), TestCaseError> {
        for (id, server) in manager.registry().iter() {
            let i = id.index();
            prop_assert!(server.generation() >= self.generations[i], "generation of {id} went down");
            self.generations[i] = server.generation();
            if self.dead[i] {
                prop_assert!(server.state().is_dead(), "{id} came back from the dead");
            }
            self.dead[i] = server.state().is_dead();
        }
        for action in actions {
            prop_assert_eq!(manager.outstanding(action.server), Some(action.step));
            if self.dead[action.server.index()] {
                prop_assert!(
                    !action.step.is_start() && action.step != Step::Stop,
                    "dead {} was given {:?}",
                    action.server,
                    action.step
                );
            }
        }
        Ok(())
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn random_fault_sequences_keep_the_invariants((specs, config) in system(), ops in prop::collection::vec(op(), 0..200)) {
        let registry = Registry::try_new(specs).unwrap();
        let n = registry.len();
        let mut manager = Manager::new(registry, config);
        let mut checker = Checker::new(&manager);
        let mut now = Tick::ZERO;
        let mut pending: Vec<Action> = manager.poll(now).unwrap();
        checker.check(&manager, &pending)?;

        for op in ops {
            let before = manager.registry().clone();
            let result = match op {
                Op::Fault { server, cause: c, dt } => {
                    now = now.after(Ticks::new(dt));
                    let id = ServerId::new(u16::try_from(server % n).unwrap());
                    manager.on_fault(id, Fault::new(cause(c), held(1)), now)
                }
                Op::Report { pick, fail, cause: c, leftover, dt } => {
                    if pending.is_empty() {
                        continue;
                    }
                    now = now.after(Ticks::new(dt));
                    let action = pending.remove(pick % pending.len());
                    let outcome = if fail {
                        StepOutcome::Failed(Fault::new(cause(c), held(leftover)))
                    } else {
                        success(action.step, leftover)
                    };
                    let result = manager.step_done(action.server, action.step, outcome, now);
                    if result.is_err() {
                        // A ledger that grew is refused; report it clean instead.
                        prop_assert!(matches!(result, Err(EventError::Accounting { .. })), "{:?}", result);
                        manager.step_done(action.server, action.step, success(action.step, 0), now)
                    } else {
                        result
                    }
                }
                Op::Poll { dt } => {
                    now = now.after(Ticks::new(dt));
                    manager.poll(now)
                }
                Op::FirstRequest { server, dt } => {
                    now = now.after(Ticks::new(dt));
                    let id = ServerId::new(u16::try_from(server % n).unwrap());
                    manager.on_first_request(id, now).map(|_| Vec::new())
                }
                Op::Bogus { server, step } => {
                    let id = ServerId::new(u16::try_from(server % n).unwrap());
                    let step = [Step::Stop, Step::DropState, Step::Reclaim, Step::Init, Step::RestoreKeptState, Step::Serve, Step::Retire, Step::BumpGeneration { to: Generation::FIRST }][usize::from(step)];
                    if manager.outstanding(id) == Some(step) {
                        continue;
                    }
                    let result = manager.step_done(id, step, success(step, 0), now);
                    prop_assert!(result.is_err(), "a step not asked for was accepted");
                    result
                }
            };
            match result {
                Ok(actions) => {
                    checker.check(&manager, &actions)?;
                    pending.extend(actions);
                }
                Err(_) => prop_assert_eq!(&before, manager.registry(), "a refused event changed the registry"),
            }
            // At most one step outstanding per server.
            for (k, a) in pending.iter().enumerate() {
                prop_assert!(pending[k + 1..].iter().all(|b| b.server != a.server));
            }
        }

        // Whatever happened, carrying out every step settles the system.
        let mut steps = 0;
        loop {
            while let Some(action) = pending.pop() {
                steps += 1;
                prop_assert!(steps < SETTLE_BUDGET, "recovery does not settle");
                let actions = manager.step_done(action.server, action.step, success(action.step, 0), now).unwrap();
                checker.check(&manager, &actions)?;
                pending.extend(actions);
            }
            match manager.next_wakeup() {
                Some(at) => {
                    steps += 1;
                    prop_assert!(steps < SETTLE_BUDGET, "a wake-up that hands out nothing: recovery does not settle");
                    now = now.max(at);
                    let actions = manager.poll(now).unwrap();
                    checker.check(&manager, &actions)?;
                    pending.extend(actions);
                }
                None => break,
            }
        }
        for (id, server) in manager.registry().iter() {
            let state = server.state();
            prop_assert!(state.is_serving() || state.is_dead(), "{} settled as {}", id, state);
            prop_assert_eq!(manager.outstanding(id), None);
            prop_assert!(manager.plan(id).unwrap().is_empty());
            let stats = manager.latency(id).unwrap();
            prop_assert!(stats.count() <= server.history().total() + 1);
        }
    }

    #[test]
    fn steps_that_always_fail_never_loop(
        (specs, config) in system(),
        always_failing in prop::collection::vec((0..6usize, 0..8u8), 0..6),
        faults in prop::collection::vec((0..6usize, 0..50u64), 0..20),
    ) {
        let registry = Registry::try_new(specs).unwrap();
        let n = registry.len();
        let mut manager = Manager::new(registry, config);
        let mut checker = Checker::new(&manager);
        let kinds = [Step::Stop, Step::DropState, Step::Reclaim, Step::BumpGeneration { to: Generation::FIRST }, Step::Init, Step::RestoreKeptState, Step::Serve, Step::Retire];
        let failing: Vec<(usize, std::mem::Discriminant<Step>)> =
            always_failing.iter().map(|&(server, kind)| (server % n, std::mem::discriminant(&kinds[usize::from(kind)]))).collect();
        let fails = |action: &Action| failing.contains(&(action.server.index(), std::mem::discriminant(&action.step)));

        let mut now = Tick::ZERO;
        let mut pending = manager.poll(now).unwrap();
        let mut faults = faults.into_iter();
        let mut steps = 0;
        loop {
            while let Some(action) = pending.pop() {
                steps += 1;
                prop_assert!(steps < SETTLE_BUDGET, "recovery does not settle");
                let outcome = if fails(&action) {
                    StepOutcome::Failed(Fault::unaccounted(FaultCause::Panic))
                } else {
                    success(action.step, 0)
                };
                let actions = manager.step_done(action.server, action.step, outcome, now).unwrap();
                checker.check(&manager, &actions)?;
                pending.extend(actions);
            }
            if let Some(at) = manager.next_wakeup() {
                steps += 1;
                prop_assert!(steps < SETTLE_BUDGET, "a wake-up that hands out nothing");
                now = now.max(at);
                pending = manager.poll(now).unwrap();
                checker.check(&manager, &pending)?;
                continue;
            }
            // Settled: inject the next fault into a serving server, if any.
            let Some((server, dt)) = faults.next() else { break };
            now = now.after(Ticks::new(dt));
            let id = ServerId::new(u16::try_from(server % n).unwrap());
            if let Ok(actions) = manager.on_fault(id, Fault::unaccounted(FaultCause::Watchdog), now) {
                checker.check(&manager, &actions)?;
                pending = actions;
            }
        }
        for (id, server) in manager.registry().iter() {
            let state = server.state();
            prop_assert!(state.is_serving() || state.is_dead(), "{} settled as {}", id, state);
        }
    }
}
