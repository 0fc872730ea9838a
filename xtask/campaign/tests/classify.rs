//! The classifier on recorded serial logs: one fixture per outcome, and per
//! reason a boot is refused as a trial.
//!
//! Each fixture in `tests/fixtures/` is a serial log as the runner keeps it;
//! its first line is a runner note (`## host: fixture …`) naming the trial
//! the host asked for (the same `trial= recovery= inject=` words it puts on
//! the guest's command line), how QEMU ended (`end=exited:N`, `end=reset`,
//! `end=timeout`) and the expected result (`expect=OUTCOME` or
//! `expect=error:KIND`).

use std::path::PathBuf;
use std::time::Duration;

use campaign::{classify, evaluate, ClassifyError, GuestReport, Outcome, Trial, TrialEnd};
use fault_inject::{CmdlineFragment, Seed, TrialSpec};

/// The note that starts every fixture.
const FIXTURE_NOTE: &str = "## host: fixture ";

struct Fixture {
    log: String,
    trial: Trial,
    end: TrialEnd,
    expect: String,
}

fn fixture_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests").join("fixtures").join(format!("{name}.log"))
}

fn load(name: &str) -> Fixture {
    let path = fixture_path(name);
    let log = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let header = log.lines().next().and_then(|l| l.strip_prefix(FIXTURE_NOTE)).expect("fixture note");
    let fragment = CmdlineFragment::from_cmdline(header).expect("valid fragment").expect("a trial");
    let word = |key: &str| {
        header
            .split_whitespace()
            .find_map(|w| w.strip_prefix(key).and_then(|w| w.strip_prefix('=')))
            .unwrap_or_else(|| panic!("{name}: no {key}="))
    };
    let end = match word("end") {
        "reset" => TrialEnd::GuestReset,
        "timeout" => TrialEnd::TimedOut,
        exited => TrialEnd::Exited { status: exited.strip_prefix("exited:").expect("exited:N").parse().unwrap() },
    };
    let spec = TrialSpec { id: fragment.id, seed: Seed(2026), injection: fragment.injection };
    Fixture { trial: Trial { spec, config: fragment.config }, end, expect: word("expect").to_owned(), log }
}

fn error_kind(error: &ClassifyError) -> &'static str {
    match error {
        ClassifyError::Protocol(_) => "protocol",
        ClassifyError::QemuFailed { .. } => "qemu-failed",
        ClassifyError::NeverArmed { .. } => "never-armed",
        ClassifyError::WrongTrial { .. } => "wrong-trial",
        ClassifyError::FailedWithoutFault { .. } => "failed-without-fault",
        ClassifyError::Incomplete { .. } => "incomplete",
        ClassifyError::Inconsistent(_) => "inconsistent",
    }
}

/// Classifies fixture `name` and checks it against its `expect=`.
fn check(name: &str) -> Result<Outcome, ClassifyError> {
    let fixture = load(name);
    let result = classify(&fixture.trial, fixture.end, &GuestReport::from_log(&fixture.log));
    let got = match &result {
        Ok(outcome) => outcome.name().to_owned(),
        Err(error) => format!("error:{}", error_kind(error)),
    };
    assert_eq!(got, fixture.expect, "{name}: {result:?}");
    result
}

#[test]
fn recovered_unwound_panic_with_correct_results_and_no_leaks() {
    assert_eq!(check("recovered").unwrap(), Outcome::Recovered);
}

#[test]
fn recovered_leaky_when_the_backstop_leaves_resources_behind() {
    assert_eq!(check("recovered_leaky").unwrap(), Outcome::RecoveredLeaky);
}

#[test]
fn client_error_when_the_workload_sees_the_dead_server() {
    assert_eq!(check("client_error").unwrap(), Outcome::ClientError);
}

#[test]
fn sdc_when_results_are_wrong_and_nothing_was_detected() {
    assert_eq!(check("sdc_undetected").unwrap(), Outcome::Sdc);
}

#[test]
fn sdc_when_results_are_wrong_after_a_recovery() {
    assert_eq!(check("sdc_after_recovery").unwrap(), Outcome::Sdc);
}

#[test]
fn hang_when_the_deadline_passes() {
    assert_eq!(check("hang").unwrap(), Outcome::Hang);
}

#[test]
fn kernel_crash_on_a_kernel_panic_even_if_the_halted_guest_then_times_out() {
    assert_eq!(check("kernel_crash_panic").unwrap(), Outcome::KernelCrash);
}

#[test]
fn kernel_crash_on_a_guest_reset() {
    assert_eq!(check("kernel_crash_reset").unwrap(), Outcome::KernelCrash);
}

#[test]
fn not_activated_when_the_trigger_never_fired() {
    assert_eq!(check("not_activated_never_fired").unwrap(), Outcome::NotActivated);
}

#[test]
fn not_activated_when_the_fault_fired_but_was_masked() {
    assert_eq!(check("not_activated_masked").unwrap(), Outcome::NotActivated);
}

#[test]
fn a_boot_that_broke_before_arming_is_not_a_trial() {
    let error = check("never_armed").unwrap_err();
    assert!(error.to_string().contains("out of frames"), "{error}");
}

#[test]
fn a_guest_that_armed_another_trial_is_not_counted() {
    let error = check("wrong_trial").unwrap_err();
    assert!(error.to_string().contains("under restart"), "{error}");
}

#[test]
fn a_failure_without_any_injection_is_not_blamed_on_the_fault() {
    let error = check("failed_without_fault").unwrap_err();
    assert!(error.to_string().contains("workload saw an error"), "{error}");
}

#[test]
fn an_exit_without_end_is_incomplete() {
    assert_eq!(check("incomplete").unwrap_err(), ClassifyError::Incomplete { missing: "end" });
}

#[test]
fn a_restart_under_none_is_inconsistent() {
    let error = check("recovery_under_none").unwrap_err();
    assert!(error.to_string().contains("under `none`"), "{error}");
}

#[test]
fn a_malformed_protocol_line_refuses_the_trial_and_names_the_line() {
    let error = check("malformed").unwrap_err();
    assert!(error.to_string().contains("line 3"), "{error}");
}

#[test]
fn every_outcome_has_a_fixture() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests").join("fixtures");
    let mut expected: Vec<String> = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let name = entry.unwrap().path().file_stem().unwrap().to_string_lossy().into_owned();
        expected.push(load(&name).expect);
    }
    for outcome in Outcome::ALL {
        assert!(expected.iter().any(|e| e == outcome.name()), "no fixture for {outcome}");
    }
}

#[test]
fn qemu_failing_by_itself_is_not_a_trial() {
    let fixture = load("recovered");
    let report = GuestReport::from_log(&fixture.log);
    assert_eq!(
        classify(&fixture.trial, TrialEnd::Exited { status: 1 }, &report),
        Err(ClassifyError::QemuFailed { status: 1 })
    );
}

#[test]
fn unwinding_under_restart_is_inconsistent() {
    let mut fixture = load("recovered_leaky");
    fixture.log = fixture.log.replace("released_by_unwinding=0", "released_by_unwinding=3");
    let result = classify(&fixture.trial, fixture.end, &GuestReport::from_log(&fixture.log));
    assert!(matches!(result, Err(ClassifyError::Inconsistent(ref why)) if why.contains("under `restart`")), "{result:?}");
}

#[test]
fn a_detected_fault_with_no_restart_cannot_pass_the_health_check() {
    let fixture = load("client_error");
    let log = fixture.log.replace("verdict=error", "verdict=ok");
    let result = classify(&fixture.trial, fixture.end, &GuestReport::from_log(&log));
    assert!(matches!(result, Err(ClassifyError::Inconsistent(_))), "{result:?}");
}

#[test]
fn a_kernel_panic_outranks_a_clean_looking_end() {
    let fixture = load("recovered");
    let log = format!("{}\nKERNEL PANIC: assertion failed in scheduler\n", fixture.log);
    let report = GuestReport::from_log(&log);
    assert_eq!(classify(&fixture.trial, fixture.end, &report), Ok(Outcome::KernelCrash));
}

#[test]
fn evaluate_makes_the_record_with_latency_leaks_and_excerpt() {
    let fixture = load("recovered_leaky");
    let record = evaluate(&fixture.trial, fixture.end, &fixture.log, Duration::from_millis(4_321)).unwrap();
    assert_eq!(record.outcome, Outcome::RecoveredLeaky);
    assert_eq!(record.id.0, 8);
    assert_eq!((record.latency, record.leaks), (Some(40_100), Some(2)));
    assert_eq!((record.released_by_unwinding, record.reclaimed_by_backstop), (Some(0), Some(5)));
    assert_eq!(record.injected_at_ns, Some(1_410_000_000));
    assert_eq!(record.duration_ms, 4_321);
    assert_eq!(record.detected.map(|d| d.name()), Some("exception"));
    assert!(record.log_excerpt.contains("campaign: recovered server=fs"));
    assert!(record.log_excerpt.contains("[accounting] fs: 1 lock held"));
}
