//! Before the first trial boots: the prerequisites and the disk image, as `test` and `bench` get them.
//!
//! The pinned toolchain and QEMU with OVMF are installed (or their absence
//! reported with the command to run) by `cmd_setup`, and the image built
//! by `cmd_build`, exactly as for `cargo xtask test`. Two overrides serve
//! pinned builds and tests of the runner itself: `--images DIR` boots an
//! existing image without building, and `LAZARUS_QEMU` names another QEMU
//! binary (as for the in-QEMU tests), which is then not installed.
//!
//! Trials boot a copy of the image in the campaign's folder, so a build
//! while the campaign runs (`cargo xtask test`, `run`, `bench`) cannot swap
//! the kernel under its later trials.

use std::path::{Path, PathBuf};

use lazarus_tests::config::ENV_QEMU;
use lazarus_tests::qemu::{Firmware, QEMU_BINARY};
use lazarus_tests::runner::Machine;

use crate::campaign::args::ImageOptions;
use crate::campaign::error::CampaignError;
use crate::cli::BuildArgs;
use crate::paths::Paths;
use crate::{cmd_build, cmd_setup, shell};

/// The firmware trials boot with: BIOS, which boots faster than UEFI.
pub const FIRMWARE: Firmware = Firmware::Bios;

/// Gets QEMU and the image ready; returns the machine trials boot on,
/// with its logs in `logs`.
pub fn machine(image: &ImageOptions, release: bool, logs: &Path) -> Result<Machine, CampaignError> {
    let paths = Paths::discover();
    // The same order as `cargo xtask test`: toolchain, QEMU, build.
    let qemu;
    let images_dir: PathBuf = match &image.images {
        Some(dir) => {
            qemu = qemu_binary()?;
            dir.clone()
        }
        None => {
            let toolchain = cmd_setup::toolchain(&paths)?;
            qemu = qemu_binary()?;
            cmd_build::build(&paths, &toolchain, BuildArgs { release })?.dir
        }
    };
    let built = images_dir.join(FIRMWARE.image_file_name());
    if !built.is_file() {
        return Err(CampaignError::Io {
            what: format!("{} does not exist", built.display()),
            source: std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "build the images with `cargo xtask build`, or pass the folder that holds them with --images",
            ),
        });
    }
    let copy = logs.parent().unwrap_or(logs).join(FIRMWARE.image_file_name());
    if let Some(dir) = copy.parent() {
        std::fs::create_dir_all(dir).map_err(|source| CampaignError::Io { what: format!("creating {}", dir.display()), source })?;
    }
    std::fs::copy(&built, &copy).map_err(|source| CampaignError::Io {
        what: format!("copying the image {} to {}", built.display(), copy.display()),
        source,
    })?;
    let machine = Machine { firmware: FIRMWARE, image: copy, qemu, log_dir: logs.to_owned() };
    shell::note(format!("campaign: trials boot {}", shell::relative(&machine.image, &paths.root).display()));
    Ok(machine)
}

/// `LAZARUS_QEMU` if set; otherwise QEMU from `PATH`, installed if missing.
fn qemu_binary() -> Result<String, CampaignError> {
    match std::env::var(ENV_QEMU).ok().filter(|q| !q.trim().is_empty()) {
        Some(qemu) => {
            shell::note(format!("campaign: QEMU is {qemu} (from {ENV_QEMU})"));
            Ok(qemu)
        }
        None => {
            cmd_setup::qemu()?;
            Ok(QEMU_BINARY.to_owned())
        }
    }
}
