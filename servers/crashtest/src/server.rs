//! [`CrashtestServer`]: the crash-test server's operations, well-behaved and not.

use alloc::vec::Vec;
use core::hint::black_box;

use server_api::ops::crashtest::{
    checksum_step, compute_word, timed_call, CrashtestOp, RelayOutcome, Timings, CHECKSUM_START, COMPUTE_WORDS_MAX,
    RECURSE_DEPTH_MAX, TIME_CALLS_MAX, TIME_WARMUP_CALLS,
};
use server_api::{CallError, Env, InitNote, LockId, Payload, Request, Server, ServerId, Status, PAYLOAD_BYTES};

use crate::sites;

/// Bytes of the buffer each `Recurse` frame puts on the stack: enough that
/// an unbounded recursion reaches the guard page quickly.
const FRAME_BYTES: usize = 256;

/// The crash-test server. It holds no state.
#[derive(Debug)]
pub struct CrashtestServer;

impl Server for CrashtestServer {
    const SITES: u32 = sites::COUNT;
    const CAMPAIGN_SITES: u32 = sites::WELL_BEHAVED;
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
            CrashtestOp::Relay => relay(env, request).map(|outcome| outcome.encode()),
            CrashtestOp::HoldLock => {
                let fault = match request.arg {
                    0 => false,
                    1 => true,
                    _ => return Err(Status::BadRequest),
                };
                env.locked(LockId::CONSOLE, &mut |_| {
                    if fault {
                        panic!("crashtest: panic while holding the console lock");
                    }
                })?;
                Ok(Payload::EMPTY)
            }
            CrashtestOp::TimeCalls => time_calls(env, request.arg).map(|timings| timings.encode()),
        }
    }
}

/// Times `n` calls of [`timed_call`] to another server, after a warm-up.
fn time_calls(env: &mut dyn Env, n: u16) -> Result<Timings, Status> {
    if n == 0 || n > TIME_CALLS_MAX {
        return Err(Status::BadRequest);
    }
    let request = timed_call();
    // Allocated before the first sample: no sample pays for the heap.
    let mut samples = Vec::with_capacity(usize::from(n));
    for _ in 0..TIME_WARMUP_CALLS {
        answered(env.call(&request))?;
    }
    for _ in 0..n {
        let start = env.cycles();
        let answer = env.call(&request);
        let end = env.cycles();
        answered(answer)?;
        samples.push(end.wrapping_sub(start));
    }
    Timings::of(&mut samples).ok_or(Status::BadRequest)
}

/// A timed call's answer as the status `TimeCalls` ends with: the callee's
/// refusal, or `Restarting` for its fault (crashtest did not fault).
fn answered(answer: Result<Payload, CallError>) -> Result<(), Status> {
    match answer {
        Ok(_) => Ok(()),
        Err(CallError::ServerFault { .. }) => Err(Status::Restarting),
        Err(CallError::Refused(status)) => Err(status),
    }
}

/// Calls the server `request.arg` with the request packed in the payload
/// (word 0: op in bits 0-7, arg in 8-23, payload byte length in 24-31, 0
/// for words; words 1-2: the payload's first two words) and reports what
/// came back.
fn relay(env: &mut dyn Env, request: &Request) -> Result<RelayOutcome, Status> {
    let server = u8::try_from(request.arg).ok().and_then(ServerId::from_number).ok_or(Status::BadRequest)?;
    if server == ServerId::System {
        return Err(Status::BadRequest);
    }
    let [control, first, second] = request.payload.words;
    let len = (control >> 24) as u8;
    if usize::from(len) > PAYLOAD_BYTES {
        return Err(Status::BadRequest);
    }
    let payload = Payload { len, words: [first, second, 0] };
    let inner = Request::new(server, control as u8, (control >> 8) as u16).with(payload);
    Ok(match env.call(&inner) {
        Ok(answer) => RelayOutcome { status: Status::Ok, faulted_generation: 0, word: answer.words[0] },
        Err(CallError::ServerFault { generation, .. }) => {
            RelayOutcome { status: Status::ServerFault, faulted_generation: generation, word: 0 }
        }
        Err(CallError::Refused(status)) => RelayOutcome { status, faulted_generation: 0, word: 0 },
    })
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
