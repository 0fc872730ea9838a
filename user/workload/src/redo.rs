//! Requests that may take effect before a fault cuts their reply (open,
//! close, remove, register, unregister, console output, the crash test's
//! recursion): the client stubs send them once and hand a transient status
//! back. Here they are redone, a bounded number of times, once a check
//! with idempotent requests (stat, size, lookup) shows the interrupted
//! attempt did not take effect.

use lazarus_rt::client::ClientError;
use lazarus_rt::sys;

use crate::failure::{is_transient, sent, Check, Failure};

/// Sends of one such request, the first included.
pub const ATTEMPTS: u32 = 5;
/// Pause after the first transient failure, before the check; it doubles
/// after each. Four pauses make 4 + 8 + 16 + 32 = 60 ms, on top of the
/// checks' own retries (each bounded by the stubs' back-off): a server
/// that is not back by then is reported, never waited for.
const PAUSE_FIRST_MS: u64 = 4;

/// What the check after an interrupted request found.
pub enum Effect<T> {
    /// The request took effect; this is its result.
    Done(T),
    /// It did not: send it again.
    Missing,
}

/// Sends `act`; while it fails with a transient status, pauses, asks
/// `effect` whether the interrupted attempt took effect anyway (then its
/// answer is the result) and otherwise sends `act` again, up to
/// [`ATTEMPTS`] sends. A failure that is not transient, or the last
/// transient one, is an error of `what`.
pub fn redo<T>(
    what: &'static str,
    mut act: impl FnMut() -> Result<T, ClientError>,
    mut effect: impl FnMut() -> Check<Effect<T>>,
) -> Check<T> {
    let mut pause_ms = PAUSE_FIRST_MS;
    let mut attempt = 1;
    loop {
        match sent(act()) {
            Ok(value) => return Ok(value),
            Err(error) if is_transient(&error) && attempt < ATTEMPTS => {
                // A sleep cut short only makes the check come sooner.
                let _ = sys::sleep_ms(pause_ms);
                pause_ms *= 2;
                attempt += 1;
                if let Effect::Done(value) = effect()? {
                    return Ok(value);
                }
            }
            Err(error) => return Err(Failure::Error(what, error)),
        }
    }
}

/// [`redo`] for a request whose effect cannot be checked, and whose
/// repetition does no harm: an open (a handle it may have left open is
/// closed with its file, see `file_ops`), console output (a line may show
/// twice), a bounded recursion (it keeps nothing).
pub fn redo_blind<T>(what: &'static str, act: impl FnMut() -> Result<T, ClientError>) -> Check<T> {
    redo(what, act, || Ok(Effect::Missing))
}
