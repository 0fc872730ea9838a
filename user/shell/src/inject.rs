//! `inject [--later] SERVER MODEL`: a fault armed by hand in a server of
//! the trusted address space, for demos.
//!
//! The TAS fires a fault armed by hand at the server's next injection
//! site, that is while the server serves its next request. What a demo
//! wants to see is that request: so by default the shell sends the server
//! a harmless request of its own at once (a listing, an echo or a flush,
//! which change nothing), the TAS prints the fault, its backtrace and the
//! recovery, and the shell reports what a client saw: the server's
//! generation before and after, and whether the request, retried,
//! succeeded. With `--later` the fault stays armed for whatever request
//! comes next (a `cat`, say), to show a user's own request riding through
//! the restart.

use lazarus_rt::client::system::{self, ServerInfo};
use lazarus_rt::client::{self, console, crashtest, fs, name, ClientError};
use lazarus_rt::println;
use server_api::{BlkOp, Request, ServerId, Status};

use crate::service::{again, Told};

/// The fault models the TAS arms by hand (`arm_manual` in
/// `servers/tas/src/injector.rs`): the campaign's models but `regflip`,
/// four CPU exceptions by name, and bit flips in the kept-state store
/// (one bit, which the next restore corrects; two, which it cannot). The
/// TAS decides; this list is what the shell tells people.
pub const MODELS: &str =
    "panic, pagefault, gp, ud, divide, stackoverflow, cfi, hang, wildptr, memflip, storeflip, storeflip2";

/// The servers a fault can be injected into, as `inject` names them.
pub const SERVERS: &str = "console, name, fs, crashtest, blk";

/// `inject [--later] SERVER MODEL`.
pub fn inject(args: &str) {
    let mut words = args.split_whitespace();
    let mut first = words.next();
    let later = first == Some("--later");
    if later {
        first = words.next();
    }
    let (Some(server), Some(model), None) = (first, words.next(), words.next()) else {
        println!("usage: inject [--later] SERVER MODEL (servers: {SERVERS}; models: {MODELS})");
        return;
    };
    let Some(server) = ServerId::from_name(server).filter(|s| ServerId::SERVERS.contains(s)) else {
        println!("inject: unknown server '{server}' (servers: {SERVERS})");
        return;
    };
    let before = match system::info_of(server) {
        Ok(info) => info,
        Err(e) => {
            println!("inject: {}", Told(e));
            return;
        }
    };
    match system::inject(server, model) {
        Ok(()) => {}
        // `Invalid`: a name longer than a request carries, so no model.
        Err(ClientError::Server(Status::BadRequest) | ClientError::Invalid) => {
            println!("inject: unknown fault model '{model}' (models: {MODELS})");
            return;
        }
        Err(e) => {
            println!("inject: {}", Told(e));
            return;
        }
    }
    if later {
        println!("inject: armed {model} in {server}: it fires at {server}'s next request");
        return;
    }
    let (what, request) = harmless_request(server);
    println!("inject: armed {model} in {server}; sending {server} a harmless request ({what}) to set it off");
    let answered = again(request);
    report(server, &before, answered, system::info_of(server));
}

/// A request to `server` that changes nothing, named; the stubs retry it
/// when the server faults but for the console's, which
/// [`crate::service::again`] repeats.
fn harmless_request(server: ServerId) -> (&'static str, fn() -> Result<(), ClientError>) {
    match server {
        ServerId::Fs => ("list", || fs::list(0).map(drop)),
        ServerId::Name => ("list", || name::list(0).map(drop)),
        ServerId::Crashtest => ("echo", || crashtest::echo([0; 3]).map(drop)),
        ServerId::Blk => ("info", disk_info),
        // The shell writes nothing through the console server, so its
        // line is empty and a flush prints nothing.
        ServerId::Console | ServerId::System => ("flush", console::flush),
    }
}

/// The disk server's `Info`, which has no stub (a program can only ask it
/// about the disk; sectors are for servers). No disk is an answer too.
fn disk_info() -> Result<(), ClientError> {
    match client::send(&Request::new(ServerId::Blk, BlkOp::Info as u8, 0))?.status {
        Status::Ok | Status::NoDevice => Ok(()),
        status => Err(ClientError::Server(status)),
    }
}

/// Says what the harmless request met: a fault and a restart, or none.
fn report(
    server: ServerId,
    before: &ServerInfo,
    answered: Result<(), ClientError>,
    after: Result<ServerInfo, ClientError>,
) {
    let after = match after {
        Ok(info) => info,
        Err(e) => {
            println!("inject: {}", Told(e));
            return;
        }
    };
    let (was, is) = (before.generation, after.generation);
    let faulted = after.faults != before.faults || is != was;
    match (faulted, answered) {
        (true, Ok(())) => println!(
            "inject: {server} faulted and was restarted (generation {was} -> {is}); the retried request succeeded"
        ),
        (true, Err(e)) => println!(
            "inject: {server} faulted (generation {was} -> {is}, now {}); the request failed: {}",
            after.state.name(),
            Told(e)
        ),
        (false, Ok(())) => println!(
            "inject: {server} answered without faulting (generation {is}): the fault was masked, or its \
             damage shows later (a flipped bit of the store, at the next restart)"
        ),
        (false, Err(e)) => println!("inject: {server} did not fault, but the request failed: {}", Told(e)),
    }
}
