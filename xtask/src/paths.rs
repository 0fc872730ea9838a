//! Where things are: the repository root and the folders and files inside it.
//!
//! The root is found from this crate's manifest folder (its parent), never
//! from the current directory, so `cargo xtask` works from any sub-folder.

use std::path::{Path, PathBuf};

/// The kernel's target triple; `kernel/.cargo/config.toml` selects it.
pub const KERNEL_TARGET: &str = "x86_64-unknown-none";

/// The kernel's binary name (its `[[bin]]` in `kernel/Cargo.toml`).
pub const KERNEL_BINARY: &str = "kernel";

/// The user programs packed into the boot ramdisk: their packages (under
/// `user/`), whose binaries have the same names.
pub const USER_PROGRAMS: &[&str] = &["hello", "bench", "echo", "ping", "slowping", "shell", "workload", "recoverytest", "blkprobe", "peer", "memprobe", "threadprobe"];

/// The trusted address space images packed into the boot ramdisk: their
/// packages (under `servers/`, built with panic=unwind), binaries of the
/// same names.
pub const SERVER_IMAGES: &[&str] = &["tas"];

/// File name of the boot ramdisk in the images folder.
pub const RAMDISK_FILE_NAME: &str = "ramdisk.tar";

/// Folder under the target directory for the disk images.
pub const IMAGES_DIR_NAME: &str = "images";

/// The repository's layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paths {
    /// The repository (and workspace) root.
    pub root: PathBuf,
    /// Cargo's target directory.
    pub target: PathBuf,
}

impl Paths {
    /// The layout of the repository this xtask was built from.
    pub fn discover() -> Self {
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
        let root = manifest.parent().unwrap_or(manifest).to_path_buf();
        let target = match std::env::var_os("CARGO_TARGET_DIR") {
            Some(dir) if !dir.is_empty() => root.join(dir),
            _ => root.join("target"),
        };
        Paths { root, target }
    }

    /// `kernel/`: the kernel crate, whose cargo config must apply to its build.
    pub fn kernel_dir(&self) -> PathBuf {
        self.root.join("kernel")
    }

    /// `user/`: the user programs, whose cargo config must apply to their build.
    pub fn user_dir(&self) -> PathBuf {
        self.root.join("user")
    }

    /// `servers/`: the trusted address space, whose cargo config must apply.
    pub fn servers_dir(&self) -> PathBuf {
        self.root.join("servers")
    }

    /// The ELF of user program `name` from a build with `profile_dir`.
    pub fn user_elf(&self, profile_dir: &str, name: &str) -> PathBuf {
        self.target.join(KERNEL_TARGET).join(profile_dir).join(name)
    }

    /// `target/images/ramdisk.tar`: the user programs, packed.
    pub fn ramdisk(&self) -> PathBuf {
        self.images_dir().join(RAMDISK_FILE_NAME)
    }

    /// `kernel/rust-toolchain.toml`: the pinned toolchain.
    pub fn toolchain_file(&self) -> PathBuf {
        self.kernel_dir().join("rust-toolchain.toml")
    }

    /// The kernel ELF a build with `profile_dir` (`debug`/`release`) makes.
    pub fn kernel_elf(&self, profile_dir: &str) -> PathBuf {
        self.target
            .join(KERNEL_TARGET)
            .join(profile_dir)
            .join(KERNEL_BINARY)
    }

    /// `target/images`: `bios.img` and `uefi.img`.
    pub fn images_dir(&self) -> PathBuf {
        self.target.join(IMAGES_DIR_NAME)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_root_holds_the_workspace() {
        let paths = Paths::discover();
        assert!(paths.root.join("Cargo.toml").is_file());
        assert!(paths.toolchain_file().is_file());
        assert!(paths
            .kernel_elf("debug")
            .ends_with("x86_64-unknown-none/debug/kernel"));
        assert!(paths.images_dir().ends_with("images"));
    }
}
