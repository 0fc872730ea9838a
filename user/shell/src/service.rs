//! Talking to the servers: the client stubs' errors told in one line, and
//! the repeat of requests the stubs send only once.

use core::fmt;

use lazarus_rt::client::{ClientError, ATTEMPTS, BACKOFF_FIRST_MS, BACKOFF_MAX_MS};
use lazarus_rt::sys;

/// A stub's error, told for the person at the console.
pub struct Told(pub ClientError);

impl fmt::Display for Told {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            // No TAS (a shell started without handle 0), or it died.
            ClientError::Ipc(error) => {
                write!(f, "cannot reach the servers ({error}); is the trusted address space running?")
            }
            ClientError::Server(status) => write!(f, "{status}"),
            ClientError::Invalid => f.write_str("arguments beyond the protocol's limits"),
            ClientError::BadReply => f.write_str("the server's reply makes no sense"),
        }
    }
}

/// Runs `request` again while it fails with a transient status (its
/// server faulted or is restarting), pausing as the stubs do between
/// attempts of an idempotent request.
///
/// For the requests the stubs send once (open, close, remove, console
/// output): the caller knows a repeat is harmless there, and makes a
/// repeat that finds its work done (a file already removed, a handle
/// already closed) a success.
pub fn again<T>(mut request: impl FnMut() -> Result<T, ClientError>) -> Result<T, ClientError> {
    let mut pause_ms = BACKOFF_FIRST_MS;
    let mut attempt = 1;
    loop {
        match request() {
            Err(ClientError::Server(status)) if status.is_transient() && attempt < ATTEMPTS => {
                // A sleep cut short only makes the next attempt come sooner.
                let _ = sys::sleep_ms(pause_ms);
                pause_ms = (pause_ms * 2).min(BACKOFF_MAX_MS);
                attempt += 1;
            }
            result => return result,
        }
    }
}
