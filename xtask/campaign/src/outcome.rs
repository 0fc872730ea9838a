//! What a trial's fault did to the system: the seven outcomes.
//!
//! The names are part of the results-file format and of every table:
//! `not-activated`, `recovered`, `recovered-leaky`, `client-error`, `sdc`,
//! `hang`, `kernel-crash`. How a trial gets one is `classify`'s job.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The outcome of one trial.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// No detectable effect: the fault never fired, or it was masked.
    NotActivated,
    /// Detected, the server restarted, the workload's results were correct
    /// and nothing leaked.
    Recovered,
    /// As `recovered`, but the accounting found resources that neither
    /// unwinding nor the backstop gave back.
    RecoveredLeaky,
    /// The workload saw a failure (an error it could not retry past).
    ClientError,
    /// Silent data corruption: the workload got wrong results without
    /// seeing any error.
    Sdc,
    /// The trial did not finish before its deadline.
    Hang,
    /// The kernel panicked or the machine reset.
    KernelCrash,
}

/// A name that is not one of the seven outcomes.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown outcome `{0}`")]
pub struct UnknownOutcome(pub String);

impl Outcome {
    /// Every outcome, in the order tables and charts list them.
    pub const ALL: [Outcome; 7] = [
        Outcome::NotActivated,
        Outcome::Recovered,
        Outcome::RecoveredLeaky,
        Outcome::ClientError,
        Outcome::Sdc,
        Outcome::Hang,
        Outcome::KernelCrash,
    ];

    /// The outcome's name.
    pub const fn name(self) -> &'static str {
        match self {
            Outcome::NotActivated => "not-activated",
            Outcome::Recovered => "recovered",
            Outcome::RecoveredLeaky => "recovered-leaky",
            Outcome::ClientError => "client-error",
            Outcome::Sdc => "sdc",
            Outcome::Hang => "hang",
            Outcome::KernelCrash => "kernel-crash",
        }
    }

    /// Whether the fault had an effect: every outcome but `not-activated`.
    /// Activated trials are the denominator of the recovery rate.
    pub const fn is_activated(self) -> bool {
        !matches!(self, Outcome::NotActivated)
    }

    /// The outcome's position in [`Outcome::ALL`].
    pub const fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Outcome {
    type Err = UnknownOutcome;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Outcome::ALL
            .into_iter()
            .find(|outcome| outcome.name() == s)
            .ok_or_else(|| UnknownOutcome(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_the_documented_ones_in_text_and_json() {
        let names: Vec<&str> = Outcome::ALL.iter().map(|o| o.name()).collect();
        assert_eq!(
            names,
            ["not-activated", "recovered", "recovered-leaky", "client-error", "sdc", "hang", "kernel-crash"]
        );
        for outcome in Outcome::ALL {
            let json = serde_json::to_string(&outcome).unwrap();
            assert_eq!(json, format!("\"{}\"", outcome.name()));
            assert_eq!(serde_json::from_str::<Outcome>(&json).unwrap(), outcome);
            assert_eq!(outcome.name().parse::<Outcome>(), Ok(outcome));
            assert_eq!(Outcome::ALL[outcome.index()], outcome);
        }
        assert_eq!("crash".parse::<Outcome>(), Err(UnknownOutcome("crash".into())));
    }

    #[test]
    fn only_not_activated_is_outside_the_denominator() {
        let activated: Vec<Outcome> = Outcome::ALL.into_iter().filter(|o| o.is_activated()).collect();
        assert_eq!(activated.len(), 6);
        assert!(!Outcome::NotActivated.is_activated());
    }
}
