//! `cargo xtask bench`: boots the kernel once with `bench=all` under QEMU's
//! `-icount shift=0`, collects the `bench:` lines, prints them as a table
//! and writes it to `target/bench/results.txt`.
//!
//! Under `-icount shift=0` the guest's clock advances one nanosecond per
//! instruction, so the figures are guest instructions: repeatable on any
//! host, whatever else it is doing. (They say nothing about wall time under
//! emulation, which is not the point.)

use std::process::ExitCode;
use std::time::Duration;

use lazarus_tests::qemu::{BootCmdline, Firmware, QemuCommand, QemuExit};
use lazarus_tests::runner::{self, BootEnd};

use crate::bench_report;
use crate::cli::BenchArgs;
use crate::error::XtaskError;
use crate::paths::Paths;
use crate::{cmd_build, cmd_setup, shell};

/// The boot option that runs the benchmarks.
const BENCH_CMDLINE: &str = "bench=all";

/// Runs `cargo xtask bench`.
pub fn run(args: BenchArgs) -> Result<ExitCode, XtaskError> {
    let paths = Paths::discover();
    let toolchain = cmd_setup::toolchain(&paths)?;
    cmd_setup::qemu()?;
    let images = cmd_build::build(&paths, &toolchain, args.build())?;
    let image = images.image(Firmware::Bios);
    let cmdline = BootCmdline::try_new(BENCH_CMDLINE).expect("a valid constant");
    let qemu = QemuCommand::new(Firmware::Bios, &image).cmdline(cmdline).count_instructions(true);
    let dir = paths.target.join("bench");
    shell::announce_text(&qemu.to_string());
    let boot = runner::boot(&qemu, Duration::from_secs(args.timeout), &dir.join("bench.log"))?;
    let run = bench_report::parse(boot.lines.iter().map(String::as_str));
    let table = bench_report::table(&run.results);
    println!("Guest instructions per operation (QEMU -icount shift=0; median, 90th and 99th percentiles, minimum):");
    print!("{table}");
    for p in &run.problems {
        eprintln!("bench: {p}");
    }
    let results = dir.join("results.txt");
    std::fs::write(&results, &table).map_err(|source| XtaskError::Io {
        what: format!("writing {}", results.display()),
        source,
    })?;
    shell::note(format!("written to {} (log: {})", results.display(), boot.log_path.display()));
    let ok = run.ended && run.problems.is_empty() && matches!(boot.end, BootEnd::Completed(QemuExit::KernelSuccess));
    if !ok {
        eprintln!("the benchmark boot did not complete cleanly: {}; see {}", boot.end, boot.log_path.display());
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}
