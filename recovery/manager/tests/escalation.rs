//! Escalation and dependencies: restarting dependents in DAG order, marking dead, and what a dead dependency means.

mod common;

use common::*;
use recovery_manager::*;

/// `blk` <- `fs` <- `shell`, and `log` on its own; `blk` escalates by
/// restarting its dependents after 1 restart in 100 ticks.
fn chain(escalation: Escalation) -> Sim {
    let limit = Limit::try_new(1, d(100), escalation).unwrap();
    let specs = vec![
        ServerSpec::new(name("shell"), RestartPolicy::immediate()).depends_on(name("fs")),
        ServerSpec::new(name("fs"), RestartPolicy::immediate()).depends_on(name("blk")),
        ServerSpec::new(name("blk"), RestartPolicy::immediate().limited(limit)),
        ServerSpec::new(name("log"), RestartPolicy::immediate()),
    ];
    Sim::new(specs, RecoveryConfig::Unwind).started()
}

#[test]
fn first_start_follows_the_dag() {
    let sim = chain(Escalation::MarkDead);
    let names: Vec<String> =
        sim.inits().iter().map(|&id| sim.manager.registry().get(id).unwrap().name().to_string()).collect();
    // blk and log depend on nothing and start at once; fs waits for blk,
    // shell for fs.
    assert_eq!(names, ["blk", "log", "fs", "shell"]);
    // fs's init came only after blk served.
    let (blk, fs) = (sim.id("blk"), sim.id("fs"));
    let serve_blk = sim.log.iter().position(|&(_, a)| a == Action { server: blk, step: Step::Serve }).unwrap();
    let init_fs = sim.log.iter().position(|&(_, a)| a == Action { server: fs, step: Step::Init }).unwrap();
    assert!(serve_blk < init_fs);
}

#[test]
fn escalation_restarts_dependents_after_their_dependency() {
    let mut sim = chain(Escalation::RestartDependents);
    let (shell, fs, blk, log) = (sim.id("shell"), sim.id("fs"), sim.id("blk"), sim.id("log"));
    sim.now = t(10);
    sim.fault(blk, PANIC);
    sim.run();
    sim.clear_log();
    sim.now = t(20);
    sim.fault(blk, PANIC); // second in the window: escalate
    sim.run();

    assert_eq!(sim.inits(), [blk, fs, shell], "restart order follows the DAG");
    // Dependents were stopped (not faulted), then restarted like a fault.
    assert_eq!(sim.steps_of(fs)[..3], [Step::Stop, Step::DropState, Step::Reclaim]);
    // Each dependent's init came after its dependency served again.
    let position = |a: Action| sim.log.iter().position(|&(_, b)| b == a).unwrap();
    assert!(position(Action { server: blk, step: Step::Serve }) < position(Action { server: fs, step: Step::Init }));
    assert!(position(Action { server: fs, step: Step::Serve }) < position(Action { server: shell, step: Step::Init }));
    // Untouched: the server that depends on nothing escalated.
    assert_eq!(sim.steps_of(log), []);
    for id in [shell, fs, blk, log] {
        assert_eq!(sim.state(id), ServerState::Serving);
    }
    assert_eq!(sim.manager.last_report(fs).unwrap().reason, RestartReason::Dependency(blk));
    assert_eq!(sim.generation(fs).get(), 2);
    assert_eq!(sim.generation(blk).get(), 3);
    // The escalation started blk's history afresh.
    assert!(sim.manager.registry().get(blk).unwrap().history().is_empty());
}

#[test]
fn escalating_again_within_the_window_marks_dead() {
    let mut sim = chain(Escalation::RestartDependents);
    let blk = sim.id("blk");
    for at in [10, 20] {
        sim.now = t(at);
        sim.fault(blk, PANIC);
        sim.run();
    }
    assert_eq!(sim.state(blk), ServerState::Serving, "the first escalation restarted it");
    for at in [30, 40] {
        sim.now = t(at);
        sim.fault(blk, PANIC);
        sim.run();
    }
    assert_eq!(sim.state(blk), ServerState::Dead { why: DeadReason::EscalationFailed });
}

#[test]
fn escalating_again_after_the_window_is_allowed() {
    let mut sim = chain(Escalation::RestartDependents);
    let blk = sim.id("blk");
    for at in [10, 20, 500, 510] {
        sim.now = t(at);
        sim.fault(blk, PANIC);
        sim.run();
    }
    assert_eq!(sim.state(blk), ServerState::Serving);
    assert_eq!(sim.generation(sim.id("shell")).get(), 3, "two escalations restarted shell twice");
}

#[test]
fn mark_dead_leaves_dependents_serving_and_their_calls_fail_cleanly() {
    let mut sim = chain(Escalation::MarkDead);
    let (fs, blk) = (sim.id("fs"), sim.id("blk"));
    for at in [10, 20] {
        sim.now = t(at);
        sim.fault(blk, PANIC);
        sim.run();
    }
    assert_eq!(sim.state(blk), ServerState::Dead { why: DeadReason::LimitReached });
    assert_eq!(sim.steps_of(blk).last(), Some(&Step::Retire));
    assert_eq!(sim.state(fs), ServerState::Serving);
    assert!(matches!(sim.manager.registry().check_call(blk, sim.generation(blk)), Err(CallError::Dead { .. })));
}

#[test]
fn a_server_cannot_restart_once_its_dependency_is_dead() {
    let mut sim = chain(Escalation::MarkDead);
    let (fs, blk) = (sim.id("fs"), sim.id("blk"));
    // blk's restart fails: its failed init is the second fault in its
    // window, past its limit.
    sim.fail(blk, Step::Init, PANIC, usize::MAX);
    sim.now = t(10);
    sim.fault(blk, PANIC);
    sim.run();
    assert!(sim.state(blk).is_dead());
    // fs faults: torn down, but its gate finds blk dead.
    sim.now = t(20);
    sim.fault(fs, PANIC);
    sim.settle();
    assert_eq!(sim.state(fs), ServerState::Dead { why: DeadReason::DependencyDead { dependency: blk } });
    // A server that keeps serving is left alone: only a start needs its
    // dependencies.
    assert_eq!(sim.state(sim.id("shell")), ServerState::Serving);
}

#[test]
fn a_dependency_dead_at_first_start_kills_its_dependents() {
    let specs = vec![
        ServerSpec::new(name("fs"), RestartPolicy::immediate()).depends_on(name("blk")),
        ServerSpec::new(name("blk"), RestartPolicy::immediate()),
    ];
    let mut sim = Sim::new(specs, RecoveryConfig::Unwind);
    let (fs, blk) = (sim.id("fs"), sim.id("blk"));
    sim.fail(blk, Step::Init, PANIC, usize::MAX);
    sim.settle();
    assert!(sim.state(blk).is_dead());
    assert_eq!(sim.state(fs), ServerState::Dead { why: DeadReason::DependencyDead { dependency: blk } });
    assert_eq!(sim.steps_of(fs), [Step::Retire], "fs never ran");
}
