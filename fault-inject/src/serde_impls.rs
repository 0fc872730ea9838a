//! Serde support (feature `serde`): each type as its command-line spelling.
//!
//! Results files are read by people and by `jq`, so a target is `"fs"`, a
//! trigger `"ops.12"` and a location `"rip.17"`, exactly as on the guest's
//! command line; reading one back goes through the same parser, so a
//! hand-edited file cannot smuggle in a value the guest would refuse.

use core::fmt;
use core::marker::PhantomData;
use core::str::FromStr;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use crate::injection::Injection;
use crate::location::Location;
use crate::target::Target;
use crate::trigger::Trigger;

/// Reads a string and parses it with `T`'s `FromStr`.
struct ParsedStr<T>(PhantomData<T>);

impl<T> Visitor<'_> for ParsedStr<T>
where
    T: FromStr,
    T::Err: fmt::Display,
{
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string in the fault plan's command-line spelling")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<T, E> {
        text.parse().map_err(E::custom)
    }
}

macro_rules! as_spelling {
    ($($ty:ty),*) => {$(
        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }

        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                deserializer.deserialize_str(ParsedStr(PhantomData))
            }
        }
    )*};
}

as_spelling!(Target, Trigger, Location, Injection);
