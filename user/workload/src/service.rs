//! Calling the servers through the service endpoint, with retries of
//! transient failures (the server is being restarted).

use lazarus_rt::ipc::{self, Handle};
use lazarus_rt::sys;
use server_api::{Payload, Reply, Request, Status};

/// The service endpoint (handle 0, given by the kernel).
const SERVICE: Handle = Handle(0);
/// Attempts of one call while its server recovers.
const ATTEMPTS: u32 = 20;
/// Pause between attempts: a restart takes well under this.
const RETRY_PAUSE_MS: u64 = 10;

/// Calls the server; transient failures are retried. Every request the
/// workload makes is idempotent or checked before it is redone.
pub fn call(request: Request) -> Result<Payload, Status> {
    let mut last = Status::ServerFault;
    for attempt in 0..ATTEMPTS {
        let reply = ipc::call(SERVICE, request.encode())
            .map_err(|_| Status::ServerDead)
            .and_then(Reply::decode)?;
        match reply.into_result() {
            Err(s) if s.is_transient() => {
                last = s;
                // The TAS restarts a server before it answers the faulted
                // call, so the first retry goes at once; later ones wait
                // for a back-off or a slow restart.
                if attempt > 0 {
                    let _ = sys::sleep_ms(RETRY_PAUSE_MS);
                }
            }
            other => return other,
        }
    }
    Err(last)
}
