//! The three configurations a campaign compares, on the same fault: `unwind`, `restart` (MINIX 3) and `none`.

mod common;

use common::*;
use recovery_manager::*;

fn res(frames: u64, heap_bytes: u64, handles: u64) -> Resources {
    Resources { frames, heap_bytes, handles, ..Resources::ZERO }
}

/// One server, started, that holds (3 frames, 6000 bytes, 3 handles) when it
/// faults; under `unwind`, unwinding releases some and the state drop more.
fn faulted(config: RecoveryConfig) -> (Sim, ServerId) {
    let (mut sim, id) = Sim::single(RestartPolicy::immediate(), config);
    sim.ledgers[id.index()] = Ledger {
        baseline: res(2, 4096, 1),
        held: res(3, 6000, 3),
        after_unwind: res(3, 5000, 2),
        after_drop: res(0, 0, 1),
        after_reclaim: Resources::ZERO,
    };
    sim.settle();
    sim.clear_log();
    sim.now = t(100);
    sim.fault(id, PANIC);
    sim.run();
    (sim, id)
}

#[test]
fn unwind_drops_then_reclaims_then_restarts() {
    let (sim, id) = faulted(RecoveryConfig::Unwind);
    assert_eq!(sim.steps_of(id)[..2], [Step::DropState, Step::Reclaim]);
    assert_eq!(sim.state(id), ServerState::Serving);
    let report = sim.manager.last_report(id).unwrap();
    assert_eq!(report.released_by_unwinding, res(3, 6000, 2));
    assert_eq!(report.reclaimed_by_backstop, res(0, 0, 1));
}

#[test]
fn restart_kills_and_restarts_without_crediting_unwinding() {
    let (sim, id) = faulted(RecoveryConfig::Restart);
    assert_eq!(
        sim.steps_of(id),
        [
            Step::Reclaim,
            Step::BumpGeneration { to: Generation::FIRST.next().unwrap() },
            Step::Init,
            Step::RestoreKeptState,
            Step::Serve
        ],
        "no state drop: nothing the instance held is released by Rust drops"
    );
    assert_eq!(sim.state(id), ServerState::Serving);
    let report = sim.manager.last_report(id).unwrap();
    assert_eq!(report.released_by_unwinding, Resources::ZERO);
    assert_eq!(report.reclaimed_by_backstop, res(3, 6000, 3), "the backstop reclaims everything");
    assert!(report.leaks.is_clean());
    assert_eq!(sim.manager.totals().released_by_unwinding(), Resources::ZERO);
}

#[test]
fn none_leaves_the_faulted_server_dead() {
    let (sim, id) = faulted(RecoveryConfig::NoRecovery);
    assert_eq!(sim.steps_of(id), [Step::Retire]);
    assert_eq!(sim.state(id), ServerState::Dead { why: DeadReason::NoRecovery });
    assert_eq!(sim.generation(id), Generation::FIRST);
    assert_eq!(sim.manager.last_report(id), None, "no recovery, no report");
    assert_eq!(sim.manager.totals().checks(), 0, "nothing reclaimed, nothing checked");
    assert_eq!(
        sim.manager.registry().check_call(id, Generation::FIRST),
        Err(CallError::Dead { why: DeadReason::NoRecovery })
    );
}

#[test]
fn none_gives_up_on_a_failed_first_start_too() {
    let (mut sim, id) = Sim::single(RestartPolicy::immediate(), RecoveryConfig::NoRecovery);
    sim.fail(id, Step::Init, PANIC, 1);
    sim.settle();
    assert_eq!(sim.steps_of(id), [Step::Init, Step::Retire]);
    assert_eq!(sim.state(id), ServerState::Dead { why: DeadReason::NoRecovery });
}

#[test]
fn restart_stops_dependents_by_killing_them() {
    let limit = Limit::try_new(0, d(100), Escalation::RestartDependents).unwrap();
    let specs = vec![
        ServerSpec::new(name("fs"), RestartPolicy::immediate()).depends_on(name("blk")),
        ServerSpec::new(name("blk"), RestartPolicy::immediate().limited(limit)),
    ];
    let mut sim = Sim::new(specs, RecoveryConfig::Restart).started();
    let (fs, blk) = (sim.id("fs"), sim.id("blk"));
    sim.clear_log();
    sim.fault(blk, PANIC);
    sim.run();
    assert_eq!(sim.steps_of(fs)[..2], [Step::Stop, Step::Reclaim]);
    assert_eq!(sim.state(fs), ServerState::Serving);
    assert_eq!(sim.state(blk), ServerState::Serving);
}

#[test]
fn configurations_have_their_campaign_names() {
    let names: Vec<&str> = RecoveryConfig::ALL.iter().map(|c| c.name()).collect();
    assert_eq!(names, ["unwind", "restart", "none"]);
    assert_eq!("restart".parse(), Ok(RecoveryConfig::Restart));
}
