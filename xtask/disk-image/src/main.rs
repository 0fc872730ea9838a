//! Makes BIOS and UEFI boot disk images from the kernel ELF.
//!
//! Usage: `disk-image KERNEL_ELF OUT_DIR [RAMDISK]`; writes `OUT_DIR/bios.img`
//! and `OUT_DIR/uefi.img`, which load RAMDISK (the user programs) too. This is its own binary, not part of `xtask`, because the
//! `bootloader` crate's build script compiles the boot stages with
//! `-Zbuild-std` and so needs the kernel's pinned nightly, while `xtask` itself
//! builds on the machine's stable toolchain. `cargo xtask` runs it.

use std::path::PathBuf;
use std::process::ExitCode;

use bootloader::{BiosBoot, BootConfig, UefiBoot};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (kernel, out_dir, ramdisk) = match args.as_slice() {
        [k, o] => (k, o, None),
        [k, o, r] => (k, o, Some(PathBuf::from(r))),
        _ => {
            eprintln!("usage: disk-image KERNEL_ELF OUT_DIR [RAMDISK]");
            return ExitCode::from(2);
        }
    };
    if let Some(r) = ramdisk.as_ref().filter(|r| !r.is_file()) {
        eprintln!("disk-image: ramdisk {} does not exist", r.display());
        return ExitCode::from(2);
    }
    let kernel = PathBuf::from(kernel);
    let out_dir = PathBuf::from(out_dir);
    if !kernel.is_file() {
        eprintln!("disk-image: kernel ELF {} does not exist", kernel.display());
        return ExitCode::from(2);
    }
    if let Err(e) = std::fs::create_dir_all(&out_dir) {
        eprintln!("disk-image: cannot create {}: {e}", out_dir.display());
        return ExitCode::FAILURE;
    }

    // The serial console belongs to the kernel: the bootloader stays quiet.
    let mut config = BootConfig::default();
    config.serial_logging = false;
    config.frame_buffer_logging = false;

    let bios = out_dir.join("bios.img");
    let uefi = out_dir.join("uefi.img");
    let mut bios_boot = BiosBoot::new(&kernel);
    let mut uefi_boot = UefiBoot::new(&kernel);
    bios_boot.set_boot_config(&config);
    uefi_boot.set_boot_config(&config);
    if let Some(r) = &ramdisk {
        bios_boot.set_ramdisk(r);
        uefi_boot.set_ramdisk(r);
    }
    let made = bios_boot.create_disk_image(&bios).and_then(|()| uefi_boot.create_disk_image(&uefi));
    match made {
        Ok(()) => {
            println!("{}\n{}", bios.display(), uefi.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("disk-image: {e:#}");
            ExitCode::FAILURE
        }
    }
}
