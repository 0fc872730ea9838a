//! The campaign workload: exercises every server of the trusted address
//! space with known golden results, through whatever faults and restarts
//! happen meanwhile, then checks every server answers and reports its
//! verdict.
//!
//! It runs at least [`MIN_OPS`] requests and [`MIN_RUN_NS`] nanoseconds, so
//! every fault a campaign plans (triggers up to 200 requests or 200 ticks)
//! has its chance to fire. Calls that fail with a transient status
//! (`ServerFault`, `Restarting`) are retried after a short pause; a
//! non-idempotent call (register) is checked before it is redone. It prints
//! `campaign: workload verdict=ok|error|wrong detail=…` and exits 0, 1
//! (error: a call failed for good) or 2 (wrong: a result differed).

#![no_std]
#![no_main]
#![forbid(unsafe_code)]

mod service;

use lazarus_rt::{println, sys};
use server_api::ops::crashtest::{compute_checksum, CrashtestOp};
use server_api::ops::fs::{FsOp, OPEN_CREATE};
use server_api::ops::name::NameOp;
use server_api::{Name, Payload, Request, ServerId, Status};

use service::call;

/// Requests at least: above the campaign's largest `ops` trigger (200).
const MIN_OPS: u64 = 240;
/// Running time at least: above the largest `ticks` trigger (200 ticks of
/// 10 ms), with a margin for the trigger's site to be reached.
const MIN_RUN_NS: u64 = 2_200_000_000;
/// Files the workload rewrites in turn.
const FILES: u64 = 4;
/// Bytes of each write: two words.
const CHUNK: usize = 16;
/// Distinct offsets each file is written at.
const CHUNKS_PER_FILE: u64 = 8;

/// Why the workload failed.
enum Failure {
    /// A call failed for good.
    Error(&'static str, Status),
    /// A result differed from the golden one.
    Wrong(&'static str),
}

type Check = Result<(), Failure>;

fn name(text: &str) -> Name {
    Name::try_new(text.as_bytes()).unwrap_or_else(|_| panic!("a valid name: {text}"))
}

fn request(server: ServerId, op: u8, arg: u16, payload: Payload) -> Request {
    Request::new(server, op, arg).with(payload)
}

fn ok(what: &'static str, r: Result<Payload, Status>) -> Result<Payload, Failure> {
    r.map_err(|s| Failure::Error(what, s))
}

/// The bytes written at `(file, chunk, round)`: a function of the three.
fn golden(file: u64, chunk: u64, round: u64) -> [u8; CHUNK] {
    let mut out = [0u8; CHUNK];
    for (i, b) in out.iter_mut().enumerate() {
        *b = (file * 31 + chunk * 7 + round * 13 + i as u64) as u8;
    }
    out
}

fn open(file: u64) -> Result<u16, Failure> {
    let mut text = *b"file0";
    text[4] = b'0' + file as u8;
    let n = Name::try_new(&text).map_err(|s| Failure::Error("name", s))?;
    let p = ok("open", call(request(ServerId::Fs, FsOp::Open as u8, OPEN_CREATE, n.to_payload())))?;
    Ok(p.words[0] as u16)
}

fn write_and_verify(handle: u16, file: u64, chunk: u64, round: u64) -> Check {
    let data = golden(file, chunk, round);
    let offset = chunk * CHUNK as u64;
    let mut bytes = [0u8; 8 + CHUNK];
    bytes[..8].copy_from_slice(&offset.to_le_bytes());
    bytes[8..].copy_from_slice(&data);
    let payload = Payload::bytes(&bytes).ok_or(Failure::Wrong("write payload"))?;
    ok("write", call(request(ServerId::Fs, FsOp::Write as u8, handle, payload)))?;
    let read = ok("read", call(request(ServerId::Fs, FsOp::Read as u8, handle, Payload::words([offset, 0, 0]))))?;
    let (got, len) = read.to_bytes();
    if len < CHUNK || got[..CHUNK] != data {
        return Err(Failure::Wrong("read back differs from what was written"));
    }
    Ok(())
}

fn echo(i: u64) -> Check {
    let p = ok("echo", call(request(ServerId::Crashtest, CrashtestOp::Echo as u8, 0, Payload::words([i, i.wrapping_mul(2), !i]))))?;
    if p.words != [i.wrapping_add(1), i.wrapping_mul(2).wrapping_add(1), (!i).wrapping_add(1)] {
        return Err(Failure::Wrong("echo"));
    }
    Ok(())
}

fn compute(n: u16) -> Check {
    let p = ok("compute", call(request(ServerId::Crashtest, CrashtestOp::Compute as u8, n, Payload::EMPTY)))?;
    if p.words[0] != compute_checksum(n) {
        return Err(Failure::Wrong("compute checksum"));
    }
    Ok(())
}

/// Registers `key` to `value` (redone safely after a fault), looks it up,
/// unregisters it.
fn name_round(key: &Name, value: u64) -> Check {
    match call(request(ServerId::Name, NameOp::Register as u8, 0, key.with_word(value))) {
        // A fault after the registration took effect: it is there already.
        Ok(_) | Err(Status::Exists) => {}
        Err(s) => return Err(Failure::Error("register", s)),
    }
    let p = ok("lookup", call(request(ServerId::Name, NameOp::Lookup as u8, 0, key.to_payload())))?;
    if p.words[0] != value {
        return Err(Failure::Wrong("lookup"));
    }
    match call(request(ServerId::Name, NameOp::Unregister as u8, 0, key.to_payload())) {
        Ok(_) | Err(Status::NotFound) => Ok(()),
        Err(s) => Err(Failure::Error("unregister", s)),
    }
}

fn run() -> Check {
    let start = sys::uptime_ns();
    let mut handles = [0u16; FILES as usize];
    for (f, h) in handles.iter_mut().enumerate() {
        *h = open(f as u64)?;
    }
    let keeper = name("workload");
    let mut round = 0u64;
    let mut ops = 0u64;
    while ops < MIN_OPS || sys::uptime_ns() - start < MIN_RUN_NS {
        let file = round % FILES;
        let chunk = (round / FILES) % CHUNKS_PER_FILE;
        write_and_verify(handles[file as usize], file, chunk, round)?;
        echo(round)?;
        compute((round % 64) as u16 + 1)?;
        name_round(&keeper, round)?;
        round += 1;
        ops += 8;
    }
    // Everything written in the last pass over the chunks is still there.
    for r in round.saturating_sub(FILES * CHUNKS_PER_FILE)..round {
        let (file, chunk) = (r % FILES, (r / FILES) % CHUNKS_PER_FILE);
        let offset = chunk * CHUNK as u64;
        let h = handles[file as usize];
        let read = ok("final read", call(request(ServerId::Fs, FsOp::Read as u8, h, Payload::words([offset, 0, 0]))))?;
        let (got, len) = read.to_bytes();
        if len < CHUNK || got[..CHUNK] != golden(file, chunk, r) {
            return Err(Failure::Wrong("a file lost what was written"));
        }
    }
    // The final health check: every server answers.
    echo(u64::MAX - 1)?;
    name_round(&keeper, 7)?;
    ok("console", call(request(ServerId::Console, 0, 0, Payload::bytes(b"workload done\n").unwrap_or_default())))?;
    println!("workload: {round} rounds, {ops} requests");
    Ok(())
}

fn main() -> i32 {
    match run() {
        Ok(()) => {
            println!("campaign: workload verdict=ok detail=all results matched; every server answered");
            0
        }
        Err(Failure::Error(what, status)) => {
            println!("campaign: workload verdict=error detail={what}: {status}");
            1
        }
        Err(Failure::Wrong(what)) => {
            println!("campaign: workload verdict=wrong detail={what}");
            2
        }
    }
}

lazarus_rt::entry!(main);
