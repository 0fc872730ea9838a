//! The command line of `cargo xtask`: subcommands, flags and their `--help` text.
//!
//! Every doc comment here is user-facing: clap turns it into `--help`.

use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use lazarus_tests::qemu::{BootCmdline, Firmware};

use crate::campaign::{CampaignArgs, CampaignError};
use crate::error::XtaskError;
use crate::kernel_build::Profile;
use crate::{cmd_bench, cmd_build, cmd_run, cmd_setup, cmd_test};

/// Build, boot and test the Lazarus kernel.
///
/// On a fresh machine the commands install what they need: the kernel's
/// pinned nightly toolchain (from kernel/rust-toolchain.toml) through rustup,
/// and QEMU with OVMF through apt-get when running as root.
#[derive(Debug, Parser)]
#[command(name = "xtask", bin_name = "cargo xtask", version)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Install the pinned nightly toolchain (with its components and
    /// targets) and QEMU with OVMF, if missing; print what was done.
    Setup,
    /// Build the kernel and its BIOS and UEFI disk images (in
    /// target/images); print the image paths.
    Build(BuildArgs),
    /// Build, then boot the kernel in QEMU with the serial console and the
    /// QEMU monitor on this terminal (Ctrl-A X quits, Ctrl-A C toggles the
    /// monitor). Exits 0 when the kernel reports success or QEMU is quit.
    Run(RunArgs),
    /// Build, then run every test: host unit tests (`cargo test` on the
    /// default members) and each in-QEMU test case, one QEMU boot per test
    /// group. Ends with the line `N passed, N failed, N ignored`.
    Test(TestArgs),
    /// Build (release by default), then boot once with `bench=all` under
    /// QEMU's `-icount shift=0` and print the benchmarks' figures in guest
    /// instructions (median, 90th percentile, minimum); also written to
    /// target/bench/results.txt.
    Bench(BenchArgs),
    /// Run fault-injection campaigns in QEMU (`run`, the default), and
    /// `compare`, `replay`, `report` or `merge` their results; results go
    /// to target/campaigns/NAME (see docs/campaigns.md).
    // Boxed: its many options would make every `Command` as large.
    Campaign(Box<CampaignArgs>),
}

/// Why a subcommand failed: a build or boot step, or a campaign.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// A step shared by the commands: set-up, build, QEMU.
    #[error(transparent)]
    Xtask(#[from] XtaskError),
    /// A campaign command.
    #[error(transparent)]
    Campaign(#[from] CampaignError),
}

/// Options of `cargo xtask bench`.
#[derive(Debug, Clone, Copy, Args)]
pub struct BenchArgs {
    /// Measure the debug build instead of the release build.
    #[arg(long)]
    pub debug: bool,
    /// Seconds before the benchmark boot is killed as hung.
    #[arg(long, default_value_t = 600, value_name = "SECONDS")]
    pub timeout: u64,
}

impl BenchArgs {
    /// The build these options select.
    pub fn build(self) -> BuildArgs {
        BuildArgs { release: !self.debug }
    }
}

/// Options shared by everything that builds the kernel.
#[derive(Debug, Clone, Copy, Args)]
pub struct BuildArgs {
    /// Build the kernel with the release profile instead of debug.
    #[arg(long)]
    pub release: bool,
}

impl BuildArgs {
    /// The cargo profile these options select.
    pub fn profile(self) -> Profile {
        if self.release {
            Profile::Release
        } else {
            Profile::Debug
        }
    }
}

/// Options of `cargo xtask run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Build options.
    #[command(flatten)]
    pub build: BuildArgs,
    /// Boot the UEFI image with OVMF instead of the BIOS image.
    #[arg(long)]
    pub uefi: bool,
    /// Kernel boot options: space-separated key=value words, e.g.
    /// "test=memory" (passed to the kernel through QEMU's fw_cfg).
    #[arg(long, value_name = "KEY=VALUE ...", value_parser = parse_cmdline, default_value = "")]
    pub cmdline: BootCmdline,
    /// Attach FILE (a raw image) as a legacy virtio-blk disk that keeps
    /// what the guest writes; e.g. `truncate -s 1M disk.img` makes one.
    #[arg(long, value_name = "FILE")]
    pub disk: Option<std::path::PathBuf>,
    /// Attach a blank 1 MiB scratch disk (writes are dropped at exit), as
    /// the in-QEMU tests do.
    #[arg(long, conflicts_with = "disk")]
    pub scratch_disk: bool,
}

/// Options of `cargo xtask test`.
#[derive(Debug, Args)]
pub struct TestArgs {
    /// Build options.
    #[command(flatten)]
    pub build: BuildArgs,
    /// Boot the in-QEMU tests from the UEFI image with OVMF instead of BIOS.
    #[arg(long)]
    pub uefi: bool,
    /// Extra arguments for every test binary, after `--`: a name filter
    /// (e.g. `memory::`), `--test-threads N`, `--nocapture`, ...
    #[arg(last = true, value_name = "LIBTEST ARGS")]
    pub test_args: Vec<String>,
}

/// `--uefi` as a firmware.
pub fn firmware(uefi: bool) -> Firmware {
    if uefi {
        Firmware::Uefi
    } else {
        Firmware::Bios
    }
}

fn parse_cmdline(text: &str) -> Result<BootCmdline, lazarus_tests::qemu::CmdlineError> {
    BootCmdline::try_new(text)
}

impl Command {
    /// Runs the subcommand; the exit code is the command's verdict.
    pub fn run(self) -> Result<ExitCode, CommandError> {
        let code = match self {
            Command::Setup => cmd_setup::run().map(|()| ExitCode::SUCCESS)?,
            Command::Build(args) => cmd_build::run(args).map(|()| ExitCode::SUCCESS)?,
            Command::Run(args) => cmd_run::run(args)?,
            Command::Test(args) => cmd_test::run(args)?,
            Command::Bench(args) => cmd_bench::run(args)?,
            Command::Campaign(args) => (*args).run()?,
        };
        Ok(code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_cli_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn test_passes_everything_after_the_double_dash() {
        let cli = Cli::try_parse_from([
            "xtask",
            "test",
            "--uefi",
            "--",
            "memory::",
            "--test-threads",
            "1",
        ])
        .unwrap();
        let Command::Test(args) = cli.command else {
            panic!("not the test command");
        };
        assert!(args.uefi);
        assert!(!args.build.release);
        assert_eq!(args.test_args, ["memory::", "--test-threads", "1"]);
    }

    #[test]
    fn run_validates_the_cmdline() {
        let cli = Cli::try_parse_from([
            "xtask",
            "run",
            "--release",
            "--cmdline",
            "test=memory log=debug",
        ])
        .unwrap();
        let Command::Run(args) = cli.command else {
            panic!("not the run command");
        };
        assert_eq!(args.cmdline.as_str(), "test=memory log=debug");
        assert_eq!(args.build.profile(), Profile::Release);
        assert!(Cli::try_parse_from(["xtask", "run", "--cmdline", "verbose"]).is_err());
        let default = Cli::try_parse_from(["xtask", "run"]).unwrap();
        let Command::Run(args) = default.command else {
            panic!("not the run command");
        };
        assert!(args.cmdline.is_empty());
    }
}
