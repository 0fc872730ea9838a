//! The commands: a line is split into its first word and the rest, and the
//! word chooses the command. `help` lists them.

use lazarus_rt::{println, sys};

use crate::inject::{MODELS, SERVERS};
use crate::{files, inject, machine, servers};

/// What a command asks the shell to do next.
pub enum Next {
    /// Read the next line.
    Continue,
    /// End the shell with this exit code.
    Exit(i32),
}

/// What `help` prints.
const HELP: &str = "\
commands:
  help                         this list
  echo TEXT                    print TEXT
  ps                           the kernel's threads
  mem                          physical frames and the kernel heap
  bench                        the cost of a system call, measured from here, and of a
                               direct call between two servers, measured in the TAS
  servers                      the servers: state, generation, restarts, faults, heap bytes
                               released by unwinding, reclaimed by the backstop and leaked,
                               median recovery latency
  log                          the recovery log (its last 64 lines)
  ls [DIR]                     the files and their sizes
  cat PATH                     print a file
  write PATH TEXT              make the file PATH hold TEXT (created, or overwritten)
  inject SERVER MODEL          arm a fault in SERVER, then send SERVER a harmless request
                               that sets it off, and say whether it faulted and recovered
  inject --later SERVER MODEL  only arm it: it fires at SERVER's next request (your next
                               cat, say)
  reboot                       restart the machine
  exit [CODE]                  end the shell (code 0 if none)";

/// Runs one line.
pub fn run(line: &str) -> Next {
    let line = line.trim();
    let (command, rest) = line.split_once(' ').unwrap_or((line, ""));
    let rest = rest.trim();
    match command {
        "" => {}
        "help" => help(),
        "echo" => println!("{rest}"),
        "ps" => machine::ps(),
        "mem" => machine::mem(),
        "bench" => machine::bench(),
        "servers" => servers::servers(),
        "log" => servers::log(),
        "ls" => files::ls(rest),
        "cat" => files::cat(rest),
        "write" => files::write(rest),
        "inject" => inject::inject(rest),
        "reboot" => sys::reboot(),
        "exit" if rest.is_empty() => return Next::Exit(0),
        "exit" => match rest.parse() {
            Ok(code) => return Next::Exit(code),
            Err(_) => println!("exit: '{rest}' is not an exit code (a number)"),
        },
        other => println!("unknown command '{other}'; try help"),
    }
    Next::Continue
}

fn help() {
    println!("{HELP}");
    println!("servers: {SERVERS}");
    println!("fault models: {MODELS}");
    println!(
        "paths: NAME or /NAME; the file system has one directory, /; a NAME has 1 to {} letters, \
         digits, '.', '_' or '-'",
        server_api::NAME_MAX
    );
    println!("keys: backspace, Ctrl-U (clear the line), up/down (history); Ctrl-A X quits QEMU");
}
