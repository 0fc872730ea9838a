//! Recovery configurations: what the manager does about a fault, for comparison in campaigns.
//!
//! A campaign runs the same fault list under each configuration; the
//! manager's plans differ only in the steps each one takes, so the three
//! are measured by the same code.

use core::fmt;
use core::str::FromStr;

/// How the system reacts to a server fault. A campaign runs the same fault
/// list under each and compares the outcomes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RecoveryConfig {
    /// The system under study: the faulting thread is unwound (every
    /// `Drop` runs), the state object dropped, what is left reclaimed by
    /// the backstop, and the server restarted under its policy.
    Unwind,
    /// The MINIX 3 baseline: kill and restart. Nothing is unwound or
    /// dropped; the backstop reclaims everything; the policy still applies.
    Restart,
    /// No recovery: a faulted server is marked dead and stays dead. Named
    /// `none`; the variant is not called `None` to keep it apart from
    /// `Option::None` (as in `fault-inject`'s `Config`).
    NoRecovery,
}

/// Not one of the three configuration names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown recovery configuration (expected unwind, restart or none)")]
pub struct UnknownConfig;

impl RecoveryConfig {
    /// Every configuration, in the order tables list them.
    pub const ALL: [RecoveryConfig; 3] = [RecoveryConfig::Unwind, RecoveryConfig::Restart, RecoveryConfig::NoRecovery];

    /// The name on the command line and in campaign logs.
    pub const fn name(self) -> &'static str {
        match self {
            RecoveryConfig::Unwind => "unwind",
            RecoveryConfig::Restart => "restart",
            RecoveryConfig::NoRecovery => "none",
        }
    }

    /// Whether a faulted server is restarted at all.
    pub const fn restarts(self) -> bool {
        !matches!(self, RecoveryConfig::NoRecovery)
    }

    /// Whether the old instance's state object is dropped (its `Drop`s
    /// run) before the backstop reclaims the rest.
    pub const fn drops_state(self) -> bool {
        matches!(self, RecoveryConfig::Unwind)
    }
}

impl fmt::Display for RecoveryConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for RecoveryConfig {
    type Err = UnknownConfig;

    fn from_str(name: &str) -> Result<Self, UnknownConfig> {
        RecoveryConfig::ALL.into_iter().find(|config| config.name() == name).ok_or(UnknownConfig)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for config in RecoveryConfig::ALL {
            assert_eq!(config.name().parse(), Ok(config));
        }
        for bad in ["", "None", "norecovery", "unwinding"] {
            assert_eq!(bad.parse::<RecoveryConfig>(), Err(UnknownConfig));
        }
    }
}
