//! Settings of an in-QEMU test run, read from the environment `cargo xtask test` sets.
//!
//! `LAZARUS_IMAGES` (folder with `bios.img` and `uefi.img`; unset means "no
//! images: skip the QEMU trials"), `LAZARUS_FIRMWARE` (`bios` or `uefi`,
//! default `bios`) and `LAZARUS_TEST_TIMEOUT` (seconds per boot, default
//! [`DEFAULT_BOOT_TIMEOUT`]); `LAZARUS_QEMU` names another QEMU binary. Parsing is separate from reading so it can be
//! unit-tested.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::qemu::{Firmware, UnknownFirmware, QEMU_BINARY};
use crate::runner::Machine;

/// Environment variable: the folder holding `bios.img` and `uefi.img`.
pub const ENV_IMAGES: &str = "LAZARUS_IMAGES";

/// Environment variable: `bios` or `uefi`.
pub const ENV_FIRMWARE: &str = "LAZARUS_FIRMWARE";

/// Environment variable: per-boot timeout in whole seconds.
pub const ENV_TIMEOUT: &str = "LAZARUS_TEST_TIMEOUT";

/// Environment variable: another QEMU binary (a path or a name on `PATH`),
/// e.g. a self-built QEMU, or a stand-in when testing the harness itself.
pub const ENV_QEMU: &str = "LAZARUS_QEMU";

/// Default per-boot timeout: a TCG boot takes 3–5 s and most groups a few
/// more, but `recovery` runs 1,000 paced server restarts (about 50 s
/// alone) and two QEMUs share two cores with the compiler at times; four
/// minutes only ever expires on a real hang.
pub const DEFAULT_BOOT_TIMEOUT: Duration = Duration::from_secs(240);

/// Folder under the target directory for serial logs and timings.
pub const KTEST_DIR_NAME: &str = "ktest";

/// A setting in the environment that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// `LAZARUS_FIRMWARE` is not `bios` or `uefi`.
    #[error("{ENV_FIRMWARE}: {0}")]
    Firmware(#[from] UnknownFirmware),
    /// `LAZARUS_TEST_TIMEOUT` is not a positive whole number of seconds.
    #[error("{ENV_TIMEOUT}=`{0}` is not a positive whole number of seconds")]
    Timeout(String),
    /// `LAZARUS_IMAGES` is set but empty.
    #[error("{ENV_IMAGES} is set but empty")]
    EmptyImages,
}

/// What an in-QEMU test run needs to know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Folder with the disk images.
    pub images: PathBuf,
    /// Which firmware (and so which image) to boot.
    pub firmware: Firmware,
    /// Per-boot timeout.
    pub timeout: Duration,
    /// The QEMU binary.
    pub qemu: String,
    /// Where serial logs and `timings.txt` go.
    pub log_dir: PathBuf,
}

impl Settings {
    /// The disk image to boot.
    pub fn image(&self) -> PathBuf {
        self.images.join(self.firmware.image_file_name())
    }

    /// The machine every boot of this run uses.
    pub fn machine(&self) -> Machine {
        Machine {
            firmware: self.firmware,
            image: self.image(),
            qemu: self.qemu.clone(),
            log_dir: self.log_dir.clone(),
        }
    }

    /// Reads the settings from the process environment; `Ok(None)` when
    /// `LAZARUS_IMAGES` is unset (plain `cargo test`).
    pub fn from_env() -> Result<Option<Settings>, ConfigError> {
        let var = |name: &str| std::env::var(name).ok();
        let mut settings = Settings::parse(
            var(ENV_IMAGES).as_deref(),
            var(ENV_FIRMWARE).as_deref(),
            var(ENV_TIMEOUT).as_deref(),
            ktest_dir(),
        )?;
        if let (Some(settings), Some(qemu)) = (settings.as_mut(), var(ENV_QEMU)) {
            if !qemu.trim().is_empty() {
                settings.qemu = qemu;
            }
        }
        Ok(settings)
    }

    /// Builds settings from the raw variable values.
    pub fn parse(
        images: Option<&str>,
        firmware: Option<&str>,
        timeout: Option<&str>,
        log_dir: PathBuf,
    ) -> Result<Option<Settings>, ConfigError> {
        let Some(images) = images else {
            return Ok(None);
        };
        if images.trim().is_empty() {
            return Err(ConfigError::EmptyImages);
        }
        Ok(Some(Settings {
            images: PathBuf::from(images),
            firmware: parse_firmware(firmware)?,
            timeout: parse_timeout(timeout)?,
            qemu: QEMU_BINARY.to_owned(),
            log_dir,
        }))
    }
}

/// `LAZARUS_FIRMWARE`: unset or empty means BIOS.
pub fn parse_firmware(value: Option<&str>) -> Result<Firmware, ConfigError> {
    match value.map(str::trim) {
        None | Some("") => Ok(Firmware::Bios),
        Some(name) => Ok(name.parse()?),
    }
}

/// `LAZARUS_TEST_TIMEOUT`: unset or empty means [`DEFAULT_BOOT_TIMEOUT`].
pub fn parse_timeout(value: Option<&str>) -> Result<Duration, ConfigError> {
    match value.map(str::trim) {
        None | Some("") => Ok(DEFAULT_BOOT_TIMEOUT),
        Some(text) => match text.parse::<u64>() {
            Ok(seconds) if seconds > 0 => Ok(Duration::from_secs(seconds)),
            _ => Err(ConfigError::Timeout(text.to_owned())),
        },
    }
}

/// The workspace's target directory: `CARGO_TARGET_DIR` if set (relative to
/// the workspace root), else `<workspace>/target`.
pub fn target_dir() -> PathBuf {
    let workspace = workspace_root();
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => workspace.join(dir),
        _ => workspace.join("target"),
    }
}

/// `<target>/ktest`: serial logs and timings.
pub fn ktest_dir() -> PathBuf {
    target_dir().join(KTEST_DIR_NAME)
}

/// The workspace root: the parent of this crate's folder.
pub fn workspace_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unset_images_means_no_run() {
        assert_eq!(
            Settings::parse(None, Some("uefi"), None, "l".into()),
            Ok(None)
        );
    }

    #[test]
    fn defaults_and_overrides() {
        let s = Settings::parse(Some("/imgs"), None, None, "l".into())
            .unwrap()
            .unwrap();
        assert_eq!(s.firmware, Firmware::Bios);
        assert_eq!(s.timeout, DEFAULT_BOOT_TIMEOUT);
        assert_eq!(s.image(), PathBuf::from("/imgs/bios.img"));
        let s = Settings::parse(Some("/imgs"), Some("uefi"), Some(" 15 "), "l".into())
            .unwrap()
            .unwrap();
        assert_eq!(s.firmware, Firmware::Uefi);
        assert_eq!(s.timeout, Duration::from_secs(15));
        assert_eq!(s.image(), PathBuf::from("/imgs/uefi.img"));
    }

    #[test]
    fn bad_values_are_errors() {
        assert!(matches!(
            parse_firmware(Some("arm")),
            Err(ConfigError::Firmware(_))
        ));
        assert_eq!(
            parse_timeout(Some("0")),
            Err(ConfigError::Timeout("0".into()))
        );
        assert_eq!(
            parse_timeout(Some("2m")),
            Err(ConfigError::Timeout("2m".into()))
        );
        assert_eq!(
            Settings::parse(Some(" "), None, None, "l".into()),
            Err(ConfigError::EmptyImages)
        );
    }

    #[test]
    fn ktest_dir_is_under_the_workspace_target() {
        assert!(workspace_root().join("Cargo.toml").is_file());
        assert!(ktest_dir().ends_with("ktest"));
    }
}
