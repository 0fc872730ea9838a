//! `cargo xtask test`: build the images, then run every test and total the results.
//!
//! Runs plain `cargo test --no-fail-fast` at the root (the default members,
//! on the same toolchain xtask runs on) with `LAZARUS_IMAGES` and
//! `LAZARUS_FIRMWARE` set, so the in-QEMU harness boots the fresh images.
//! Its output streams to the terminal as it comes while the `test result:`
//! lines are added up; the last line printed is `N passed, N failed, N ignored`.

use std::io::{self, Read, Write};
use std::process::{Command, ExitCode, ExitStatus, Stdio};

use lazarus_tests::config::{ENV_FIRMWARE, ENV_IMAGES};

use crate::cli::{self, TestArgs};
use crate::error::XtaskError;
use crate::paths::Paths;
use crate::test_summary::{parse_result_line, Totals};
use crate::{cmd_build, cmd_setup, shell};

/// Size of one read from the test output pipe.
const CHUNK_BYTES: usize = 8 * 1024;

/// Runs `cargo xtask test`.
pub fn run(args: TestArgs) -> Result<ExitCode, XtaskError> {
    let paths = Paths::discover();
    let toolchain = cmd_setup::toolchain(&paths)?;
    cmd_setup::qemu()?;
    let images = cmd_build::build(&paths, &toolchain, args.build)?;
    let firmware = cli::firmware(args.uefi);
    shell::note(format!(
        "in-QEMU tests boot {}",
        shell::relative(&images.image(firmware), &paths.root).display()
    ));

    let mut cargo = Command::new("cargo");
    cargo
        .current_dir(&paths.root)
        .env(ENV_IMAGES, &images.dir)
        .env(ENV_FIRMWARE, firmware.name())
        // Run every test binary even when an earlier one fails.
        .args(["test", "--no-fail-fast"]);
    if !args.test_args.is_empty() {
        cargo.arg("--").args(&args.test_args);
    }
    let (status, totals) = stream_and_total(&mut cargo)?;

    let failed = totals.failed > 0 || !status.success();
    if failed && totals.failed == 0 {
        shell::error(format!("`{}` failed with {status}", shell::display(&cargo)));
    }
    // The closing line, last on stdout.
    println!("{totals}");
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// Runs `command` with its stdout passed through as it arrives (partial
/// lines included, so `test x ... ` shows while x runs) and totals its
/// `test result:` lines.
fn stream_and_total(command: &mut Command) -> Result<(ExitStatus, Totals), XtaskError> {
    shell::announce(command);
    let shown = shell::display(command);
    let io_error = |what: &str, source| XtaskError::Io {
        what: format!("{what} `{shown}`"),
        source,
    };
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|source| XtaskError::CommandNotStarted {
            command: shown.clone(),
            source,
        })?;
    let mut pipe = child.stdout.take().ok_or_else(|| {
        io_error(
            "no stdout pipe from",
            io::Error::from(io::ErrorKind::BrokenPipe),
        )
    })?;
    let mut totals = Totals::default();
    let mut pending_line = Vec::new();
    let mut chunk = [0u8; CHUNK_BYTES];
    let mut stdout = io::stdout();
    loop {
        let read = match pipe.read(&mut chunk) {
            Ok(0) => break,
            Ok(read) => read,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(io_error("reading the output of", e)),
        };
        let bytes = &chunk[..read];
        // A closed stdout (e.g. `| head`) must not stop the tests.
        let _ = stdout.write_all(bytes).and_then(|()| stdout.flush());
        for &byte in bytes {
            if byte == b'\n' {
                totals += line_totals(&pending_line);
                pending_line.clear();
            } else {
                pending_line.push(byte);
            }
        }
    }
    totals += line_totals(&pending_line);
    let status = child.wait().map_err(|e| io_error("waiting for", e))?;
    Ok((status, totals))
}

fn line_totals(line: &[u8]) -> Totals {
    parse_result_line(&String::from_utf8_lossy(line)).unwrap_or_default()
}
