//! A trial on the kernel command line: `trial=ID recovery=CONFIG inject=MODEL:TARGET:TRIGGER:LOCATION`.
//!
//! The host appends this fragment to the boot options (space-separated
//! `key=value` words, passed through QEMU's fw_cfg); the guest finds the
//! three keys among the others. As in the kernel's own option parser, the
//! last occurrence of a key wins and unknown keys are ignored.
//!
//! `recovery=` alone selects the recovery configuration of an ordinary
//! boot; a boot is a campaign trial when it has `inject=`, and then it must
//! also have `trial=` and `recovery=`.

use core::fmt;

use crate::config::Config;
use crate::error::ParseError;
use crate::injection::Injection;
use crate::trial_id::TrialId;

/// The key that carries the trial id.
pub const TRIAL_KEY: &str = "trial";

/// The key that carries the recovery configuration.
pub const RECOVERY_KEY: &str = "recovery";

/// The key that carries the injection.
pub const INJECT_KEY: &str = "inject";

/// What a trial boot needs to know: which trial, under which configuration,
/// with which fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CmdlineFragment {
    /// The trial's number (echoed back in the guest's `armed` line).
    pub id: TrialId,
    /// The recovery configuration to boot with.
    pub config: Config,
    /// The fault to arm.
    pub injection: Injection,
}

impl CmdlineFragment {
    /// Finds the trial in a whole command line. `Ok(None)` when the line has
    /// no `inject=` and no `trial=`: an ordinary boot.
    pub fn from_cmdline(cmdline: &str) -> Result<Option<Self>, ParseError> {
        let value = |key: &str| {
            cmdline
                .split_ascii_whitespace()
                .filter_map(|word| word.split_once('='))
                .rfind(|(k, _)| *k == key)
                .map(|(_, v)| v)
        };
        let (trial, recovery, inject) = (value(TRIAL_KEY), value(RECOVERY_KEY), value(INJECT_KEY));
        let inject = match (inject, trial) {
            (None, None) => return Ok(None),
            (None, Some(_)) => return Err(ParseError::MissingKey { present: TRIAL_KEY, missing: INJECT_KEY }),
            (Some(inject), _) => inject,
        };
        let trial = trial.ok_or(ParseError::MissingKey { present: INJECT_KEY, missing: TRIAL_KEY })?;
        let recovery = recovery.ok_or(ParseError::MissingKey { present: INJECT_KEY, missing: RECOVERY_KEY })?;
        Ok(Some(CmdlineFragment {
            id: trial.parse()?,
            config: recovery.parse()?,
            injection: inject.parse()?,
        }))
    }
}

impl fmt::Display for CmdlineFragment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{TRIAL_KEY}={} {RECOVERY_KEY}={} {INJECT_KEY}={}",
            self.id, self.config, self.injection
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{plan, Model, Seed, Target};
    use proptest::prelude::*;

    fn targets() -> Vec<Target> {
        ["console", "name", "fs", "blk", "crashtest"].iter().map(|n| Target::try_new(n).unwrap()).collect()
    }

    #[test]
    fn prints_the_documented_fragment() {
        let fragment = CmdlineFragment {
            id: TrialId(12),
            config: Config::NoRecovery,
            injection: "memflip:blk:ticks.9:store.77.1".parse().unwrap(),
        };
        assert_eq!(fragment.to_string(), "trial=12 recovery=none inject=memflip:blk:ticks.9:store.77.1");
    }

    #[test]
    fn is_found_among_other_options_and_the_last_occurrence_wins() {
        let line = "log=debug trial=3 inject=panic:fs:ops.1:site.1 recovery=restart quiet inject=hang:name:ops.5:site.9";
        let fragment = CmdlineFragment::from_cmdline(line).unwrap().unwrap();
        assert_eq!(fragment.id, TrialId(3));
        assert_eq!(fragment.config, Config::Restart);
        assert_eq!(fragment.injection.to_string(), "hang:name:ops.5:site.9");
    }

    #[test]
    fn an_ordinary_boot_has_no_fragment() {
        assert_eq!(CmdlineFragment::from_cmdline(""), Ok(None));
        assert_eq!(CmdlineFragment::from_cmdline("test=memory recovery=unwind"), Ok(None));
    }

    #[test]
    fn a_partial_fragment_names_the_missing_key() {
        assert_eq!(
            CmdlineFragment::from_cmdline("trial=1 recovery=unwind"),
            Err(ParseError::MissingKey { present: "trial", missing: "inject" })
        );
        assert_eq!(
            CmdlineFragment::from_cmdline("inject=panic:fs:ops.1:site.1 recovery=unwind"),
            Err(ParseError::MissingKey { present: "inject", missing: "trial" })
        );
        assert_eq!(
            CmdlineFragment::from_cmdline("trial=1 inject=panic:fs:ops.1:site.1"),
            Err(ParseError::MissingKey { present: "inject", missing: "recovery" })
        );
        assert_eq!(
            CmdlineFragment::from_cmdline("trial=x recovery=unwind inject=panic:fs:ops.1:site.1"),
            Err(ParseError::BadNumber { what: "trial id" })
        );
    }

    proptest! {
        #[test]
        fn every_planned_trial_round_trips_through_the_command_line(seed: u64, id: u32, config in 0..3usize) {
            let spec = plan(Seed(seed), TrialId(id), &Model::ALL, &targets()).unwrap();
            let fragment = CmdlineFragment { id: TrialId(id), config: Config::ALL[config], injection: spec.injection };
            let text = fragment.to_string();
            prop_assert!(text.is_ascii() && !text.contains("  "));
            prop_assert_eq!(CmdlineFragment::from_cmdline(&text), Ok(Some(fragment)));
            let injection_text = spec.injection.to_string();
            prop_assert_eq!(injection_text.parse::<Injection>(), Ok(spec.injection));
        }
    }
}
