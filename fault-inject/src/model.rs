//! The fault models: how a fault is made.
//!
//! Names are the ones users type (`--models panic,regflip`) and the ones the
//! guest reads from its command line; [`Model::name`] and [`FromStr`] are
//! inverse.

use core::fmt;
use core::str::FromStr;

use crate::error::ParseError;

/// How a trial's fault is made.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
pub enum Model {
    /// A forced Rust panic at a site in the target server.
    Panic,
    /// One bit of one register of a target server thread, flipped through
    /// its saved context at a random instant.
    Regflip,
    /// One bit in the target's stack, heap, data, text or kept store.
    Memflip,
    /// A null or wild pointer dereference at a site.
    Wildptr,
    /// A corrupted return address or function pointer at a site, which the
    /// CFI checks should catch.
    Cfi,
    /// An endless loop at a site: only the watchdog can see it.
    Hang,
    /// Unbounded recursion from a site, until the stack guard is hit.
    Stackoverflow,
}

impl Model {
    /// Every model, in the order tables and charts list them.
    pub const ALL: [Model; 7] = [
        Model::Panic,
        Model::Regflip,
        Model::Memflip,
        Model::Wildptr,
        Model::Cfi,
        Model::Hang,
        Model::Stackoverflow,
    ];

    /// The model's name, as typed by users and read by the guest.
    pub const fn name(self) -> &'static str {
        match self {
            Model::Panic => "panic",
            Model::Regflip => "regflip",
            Model::Memflip => "memflip",
            Model::Wildptr => "wildptr",
            Model::Cfi => "cfi",
            Model::Hang => "hang",
            Model::Stackoverflow => "stackoverflow",
        }
    }
}

impl fmt::Display for Model {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Model {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Model::ALL
            .into_iter()
            .find(|model| model.name() == s)
            .ok_or(ParseError::UnknownModel)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_the_documented_ones_and_parse_back() {
        let names: Vec<String> = Model::ALL.iter().map(|m| m.to_string()).collect();
        assert_eq!(
            names,
            ["panic", "regflip", "memflip", "wildptr", "cfi", "hang", "stackoverflow"]
        );
        for model in Model::ALL {
            assert_eq!(model.name().parse::<Model>(), Ok(model));
        }
    }

    #[test]
    fn unknown_or_differently_spelled_names_are_refused() {
        for bad in ["", "Panic", "bitflip", "panic ", "stack-overflow"] {
            assert_eq!(bad.parse::<Model>(), Err(ParseError::UnknownModel), "{bad:?}");
        }
    }
}
