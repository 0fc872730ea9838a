//! Recovery latency: from the fault to the first request the new instance served.

mod common;

use common::*;
use recovery_manager::*;

#[test]
fn latency_runs_from_fault_to_first_request() {
    let (sim, id) = Sim::single(RestartPolicy::immediate(), RecoveryConfig::Unwind);
    let mut sim = sim.started();
    sim.now = t(1_000);
    sim.fault(id, PANIC);
    sim.now = t(1_004);
    sim.run();
    assert_eq!(sim.manager.last_report(id).unwrap().latency, None, "no request served yet");
    let report = sim.manager.on_first_request(id, t(1_010)).unwrap().unwrap();
    assert_eq!(report.latency, Some(d(10)));
    assert_eq!(sim.manager.last_report(id).unwrap().latency, Some(d(10)));
    // Only the first request counts.
    assert_eq!(sim.manager.on_first_request(id, t(1_020)).unwrap(), None);
    assert_eq!(sim.manager.latency(id).unwrap().count(), 1);
}

#[test]
fn no_latency_without_a_recovery() {
    let (sim, id) = Sim::single(RestartPolicy::immediate(), RecoveryConfig::Unwind);
    let mut sim = sim.started();
    assert_eq!(sim.manager.on_first_request(id, t(5)).unwrap(), None, "the first start is not a recovery");
    // Nor while the server is still recovering.
    sim.now = t(5);
    sim.fault(id, PANIC);
    assert_eq!(sim.manager.on_first_request(id, t(6)).unwrap(), None);
    assert_eq!(sim.manager.on_first_request(ServerId::new(3), t(6)), Err(EventError::UnknownServer(ServerId::new(3))));
}

#[test]
fn backoff_delay_is_part_of_the_latency() {
    let backoff = Backoff::try_new(d(25), 2, d(100)).unwrap();
    let (sim, id) = Sim::single(RestartPolicy::backoff(backoff), RecoveryConfig::Unwind);
    let mut sim = sim.started();
    sim.now = t(100);
    sim.fault(id, PANIC);
    sim.settle();
    let report = sim.manager.on_first_request(id, t(130)).unwrap().unwrap();
    assert_eq!(report.latency, Some(d(30)));
}

#[test]
fn stats_keep_count_last_max_and_quantiles() {
    let (sim, id) = Sim::single(RestartPolicy::immediate(), RecoveryConfig::Unwind);
    let mut sim = sim.started();
    // 100 recoveries: 99 of 10 ticks, one of 1000.
    let mut now = 0;
    for k in 0..100u64 {
        now += 10_000;
        sim.now = t(now);
        sim.fault(id, PANIC);
        sim.run();
        let latency = if k == 50 { 1_000 } else { 10 };
        sim.manager.on_first_request(id, t(now + latency)).unwrap().unwrap();
    }
    let stats = sim.manager.latency(id).unwrap();
    assert_eq!(stats.count(), 100);
    assert_eq!(stats.last(), Some(d(10)));
    assert_eq!(stats.min(), Some(d(10)));
    assert_eq!(stats.max(), Some(d(1_000)));
    assert_eq!(stats.mean(), Some(d((99 * 10 + 1_000) / 100)));
    // The median falls in the bucket of 8 to 15 ticks: the bound is its
    // upper edge.
    assert_eq!(stats.median(), Some(d(15)));
    // p99 is the 99th sample of 100: still 10 ticks, bound 15.
    assert_eq!(stats.p99(), Some(d(15)));
    // The 100th (per mille 1000) is the outlier, exact through the max.
    assert_eq!(stats.quantile(PER_MILLE), Some(d(1_000)));
}

#[test]
fn quantiles_are_upper_bounds_within_a_factor_of_two() {
    let mut stats = LatencyStats::default();
    for latency in 1..=1_000u64 {
        stats.record(d(latency));
    }
    for per_mille in [1, 100, 500, 900, 990, 999, 1_000] {
        let exact = u64::from(per_mille);
        let bound = stats.quantile(per_mille).unwrap().get();
        assert!(bound >= exact && bound < 2 * exact, "q{per_mille}: {bound} vs {exact}");
    }
}
