//! The boot options the TAS reads: the recovery configuration and, in a
//! campaign trial, the fault to inject.

use fault_inject::{CmdlineFragment, Config};
use lazarus_rt::{println, sys};

/// Bytes of boot options read: the kernel's command line is shorter.
const OPTIONS_BYTES: usize = 1024;

/// What the TAS runs with.
pub struct Options {
    /// The recovery configuration (`recovery=`; `unwind` by default).
    pub config: Config,
    /// The campaign trial, if this boot is one.
    pub trial: Option<CmdlineFragment>,
    /// Run the runtime's recovery self-test instead of the servers
    /// (`tas-selftest`, or the kernel's `test=tas` group).
    pub selftest: bool,
}

/// Reads the boot options; a malformed trial is reported and ignored.
pub fn read() -> Options {
    let mut buf = [0u8; OPTIONS_BYTES];
    let n = sys::boot_options(&mut buf).unwrap_or(0);
    let text = core::str::from_utf8(&buf[..n]).unwrap_or("");
    let selftest = text.split_ascii_whitespace().any(|w| w == "tas-selftest" || w == "test=tas");
    let trial = match CmdlineFragment::from_cmdline(text) {
        Ok(t) => t,
        Err(e) => {
            println!("tas: ignoring the trial on the command line: {e}");
            None
        }
    };
    let config = trial.map(|t| t.config).or_else(|| {
        let value = text.split_ascii_whitespace().filter_map(|w| w.strip_prefix("recovery=")).last()?;
        match value.parse() {
            Ok(c) => Some(c),
            Err(e) => {
                println!("tas: recovery={value}: {e}; using unwind");
                None
            }
        }
    });
    Options { config: config.unwrap_or(Config::Unwind), trial, selftest }
}
