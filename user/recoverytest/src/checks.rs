//! The checks, in the order they run. Order matters where a check leaves
//! the system changed: the kept-state damage check wipes fs's files, and
//! the escalation check leaves crashtest dead, so they come last.
//!
//! Not checked here: the `restart` and `none` configurations (the TAS
//! reads its configuration from the boot options, which are the test
//! group's); the campaign covers them.

use lazarus_rt::client::system::{self, ServerState};
use lazarus_rt::client::{self, console, crashtest, fs, name, ClientError};
use lazarus_rt::sys;
use server_api::{FsOp, Name, Request, ServerId, Status};

use crate::probe::{fault, inject, note, recovered_once, serving, snapshot, Outcome, SERVERS};
use crate::{ensure, fail};

/// A check: its name (as the kernel's test case reports it) and body.
pub struct Check {
    /// Name.
    pub name: &'static str,
    /// Body.
    pub run: fn() -> Outcome,
}

/// Every check, in order. The kernel's `recovery` test group names them
/// by index (exit-code bit), so keep them in step.
pub const ALL: &[Check] = &[
    Check { name: "every_fault_kind_in_every_server_is_recovered", run: every_fault_kind },
    Check { name: "a_stale_generation_gets_the_typed_error", run: stale_generation },
    Check { name: "an_idempotent_request_is_retried_and_succeeds", run: idempotent_retry },
    Check { name: "a_thousand_fs_restarts_lose_nothing", run: thousand_restarts },
    Check { name: "servers_call_servers_and_shared_locks_outlive_faults", run: calls_and_locks },
    Check { name: "kept_state_bit_flips_are_corrected_or_detected", run: store_flips },
    Check { name: "the_policy_escalates_after_too_many_faults", run: escalation },
];

/// The faults a user can inject by name, one of each CPU exception and
/// language-level failure.
pub const MODELS: [&str; 8] = ["panic", "pagefault", "gp", "ud", "divide", "stackoverflow", "cfi", "hang"];

/// The file every check reads back, and what it holds.
const KEEP: &str = "keep";
const KEEP_TEXT: &[u8] = b"written before any fault";
/// The name registered before any fault, and its value.
const KEEPER: &str = "keeper";
const KEEPER_VALUE: u64 = 0x1a2a_5eed;

/// Restarts of fs in the long check.
const RESTARTS: u32 = 1000;
/// Least time between two of them: the recovery manager allows 30
/// restarts a second before it gives up on a server, and this check is
/// about restarts, not about that policy.
const RESTART_SPACING_NS: u64 = 40_000_000;
/// Bytes written per restart in the long check, and the chunks of the
/// file it cycles over.
const CHUNK: usize = 16;
const CHUNKS: u64 = 16;
/// Faults the escalation check makes at most.
const ESCALATION_FAULTS_MAX: u32 = 64;

/// Writes `KEEP` and registers `KEEPER` if they are not there yet.
fn keep_something() -> Outcome {
    if fs::stat(KEEP) != Ok(KEEP_TEXT.len() as u64) {
        let written = fs::open(KEEP, true).and_then(|h| fs::write(h, 0, KEEP_TEXT).and(fs::close(h)));
        ensure!(written.is_ok(), "cannot write the file", "{KEEP}: {written:?}");
    }
    match name::register(KEEPER, KEEPER_VALUE) {
        Ok(()) | Err(ClientError::Server(Status::Exists)) => Ok(()),
        Err(e) => fail!("cannot register the name", "{KEEPER}: {e}"),
    }
}

/// Checks that the file and the name kept before the faults are intact.
fn kept_intact(after: &str) -> Outcome {
    let mut buf = [0u8; 32];
    let read = fs::open(KEEP, false).and_then(|h| {
        let n = fs::read(h, 0, &mut buf);
        fs::close(h).and(n)
    });
    ensure!(read == Ok(KEEP_TEXT.len()) && &buf[..KEEP_TEXT.len()] == KEEP_TEXT, "fs lost data", "after {after}: read {read:?}");
    let value = name::lookup(KEEPER);
    ensure!(value == Ok(KEEPER_VALUE), "name lost a registration", "after {after}: lookup {value:?}");
    Ok(())
}

fn every_fault_kind() -> Outcome {
    keep_something()?;
    for server in SERVERS {
        for model in MODELS {
            let before = snapshot(server)?;
            fault(server, model)?;
            serving(server)?;
            recovered_once(server, model, &before, &snapshot(server)?)?;
            kept_intact(model)?;
        }
        let info = snapshot(server)?.info;
        note(format_args!(
            "{server}: {} faults, generation {}, released by unwinding {} B, reclaimed by the backstop {} B, leaked {} B, median latency {} us",
            info.faults,
            info.generation,
            info.released_by_unwinding,
            info.reclaimed_by_backstop,
            info.leaked,
            info.median_latency_us
        ));
    }
    Ok(())
}

/// The request `Size` of `handle`, for instance `generation` only.
fn size_at(handle: fs::FileHandle, generation: u32) -> Result<server_api::Reply, &'static str> {
    let request = Request::new(ServerId::Fs, FsOp::Size as u8, handle.0).expecting(generation);
    let Some(request) = request else { fail!("generation out of range", "{generation}") };
    client::send(&request).map_err(|_| "the size request failed")
}

fn stale_generation() -> Outcome {
    let handle = fs::open(KEEP, false).map_err(|_| "cannot open the file")?;
    let generation = snapshot(ServerId::Fs)?.info.generation;
    let fresh = size_at(handle, generation)?;
    ensure!(fresh.status == Status::Ok, "the current generation was refused", "{fresh:?}");
    fault(ServerId::Fs, "panic")?;
    serving(ServerId::Fs)?;
    let stale = size_at(handle, generation)?;
    ensure!(
        stale.status == Status::StaleGeneration && stale.generation == u64::from(generation) + 1,
        "a stale generation was not refused",
        "expecting {generation} after a restart: {stale:?}"
    );
    let current = size_at(handle, generation + 1)?;
    ensure!(current.status == Status::Ok, "the new generation was refused", "{current:?}");
    fs::close(handle).map_err(|_| "cannot close the file")
}

fn idempotent_retry() -> Outcome {
    let handle = fs::open(KEEP, false).map_err(|_| "cannot open the file")?;
    let before = snapshot(ServerId::Fs)?;
    inject(ServerId::Fs, "panic")?;
    let mut buf = [0u8; 32];
    let read = fs::read(handle, 0, &mut buf);
    ensure!(
        read == Ok(KEEP_TEXT.len()) && &buf[..KEEP_TEXT.len()] == KEEP_TEXT,
        "the retried read did not succeed",
        "read through a fault: {read:?}"
    );
    recovered_once(ServerId::Fs, "a retried read", &before, &snapshot(ServerId::Fs)?)?;
    fs::close(handle).map_err(|_| "cannot close the file")
}

/// The bytes written at restart `i`.
fn chunk_of(i: u64) -> [u8; CHUNK] {
    let mut out = [0u8; CHUNK];
    for (k, b) in out.iter_mut().enumerate() {
        *b = (i.wrapping_mul(131) ^ (k as u64 * 7)) as u8;
    }
    out
}

fn thousand_restarts() -> Outcome {
    let handle = fs::open("restarts", true).map_err(|_| "cannot open the file")?;
    let baseline = snapshot(ServerId::Fs)?;
    let started = sys::uptime_ns();
    let mut last_fault = 0u64;
    let mut buf = [0u8; CHUNK];
    for i in 0..u64::from(RESTARTS) {
        let since = sys::uptime_ns().saturating_sub(last_fault);
        if since < RESTART_SPACING_NS {
            let _ = sys::sleep_ms((RESTART_SPACING_NS - since).div_ceil(1_000_000));
        }
        last_fault = sys::uptime_ns();
        inject(ServerId::Fs, "panic")?;
        // The write faults, the stub sends it again to the new instance.
        let offset = (i % CHUNKS) * CHUNK as u64;
        let written = fs::write(handle, offset, &chunk_of(i));
        ensure!(written.is_ok(), "a write through a restart failed", "restart {i}: {written:?}");
        let read = fs::read(handle, offset, &mut buf);
        ensure!(read == Ok(CHUNK) && buf == chunk_of(i), "a read after a restart differs", "restart {i}: {read:?}");
    }
    for i in u64::from(RESTARTS) - CHUNKS..u64::from(RESTARTS) {
        let read = fs::read(handle, (i % CHUNKS) * CHUNK as u64, &mut buf);
        ensure!(read == Ok(CHUNK) && buf == chunk_of(i), "the file lost a write", "chunk of restart {i}: {read:?}");
    }
    let after = snapshot(ServerId::Fs)?;
    let (b, a) = (&baseline, &after);
    ensure!(
        a.info.generation == b.info.generation + RESTARTS && a.info.state == ServerState::Serving,
        "not every fault was a restart",
        "generation {} -> {}, {:?}",
        b.info.generation,
        a.info.generation,
        a.info.state
    );
    ensure!(
        a.info.leaked == b.info.leaked && a.usage.heap_bytes == b.usage.heap_bytes,
        "memory grew over the restarts",
        "leaked {} -> {} B, heap {} -> {} B",
        b.info.leaked,
        a.info.leaked,
        b.usage.heap_bytes,
        a.usage.heap_bytes
    );
    note(format_args!(
        "{RESTARTS} fs restarts in {} ms: heap {} B before and after, median recovery latency {} us",
        (sys::uptime_ns() - started) / 1_000_000,
        a.usage.heap_bytes,
        a.info.median_latency_us
    ));
    kept_intact("the restarts")?;
    fs::close(handle).map_err(|_| "cannot close the file")
}

/// A server calls another inside the TAS: the callee's answer comes back;
/// a fault of the callee comes back as `ServerFault` with its generation
/// while the caller goes on; a server that faults holding the console
/// lock does not keep the console from writing.
fn calls_and_locks() -> Outcome {
    let Ok(keep) = Name::try_new(KEEP.as_bytes()) else { fail!("a bad name", "{KEEP}") };
    let stat = Request::new(ServerId::Fs, FsOp::Stat as u8, 0).with(keep.to_payload());
    let answered = crashtest::relay(&stat);
    ensure!(
        matches!(answered, Ok(o) if o.status == Status::Ok && o.word == KEEP_TEXT.len() as u64),
        "a call between servers did not get the callee's answer",
        "crashtest -> fs stat {KEEP}: {answered:?}"
    );
    let (caller, callee) = (snapshot(ServerId::Crashtest)?, snapshot(ServerId::Fs)?);
    inject(ServerId::Fs, "panic")?;
    let faulted = crashtest::relay(&stat);
    ensure!(
        matches!(faulted, Ok(o) if o.status == Status::ServerFault && o.faulted_generation == callee.info.generation),
        "the callee's fault did not come back as ServerFault with its generation",
        "crashtest -> fs with a panic armed: {faulted:?} (fs was generation {})",
        callee.info.generation
    );
    recovered_once(ServerId::Fs, "a fault in a call from crashtest", &callee, &snapshot(ServerId::Fs)?)?;
    let after = snapshot(ServerId::Crashtest)?;
    ensure!(after.info.generation == caller.info.generation, "the caller was restarted too", "{:?}", after.info);
    kept_intact("a fault in a call between servers")?;

    let before = snapshot(ServerId::Crashtest)?;
    let held = crashtest::hold_lock(true);
    ensure!(held == Err(ClientError::Server(Status::ServerFault)), "HoldLock did not fault", "{held:?}");
    serving(ServerId::Crashtest)?;
    let written = console::write(b"recoverytest: the console writes after a fault that held its lock\n").and(console::flush());
    ensure!(written.is_ok(), "the console is stuck behind a faulted server's lock", "{written:?}");
    let after = snapshot(ServerId::Crashtest)?;
    ensure!(
        after.usage.locks_released_by_unwinding == before.usage.locks_released_by_unwinding + 1 && after.info.leaked == before.info.leaked,
        "the lock was not released by unwinding, or something leaked",
        "locks released by unwinding {} -> {}, reclaimed {} -> {}, leaked {} -> {}",
        before.usage.locks_released_by_unwinding,
        after.usage.locks_released_by_unwinding,
        before.usage.locks_reclaimed_by_backstop,
        after.usage.locks_reclaimed_by_backstop,
        before.info.leaked,
        after.info.leaked
    );
    ensure!(crashtest::hold_lock(false).is_ok(), "the lock cannot be taken again", "after the fault");
    Ok(())
}

/// Damages fs's kept-state store with `flip` (set off by a harmless
/// request: no fault), then restarts fs so its `init` reads the store.
fn flip_then_restart(flip: &str) -> Outcome {
    inject(ServerId::Fs, flip)?;
    serving(ServerId::Fs)?;
    fault(ServerId::Fs, "panic")?;
    serving(ServerId::Fs)
}

fn store_flips() -> Outcome {
    let before = snapshot(ServerId::Fs)?;
    flip_then_restart("storeflip")?;
    let after = snapshot(ServerId::Fs)?;
    ensure!(
        after.usage.corrected == before.usage.corrected + 1 && after.usage.damaged == before.usage.damaged,
        "a single flip was not corrected and counted",
        "corrected {} -> {}, damaged {} -> {}",
        before.usage.corrected,
        after.usage.corrected,
        before.usage.damaged,
        after.usage.damaged
    );
    kept_intact("a corrected flip")?;

    flip_then_restart("storeflip2")?;
    let damaged = snapshot(ServerId::Fs)?;
    ensure!(
        damaged.usage.damaged == after.usage.damaged + 1,
        "a double flip was not detected",
        "damaged {} -> {}",
        after.usage.damaged,
        damaged.usage.damaged
    );
    let stat = fs::stat(KEEP);
    ensure!(
        stat == Err(ClientError::Server(Status::NotFound)),
        "fs used damaged state instead of starting clean",
        "stat {KEEP}: {stat:?}"
    );
    let mut line = [0u8; 128];
    let mut logged = false;
    for index in 0.. {
        match system::log_line(index, &mut line) {
            Ok(Some(n)) => logged |= contains(&line[..n], b"fs generation") && contains(&line[..n], b"damaged"),
            _ => break,
        }
    }
    ensure!(logged, "the clean start was not logged", "no log line says fs found its kept state damaged");
    Ok(())
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn escalation() -> Outcome {
    let mut faults = 0;
    while faults < ESCALATION_FAULTS_MAX {
        if snapshot(ServerId::Crashtest)?.info.state == ServerState::Dead {
            break;
        }
        inject(ServerId::Crashtest, "panic")?;
        let answer = crashtest::echo([1, 2, 3]);
        ensure!(
            matches!(answer, Ok(_) | Err(ClientError::Server(Status::ServerFault | Status::Restarting | Status::ServerDead))),
            "a call got something other than a typed error",
            "fault {faults}: {answer:?}"
        );
        faults += 1;
    }
    let info = snapshot(ServerId::Crashtest)?.info;
    ensure!(info.state == ServerState::Dead, "the server was never given up on", "after {faults} faults: {info:?}");
    let call = crashtest::echo([1, 2, 3]);
    ensure!(call == Err(ClientError::Server(Status::ServerDead)), "a dead server's call is not ServerDead", "{call:?}");
    ensure!(crashtest_is_alone(), "a dead server took others with it", "another server stopped answering");
    note(format_args!("crashtest marked dead after {faults} more faults ({} in all)", info.faults));
    Ok(())
}

/// Whether the other servers still answer.
fn crashtest_is_alone() -> bool {
    SERVERS.iter().filter(|&&s| s != ServerId::Crashtest).all(|&s| serving(s).is_ok())
}
