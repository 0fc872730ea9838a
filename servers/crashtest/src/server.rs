//! [`CrashtestServer`]: the crash-test server's operations, well-behaved and not.

use alloc::vec::Vec;
use core::hint::black_box;

use server_api::ops::crashtest::{
    checksum_step, compute_word, CrashtestOp, CHECKSUM_START, COMPUTE_WORDS_MAX, RECURSE_DEPTH_MAX,
};
use server_api::{Env, InitNote, Payload, Request, Server, Status};

use crate::sites;

/// Bytes of the buffer each `Recurse` frame puts on the stack: enough that
/// an unbounded recursion reaches the guard page quickly.
const FRAME_BYTES: usize = 256;

/// The crash-test server. It holds no state.
#[derive(Debug)]
pub struct CrashtestServer;

impl Server for CrashtestServer {
    const SITES: u32 = sites::COUNT;
    const KEPT_WORDS: usize = 0;

    fn init(_env: &mut dyn Env) -> (Self, InitNote) {
        (CrashtestServer, InitNote::NothingKept)
    }

    fn handle(&mut self, env: &mut dyn Env, request: &Request) -> Result<Payload, Status> {
        env.site(sites::ENTRY);
        match CrashtestOp::from_number(request.op).ok_or(Status::BadRequest)? {
            CrashtestOp::Echo => {
                let answer = request.payload.words.map(|word| word.wrapping_add(1));
                env.site(sites::ECHO);
                Ok(Payload::words(answer))
            }
            CrashtestOp::Compute => compute(env, request.arg).map(Payload::word),
            CrashtestOp::Panic => panic!("crashtest: panic on request"),
            CrashtestOp::Hang => loop {
                env.site(sites::HANG);
            },
            CrashtestOp::Recurse => {
                let depth = request.arg;
                if depth > RECURSE_DEPTH_MAX {
                    return Err(Status::BadRequest);
                }
                // Depth 0: no bound, until the stack overflows.
                let bound = (depth != 0).then_some(depth);
                Ok(Payload::word(recurse(env, 1, bound)))
            }
        }
    }
}

/// Fills a heap vector of `n` words and answers its checksum.
fn compute(env: &mut dyn Env, n: u16) -> Result<u64, Status> {
    if n > COMPUTE_WORDS_MAX {
        return Err(Status::BadRequest);
    }
    let mut words = Vec::with_capacity(usize::from(n));
    words.extend((0..u64::from(n)).map(compute_word));
    env.site(sites::COMPUTE);
    Ok(words.iter().fold(CHECKSUM_START, |checksum, &word| checksum_step(checksum, word)))
}

/// Recurses from `level` down to `bound` (forever with none), each frame
/// holding a buffer on the stack; the level reached.
fn recurse(env: &mut dyn Env, level: u16, bound: Option<u16>) -> u64 {
    let mut frame = [0u8; FRAME_BYTES];
    frame[0] = level as u8;
    // The buffer must exist on the stack: the optimizer may not shrink it
    // or turn the recursion into a loop.
    black_box(&mut frame);
    env.site(sites::RECURSE);
    let reached = match bound {
        Some(bound) if level >= bound => u64::from(level),
        _ => recurse(env, level.saturating_add(1), bound),
    };
    black_box(&frame);
    reached
}
