//! Proof that a process's threads work, from ring 3, through the runtime's
//! `thread` module: threads share memory and run at once, `ps` lists each
//! with its process, `thread_join` returns codes and refuses what it must,
//! threads of one process talk over IPC, a join waits for its target, and
//! the runtime gives out every stack slot and no more.
//!
//! The kernel's `user_threads` group runs it with one handle: 0, an
//! endpoint of its own (one of its threads serves it). Each check prints
//! `check: NAME ok` or `check: NAME failed: WHY`; bit `i` of the exit code
//! is set when check `i` failed.

#![no_std]
#![no_main]
#![forbid(unsafe_code)]

use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use lazarus_rt::checks::{ensure, run_all, Check, Failure};
use lazarus_rt::ipc::{self, Handle};
use lazarus_rt::thread::{self, Thread, STACK_SLOTS};
use lazarus_rt::{sys, SyscallError};

/// Every check, in the order of the exit code's bits (the kernel's test
/// cases name them the same).
const ALL: &[Check] = &[
    Check { name: "threads_share_memory_and_run_concurrently", run: shared_memory },
    Check { name: "ps_lists_every_thread_with_its_process", run: listed },
    Check { name: "join_refuses_itself_strangers_and_a_second_join", run: join_refusals },
    Check { name: "a_code_is_kept_until_joined", run: code_kept },
    Check { name: "threads_of_one_process_talk_over_ipc", run: ipc_between_threads },
    Check { name: "a_thread_blocked_in_join_wakes_when_its_target_ends", run: join_chain },
    Check { name: "the_runtime_gives_out_every_stack_slot_and_no_more", run: slots },
];

/// Workers of the first check, and the additions each makes.
const WORKERS: u64 = 4;
const ADDITIONS: u64 = 200;
/// Rounds a thread waits for another, at most (with a yield each).
const PATIENCE: u32 = 100_000;

static COUNTER: AtomicU64 = AtomicU64::new(0);
static STARTED: AtomicU64 = AtomicU64::new(0);
/// Parked threads wait until this is set.
static RELEASE: AtomicBool = AtomicBool::new(false);

fn spawn(f: fn(u64) -> u32, arg: u64) -> Result<Thread, Failure> {
    thread::spawn(f, arg).map_err(|e| Failure("spawn", e as u64))
}

fn join(t: Thread) -> Result<u32, Failure> {
    t.join().map_err(|e| Failure("join", e as u64))
}

/// Adds to the shared counter, after waiting until every worker has
/// started (so they all live at once); returns `10 * arg + 1`.
fn worker(arg: u64) -> u32 {
    STARTED.fetch_add(1, Ordering::SeqCst);
    let mut rounds = 0;
    while STARTED.load(Ordering::SeqCst) < WORKERS && rounds < PATIENCE {
        sys::yield_now();
        rounds += 1;
    }
    for i in 0..ADDITIONS {
        COUNTER.fetch_add(1, Ordering::SeqCst);
        if i % 16 == 0 {
            sys::yield_now();
        }
    }
    (10 * arg + 1) as u32
}

fn shared_memory() -> Result<(), Failure> {
    let mut threads = alloc_free::Threads::new();
    for i in 0..WORKERS {
        let _ = threads.push(spawn(worker, i)?);
    }
    for (i, t) in threads.into_iter().enumerate() {
        let code = join(t)?;
        ensure(code == 10 * i as u32 + 1, "a worker's code", u64::from(code))?;
    }
    ensure(STARTED.load(Ordering::SeqCst) == WORKERS, "workers started", STARTED.load(Ordering::SeqCst))?;
    let total = COUNTER.load(Ordering::SeqCst);
    ensure(total == WORKERS * ADDITIONS, "every addition of every worker", total)
}

/// Waits until [`RELEASE`]; returns 0.
fn parked(_: u64) -> u32 {
    while !RELEASE.load(Ordering::SeqCst) {
        let _ = sys::sleep_ms(1);
    }
    0
}

/// The process column of `ps`'s row for thread `id`.
fn process_of(id: u64) -> Result<u64, Failure> {
    let mut buf = [0u8; 4096];
    let n = sys::thread_list(&mut buf).map_err(|e| Failure("thread_list", e as u64))?;
    let text = core::str::from_utf8(&buf[..n]).map_err(|_| Failure("thread_list is not text", n as u64))?;
    for line in text.lines().skip(1) {
        let mut cols = line.split_whitespace();
        let row = cols.next().and_then(|c| c.parse::<u64>().ok());
        if row == Some(id) {
            return cols.next().and_then(|c| c.parse().ok()).ok_or(Failure("no process column for thread", id));
        }
    }
    Err(Failure("thread not listed", id))
}

/// The id of this process's first thread (its process's id), from `ps`.
fn main_thread() -> Result<u64, Failure> {
    let t = spawn(|_| 0, 0)?;
    let pid = process_of(t.id());
    join(t)?;
    pid
}

fn listed() -> Result<(), Failure> {
    RELEASE.store(false, Ordering::SeqCst);
    let (a, b) = (spawn(parked, 0)?, spawn(parked, 0)?);
    let (pa, pb) = (process_of(a.id()), process_of(b.id()));
    RELEASE.store(true, Ordering::SeqCst);
    let (pa, pb) = (pa?, pb?);
    ensure(pa == pb, "both threads in one process", pb)?;
    // The first thread's row names itself as the process.
    ensure(process_of(pa)? == pa, "the first thread's process is itself", pa)?;
    ensure(a.id() != b.id() && a.id() != pa, "thread ids are distinct", a.id())?;
    join(a)?;
    join(b).map(drop)
}

fn join_refusals() -> Result<(), Failure> {
    let me = main_thread()?;
    let refused = |id: u64, want: SyscallError| match sys::thread_join(id) {
        Err(e) if e == want => Ok(()),
        other => Err(Failure("join refusal", other.map_or_else(|e| e as u64, u64::from))),
    };
    refused(me, SyscallError::InvalidArgument)?;
    refused(0xDEAD_BEEF, SyscallError::BadHandle)?;
    let t = spawn(|_| 3, 0)?;
    let id = t.id();
    ensure(join(t)? == 3, "the code", 0)?;
    refused(id, SyscallError::BadHandle)
}

fn code_kept() -> Result<(), Failure> {
    let t = spawn(|arg| arg as u32, 77)?;
    // Long after it ended.
    let _ = sys::sleep_ms(30);
    let code = join(t)?;
    ensure(code == 77, "the code of a thread that ended before the join", u64::from(code))
}

/// The endpoint the process serves (handle 0), and the word that ends
/// its server thread.
const OWN: Handle = Handle(0);
const STOP: u64 = u64::MAX;

/// Serves [`OWN`]: answers `[x, y, ..]` with `[x + y, x * y, n, 0]` (`n`:
/// the requests answered so far) until the one-way message [`STOP`];
/// returns the requests answered.
fn server(_: u64) -> u32 {
    let mut served = 0;
    let mut message = ipc::recv(OWN);
    while let Ok(m) = message {
        if m[0] == STOP {
            return served;
        }
        served += 1;
        let reply = [m[0].wrapping_add(m[1]), m[0].wrapping_mul(m[1]), u64::from(served), 0];
        message = ipc::reply_recv(OWN, reply);
    }
    u32::MAX
}

fn ipc_between_threads() -> Result<(), Failure> {
    let s = spawn(server, 0)?;
    for i in 1..=50u64 {
        let reply = ipc::call(OWN, [i, i + 1, 0, 0]).map_err(|e| Failure("call", e as u64))?;
        ensure(reply[0] == 2 * i + 1 && reply[1] == i * (i + 1) && reply[2] == i, "a reply", reply[0])?;
    }
    ipc::send(OWN, [STOP, 0, 0, 0], 1000).map_err(|e| Failure("the stop message", e as u64))?;
    let served = join(s)?;
    ensure(served == 50, "the server thread answered every call", u64::from(served))
}

/// The thread `arg` names ends after 30 ms with 5; this one joins it and
/// returns its code plus one.
fn joiner(target: u64) -> u32 {
    sys::thread_join(target).map_or(0, |code| code + 1)
}

fn join_chain() -> Result<(), Failure> {
    let target = spawn(
        |_| {
            let _ = sys::sleep_ms(30);
            5
        },
        0,
    )?;
    let j = spawn(joiner, target.id())?;
    let code = join(j)?;
    ensure(code == 6, "the joiner got the target's code", u64::from(code))?;
    // Joined by the other thread already: the runtime frees its stack.
    match target.join() {
        Err(SyscallError::BadHandle) => Ok(()),
        other => Err(Failure("a second join of the target", other.map_or_else(|e| e as u64, u64::from))),
    }
}

fn slots() -> Result<(), Failure> {
    RELEASE.store(false, Ordering::SeqCst);
    let mut threads = alloc_free::Threads::new();
    let refusal = loop {
        match thread::spawn(parked, 0) {
            Ok(t) => {
                if threads.push(t).is_err() {
                    break None;
                }
            }
            Err(e) => break Some(e),
        }
    };
    let count = threads.len() as u64;
    RELEASE.store(true, Ordering::SeqCst);
    for t in threads {
        join(t)?;
    }
    ensure(refusal == Some(SyscallError::QuotaExceeded), "the refusal after the last slot", refusal.map_or(0, |e| e as u64))?;
    ensure(count == u64::from(STACK_SLOTS), "threads started", count)?;
    // All given back: one more starts.
    let t = spawn(|_| 9, 0)?;
    ensure(join(t)? == 9, "a thread after the slots came back", 0)
}

/// A fixed-capacity list of threads (no allocator in this program).
mod alloc_free {
    use lazarus_rt::thread::{Thread, STACK_SLOTS};

    const CAP: usize = STACK_SLOTS as usize + 1;

    /// Up to `CAP` threads.
    pub struct Threads {
        items: [Option<Thread>; CAP],
        len: usize,
    }

    impl Threads {
        pub fn new() -> Self {
            Self { items: core::array::from_fn(|_| None), len: 0 }
        }

        pub fn push(&mut self, t: Thread) -> Result<(), Thread> {
            if self.len == CAP {
                return Err(t);
            }
            self.items[self.len] = Some(t);
            self.len += 1;
            Ok(())
        }

        pub fn len(&self) -> usize {
            self.len
        }
    }

    impl IntoIterator for Threads {
        type Item = Thread;
        type IntoIter = core::iter::Flatten<core::array::IntoIter<Option<Thread>, CAP>>;

        fn into_iter(self) -> Self::IntoIter {
            self.items.into_iter().flatten()
        }
    }
}

fn main() -> i32 {
    run_all(ALL)
}

lazarus_rt::entry!(main);
