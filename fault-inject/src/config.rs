//! The recovery configurations a campaign compares on the same fault list.

use core::fmt;
use core::str::FromStr;

use crate::error::ParseError;

/// How the system reacts to a detected server fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Config {
    /// The system under study: unwind the faulting server (every `Drop`
    /// runs), reclaim what unwinding missed, restart it.
    #[cfg_attr(feature = "serde", serde(rename = "unwind"))]
    Unwind,
    /// The MINIX-style baseline: kill and restart with no unwinding, so
    /// nothing is dropped and only the backstop reclaims.
    #[cfg_attr(feature = "serde", serde(rename = "restart"))]
    Restart,
    /// No recovery at all: a faulted server stays dead. Named `none`; the
    /// variant is not called `None` to keep it apart from `Option::None`.
    #[cfg_attr(feature = "serde", serde(rename = "none"))]
    NoRecovery,
}

impl Config {
    /// Every configuration, in the order tables and charts list them.
    pub const ALL: [Config; 3] = [Config::Unwind, Config::Restart, Config::NoRecovery];

    /// The configuration's name, as typed by users and read by the guest.
    pub const fn name(self) -> &'static str {
        match self {
            Config::Unwind => "unwind",
            Config::Restart => "restart",
            Config::NoRecovery => "none",
        }
    }
}

impl fmt::Display for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Config {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Config::ALL
            .into_iter()
            .find(|config| config.name() == s)
            .ok_or(ParseError::UnknownConfig)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for config in Config::ALL {
            assert_eq!(config.to_string().parse::<Config>(), Ok(config));
        }
        assert_eq!("none".parse::<Config>(), Ok(Config::NoRecovery));
    }

    #[test]
    fn unknown_names_are_refused() {
        for bad in ["", "None", "norecovery", "unwinding"] {
            assert_eq!(bad.parse::<Config>(), Err(ParseError::UnknownConfig), "{bad:?}");
        }
    }
}
