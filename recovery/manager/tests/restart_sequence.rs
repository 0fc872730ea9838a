//! The restart sequence as a state machine: its steps in order, faults during its steps, and events that do not fit.

mod common;

use std::num::NonZeroU32;

use common::*;
use recovery_manager::*;

fn gen(n: u32) -> Generation {
    Generation::try_from_raw(n).unwrap()
}

#[test]
fn the_first_start_is_init_restore_serve() {
    let (mut sim, id) = Sim::single(RestartPolicy::immediate(), RecoveryConfig::Unwind);
    assert_eq!(sim.state(id), ServerState::Starting);
    sim.settle();
    assert_eq!(sim.steps_of(id), [Step::Init, Step::RestoreKeptState, Step::Serve]);
    assert_eq!(sim.state(id), ServerState::Serving);
    assert_eq!(sim.generation(id), Generation::FIRST);
    assert_eq!(sim.manager.last_report(id), None, "a first start is not a recovery");
}

#[test]
fn a_fault_runs_the_whole_sequence_in_order() {
    let (sim, id) = Sim::single(RestartPolicy::immediate(), RecoveryConfig::Unwind);
    let mut sim = sim.started();
    sim.clear_log();
    sim.now = t(50);
    sim.fault(id, FaultCause::Exception(ExceptionVector::try_new(14).unwrap()));
    assert!(matches!(sim.state(id), ServerState::Faulted { cause: FaultCause::Exception(_) }));
    sim.run();
    assert_eq!(
        sim.steps_of(id),
        [
            Step::DropState,
            Step::Reclaim,
            Step::BumpGeneration { to: gen(2) },
            Step::Init,
            Step::RestoreKeptState,
            Step::Serve
        ]
    );
    assert_eq!(sim.state(id), ServerState::Serving);
    let report = sim.manager.last_report(id).unwrap();
    assert_eq!((report.generation, report.attempts, report.began), (gen(2), 1, t(50)));
    assert_eq!(report.reason, RestartReason::Fault(FaultCause::Exception(ExceptionVector::try_new(14).unwrap())));
}

#[test]
fn the_manager_hands_out_one_step_at_a_time() {
    let (sim, id) = Sim::single(RestartPolicy::immediate(), RecoveryConfig::Unwind);
    let mut sim = sim.started();
    let actions = sim.manager.on_fault(id, Fault::unaccounted(PANIC), t(1)).unwrap();
    assert_eq!(actions, [Action { server: id, step: Step::DropState }]);
    assert_eq!(sim.manager.outstanding(id), Some(Step::DropState));
    assert_eq!(sim.manager.poll(t(1)).unwrap(), [], "nothing more until the step is reported");
    let plan: Vec<Step> = sim.manager.plan(id).unwrap().steps().collect();
    assert_eq!(plan[0], Step::Reclaim);
    assert_eq!(plan.len(), 5);
}

#[test]
fn a_fault_during_init_counts_and_does_not_loop() {
    // Unlimited immediate restarts, and an init that always panics.
    let (sim, id) = Sim::single(RestartPolicy::immediate(), RecoveryConfig::Unwind);
    let mut sim = sim.started();
    sim.fail(id, Step::Init, PANIC, usize::MAX);
    sim.clear_log();
    sim.fault(id, PANIC);
    sim.settle();
    let attempts = DEFAULT_MAX_FAILED_ATTEMPTS.get();
    assert_eq!(sim.state(id), ServerState::Dead { why: DeadReason::FailedAttempts { attempts } });
    let inits = sim.steps_of(id).iter().filter(|&&s| s == Step::Init).count();
    assert_eq!(inits, usize::try_from(attempts).unwrap());
    // Each failed init was a fault in the history: the serving fault and the failures.
    assert_eq!(sim.manager.registry().get(id).unwrap().history().total(), u64::from(attempts) + 1);
    // Each attempt was a new instance with its own generation, never reused.
    assert_eq!(sim.generation(id).get(), 1 + attempts);
    // The dead server's leftovers were still reclaimed, then it was retired.
    assert_eq!(sim.steps_of(id).last(), Some(&Step::Retire));
    assert_eq!(sim.manager.next_wakeup(), None);
}

#[test]
fn one_failed_init_is_retried_and_the_report_counts_it() {
    let (sim, id) = Sim::single(RestartPolicy::immediate(), RecoveryConfig::Unwind);
    let mut sim = sim.started();
    sim.fail(id, Step::Init, FaultCause::Cfi, 1);
    sim.clear_log();
    sim.fault(id, PANIC);
    sim.run();
    assert_eq!(
        sim.steps_of(id),
        [
            Step::DropState,
            Step::Reclaim,
            Step::BumpGeneration { to: gen(2) },
            Step::Init,
            // init faulted: no state object to drop, but what it allocated is reclaimed.
            Step::Reclaim,
            Step::BumpGeneration { to: gen(3) },
            Step::Init,
            Step::RestoreKeptState,
            Step::Serve
        ]
    );
    let report = sim.manager.last_report(id).unwrap();
    assert_eq!((report.generation, report.attempts), (gen(3), 2));
    assert_eq!(report.reason, RestartReason::Fault(PANIC), "the reason is the fault that began it");
}

#[test]
fn a_failed_restore_drops_the_new_state_object() {
    let (sim, id) = Sim::single(RestartPolicy::immediate(), RecoveryConfig::Unwind);
    let mut sim = sim.started();
    sim.fail(id, Step::RestoreKeptState, PANIC, 1);
    sim.clear_log();
    sim.fault(id, PANIC);
    sim.run();
    let steps = sim.steps_of(id);
    assert_eq!(steps[4..7], [Step::RestoreKeptState, Step::DropState, Step::Reclaim]);
    assert_eq!(sim.state(id), ServerState::Serving);
}

#[test]
fn failed_init_under_a_limit_escalates() {
    let limit = Limit::try_new(1, d(1_000), Escalation::MarkDead).unwrap();
    let policy = RestartPolicy::immediate().limited(limit);
    let (sim, id) = Sim::single(policy, RecoveryConfig::Unwind);
    let mut sim = sim.started();
    sim.fail(id, Step::Init, PANIC, usize::MAX);
    sim.fault(id, PANIC);
    sim.settle();
    // The serving fault restarts; the failed init is the second fault in the window.
    assert_eq!(sim.state(id), ServerState::Dead { why: DeadReason::LimitReached });
}

#[test]
fn the_failed_attempt_limit_is_per_policy_and_resets_on_serve() {
    let policy = RestartPolicy::immediate().with_max_failed_attempts(NonZeroU32::new(2).unwrap());
    let (sim, id) = Sim::single(policy, RecoveryConfig::Unwind);
    let mut sim = sim.started();
    // One failure per recovery, many recoveries: never two in a row.
    for k in 1..=5 {
        sim.fail(id, Step::Init, PANIC, 1);
        sim.now = t(k * 100);
        sim.fault(id, PANIC);
        sim.settle();
        assert_eq!(sim.state(id), ServerState::Serving);
    }
    sim.fail(id, Step::Init, PANIC, 2);
    sim.fault(id, PANIC);
    sim.settle();
    assert_eq!(sim.state(id), ServerState::Dead { why: DeadReason::FailedAttempts { attempts: 2 } });
}

#[test]
fn a_failing_teardown_of_a_dead_server_does_not_loop() {
    let limit = Limit::try_new(0, d(10), Escalation::MarkDead).unwrap();
    let (sim, id) = Sim::single(RestartPolicy::immediate().limited(limit), RecoveryConfig::Unwind);
    let mut sim = sim.started();
    sim.fail(id, Step::DropState, PANIC, usize::MAX);
    sim.fail(id, Step::Reclaim, PANIC, usize::MAX);
    sim.clear_log();
    sim.fault(id, PANIC);
    sim.settle();
    assert_eq!(sim.steps_of(id), [Step::DropState, Step::Reclaim, Step::Retire]);
    assert_eq!(sim.state(id), ServerState::Dead { why: DeadReason::LimitReached });
}

#[test]
fn a_failing_reclaim_is_retried_within_bounds() {
    let (sim, id) = Sim::single(RestartPolicy::immediate(), RecoveryConfig::Unwind);
    let mut sim = sim.started();
    sim.fail(id, Step::Reclaim, PANIC, usize::MAX);
    sim.clear_log();
    sim.fault(id, PANIC);
    sim.settle();
    let reclaims = sim.steps_of(id).iter().filter(|&&s| s == Step::Reclaim).count();
    // Retried until the failed-attempt limit, then once more by the death teardown.
    assert_eq!(reclaims, usize::try_from(DEFAULT_MAX_FAILED_ATTEMPTS.get()).unwrap() + 1);
    assert!(sim.state(id).is_dead());
}

#[test]
fn events_that_do_not_fit_are_refused_and_change_nothing() {
    let (sim, id) = Sim::single(RestartPolicy::immediate(), RecoveryConfig::Unwind);
    let mut sim = sim.started();
    let unknown = ServerId::new(7);
    assert_eq!(sim.manager.on_fault(unknown, Fault::unaccounted(PANIC), t(0)), Err(EventError::UnknownServer(unknown)));

    sim.manager.on_fault(id, Fault::unaccounted(PANIC), t(10)).unwrap();
    // A step not asked for.
    assert_eq!(
        sim.manager.step_done(id, Step::Init, StepOutcome::Done, t(10)),
        Err(EventError::NotOutstanding { server: id, reported: Step::Init, outstanding: Some(Step::DropState) })
    );
    // The wrong shape of outcome.
    assert_eq!(
        sim.manager.step_done(id, Step::DropState, StepOutcome::Done, t(10)),
        Err(EventError::WrongOutcome { server: id, step: Step::DropState, expected: ExpectedOutcome::Owns })
    );
    // Time going backwards.
    assert_eq!(
        sim.manager.step_done(id, Step::DropState, StepOutcome::Owns(Resources::ZERO), t(9)),
        Err(EventError::TimeWentBackwards(TimeWentBackwards { last: t(10), now: t(9) }))
    );
    // A second fault while no instance runs must come as a step's outcome.
    assert_eq!(
        sim.manager.on_fault(id, Fault::unaccounted(PANIC), t(10)),
        Err(EventError::NotRunning { server: id, state: ServerState::Faulted { cause: PANIC } })
    );
    // None of it changed the plan.
    assert_eq!(sim.manager.outstanding(id), Some(Step::DropState));
    assert!(sim.manager.step_done(id, Step::DropState, StepOutcome::Owns(Resources::ZERO), t(10)).is_ok());
}

#[test]
fn a_dead_server_cannot_fault() {
    let (sim, id) = Sim::single(RestartPolicy::immediate(), RecoveryConfig::NoRecovery);
    let mut sim = sim.started();
    sim.fault(id, PANIC);
    sim.run();
    assert_eq!(
        sim.manager.on_fault(id, Fault::unaccounted(PANIC), t(1)),
        Err(EventError::Dead { server: id, why: DeadReason::NoRecovery })
    );
}
