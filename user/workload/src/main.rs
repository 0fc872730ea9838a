//! The campaign workload: exercises every operation of every server of the
//! trusted address space with known golden results, through whatever
//! faults and restarts happen meanwhile, then checks every server answers
//! and reports its verdict.
//!
//! Each round reaches every injection site of `fs`, `name`, `crashtest`
//! (but `HANG`, see `crashtest`) and `console` at least once (the tables
//! in `scratch`, `names`, `crashtest` and `console` say which request
//! reaches which; `files` adds writes and reads), so a site-bound fault
//! planned at any of them fires in the round after its trigger. It runs at least [`MIN_OPS`]
//! requests and [`MIN_RUN_NS`] nanoseconds, past the campaign's largest
//! triggers.
//!
//! Requests go through the client stubs (`lazarus_rt::client`), which
//! retry idempotent ones while a server restarts; the others (open,
//! close, remove, register, unregister, console output) are redone by
//! `redo` once a check shows the interrupted attempt did not take effect.
//!
//! It prints `campaign: workload verdict=ok|error|wrong detail=…` and
//! exits 0, 1 (error: a call failed for good) or 2 (wrong: a result
//! differed from the golden one).

#![no_std]
#![no_main]
#![forbid(unsafe_code)]

mod console;
mod crashtest;
mod failure;
mod file_ops;
mod files;
mod listing;
mod names;
mod redo;
mod scratch;
mod tally;

use core::fmt::Write;

use lazarus_rt::client::system::{self, ServerState};
use lazarus_rt::client::ClientError;
use lazarus_rt::{println, sys};

use crashtest::Crashtest;
use failure::{Check, Failure};
use files::KeptFiles;

/// Requests at least: above the campaign's largest `ops` trigger (200).
const MIN_OPS: u64 = 240;
/// Running time at least: above the largest `ticks` trigger (200 ticks of
/// 10 ms), with a margin for a site to be reached after it.
const MIN_RUN_NS: u64 = 2_200_000_000;
/// Most servers the generations line asks the system server about.
const SERVERS_MAX: u16 = 16;

/// Runs the rounds, then the final checks; the number of rounds.
fn run() -> Check<u64> {
    let start = sys::uptime_ns();
    let crashtest = Crashtest::new();
    let mut files = KeptFiles::create()?;
    names::start()?;
    let mut round = 0u64;
    while tally::calls() < MIN_OPS || sys::uptime_ns().saturating_sub(start) < MIN_RUN_NS {
        files.round(round)?;
        scratch::round(&files, round)?;
        names::round(round)?;
        crashtest.round(round)?;
        console::round(round)?;
        round += 1;
    }
    // The final checks: everything kept is still there, every server
    // answers.
    files.verify_all()?;
    scratch::check_directory(&files, None)?;
    names::finish()?;
    crashtest.round(round)?;
    console::finish()?;
    Ok(round)
}

/// Prints each server's generation and, unless it serves, its state
/// (`fs=2`, `name=1:dead`): a restart shows in the log next to the
/// verdict.
fn print_generations() {
    let mut out = lazarus_rt::console::Console::new();
    let _ = out.write_str("workload: generations");
    for index in 0..SERVERS_MAX {
        match system::info(index) {
            Ok(Some(info)) => {
                let _ = write!(out, " {}={}", info.server, info.generation);
                if info.state != ServerState::Serving {
                    let _ = write!(out, ":{}", info.state.name());
                }
            }
            Ok(None) => break,
            Err(error) => {
                let _ = write!(out, " (system server: {error})");
                break;
            }
        }
    }
    let _ = out.write_str("\n");
}

fn main() -> i32 {
    let result = run();
    match &result {
        Ok(rounds) => println!("workload: {rounds} rounds, {} calls", tally::calls()),
        Err(_) => println!("workload: stopped after {} calls", tally::calls()),
    }
    // After an IPC failure the TAS may be gone, and a call to an endpoint
    // nobody serves any more never returns: no more calls then.
    if !matches!(result, Err(Failure::Error(_, ClientError::Ipc(_)))) {
        print_generations();
    }
    match result {
        Ok(_) => {
            println!("campaign: workload verdict=ok detail=all results matched; every server answered");
            0
        }
        Err(failure) => {
            println!("campaign: workload verdict={} detail={failure}", failure.verdict());
            failure.exit_code()
        }
    }
}

lazarus_rt::entry!(main);
