//! The shell, driven as a user would: commands typed on the console, what it
//! prints captured and checked.
//!
//! Two cases: the shell on its own (no trusted address space: its server
//! commands must say so and carry on), and the shell against a fresh TAS,
//! the demo a user would give: files written and read, a fault injected
//! into the file server by hand, the file still there after the restart,
//! the servers' table and the recovery log telling what happened, and bad
//! arguments answered with one-line errors.

use alloc::string::String;
use alloc::vec::Vec;

use super::services::run_with_tas;
use super::{Case, Group};
use crate::usermode::{run_user, UserExit, UserProgram};
use crate::{console, ramdisk};

/// The group.
pub static GROUP: Group = Group {
    name: "shell",
    cases: &[
        Case { name: "commands_typed_on_the_console_work", run: commands_work },
        Case { name: "files_faults_and_recovery_are_shown_against_a_tas", run: files_faults_and_recovery },
    ],
};

/// Types `input`, runs the shell (with a fresh TAS if `with_tas`), and
/// returns what was printed meanwhile; panics unless it exits with
/// `code`.
fn drive_shell(input: &[u8], with_tas: bool, code: i64) -> String {
    console::type_input(input);
    console::capture_start();
    let exit = if with_tas {
        run_with_tas("shell")
    } else {
        let image = ramdisk::program("shell").expect("ramdisk readable").expect("the ramdisk has shell");
        run_user(UserProgram::Elf(image)).expect("the shell loads")
    };
    let out = String::from_utf8(console::capture_take()).expect("text");
    match exit {
        UserExit::Exited(c) if c == code => out,
        other => panic!("the shell ended with {other:?}, not exit code {code}; it printed:\n{out}"),
    }
}

/// The lines of `out` split into words.
fn lines_of_words(out: &str) -> Vec<Vec<&str>> {
    out.lines().map(|l| l.split_whitespace().collect()).collect()
}

fn commands_work() {
    // A typo fixed with backspace; four times up recalls `echo` (history:
    // echo, ps, mem, bogus); a line cleared with Ctrl-U; the server
    // commands, with no TAS to answer; then `exit 3`.
    let out = drive_shell(
        b"echo hello shelk\x7fl\rps\rmem\rbogus\r\x1b[A\x1b[A\x1b[A\x1b[A\rjunk\x15servers\rls\rexit 3\r",
        false,
        3,
    );
    let count = |needle: &str| out.matches(needle).count();
    assert_eq!(count("\nhello shell\n"), 2, "echo, and echo again from the history:\n{out}");
    assert!(out.contains("STATE") && out.contains(" main"), "ps lists the threads:\n{out}");
    assert!(out.contains("frames:") && out.contains("kernel heap:"), "mem:\n{out}");
    assert!(out.contains("unknown command 'bogus'; try help"), "{out}");
    assert!(!out.contains("unknown command 'junk"), "Ctrl-U cleared the line before it ran:\n{out}");
    let unreachable = "cannot reach the servers (no such handle); is the trusted address space running?";
    assert!(out.contains(&alloc::format!("servers: {unreachable}")), "no TAS, said in one line:\n{out}");
    assert!(out.contains(&alloc::format!("ls: {unreachable}")), "{out}");
    assert_eq!(count("lazarus> "), 8, "a prompt before every line:\n{out}");
}

fn files_faults_and_recovery() {
    let out = drive_shell(
        b"write notes hello world\r\
          cat notes\r\
          ls\r\
          inject fs panic\r\
          cat notes\r\
          servers\r\
          log\r\
          cat missing\r\
          cat /a/b\r\
          cat seventeen-bytes-x\r\
          ls nosuch\r\
          inject nosuch panic\r\
          inject fs nosuchmodel\r\
          inject fs\r\
          write\r\
          inject --later fs divide\r\
          cat /notes\r\
          servers\r\
          bench\r\
          exit 0\r",
        true,
        0,
    );
    let lines = lines_of_words(&out);
    let has_line = |words: &[&str]| lines.iter().any(|l| l.starts_with(words));
    let count_lines = |text: &str| out.lines().filter(|l| *l == text).count();

    // Files.
    assert!(out.contains("notes: 11 bytes written"), "write:\n{out}");
    assert!(has_line(&["notes", "11"]), "ls lists notes with its 11 bytes:\n{out}");
    assert!(out.contains("1 file, 11 bytes"), "{out}");

    // The fault, set off at once, and the file intact after it.
    assert!(
        out.contains("inject: fs faulted and was restarted (generation 1 -> 2); the retried request succeeded"),
        "inject reports the fault and the restart:\n{out}"
    );
    assert_eq!(count_lines("hello world"), 3, "cat before the fault, after it, and after the second:\n{out}");

    // The table: fs serving at generation 2, 1 restart, 1 fault, 0 leaked.
    let fs_row = |generation: &str| {
        lines.iter().find(|l| l.first() == Some(&"fs") && l.get(2) == Some(&generation)).cloned()
    };
    let row = fs_row("2").unwrap_or_else(|| panic!("servers lists fs at generation 2:\n{out}"));
    assert_eq!(&row[..5], ["fs", "serving", "2", "1", "1"], "state, generation, restarts, faults:\n{out}");
    assert_eq!(row[7], "0", "no heap byte leaked:\n{out}");
    assert!(has_line(&["console", "serving", "1", "0", "0"]), "the other servers untouched:\n{out}");

    // The memory table: fs keeps a store, with no error found; crashtest
    // keeps nothing.
    let store_rows: Vec<_> = lines.iter().filter(|l| l.len() == 6 && l[0] == "fs" && l[3] != "-").collect();
    assert!(
        store_rows.iter().any(|l| l[3].parse::<u32>().is_ok_and(|b| b > 0) && l[4] == "0" && l[5] == "0"),
        "servers shows fs's store, no errors corrected or found:\n{out}"
    );
    assert!(has_line(&["SERVER", "HEAP", "HEAP", "SIZE", "STORE", "CORRECTED", "DAMAGED"]), "{out}");
    assert!(lines.iter().any(|l| l.len() == 6 && l[0] == "crashtest" && l[3] == "-"), "crashtest keeps nothing:\n{out}");

    // The log, as `log` prints it (the TAS's own prints start `recovery:`).
    let logged = |start: &str| out.lines().any(|l| l.starts_with(start));
    assert!(logged("fs generation 1: "), "the fault is in the log:\n{out}");
    assert!(logged("fs generation 2 started: restored its kept state"), "the restart:\n{out}");
    assert!(logged("fs recovered as generation 2 in "), "the recovery:\n{out}");

    // Bad arguments: one line each, and the shell carries on.
    for error in [
        "cat: no such file 'missing'",
        "cat: no directory '/a' (the file system has one directory, /)",
        "cat: name too long (at most 16 bytes)",
        "ls: no such file or directory 'nosuch' (the file system has one directory, /)",
        "inject: unknown server 'nosuch' (servers: console, name, fs, crashtest, blk)",
        "inject: unknown fault model 'nosuchmodel' (models: ",
        "usage: inject [--later] SERVER MODEL",
        "usage: write PATH TEXT",
    ] {
        assert!(out.contains(error), "'{error}' expected:\n{out}");
    }

    // Armed for later: the user's own `cat` sets it off and rides through.
    assert!(out.contains("inject: armed divide in fs: it fires at fs's next request"), "{out}");
    let row = fs_row("3").unwrap_or_else(|| panic!("the second fault restarted fs again:\n{out}"));
    assert_eq!(&row[..5], ["fs", "serving", "3", "2", "2"], "{out}");

    // `bench`: a system call, and a direct call between two servers timed
    // inside the TAS.
    assert!(out.contains("null system call: median "), "{out}");
    let direct = "direct call between two servers (crashtest to console, in the trusted address space): median ";
    assert!(out.contains(direct), "{out}");
    assert_eq!(out.matches("lazarus> ").count(), 20, "a prompt before every line:\n{out}");
}
