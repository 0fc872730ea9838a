//! Building the kernel ELF and the user programs with the pinned nightly.
//!
//! cargo runs from `kernel/` (and `user/`) so that the folder's
//! `.cargo/config.toml` (target, `build-std`, rustflags) applies; cargo
//! ignores a sub-folder's config when run from the root with
//! `--manifest-path`.

use std::path::PathBuf;

use crate::error::XtaskError;
use crate::paths::{Paths, SERVER_IMAGES, USER_PROGRAMS};
use crate::shell;
use crate::toolchain::Toolchain;

/// Which cargo profile builds the kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    /// `dev`: fast to build, with debug assertions.
    Debug,
    /// `release`: optimised.
    Release,
}

impl Profile {
    /// The folder cargo puts this profile's output in.
    pub fn dir(self) -> &'static str {
        match self {
            Profile::Debug => "debug",
            Profile::Release => "release",
        }
    }
}

/// Builds the kernel and returns the path of its ELF.
pub fn build_kernel(
    paths: &Paths,
    toolchain: &Toolchain,
    profile: Profile,
) -> Result<PathBuf, XtaskError> {
    let mut cargo = toolchain.cargo();
    cargo.current_dir(paths.kernel_dir()).arg("build");
    if profile == Profile::Release {
        cargo.arg("--release");
    }
    shell::run(&mut cargo)?;
    let elf = paths.kernel_elf(profile.dir());
    if !elf.is_file() {
        return Err(XtaskError::MissingOutput {
            what: "the kernel ELF",
            path: elf,
        });
    }
    Ok(elf)
}

/// Builds every program of the ramdisk — the user programs of
/// [`USER_PROGRAMS`] (in `user/`) and the trusted address space images of
/// [`SERVER_IMAGES`] (in `servers/`) — and returns their ELFs with their names.
pub fn build_user_programs(
    paths: &Paths,
    toolchain: &Toolchain,
    profile: Profile,
) -> Result<Vec<(String, PathBuf)>, XtaskError> {
    for (dir, packages) in [(paths.user_dir(), USER_PROGRAMS), (paths.servers_dir(), SERVER_IMAGES)] {
        let mut cargo = toolchain.cargo();
        cargo.current_dir(dir).arg("build");
        for package in packages {
            cargo.args(["--package", package]);
        }
        if profile == Profile::Release {
            cargo.arg("--release");
        }
        shell::run(&mut cargo)?;
    }
    USER_PROGRAMS
        .iter()
        .chain(SERVER_IMAGES)
        .map(|name| {
            let elf = paths.user_elf(profile.dir(), name);
            if elf.is_file() {
                Ok((name.to_string(), elf))
            } else {
                Err(XtaskError::MissingOutput { what: "a user program", path: elf })
            }
        })
        .collect()
}
