//! Accounting: what each recovery released by unwinding, reclaimed by the backstop, and leaked; per server and in total.

mod common;

use common::*;
use recovery_manager::*;

fn res(frames: u64, heap_bytes: u64, handles: u64, locks: u64) -> Resources {
    Resources { frames, heap_bytes, handles, locks, grants: 0, pending_ipc: 0 }
}

/// A server that owns 2 frames and 4 KiB at rest, holds more when it
/// faults, and whose unwinding and state drop release most of it.
fn ledger(leak: Resources) -> Ledger {
    Ledger {
        baseline: res(2, 4096, 1, 0),
        held: res(3, 6000, 3, 1),
        after_unwind: res(3, 5000, 2, 0),
        after_drop: res(1, 100, 1, 0),
        after_reclaim: leak,
    }
}

#[test]
fn a_clean_recovery_splits_unwinding_from_backstop() {
    let (mut sim, id) = Sim::single(RestartPolicy::immediate(), RecoveryConfig::Unwind);
    sim.ledgers[id.index()] = ledger(Resources::ZERO);
    sim.settle();
    sim.fault(id, PANIC);
    sim.run();
    let report = sim.manager.last_report(id).unwrap();
    // Unwinding: 1000 bytes, 1 handle, 1 lock; state drop: 2 frames, 4900 bytes, 1 handle.
    assert_eq!(report.released_by_unwinding, res(2, 5900, 2, 1));
    // Backstop: the rest.
    assert_eq!(report.reclaimed_by_backstop, res(1, 100, 1, 0));
    assert_eq!(report.leaks, LeakReport::Clean);
    assert_eq!(report.baseline, res(2, 4096, 1, 0));
    assert_eq!(report.baseline_growth, Resources::ZERO);

    let counters = sim.manager.accounting(id).unwrap().counters();
    assert_eq!((counters.checks(), counters.leaky_checks()), (1, 0));
    assert_eq!(counters.released_by_unwinding(), res(2, 5900, 2, 1));
    assert_eq!(sim.manager.accounting(id).unwrap().baseline(), Some(res(2, 4096, 1, 0)));
}

#[test]
fn a_leak_is_reported_by_kind_and_amount() {
    let (mut sim, id) = Sim::single(RestartPolicy::immediate(), RecoveryConfig::Unwind);
    let leak = Resources { handles: 1, pending_ipc: 0, ..Resources::ZERO };
    sim.ledgers[id.index()] = ledger(leak);
    sim.settle();
    sim.fault(id, PANIC);
    sim.run();
    let report = sim.manager.last_report(id).unwrap();
    assert_eq!(report.leaks, LeakReport::Leaked(leak));
    assert_eq!(report.leaks.leaks().collect::<Vec<_>>(), [(ResourceKind::Handles, 1)]);
    assert_eq!(report.reclaimed_by_backstop, res(1, 100, 0, 0));
    let counters = sim.manager.accounting(id).unwrap().counters();
    assert_eq!((counters.checks(), counters.leaky_checks(), counters.leaked()), (1, 1, leak));
    // The server still recovered: a leaky recovery is reported, not hidden, nor fatal.
    assert_eq!(sim.state(id), ServerState::Serving);
}

#[test]
fn counters_add_up_per_server_and_in_total() {
    let specs = vec![
        ServerSpec::new(name("a"), RestartPolicy::immediate()),
        ServerSpec::new(name("b"), RestartPolicy::immediate()),
    ];
    let mut sim = Sim::new(specs, RecoveryConfig::Unwind);
    let (a, b) = (sim.id("a"), sim.id("b"));
    sim.ledgers[a.index()] = ledger(Resources::ZERO);
    sim.ledgers[b.index()] = ledger(res(0, 0, 1, 0));
    sim.settle();
    for k in 1..=3 {
        sim.now = t(k * 10);
        sim.fault(a, PANIC);
        sim.fault(b, PANIC);
        sim.run();
    }
    let (ca, cb) = (*sim.manager.accounting(a).unwrap().counters(), *sim.manager.accounting(b).unwrap().counters());
    assert_eq!((ca.checks(), ca.leaky_checks(), cb.checks(), cb.leaky_checks()), (3, 0, 3, 3));
    assert_eq!(ca.released_by_unwinding(), res(6, 17_700, 6, 3));
    let totals = sim.manager.totals();
    assert_eq!(totals.checks(), 6);
    assert_eq!(totals.leaky_checks(), 3);
    assert_eq!(totals.leaked(), res(0, 0, 3, 0));
    assert_eq!(totals.released_by_unwinding(), ca.released_by_unwinding().saturating_add(&cb.released_by_unwinding()));
    assert_eq!(totals.reclaimed_by_backstop(), ca.reclaimed_by_backstop().saturating_add(&cb.reclaimed_by_backstop()));
}

#[test]
fn a_ledger_that_grows_is_refused() {
    let (mut sim, id) = Sim::single(RestartPolicy::immediate(), RecoveryConfig::Unwind);
    sim.settle();
    let released = Released::try_new(res(2, 100, 1, 0), res(2, 50, 1, 0)).unwrap();
    sim.manager.on_fault(id, Fault::new(PANIC, released), t(1)).unwrap();
    let grown = StepOutcome::Owns(res(3, 50, 1, 0));
    assert_eq!(
        sim.manager.step_done(id, Step::DropState, grown, t(1)),
        Err(EventError::Accounting {
            server: id,
            error: AccountingError::Grew { kind: ResourceKind::Frames, before: 2, after: 3 }
        })
    );
    assert_eq!(
        Released::try_new(res(1, 0, 0, 0), res(2, 0, 0, 0)).unwrap_err(),
        AccountingError::Grew { kind: ResourceKind::Frames, before: 1, after: 2 }
    );
}

#[test]
fn a_new_instance_that_starts_bigger_shows_baseline_growth() {
    let (mut sim, id) = Sim::single(RestartPolicy::immediate(), RecoveryConfig::Unwind);
    sim.ledgers[id.index()] = ledger(Resources::ZERO);
    sim.settle();
    sim.ledgers[id.index()].baseline = res(2, 5000, 1, 0);
    sim.fault(id, PANIC);
    sim.run();
    let report = sim.manager.last_report(id).unwrap();
    assert_eq!(report.baseline_growth, res(0, 904, 0, 0));
    assert!(report.leaks.is_clean(), "growth alone is not a leak");
}

#[test]
fn failed_attempts_are_accounted_too() {
    let (mut sim, id) = Sim::single(RestartPolicy::immediate(), RecoveryConfig::Unwind);
    sim.ledgers[id.index()] = ledger(Resources::ZERO);
    sim.settle();
    sim.fail(id, Step::Init, PANIC, 1);
    sim.fault(id, PANIC);
    sim.run();
    // Two instances finished (the faulted one and the one whose init
    // failed): two leak checks.
    assert_eq!(sim.manager.accounting(id).unwrap().counters().checks(), 2);
    assert_eq!(sim.manager.last_report(id).unwrap().attempts, 2);
}
