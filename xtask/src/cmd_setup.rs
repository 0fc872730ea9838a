//! `cargo xtask setup`: install the pinned toolchain and QEMU with OVMF.
//!
//! Each half is also a step of the other commands: `build` needs only the
//! toolchain, `run` and `test` need both. Every check and install is
//! reported as one `setup:` line.

use crate::error::XtaskError;
use crate::paths::Paths;
use crate::toolchain::Toolchain;
use crate::{qemu_install, shell};

/// Makes sure the pinned toolchain is installed; returns it.
pub fn toolchain(paths: &Paths) -> Result<Toolchain, XtaskError> {
    let toolchain = Toolchain::read(&paths.toolchain_file())?;
    for line in toolchain.ensure_installed()? {
        shell::note(format!("setup: {line}"));
    }
    Ok(toolchain)
}

/// Makes sure QEMU and OVMF are installed.
pub fn qemu() -> Result<(), XtaskError> {
    for line in qemu_install::ensure_installed()? {
        shell::note(format!("setup: {line}"));
    }
    Ok(())
}

/// Runs `cargo xtask setup`.
pub fn run() -> Result<(), XtaskError> {
    let paths = Paths::discover();
    toolchain(&paths)?;
    qemu()?;
    shell::note("setup: done");
    Ok(())
}
