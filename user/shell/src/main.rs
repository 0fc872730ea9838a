//! The interactive shell on the serial console: line editing, history, and
//! commands to look at the system, its files and its servers, and to
//! inject faults by hand.
//!
//! Commands (`help` lists them): `echo TEXT`; the machine, from the kernel:
//! `ps` (threads), `mem` (frames and kernel heap), `bench` (the cost of a
//! system call, measured from here, and of a direct call between two
//! servers, measured in the TAS), `reboot`, `exit [CODE]`; the servers
//! of the trusted address space, through the client stubs on handle 0:
//! `servers` (state, generation and recovery counters of each), `log` (the
//! recovery log), `ls [DIR]`, `cat PATH`, `write PATH TEXT` (the file
//! server's one directory), and `inject [--later] SERVER MODEL` (a fault
//! armed by hand, and by default set off at once).
//!
//! Principles: a bad command or argument gets a one-line error, never a
//! crash; every error names the command; a shell started without the
//! trusted address space still runs, and its server commands say they
//! cannot reach the servers. No heap: everything is formatted straight to
//! the console.

#![no_std]
#![no_main]
#![forbid(unsafe_code)]

mod commands;
mod files;
mod inject;
mod machine;
mod path;
mod servers;
mod service;

use lazarus_rt::line_editor::{Event, LineEditor};
use lazarus_rt::{print, println, sys};

use commands::Next;

const PROMPT: &str = "lazarus> ";

fn main() -> i32 {
    // Wait until the TAS serves (its start-up lines come first, not in the
    // middle of the first command); without a TAS this fails at once.
    let _ = lazarus_rt::client::system::info(0);
    println!("Lazarus shell. Type help for the commands.");
    let mut editor = LineEditor::new();
    let mut input = [0u8; 64];
    print!("{PROMPT}");
    loop {
        let n = match sys::console_read(&mut input) {
            Ok(n) => n,
            Err(e) => {
                println!("shell: cannot read the console: {e}");
                return 1;
            }
        };
        for &byte in &input[..n] {
            match editor.feed(byte) {
                Event::Nothing => {}
                Event::Echo(bytes) => {
                    let _ = sys::debug_write(bytes);
                }
                Event::Line(line) => {
                    println!();
                    if let Next::Exit(code) = commands::run(line) {
                        return code;
                    }
                    print!("{PROMPT}");
                }
            }
        }
    }
}

lazarus_rt::entry!(main);
