//! One line of `trials.jsonl`: a finished trial, its fault and its outcome.
//!
//! Every record carries its whole fault (seed, model, target, trigger,
//! location) as well as its id, so a resume, a merge or a comparison can
//! check that the trials it combines come from the same plan, and `jq` can
//! answer questions without the plan. Optional numbers are `null` when the
//! trial had no recovery; keys are always present (`clean_state` is
//! `null`, not missing, when unknown, and may be missing in older files).

use std::fmt;
use std::time::Duration;

use fault_inject::{Config, Injection, Location, LocationMismatch, Model, Seed, Target, TrialId, Trigger};
use serde::{Deserialize, Serialize};

use crate::clean_state::CleanState;
use crate::guest_line::DetectionKind;
use crate::guest_report::GuestReport;
use crate::outcome::Outcome;
use crate::trial_list::Trial;

/// What identifies a trial in a campaign: its fault's id and its
/// configuration. Printed `ID/CONFIG`, e.g. `17/unwind`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TrialKey {
    /// The fault's id.
    pub id: TrialId,
    /// The configuration.
    pub config: Config,
}

impl fmt::Display for TrialKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.id, self.config)
    }
}

/// A finished trial.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrialRecord {
    /// The trial id.
    pub id: TrialId,
    /// The campaign seed.
    pub seed: Seed,
    /// The configuration it ran under.
    pub config: Config,
    /// The fault model.
    pub model: Model,
    /// The target server.
    pub target: Target,
    /// When the fault was to fire (`ops.N`, `ticks.N`).
    pub trigger: Trigger,
    /// Where it was to land (`rip.17`, `heap.40312.3`, `site.9`, …).
    pub location: Location,
    /// What happened.
    pub outcome: Outcome,
    /// Recovery latency in guest nanoseconds (the first recovery's).
    pub latency: Option<u64>,
    /// Resources leaked, summed over the trial's recoveries.
    pub leaks: Option<u64>,
    /// Resources released by unwinding, summed over the recoveries.
    pub released_by_unwinding: Option<u64>,
    /// Resources reclaimed by the backstop, summed over the recoveries.
    pub reclaimed_by_backstop: Option<u64>,
    /// What detected the fault first, if anything did.
    pub detected: Option<DetectionKind>,
    /// When the fault fired, in guest nanoseconds since boot.
    pub injected_at_ns: Option<u64>,
    /// The protocol lines, any kernel panic and the end of the serial log.
    pub log_excerpt: String,
    /// Host wall-clock time of the trial, in milliseconds.
    pub duration_ms: u64,
    /// Whether the trial's QEMU booted or restored the saved clean state
    /// (`duration_ms` depends on it, the outcome should not); `null` in
    /// records written before there was a choice, which all booted.
    #[serde(default)]
    pub clean_state: Option<CleanState>,
}

impl TrialRecord {
    /// The record of a classified trial.
    pub fn new(trial: &Trial, outcome: Outcome, report: &GuestReport, log_excerpt: String, duration: Duration) -> Self {
        let spec = &trial.spec;
        TrialRecord {
            id: spec.id,
            seed: spec.seed,
            config: trial.config,
            model: spec.model(),
            target: spec.target(),
            trigger: spec.trigger(),
            location: spec.location(),
            outcome,
            latency: report.latency_ns(),
            leaks: report.leaks(),
            released_by_unwinding: report.released_by_unwinding(),
            reclaimed_by_backstop: report.reclaimed_by_backstop(),
            detected: report.detections.first().map(|d| d.kind),
            injected_at_ns: report.injected.map(|(at, _)| at),
            log_excerpt,
            duration_ms: u64::try_from(duration.as_millis()).unwrap_or(u64::MAX),
            clean_state: None,
        }
    }

    /// The record, noting the clean state its trial started from.
    pub fn started_from(self, clean_state: CleanState) -> Self {
        TrialRecord { clean_state: Some(clean_state), ..self }
    }

    /// The trial's key.
    pub fn key(&self) -> TrialKey {
        TrialKey { id: self.id, config: self.config }
    }

    /// The fault, if its location fits its model (a hand-edited record may
    /// not).
    pub fn injection(&self) -> Result<Injection, LocationMismatch> {
        Injection::try_new(self.model, self.target, self.trigger, self.location)
    }

    /// Whether two records of the same key say the same thing: same fault
    /// and same outcome. Timing, latency, the log and the clean state may
    /// differ between runs of one trial.
    pub fn agrees_with(&self, other: &TrialRecord) -> bool {
        (self.seed, self.injection().ok(), self.outcome) == (other.seed, other.injection().ok(), other.outcome)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use fault_inject::TrialSpec;

    /// A record for tests: trial `id` under `config` with `outcome`.
    pub(crate) fn record(id: u32, config: Config, outcome: Outcome) -> TrialRecord {
        let injection: Injection = "panic:fs:ops.3:site.9".parse().unwrap();
        let trial = Trial { spec: TrialSpec { id: TrialId(id), seed: Seed(1), injection }, config };
        let recovered = matches!(outcome, Outcome::Recovered | Outcome::RecoveredLeaky);
        TrialRecord {
            latency: recovered.then_some(50_000 + u64::from(id) * 1_000),
            leaks: recovered.then_some(u64::from(outcome == Outcome::RecoveredLeaky)),
            ..TrialRecord::new(&trial, outcome, &GuestReport::default(), String::new(), Duration::from_millis(1500))
        }
    }

    #[test]
    fn serialises_to_one_json_object_with_the_documented_keys() {
        let mut rec = record(17, Config::Unwind, Outcome::Recovered);
        rec.log_excerpt = "campaign: end".into();
        let json = serde_json::to_string(&rec).unwrap();
        assert!(!json.contains('\n'));
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        for key in
            ["id", "seed", "config", "model", "target", "location", "outcome", "latency", "leaks", "log_excerpt", "duration_ms", "clean_state"]
        {
            assert!(value.get(key).is_some(), "missing key {key}: {json}");
        }
        assert_eq!(value["id"], 17);
        assert_eq!(value["config"], "unwind");
        assert_eq!(value["model"], "panic");
        assert_eq!(value["target"], "fs");
        assert_eq!(value["trigger"], "ops.3");
        assert_eq!(value["location"], "site.9");
        assert_eq!(value["outcome"], "recovered");
        assert_eq!(value["latency"], 67_000);
        assert_eq!(value["detected"], serde_json::Value::Null);
        assert_eq!(value["duration_ms"], 1500);
        assert_eq!(value["clean_state"], serde_json::Value::Null);
        assert_eq!(serde_json::from_str::<TrialRecord>(&json).unwrap(), rec);
        let restored = rec.clone().started_from(CleanState::Snapshot);
        let json = serde_json::to_string(&restored).unwrap();
        assert!(json.ends_with(r#","duration_ms":1500,"clean_state":"snapshot"}"#), "{json}");
        assert_eq!(serde_json::from_str::<TrialRecord>(&json).unwrap(), restored);
    }

    #[test]
    fn records_written_before_the_clean_state_was_recorded_still_read() {
        let rec = record(4, Config::Restart, Outcome::Sdc);
        let mut value = serde_json::to_value(&rec).unwrap();
        value.as_object_mut().unwrap().remove("clean_state");
        assert_eq!(serde_json::from_value::<TrialRecord>(value).unwrap(), rec);
    }

    #[test]
    fn refuses_values_the_guest_would_refuse() {
        let good = serde_json::to_value(record(1, Config::Unwind, Outcome::Hang)).unwrap();
        for (key, bad) in [("target", "FS"), ("location", "rax.99"), ("outcome", "crashed"), ("config", "None")] {
            let mut value = good.clone();
            value[key] = bad.into();
            assert!(serde_json::from_value::<TrialRecord>(value).is_err(), "{key}={bad} accepted");
        }
    }

    #[test]
    fn a_location_of_another_model_is_caught() {
        let mut rec = record(1, Config::Unwind, Outcome::Hang);
        rec.location = "rax.3".parse().unwrap();
        assert!(rec.injection().is_err());
    }

    #[test]
    fn records_agree_on_fault_and_outcome_not_on_timing() {
        let a = record(3, Config::Restart, Outcome::ClientError);
        let mut b = a.clone();
        b.duration_ms += 10;
        b.log_excerpt = "another run".into();
        b.clean_state = Some(CleanState::Snapshot);
        assert!(a.agrees_with(&b));
        b.outcome = Outcome::Sdc;
        assert!(!a.agrees_with(&b));
        let mut c = a.clone();
        c.location = "site.10".parse().unwrap();
        assert!(!a.agrees_with(&c));
    }

    #[test]
    fn keys_print_and_order_by_id_then_configuration() {
        let key = record(17, Config::NoRecovery, Outcome::Hang).key();
        assert_eq!(key.to_string(), "17/none");
        assert!(record(2, Config::NoRecovery, Outcome::Hang).key() < record(3, Config::Unwind, Outcome::Hang).key());
        assert!(record(3, Config::Unwind, Outcome::Hang).key() < record(3, Config::Restart, Outcome::Hang).key());
    }
}
