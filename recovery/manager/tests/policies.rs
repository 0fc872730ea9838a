//! Restart policies: immediate, back-off, limits in a sliding window, and their escalation.

mod common;

use common::*;
use recovery_manager::*;

fn history(ticks: &[u64]) -> FaultHistory {
    let mut history = FaultHistory::new();
    for &at in ticks {
        history.record(t(at)).unwrap();
    }
    history
}

fn doubling() -> Backoff {
    Backoff::try_new(d(10), 2, d(100)).unwrap()
}

#[test]
fn immediate_restarts_every_time() {
    let policy = RestartPolicy::immediate();
    for ticks in [&[5][..], &[1, 2, 3, 4, 5], &(0..32).collect::<Vec<_>>()] {
        let now = t(*ticks.last().unwrap());
        assert_eq!(policy.decide(&history(ticks), now), Decision::RestartNow);
    }
}

#[test]
fn backoff_doubles_up_to_its_max() {
    let policy = RestartPolicy::backoff(doubling());
    // Faults in quick succession: each is within reset_after (200) of the last.
    let mut ticks = Vec::new();
    let mut delays = Vec::new();
    for k in 0..7u64 {
        let now = k * 150;
        ticks.push(now);
        match policy.decide(&history(&ticks), t(now)) {
            Decision::RestartAt(at) => delays.push(at.get() - now),
            other => panic!("expected a delayed restart, got {other:?}"),
        }
    }
    assert_eq!(delays, [10, 20, 40, 80, 100, 100, 100]);
}

#[test]
fn backoff_starts_over_after_a_quiet_gap() {
    let policy = RestartPolicy::backoff(doubling());
    // 0, 10, 30 form a streak (delays 10, 20, 40); 230 comes 200 ticks after
    // 30, which is reset_after: a new streak at the initial delay.
    assert_eq!(policy.decide(&history(&[0, 10, 30]), t(30)), Decision::RestartAt(t(70)));
    assert_eq!(policy.decide(&history(&[0, 10, 30, 230]), t(230)), Decision::RestartAt(t(240)));
    assert_eq!(policy.decide(&history(&[0, 10, 30, 229]), t(229)), Decision::RestartAt(t(229 + 80)));
}

#[test]
fn limited_allows_n_restarts_in_a_window_then_escalates() {
    let limit = Limit::try_new(3, d(100), Escalation::MarkDead).unwrap();
    let policy = RestartPolicy::immediate().limited(limit);
    assert_eq!(policy.decide(&history(&[0]), t(0)), Decision::RestartNow);
    assert_eq!(policy.decide(&history(&[0, 10]), t(10)), Decision::RestartNow);
    assert_eq!(policy.decide(&history(&[0, 10, 20]), t(20)), Decision::RestartNow);
    assert_eq!(policy.decide(&history(&[0, 10, 20, 30]), t(30)), Decision::Escalate(Escalation::MarkDead));
}

#[test]
fn the_window_slides_so_old_faults_stop_counting() {
    let limit = Limit::try_new(2, d(100), Escalation::RestartDependents).unwrap();
    let policy = RestartPolicy::immediate().limited(limit);
    // Three faults within 100 ticks escalate…
    assert_eq!(policy.decide(&history(&[0, 50, 99]), t(99)), Decision::Escalate(Escalation::RestartDependents));
    // …but at 100 the fault at 0 has left the window.
    assert_eq!(policy.decide(&history(&[0, 50, 100]), t(100)), Decision::RestartNow);
    // Spread out, any number of faults is fine.
    let spread: Vec<u64> = (0..30).map(|k| k * 60).collect();
    assert_eq!(policy.decide(&history(&spread), t(29 * 60)), Decision::RestartNow);
}

#[test]
fn a_limit_wraps_a_backoff() {
    let limit = Limit::try_new(1, d(1_000), Escalation::MarkDead).unwrap();
    let policy = RestartPolicy::backoff(doubling()).limited(limit);
    assert_eq!(policy.decide(&history(&[0]), t(0)), Decision::RestartAt(t(10)));
    assert_eq!(policy.decide(&history(&[0, 20]), t(20)), Decision::Escalate(Escalation::MarkDead));
}

#[test]
fn a_limit_of_zero_escalates_at_the_first_fault() {
    let limit = Limit::try_new(0, d(1), Escalation::MarkDead).unwrap();
    let policy = RestartPolicy::immediate().limited(limit);
    assert_eq!(policy.decide(&history(&[7]), t(7)), Decision::Escalate(Escalation::MarkDead));
}

#[test]
fn the_manager_waits_out_a_backoff_without_blocking() {
    let (sim, id) = Sim::single(RestartPolicy::backoff(doubling()), RecoveryConfig::Unwind);
    let mut sim = sim.started();
    sim.now = t(1_000);
    sim.fault(id, PANIC);
    sim.run();
    // Teardown happens at once; the new instance waits for its delay.
    assert_eq!(sim.steps_of(id)[3..], [Step::DropState, Step::Reclaim]);
    assert!(matches!(sim.state(id), ServerState::Faulted { .. }));
    assert_eq!(sim.manager.plan(id).unwrap().not_before(), Some(t(1_010)));
    assert_eq!(sim.manager.next_wakeup(), Some(t(1_010)));
    // Early polls hand out nothing.
    assert_eq!(sim.manager.poll(t(1_009)).unwrap(), []);
    sim.advance_to(t(1_010));
    sim.run();
    assert_eq!(sim.state(id), ServerState::Serving);
    assert_eq!(sim.generation(id).get(), 2);
    assert_eq!(sim.manager.next_wakeup(), None);

    // A second fault soon after waits twice as long.
    sim.now = t(1_050);
    sim.fault(id, PANIC);
    sim.run();
    assert_eq!(sim.manager.next_wakeup(), Some(t(1_070)));
}

#[test]
fn invalid_policies_do_not_construct() {
    assert_eq!(Backoff::try_new(d(0), 2, d(10)), Err(BackoffError::ZeroInitial));
    assert_eq!(Limit::try_new(1, d(0), Escalation::MarkDead), Err(LimitError::ZeroWindow));
    assert_eq!(Limit::try_new(40, d(10), Escalation::MarkDead), Err(LimitError::TooManyRestarts { max_restarts: 40 }));
}

#[test]
fn a_backoff_due_during_a_quiet_event_is_still_woken() {
    // Found by the property test: time passed in an event that hands out
    // nothing (a first request), past a back-off's tick; the wake-up must
    // still say "poll now" instead of nothing.
    let backoff = Backoff::try_new(d(1), 2, d(50)).unwrap();
    let (mut sim, id) = Sim::single(RestartPolicy::backoff(backoff), RecoveryConfig::Unwind);
    sim.fail(id, Step::Init, PANIC, 1);
    sim.run();
    assert_eq!(sim.manager.next_wakeup(), Some(t(1)));
    assert_eq!(sim.manager.on_first_request(id, t(5)).unwrap(), None);
    assert_eq!(sim.manager.next_wakeup(), Some(t(1)), "due already: poll now");
    sim.advance_to(t(5));
    sim.run();
    assert_eq!(sim.state(id), ServerState::Serving);
    assert_eq!(sim.manager.next_wakeup(), None);
}

#[test]
fn a_gate_waiting_for_a_dependency_sets_no_timer() {
    let backoff = Backoff::try_new(d(10), 2, d(50)).unwrap();
    let specs = vec![
        ServerSpec::new(name("fs"), RestartPolicy::immediate()).depends_on(name("blk")),
        ServerSpec::new(name("blk"), RestartPolicy::backoff(backoff)),
    ];
    let mut sim = Sim::new(specs, RecoveryConfig::Unwind).started();
    let (fs, blk) = (sim.id("fs"), sim.id("blk"));
    sim.now = t(100);
    sim.fault(blk, PANIC);
    sim.fault(fs, PANIC);
    sim.run();
    // blk waits for its delay; fs waits for blk, which only blk's Serve ends.
    assert_eq!(sim.manager.next_wakeup(), Some(t(110)));
    sim.settle();
    assert_eq!((sim.state(blk), sim.state(fs)), (ServerState::Serving, ServerState::Serving));
}
