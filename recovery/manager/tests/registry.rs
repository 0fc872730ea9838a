//! The registry: declarations checked (names, dependencies, cycles), start order, and calls checked against generations.

mod common;

use common::*;
use recovery_manager::*;

fn spec(server: &str, deps: &[&str]) -> ServerSpec {
    deps.iter().fold(ServerSpec::new(name(server), RestartPolicy::immediate()), |spec, &dep| spec.depends_on(name(dep)))
}

fn names(registry: &Registry, ids: &[ServerId]) -> Vec<String> {
    ids.iter().map(|&id| registry.get(id).unwrap().name().to_string()).collect()
}

#[test]
fn start_order_puts_dependencies_first() {
    let registry = Registry::try_new([
        spec("shell", &["fs", "console"]),
        spec("fs", &["blk"]),
        spec("console", &[]),
        spec("blk", &[]),
    ])
    .unwrap();
    assert_eq!(names(&registry, registry.start_order()), ["console", "blk", "fs", "shell"]);
    let fs = registry.id_of("fs").unwrap();
    assert_eq!(names(&registry, registry.get(fs).unwrap().dependents()), ["shell"]);
    assert_eq!(names(&registry, registry.get(fs).unwrap().dependencies()), ["blk"]);
    let blk = registry.id_of("blk").unwrap();
    assert_eq!(names(&registry, &registry.dependents_of(blk)), ["fs", "shell"]);
}

#[test]
fn unknown_dependencies_are_refused() {
    let error = Registry::try_new([spec("fs", &["blk"])]).unwrap_err();
    assert_eq!(error, RegistryError::UnknownDependency { server: name("fs"), dependency: name("blk") });
}

#[test]
fn duplicate_names_are_refused() {
    let error = Registry::try_new([spec("fs", &[]), spec("fs", &[])]).unwrap_err();
    assert_eq!(error, RegistryError::DuplicateName(name("fs")));
}

#[test]
fn cycles_are_refused_and_named() {
    let error =
        Registry::try_new([spec("a", &["b"]), spec("b", &["c"]), spec("c", &["a"]), spec("d", &[])]).unwrap_err();
    assert_eq!(error, RegistryError::Cycle(CyclePath(vec![name("a"), name("b"), name("c")])));
    assert_eq!(error.to_string(), "dependency cycle: a -> b -> c -> a");

    let error = Registry::try_new([spec("a", &["a"])]).unwrap_err();
    assert_eq!(error, RegistryError::Cycle(CyclePath(vec![name("a")])));
}

#[test]
fn a_diamond_is_not_a_cycle() {
    let registry = Registry::try_new([
        spec("top", &["left", "right"]),
        spec("left", &["base"]),
        spec("right", &["base"]),
        spec("base", &[]),
    ])
    .unwrap();
    assert_eq!(names(&registry, registry.start_order()), ["base", "left", "right", "top"]);
    let base = registry.id_of("base").unwrap();
    assert_eq!(names(&registry, &registry.dependents_of(base)), ["left", "right", "top"]);
}

#[test]
fn calls_are_checked_against_the_generation() {
    let (mut sim, id) = Sim::single(RestartPolicy::immediate(), RecoveryConfig::Unwind);
    let first = Generation::FIRST;
    // Before the first instance serves.
    assert_eq!(sim.manager.registry().check_call(id, first), Err(CallError::NotServing { current: first }));
    sim.settle();
    assert_eq!(sim.manager.registry().check_call(id, first), Ok(()));

    // A fault: the old generation stops serving at once…
    sim.fault(id, PANIC);
    assert_eq!(sim.manager.registry().check_call(id, first), Err(CallError::NotServing { current: first }));
    sim.run();
    // …and once restarted, calls made with it are stale.
    let second = first.next().unwrap();
    assert_eq!(sim.generation(id), second);
    assert_eq!(sim.manager.registry().check_call(id, first), Err(CallError::Stale { current: second }));
    assert_eq!(sim.manager.registry().check_call(id, second), Ok(()));
    // A generation never issued is the caller's mistake.
    let forged = second.next().unwrap();
    assert_eq!(sim.manager.registry().check_call(id, forged), Err(CallError::NotIssued { current: second }));
    // An id no registry issued.
    assert_eq!(sim.manager.registry().check_call(ServerId::new(99), first), Err(CallError::Unknown));
}

#[test]
fn calls_to_a_dead_server_fail_cleanly() {
    let (sim, id) = Sim::single(RestartPolicy::immediate(), RecoveryConfig::NoRecovery);
    let mut sim = sim.started();
    sim.fault(id, PANIC);
    sim.run();
    let why = DeadReason::NoRecovery;
    assert_eq!(sim.state(id), ServerState::Dead { why });
    assert_eq!(sim.manager.registry().check_call(id, Generation::FIRST), Err(CallError::Dead { why }));
}

#[test]
fn the_generation_only_grows() {
    let (sim, id) = Sim::single(RestartPolicy::immediate(), RecoveryConfig::Unwind);
    let mut sim = sim.started();
    let mut last = sim.generation(id);
    for k in 1..=20 {
        sim.now = t(k * 1_000);
        sim.fault(id, PANIC);
        sim.run();
        let now = sim.generation(id);
        assert_eq!(now, last.next().unwrap());
        last = now;
    }
    assert_eq!(last.get(), 21);
}
