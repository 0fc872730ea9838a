//! The crash-test server's part: the operations that do not fault on
//! purpose, each checked against the answer computed here.
//!
//! | step | request | sites (`crashtest_server::sites`) |
//! |---|---|---|
//! | echo three words | `Echo` | `ENTRY`, `ECHO` |
//! | checksums over 1 to 4096 words of its heap | `Compute` ×2 | `COMPUTE` |
//! | recurse 1 to [`DEPTH_MAX`] frames | `Recurse` | `RECURSE` |
//!
//! The `HANG` site is reached by the `Hang` request alone, which always
//! ends in the watchdog: the workload never sends it, so a fault planned
//! there never fires.

use lazarus_rt::client::crashtest::{self, compute_checksum};
use server_api::ops::crashtest::COMPUTE_WORDS_MAX;

use crate::failure::{called, same, Check, Failure};
use crate::redo::redo_blind;

/// Deepest recursion asked for: about 2 KiB of the server's stack.
const DEPTH_MAX: u64 = 8;
/// The `Compute` sizes the rounds take in turn: the largest, the
/// smallest, and sizes between (pages of the server's heap, and not).
const COMPUTE_SIZES: [u16; 8] = [COMPUTE_WORDS_MAX, 1, 2048, 37, 3000, 512, COMPUTE_WORDS_MAX - 1, 129];
/// `Compute` requests a round: with [`COMPUTE_SIZES`], about 3,500 words
/// of the server's work a round, so that the server runs a fair share of
/// the time (a `regflip` fires only while its target runs).
const COMPUTES_PER_ROUND: u64 = 2;

/// The crash-test server's golden answers.
pub struct Crashtest {
    /// The checksum of each of [`COMPUTE_SIZES`], computed once: the
    /// rounds spend their time in the server, not in computing answers
    /// again (a `regflip` fires only while its target runs).
    checksums: [u64; COMPUTE_SIZES.len()],
}

impl Default for Crashtest {
    fn default() -> Self {
        Self::new()
    }
}

impl Crashtest {
    /// Computes the golden answers.
    pub fn new() -> Self {
        Crashtest { checksums: COMPUTE_SIZES.map(compute_checksum) }
    }

    /// Round `round` of the crash-test server.
    pub fn round(&self, round: u64) -> Check {
        let words = [round, round.wrapping_mul(2), !round];
        let answer = called("echo", crashtest::echo(words))?;
        if answer != words.map(|word| word.wrapping_add(1)) {
            return Err(Failure::Wrong("echo answered other words"));
        }

        // Two sizes a round, the next two of the table: the server spends
        // a fair share of the run computing.
        for turn in 0..COMPUTES_PER_ROUND {
            let at = (round.wrapping_mul(COMPUTES_PER_ROUND).wrapping_add(turn) % COMPUTE_SIZES.len() as u64) as usize;
            let (Some(&n), Some(&checksum)) = (COMPUTE_SIZES.get(at), self.checksums.get(at)) else {
                return Err(Failure::Wrong("no such compute size"));
            };
            same("compute checksum", checksum, called("compute", crashtest::compute(n))?)?;
        }

        // The stub sends a recursion once (an unbounded one overflows the
        // stack on purpose); a bounded one keeps nothing, so it is redone.
        let depth = round % DEPTH_MAX + 1;
        same("recursion depth reached", depth, redo_blind("recurse", || crashtest::recurse(depth as u16))?)
    }
}
