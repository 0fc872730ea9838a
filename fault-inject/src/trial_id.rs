//! A trial's number within its campaign.

use core::fmt;
use core::str::FromStr;

use crate::error::ParseError;

/// A trial's number: `0..trials` in a campaign. With the campaign's seed it
/// names the trial's fault; with a configuration it names one QEMU run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(transparent))]
pub struct TrialId(pub u32);

impl fmt::Display for TrialId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl FromStr for TrialId {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.parse().map(TrialId).map_err(|_| ParseError::BadNumber { what: "trial id" })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_decimal_ids_only() {
        assert_eq!("17".parse::<TrialId>(), Ok(TrialId(17)));
        assert_eq!(TrialId(17).to_string(), "17");
        for bad in ["", "-1", "0x11", "4294967296"] {
            assert_eq!(
                bad.parse::<TrialId>(),
                Err(ParseError::BadNumber { what: "trial id" }),
                "{bad:?}"
            );
        }
    }
}
