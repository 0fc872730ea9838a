//! Making the BIOS and UEFI disk images from the kernel ELF.
//!
//! The work is done by the workspace's `disk-image` binary, built with the
//! pinned nightly because the `bootloader` crate's build script compiles the
//! boot stages with `-Zbuild-std`.

use std::path::{Path, PathBuf};

use lazarus_tests::qemu::Firmware;

use crate::error::XtaskError;
use crate::paths::Paths;
use crate::shell;
use crate::toolchain::Toolchain;

/// The workspace package that writes the images.
const DISK_IMAGE_PACKAGE: &str = "disk-image";

/// The two disk images of one kernel build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Images {
    /// The folder holding both.
    pub dir: PathBuf,
}

impl Images {
    /// The image `firmware` boots.
    pub fn image(&self, firmware: Firmware) -> PathBuf {
        self.dir.join(firmware.image_file_name())
    }
}

/// Writes `bios.img` and `uefi.img` for `kernel_elf`, with the boot ramdisk
/// `ramdisk`, into `target/images`.
pub fn make_images(
    paths: &Paths,
    toolchain: &Toolchain,
    kernel_elf: &Path,
    ramdisk: &Path,
) -> Result<Images, XtaskError> {
    let images = Images {
        dir: paths.images_dir(),
    };
    let mut cargo = toolchain.cargo();
    cargo
        .current_dir(&paths.root)
        .args(["run", "--quiet", "--package", DISK_IMAGE_PACKAGE, "--"])
        .arg(kernel_elf)
        .arg(&images.dir)
        .arg(ramdisk);
    if !paths
        .target
        .join("debug")
        .join(DISK_IMAGE_PACKAGE)
        .is_file()
    {
        shell::note(
            "building the disk-image tool; the first build compiles the bootloader's \
             stages and takes 2-3 minutes",
        );
    }
    // The tool prints the two paths; the caller reports them.
    shell::stdout_of(&mut cargo)?;
    for firmware in Firmware::ALL {
        let image = images.image(firmware);
        if !image.is_file() {
            return Err(XtaskError::MissingOutput {
                what: "a disk image",
                path: image,
            });
        }
    }
    Ok(images)
}
