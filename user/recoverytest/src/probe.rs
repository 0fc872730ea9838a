//! What the checks look at and do: a server's counters and memory, a fault
//! injected and set off, a wait until a server answers again.

use lazarus_rt::client::system::{self, ServerInfo, ServerState, ServerUsage};
use lazarus_rt::client::{self, ClientError};
use lazarus_rt::{println, sys};
use server_api::{BlkOp, ConsoleOp, CrashtestOp, FsOp, Name, NameOp, Reply, Request, ServerId, Status};

/// A check's result: `Err` says what went wrong (details printed above).
pub type Outcome = Result<(), &'static str>;

/// Prints the details of a failure and returns it from the function.
#[macro_export]
macro_rules! fail {
    ($why:expr, $($detail:tt)+) => {{
        lazarus_rt::println!("  {}", format_args!($($detail)+));
        return Err($why);
    }};
}

/// Returns `Err(why)` (printing the details) unless `cond` holds.
#[macro_export]
macro_rules! ensure {
    ($cond:expr, $why:expr, $($detail:tt)+) => {
        if !$cond {
            $crate::fail!($why, $($detail)+);
        }
    };
}

/// The servers of the TAS, in start order.
pub const SERVERS: [ServerId; 5] = ServerId::SERVERS;

/// Times a server is asked again while it restarts.
const SERVE_ATTEMPTS: u32 = 100;
/// Pause between those asks.
const SERVE_PAUSE_MS: u64 = 5;

/// One server as `Info` and `Usage` show it.
#[derive(Clone, Copy, Debug)]
pub struct Snapshot {
    /// State and counters.
    pub info: ServerInfo,
    /// Memory.
    pub usage: ServerUsage,
}

/// The index of `server` in start order.
fn index_of(server: ServerId) -> u16 {
    SERVERS.iter().position(|&s| s == server).unwrap_or(usize::MAX) as u16
}

/// `server` now.
pub fn snapshot(server: ServerId) -> Result<Snapshot, &'static str> {
    let index = index_of(server);
    let info = match system::info(index) {
        Ok(Some(info)) if info.server == server => info,
        other => fail!("the system server's Info failed", "Info({index}) of {server}: {other:?}"),
    };
    let usage = match system::usage(index) {
        Ok(Some(usage)) => usage,
        other => fail!("the system server's Usage failed", "Usage({index}) of {server}: {other:?}"),
    };
    Ok(Snapshot { info, usage })
}

/// A request to `server` that changes nothing and reaches its entry
/// injection site (where a fault armed by hand fires).
fn harmless(server: ServerId) -> Request {
    let name = Name::try_new(b"probe").map(|n| n.to_payload()).unwrap_or_default();
    match server {
        ServerId::Console => Request::new(server, ConsoleOp::Flush as u8, 0),
        ServerId::Name => Request::new(server, NameOp::Lookup as u8, 0).with(name),
        ServerId::Fs => Request::new(server, FsOp::Stat as u8, 0).with(name),
        ServerId::Crashtest | ServerId::System => Request::new(server, CrashtestOp::Echo as u8, 0),
        // Without a disk it answers `NoDevice`, past its entry site all the same.
        ServerId::Blk => Request::new(server, BlkOp::Info as u8, 0),
    }
}

/// Arms `model` in `server` by hand.
pub fn inject(server: ServerId, model: &str) -> Outcome {
    match system::inject(server, model) {
        Ok(()) => Ok(()),
        Err(e) => fail!("Inject was refused", "inject {model} into {server}: {e}"),
    }
}

/// Injects `model` into `server` and sets it off with one harmless
/// request, which must come back `ServerFault` from the generation that
/// served before; returns that reply.
pub fn fault(server: ServerId, model: &str) -> Result<Reply, &'static str> {
    let generation = snapshot(server)?.info.generation;
    inject(server, model)?;
    match client::send(&harmless(server)) {
        Ok(reply) if reply.status == Status::ServerFault && reply.generation == u64::from(generation) => Ok(reply),
        other => fail!(
            "the call in flight did not get ServerFault",
            "{model} in {server} (generation {generation}): the call got {other:?}"
        ),
    }
}

/// Waits until `server` answers a harmless request again (anything but a
/// transient status); `Err` if it does not within a second or so.
pub fn serving(server: ServerId) -> Outcome {
    let mut last = Err(ClientError::Server(Status::Restarting));
    for _ in 0..SERVE_ATTEMPTS {
        last = client::send(&harmless(server));
        match last {
            Ok(reply) if !reply.status.is_transient() => return Ok(()),
            Ok(_) => {
                let _ = sys::sleep_ms(SERVE_PAUSE_MS);
            }
            Err(_) => break,
        }
    }
    fail!("the server did not come back", "{server}: last answer {last:?}")
}

/// Checks that `after` is `before` recovered once more from one fault:
/// serving, one generation and one fault on, nothing leaked, and its
/// heap back to what it held before.
pub fn recovered_once(server: ServerId, what: &str, before: &Snapshot, after: &Snapshot) -> Outcome {
    let (b, a) = (&before.info, &after.info);
    ensure!(a.state == ServerState::Serving, "not serving after a recovery", "{what} in {server}: {:?}", a.state);
    ensure!(
        a.generation == b.generation + 1 && a.faults == b.faults + 1,
        "generation or fault count wrong after a recovery",
        "{what} in {server}: generation {} -> {}, faults {} -> {}",
        b.generation,
        a.generation,
        b.faults,
        a.faults
    );
    ensure!(a.leaked == b.leaked, "a recovery leaked", "{what} in {server}: leaked {} -> {} bytes", b.leaked, a.leaked);
    ensure!(
        after.usage.heap_bytes == before.usage.heap_bytes,
        "the heap did not come back to its baseline",
        "{what} in {server}: heap {} -> {} bytes",
        before.usage.heap_bytes,
        after.usage.heap_bytes
    );
    Ok(())
}

/// Prints a line for the log of the test run.
pub fn note(args: core::fmt::Arguments<'_>) {
    println!("  {args}");
}

