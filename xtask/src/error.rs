//! What can go wrong in `cargo xtask`, each error saying which step and why.
//!
//! One enum for the whole tool: `main` prints it as `error: ...` and exits 1.
//! Failures of external commands carry the command line as it was printed.

use std::io;
use std::path::PathBuf;
use std::process::ExitStatus;

use lazarus_tests::qemu::QemuError;

/// A failed step of `cargo xtask`.
#[derive(Debug, thiserror::Error)]
pub enum XtaskError {
    /// An external command ran and failed.
    #[error("`{command}` failed with {status}")]
    CommandFailed {
        /// The command line, as printed before it ran.
        command: String,
        /// Its exit status.
        status: ExitStatus,
    },
    /// An external command could not be started.
    #[error("could not run `{command}`: {source}")]
    CommandNotStarted {
        /// The command line.
        command: String,
        /// What the operating system said.
        source: io::Error,
    },
    /// The toolchain file could not be read.
    #[error("cannot read {path}: {source}")]
    ToolchainRead {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        source: io::Error,
    },
    /// The toolchain file is not valid TOML of the expected shape.
    #[error("cannot parse {path}: {source}")]
    ToolchainParse {
        /// The file.
        path: PathBuf,
        /// What the parser said.
        source: toml::de::Error,
    },
    /// The toolchain file parses but names no usable channel.
    #[error("{path}: `channel` must be a toolchain name without spaces, got `{channel}`")]
    ToolchainChannel {
        /// The file.
        path: PathBuf,
        /// The channel found.
        channel: String,
    },
    /// Something is still missing after installing it.
    #[error("{what} is still missing after `{command}`")]
    StillMissing {
        /// What is missing.
        what: String,
        /// The command that should have installed it.
        command: String,
    },
    /// QEMU or OVMF is missing and this process may not install them.
    #[error(
        "{missing} not installed, and installing needs root; run `{command}` \
         (or rerun `cargo xtask setup` as root)"
    )]
    NeedRootToInstall {
        /// What is missing.
        missing: String,
        /// The exact command to run.
        command: String,
    },
    /// A build step claimed success but its output is not there.
    #[error("{what} was not produced at {path}")]
    MissingOutput {
        /// What should exist.
        what: &'static str,
        /// Where it should be.
        path: PathBuf,
    },
    /// QEMU could not be started or waited for.
    #[error(transparent)]
    Qemu(#[from] QemuError),
    /// A captured boot could not be run or recorded.
    #[error(transparent)]
    Boot(#[from] lazarus_tests::runner::BootError),
    /// Reading or writing the console of a child failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// What the operating system said.
        source: io::Error,
    },
}
