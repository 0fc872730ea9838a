//! `cargo xtask run`: build, then boot the kernel in QEMU on this terminal.
//!
//! The serial console and the QEMU monitor share the terminal
//! (`-serial mon:stdio`); the QEMU command line comes from
//! `lazarus_tests::qemu`, the same builder the test harness uses. The exit
//! code follows the kernel's verdict (see [`exit_code`]). `--disk FILE`
//! attaches a raw image as a legacy virtio-blk disk that keeps its writes;
//! `--scratch-disk` the blank disk the in-QEMU tests get.

use std::process::ExitCode;

use lazarus_tests::config::KTEST_DIR_NAME;
use lazarus_tests::qemu::{Console, QemuCommand, QemuExit};

use crate::cli::{self, RunArgs};
use crate::error::XtaskError;
use crate::paths::Paths;
use crate::{cmd_build, cmd_setup, shell};

/// Exit code for a kernel-reported failure, or an unknown QEMU end.
const FAILURE_CODE: u8 = 1;

/// Runs `cargo xtask run`; the exit code follows the kernel's verdict.
pub fn run(args: RunArgs) -> Result<ExitCode, XtaskError> {
    let paths = Paths::discover();
    let toolchain = cmd_setup::toolchain(&paths)?;
    cmd_setup::qemu()?;
    let images = cmd_build::build(&paths, &toolchain, args.build)?;
    let firmware = cli::firmware(args.uefi);
    let image = images.image(firmware);
    let mut qemu = QemuCommand::new(firmware, &image)
        .console(Console::Interactive)
        .cmdline(args.cmdline);
    if let Some(disk) = &args.disk {
        qemu = qemu.disk(disk);
    } else if args.scratch_disk {
        qemu = qemu.scratch_disk(paths.target.join(KTEST_DIR_NAME));
    }

    shell::announce_text(&qemu.to_string());
    shell::note(format!(
        "Booting {} (Ctrl-A X quits)",
        shell::relative(&image, &paths.root).display()
    ));
    let mut process = qemu.spawn()?;
    let status = process.wait()?;
    let exit = QemuExit::from_status(status);
    shell::note(format!("QEMU ended: {}", describe(exit)));
    Ok(ExitCode::from(exit_code(exit)))
}

/// How an interactive QEMU's end reads to the person who started it.
fn describe(exit: QemuExit) -> String {
    match exit {
        // Status 0 is also what Ctrl-A X gives, so it is not blamed on the kernel.
        QemuExit::GuestReset => {
            "exit status 0 (quit from the monitor, or a guest reset/triple fault)".to_owned()
        }
        other => other.to_string(),
    }
}

/// The exit code of `cargo xtask run` for how QEMU ended: 0 for kernel
/// success and for status 0 (Ctrl-A X looks the same as a reset), 1 for a
/// kernel failure or a signal, QEMU's own status otherwise.
fn exit_code(exit: QemuExit) -> u8 {
    match exit {
        QemuExit::KernelSuccess | QemuExit::GuestReset => 0,
        QemuExit::KernelFailure | QemuExit::Signal(_) => FAILURE_CODE,
        QemuExit::Status(code) => u8::try_from(code)
            .ok()
            .filter(|c| *c != 0)
            .unwrap_or(FAILURE_CODE),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_map_sensibly() {
        assert_eq!(exit_code(QemuExit::from_code(33)), 0);
        assert_eq!(exit_code(QemuExit::from_code(0)), 0);
        assert_eq!(exit_code(QemuExit::from_code(35)), 1);
        assert_eq!(exit_code(QemuExit::from_code(1)), 1);
        assert_eq!(exit_code(QemuExit::from_code(7)), 7);
        assert_eq!(exit_code(QemuExit::from_code(-3)), 1);
        assert_eq!(exit_code(QemuExit::Signal(9)), 1);
    }
}
