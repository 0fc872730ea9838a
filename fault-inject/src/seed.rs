//! A campaign's seed: the one number every trial's fault derives from.

use core::fmt;
use core::str::FromStr;

use crate::error::ParseError;

/// Prefix that marks a hexadecimal seed (`0x2a`); decimal otherwise.
const HEX_PREFIX: &str = "0x";

/// Radix of a seed written with [`HEX_PREFIX`].
const HEX_RADIX: u32 = 16;

/// The campaign seed. Two campaigns with the same seed, models and targets
/// inject the same fault in every trial.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(transparent))]
pub struct Seed(pub u64);

impl fmt::Display for Seed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl FromStr for Seed {
    type Err = ParseError;

    /// Decimal (`42`) or hexadecimal with `0x` (`0x2a`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let parsed = match s.strip_prefix(HEX_PREFIX) {
            Some(hex) => u64::from_str_radix(hex, HEX_RADIX),
            None => s.parse(),
        };
        parsed.map(Seed).map_err(|_| ParseError::BadNumber { what: "seed" })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_and_hex_parse_to_the_same_seed() {
        assert_eq!("42".parse::<Seed>(), Ok(Seed(42)));
        assert_eq!("0x2a".parse::<Seed>(), Ok(Seed(42)));
        assert_eq!("18446744073709551615".parse::<Seed>(), Ok(Seed(u64::MAX)));
        assert_eq!(Seed(7).to_string(), "7");
    }

    #[test]
    fn junk_and_overflow_are_refused() {
        for bad in ["", "-1", "0x", "seed", "18446744073709551616"] {
            assert_eq!(bad.parse::<Seed>(), Err(ParseError::BadNumber { what: "seed" }), "{bad:?}");
        }
    }
}
