//! `cargo xtask`: the one entry point for building, booting and testing Lazarus.
//!
//! `setup` installs what the build needs (the kernel's pinned nightly with its
//! components and target, QEMU and OVMF); `build` makes the kernel and its
//! BIOS and UEFI disk images; `run` boots one in QEMU on this terminal; `test`
//! runs every test, on the host and in QEMU (CI runs `cargo xtask test` too);
//! `bench` measures; `campaign` runs fault-injection campaigns in QEMU.
//!
//! Design principles:
//! - Self-sufficient: on a fresh machine the commands install what they need
//!   (or say exactly which command would), so CI and a developer run the same.
//! - Visible: every external command is printed before it runs, and a failure
//!   names the command and its status.
//! - One source of truth: the toolchain comes from `kernel/rust-toolchain.toml`,
//!   the QEMU command line from the `lazarus-tests` crate.

mod bench_report;
mod campaign;
mod cli;
mod cmd_bench;
mod cmd_build;
mod cmd_run;
mod cmd_setup;
mod cmd_test;
mod error;
mod images;
mod kernel_build;
mod paths;
mod qemu_install;
mod ramdisk;
mod shell;
mod test_summary;
mod toolchain;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match cli.command.run() {
        Ok(code) => code,
        Err(error) => {
            shell::error(&error);
            ExitCode::FAILURE
        }
    }
}
