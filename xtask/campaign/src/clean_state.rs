//! Where a trial starts from: a fresh boot, or a snapshot restored after one.
//!
//! Both give the guest the same clean state: a kernel that has just booted
//! and not yet started the trusted address space. `boot` gets there by
//! booting QEMU for every trial; `snapshot` boots once, saves the machine
//! at that point, and starts every trial by restoring the saved state into
//! a new QEMU, which skips firmware, bootloader and kernel start-up (about
//! 2 s of a 4-5 s trial under TCG). What happens from the trusted address
//! space's start on is the same code either way, so the two give the same
//! outcomes; a record says which one it came from (`clean_state` in
//! `trials.jsonl`) because its timings differ. The names are part of the
//! results-file format and of the `--clean-state` option.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// How a trial's QEMU reaches the clean state the trial starts from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CleanState {
    /// QEMU boots the disk image: firmware, bootloader, kernel start-up.
    Boot,
    /// QEMU restores the machine saved once after such a boot.
    Snapshot,
}

/// A name that is neither `boot` nor `snapshot`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown clean state `{0}`: expected `boot` or `snapshot`")]
pub struct UnknownCleanState(pub String);

impl CleanState {
    /// Both, in the order `--help` lists them.
    pub const ALL: [CleanState; 2] = [CleanState::Boot, CleanState::Snapshot];

    /// The name on the command line and in `trials.jsonl`.
    pub const fn name(self) -> &'static str {
        match self {
            CleanState::Boot => "boot",
            CleanState::Snapshot => "snapshot",
        }
    }
}

impl fmt::Display for CleanState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for CleanState {
    type Err = UnknownCleanState;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CleanState::ALL.into_iter().find(|c| c.name() == s).ok_or_else(|| UnknownCleanState(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_on_the_command_line_and_in_json() {
        for state in CleanState::ALL {
            assert_eq!(state.name().parse::<CleanState>(), Ok(state));
            let json = serde_json::to_string(&state).unwrap();
            assert_eq!(json, format!("\"{state}\""));
            assert_eq!(serde_json::from_str::<CleanState>(&json).unwrap(), state);
        }
        assert_eq!(
            "Snapshot".parse::<CleanState>().unwrap_err().to_string(),
            "unknown clean state `Snapshot`: expected `boot` or `snapshot`"
        );
    }
}
