//! `cargo xtask build`: the kernel ELF, the user programs and their ramdisk,
//! and the BIOS and UEFI disk images.
//!
//! Installs the pinned toolchain if needed, builds the kernel and the user
//! programs, packs the programs into `target/images/ramdisk.tar`, makes both
//! images (which carry the ramdisk) in `target/images` and prints their
//! paths on stdout, one per line.
//! `run` and `test` build through [`build`] too, so all three agree.

use lazarus_tests::qemu::Firmware;

use crate::cli::BuildArgs;
use crate::error::XtaskError;
use crate::images::{self, Images};
use crate::{kernel_build, ramdisk};
use crate::paths::Paths;
use crate::toolchain::Toolchain;

/// Builds the kernel, the user programs, their ramdisk and the images with
/// an installed toolchain.
pub fn build(paths: &Paths, toolchain: &Toolchain, args: BuildArgs) -> Result<Images, XtaskError> {
    let elf = kernel_build::build_kernel(paths, toolchain, args.profile())?;
    let programs = kernel_build::build_user_programs(paths, toolchain, args.profile())?;
    let ramdisk = paths.ramdisk();
    ramdisk::pack(&programs, &ramdisk)?;
    images::make_images(paths, toolchain, &elf, &ramdisk)
}

/// Runs `cargo xtask build`: toolchain set-up, kernel, images; prints the image paths.
pub fn run(args: BuildArgs) -> Result<(), XtaskError> {
    let paths = Paths::discover();
    let toolchain = crate::cmd_setup::toolchain(&paths)?;
    let images = build(&paths, &toolchain, args)?;
    // The paths on stdout, one per line, for scripts.
    for firmware in Firmware::ALL {
        println!("{}", images.image(firmware).display());
    }
    Ok(())
}
