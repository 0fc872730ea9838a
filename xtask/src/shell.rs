//! Running external commands visibly: print the command line, run it, check the status.
//!
//! Every command `cargo xtask` starts goes through here, so each one appears
//! as `$ command` (dim on a terminal, plain otherwise or with `NO_COLOR`)
//! before it runs, and a failure names the command and its status.

use std::ffi::OsStr;
use std::fmt::Display;
use std::io::{self, IsTerminal, Write};
use std::path::Path;
use std::process::{Command, Output, Stdio};

use crate::error::XtaskError;

/// ANSI "dim" and "reset", for command lines on a terminal.
const DIM: &str = "\x1b[2m";
const RESET: &str = "\x1b[0m";

/// ANSI bold red, for the error prefix on a terminal.
const BOLD_RED: &str = "\x1b[1;31m";

/// True when stderr is a terminal and `NO_COLOR` is not set.
fn color() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && io::stderr().is_terminal()
}

/// Prints a progress note on stderr.
pub fn note(text: impl Display) {
    eprintln!("{text}");
}

/// Prints an error on stderr as `error: ...`.
pub fn error(text: impl Display) {
    if color() {
        eprintln!("{BOLD_RED}error{RESET}: {text}");
    } else {
        eprintln!("error: {text}");
    }
}

/// Prints `$ <command>` on stderr, dim on a terminal.
pub fn announce(command: &Command) {
    announce_text(&display(command));
}

/// Prints `$ <line>` on stderr, dim on a terminal.
pub fn announce_text(line: &str) {
    if color() {
        eprintln!("{DIM}$ {line}{RESET}");
    } else {
        eprintln!("$ {line}");
    }
    // Keep the order with the child's output; nothing to do if stderr is gone.
    let _ = io::stderr().flush();
}

/// The command as one shell line: `cd` if it has a working folder, the
/// variables it sets, the program and the arguments, quoted where needed.
pub fn display(command: &Command) -> String {
    let mut words = Vec::new();
    if let Some(dir) = command.get_current_dir() {
        words.push(format!("cd {} &&", quote(dir.as_os_str())));
    }
    for (key, value) in command.get_envs() {
        if let Some(value) = value {
            words.push(format!("{}={}", key.to_string_lossy(), quote(value)));
        }
    }
    words.push(quote(command.get_program()));
    words.extend(command.get_args().map(quote));
    words.join(" ")
}

/// Quotes a word for a POSIX shell when it has anything but safe characters.
pub fn quote(word: &OsStr) -> String {
    let text = word.to_string_lossy();
    let safe = |c: char| c.is_ascii_alphanumeric() || "-_./=,:+@%".contains(c);
    if !text.is_empty() && text.chars().all(safe) {
        text.into_owned()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

/// Runs `command` with inherited stdio; an error unless it exits 0.
pub fn run(command: &mut Command) -> Result<(), XtaskError> {
    announce(command);
    let status = command
        .status()
        .map_err(|source| XtaskError::CommandNotStarted {
            command: display(command),
            source,
        })?;
    if status.success() {
        Ok(())
    } else {
        Err(XtaskError::CommandFailed {
            command: display(command),
            status,
        })
    }
}

/// Runs `command` and returns its stdout (stderr goes to the terminal); an
/// error unless it exits 0.
pub fn stdout_of(command: &mut Command) -> Result<String, XtaskError> {
    announce(command);
    let Output { status, stdout, .. } = command
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|source| XtaskError::CommandNotStarted {
            command: display(command),
            source,
        })?;
    if status.success() {
        Ok(String::from_utf8_lossy(&stdout).into_owned())
    } else {
        Err(XtaskError::CommandFailed {
            command: display(command),
            status,
        })
    }
}

/// Shows a path relative to `base` when it is inside it.
pub fn relative<'a>(path: &'a Path, base: &Path) -> &'a Path {
    path.strip_prefix(base).unwrap_or(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_shows_folder_variables_and_quoting() {
        let mut command = Command::new("cargo");
        command
            .current_dir("/repo/kernel")
            .env("LAZARUS_FIRMWARE", "bios")
            .env_remove("RUSTUP_TOOLCHAIN")
            .args(["+nightly-2026-08-01", "build", "two words", "it's"]);
        assert_eq!(
            display(&command),
            "cd /repo/kernel && LAZARUS_FIRMWARE=bios cargo +nightly-2026-08-01 build \
             'two words' 'it'\\''s'"
        );
    }

    #[test]
    fn failures_name_the_command() {
        let error = run(Command::new("false").arg("--flag")).unwrap_err();
        assert!(error
            .to_string()
            .starts_with("`false --flag` failed with exit status: 1"));
        let error = run(&mut Command::new("lazarus-no-such-tool")).unwrap_err();
        assert!(error
            .to_string()
            .starts_with("could not run `lazarus-no-such-tool`"));
        assert_eq!(stdout_of(Command::new("echo").arg("hi")).unwrap(), "hi\n");
    }
}
