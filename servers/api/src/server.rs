//! The trait every server of the trusted address space implements.

use crate::env::Env;
use crate::message::{Payload, Request};
use crate::status::Status;

/// A server: one value holds an instance's whole state, so dropping it
/// resets the server.
pub trait Server: Sized {
    /// Number of fault-injection sites in the server's code (see
    /// [`Env::site`]); at least 1.
    const SITES: u32;

    /// Sites a campaign plans faults at: the first this many. Sites past
    /// them are reached only by requests that misbehave on purpose (a
    /// workload of good requests never gets there), so a fault planned
    /// there would never fire.
    const CAMPAIGN_SITES: u32 = Self::SITES;

    /// Words of kept-state region the server needs (0: it keeps nothing).
    const KEPT_WORDS: usize;

    /// Starts an instance. `env.kept()` is the region a previous instance
    /// left (or zeroes on the first start): the server restores what it
    /// kept, or formats the region when it is empty or damaged beyond
    /// repair (and says so in the returned note).
    fn init(env: &mut dyn Env) -> (Self, InitNote);

    /// Serves one request.
    fn handle(&mut self, env: &mut dyn Env, request: &Request) -> Result<Payload, Status>;
}

/// What `init` found in the kept-state region.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InitNote {
    /// The server keeps nothing.
    NothingKept,
    /// The region was empty (first start): formatted.
    Formatted,
    /// The kept state was restored; `corrected` single-bit errors were
    /// corrected on the way.
    Restored {
        /// Corrected single-bit errors.
        corrected: u64,
    },
    /// The kept state was damaged beyond correction (a double-bit error):
    /// the region was formatted and the server started clean.
    DamagedFormatted,
}
