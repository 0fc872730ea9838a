//! The shell, driven as a user would: commands typed on the console, what it
//! prints captured and checked.

use super::{Case, Group};
use crate::usermode::{run_user, UserExit, UserProgram};
use crate::{console, ramdisk};

/// The group.
pub static GROUP: Group = Group {
    name: "shell",
    cases: &[Case { name: "commands_typed_on_the_console_work", run: commands_work }],
};

fn commands_work() {
    let image = ramdisk::program("shell").expect("ramdisk readable").expect("the ramdisk has shell");
    // A typo fixed with backspace; four times up recalls `echo` (history:
    // echo, ps, mem, bogus); a line cleared with Ctrl-U; then `exit 3`.
    console::type_input(
        b"echo hello shelk\x7fl\rps\rmem\rbogus\r\x1b[A\x1b[A\x1b[A\x1b[A\rjunk\x15exit 3\r",
    );
    console::capture_start();
    let exit = run_user(UserProgram::Elf(image)).expect("the shell loads");
    let out = alloc::string::String::from_utf8(console::capture_take()).expect("text");
    match exit {
        UserExit::Exited(3) => {}
        other => panic!("the shell ended with {other:?}; it printed:\n{out}"),
    }
    let count = |needle: &str| out.matches(needle).count();
    assert_eq!(count("\nhello shell\n"), 2, "echo, and echo again from the history:\n{out}");
    assert!(out.contains("STATE") && out.contains(" main"), "ps lists the threads:\n{out}");
    assert!(out.contains("frames:") && out.contains("kernel heap:"), "mem:\n{out}");
    assert!(out.contains("unknown command 'bogus'; try help"), "{out}");
    assert!(!out.contains("unknown command 'junk"), "Ctrl-U cleared the line before it ran:\n{out}");
    assert_eq!(count("lazarus> "), 6, "a prompt before every line:\n{out}");
}
