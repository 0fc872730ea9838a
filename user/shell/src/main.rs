//! The interactive shell on the serial console: line editing, history, and
//! commands to look at the system.
//!
//! Commands: `help`, `echo TEXT`, `ps` (threads), `mem` (frames and kernel
//! heap), `servers` (the trusted address space's servers, once they exist),
//! `bench` (the cost of a system call, measured from here), `reboot`, and
//! `exit [CODE]`. Unknown commands get a hint, never a crash.

#![no_std]
#![no_main]
#![forbid(unsafe_code)]

use lazarus_rt::line_editor::{Event, LineEditor};
use lazarus_rt::{print, println, sys};

const PROMPT: &str = "lazarus> ";
/// Bytes of the buffers the kernel's reports are read into.
const REPORT_BYTES: usize = 4096;
/// System calls timed by `bench` (odd: the median is one of them).
const BENCH_SAMPLES: usize = 501;

/// What a command asks the shell to do next.
enum Next {
    Continue,
    Exit(i32),
}

fn report(name: &str, read: fn(&mut [u8]) -> Result<usize, lazarus_rt::SyscallError>) {
    let mut buf = [0u8; REPORT_BYTES];
    match read(&mut buf) {
        Ok(n) => print!("{}", core::str::from_utf8(&buf[..n]).unwrap_or("(not text)\n")),
        Err(e) => println!("{name}: {e}"),
    }
}

fn bench() {
    let mut samples = [0u64; BENCH_SAMPLES];
    for s in samples.iter_mut() {
        let t0 = sys::cycles();
        sys::null();
        *s = sys::cycles() - t0;
    }
    samples.sort_unstable();
    println!(
        "null system call: median {} TSC cycles, minimum {} ({} samples; `cargo xtask bench` \
         gives guest instructions)",
        samples[BENCH_SAMPLES / 2],
        samples[0],
        BENCH_SAMPLES
    );
}

fn run(line: &str) -> Next {
    let line = line.trim();
    let (command, rest) = line.split_once(' ').unwrap_or((line, ""));
    match command {
        "" => {}
        "help" => println!(
            "commands: help, echo TEXT, ps, mem, servers, bench, reboot, exit [CODE]\n\
             keys: backspace, Ctrl-U (clear the line), up/down (history); Ctrl-A X quits QEMU"
        ),
        "echo" => println!("{}", rest.trim()),
        "ps" => report("ps", sys::thread_list),
        "mem" => report("mem", sys::mem_info),
        "servers" => println!("no servers are running yet (the recovery manager comes next)"),
        "bench" => bench(),
        "reboot" => sys::reboot(),
        "exit" => return Next::Exit(rest.trim().parse().unwrap_or(0)),
        other => println!("unknown command '{other}'; try help"),
    }
    Next::Continue
}

fn main() -> i32 {
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
                    if let Next::Exit(code) = run(line) {
                        return code;
                    }
                    print!("{PROMPT}");
                }
            }
        }
    }
}

lazarus_rt::entry!(main);
