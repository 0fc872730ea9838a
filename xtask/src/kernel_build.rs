//! Building the kernel ELF with the pinned nightly.
//!
//! cargo runs from `kernel/` so that `kernel/.cargo/config.toml` (target,
//! `build-std`, rustflags) applies; cargo ignores a sub-folder's config
//! when run from the root with `--manifest-path`.

use std::path::PathBuf;

use crate::error::XtaskError;
use crate::paths::Paths;
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
