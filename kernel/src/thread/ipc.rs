//! Synchronous IPC: endpoints, handles with generations, `call`, `recv` and
//! `reply_recv`, with a fast path; `send` and timeouts (`ipc/timed.rs`).
//!
//! A message is four words carried in registers; the kernel moves it from
//! one thread record to the other, never through user memory. A `call`
//! blocks the caller until the reply; `recv` and `reply_recv` block a server
//! until a message comes. A process that ends while it owes a reply answers
//! its caller with `PeerGone`. A handle carries the endpoint's generation;
//! restarting the endpoint makes old handles fail with `StaleHandle`.
//!
//! Two paths move a message. The **fast path** (`ipc/fast.rs`) runs straight
//! from the `syscall` entry for `call` and `reply_recv` when the other side
//! already waits: it checks the handle, moves the words and switches to the
//! other thread without the dispatcher or the scheduler's run queue. This
//! file is the **slow path**, for everything else (no one waiting, callers
//! queued, a bad or stale handle, `recv`), which the dispatcher calls.
//! Counters of both ([`counters`], [`direct_transfers`]) let tests prove
//! which one ran. The calls with a timeout and `send` take the slow path
//! only; a queued caller or sender makes the fast path step aside too, so
//! messages are taken in order.

use alloc::collections::VecDeque;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};

use kernel_logic::deadlines::Deadlines;
use kernel_logic::sched::ThreadId;
use lazarus_abi::syscall::MESSAGE_WORDS;
use lazarus_abi::SyscallError;
use x86_64::instructions::interrupts;

use super::scheduler::{switch_to, Threads, THREADS};

mod fast;
mod timed;

pub use fast::{fast_path, resume_blocked};
pub use timed::{call_timeout, recv_timeout, send, Timeout};
pub(super) use timed::expire;

/// A message: the words of one IPC transfer.
pub type Message = [u64; MESSAGE_WORDS];

/// An endpoint's identity: its index in the endpoint table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct EndpointId(usize);

/// An entry of a process's handle table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Handle {
    endpoint: EndpointId,
    generation: u32,
}

/// A thread's side of IPC.
#[derive(Debug, Default)]
pub struct IpcSlot {
    /// What the thread will find when it wakes: a message, or why none.
    delivered: Option<Result<Message, SyscallError>>,
    /// The caller this thread (a server) owes a reply.
    reply_to: Option<ThreadId>,
    /// What it waits for while blocked in IPC.
    wait: Wait,
    /// While the fast path has it blocked: the address of its
    /// `syscall::IpcFrame` (so a message can be written into it and the
    /// thread resumed straight into ring 3); 0 otherwise.
    fast_frame: u64,
}

/// What a thread blocked in IPC waits for: the fast path checks it before
/// it hands a thread a message, so a thread blocked for another reason is
/// never resumed as if its IPC had completed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) enum Wait {
    /// Not blocked in IPC.
    #[default]
    Nothing,
    /// A message on this endpoint (`recv`, `reply_recv`).
    Message(EndpointId),
    /// The reply to its `call`.
    Reply,
    /// A server to take its one-way message (`send`).
    Taken,
}

#[derive(Debug)]
struct Waiting {
    thread: ThreadId,
    message: Message,
    /// Sent with `send`: the server that takes it owes no reply.
    oneway: bool,
}

#[derive(Debug, Default)]
struct Endpoint {
    generation: u32,
    /// Servers blocked in `recv`/`reply_recv`.
    receivers: Receivers,
    /// Callers (and senders) blocked until a server takes their message.
    callers: VecDeque<Waiting>,
    /// The process that serves it, for grants: the first that waited for
    /// messages on it, until it ends or the endpoint restarts.
    server: Option<ThreadId>,
}

impl Endpoint {
    /// Takes `thread`'s message out of the queue; true if it was there.
    fn withdraw(&mut self, thread: ThreadId) -> bool {
        let before = self.callers.len();
        self.callers.retain(|w| w.thread != thread);
        self.callers.len() != before
    }
}

/// The servers blocked on an endpoint, first come first served. The first
/// is kept in a field of its own, so that the common case of the fast path
/// (one server, waiting or not) is a field access, not a queue operation.
///
/// # Invariants
/// `first` is `None` only if `rest` is empty.
#[derive(Debug, Default)]
struct Receivers {
    first: Option<ThreadId>,
    rest: VecDeque<ThreadId>,
}

impl Receivers {
    /// The server that waited longest.
    #[inline]
    fn front(&self) -> Option<ThreadId> {
        self.first
    }

    #[inline]
    fn pop_front(&mut self) -> Option<ThreadId> {
        let first = self.first.take()?;
        if !self.rest.is_empty() {
            self.first = self.rest.pop_front();
        }
        Some(first)
    }

    #[inline]
    fn push_back(&mut self, thread: ThreadId) {
        if self.first.is_none() {
            self.first = Some(thread);
        } else {
            self.rest.push_back(thread);
        }
    }

    /// True if a `push_back` needs no allocation.
    #[inline]
    fn has_room(&self) -> bool {
        self.first.is_none() || self.rest.len() < self.rest.capacity()
    }

    /// Takes every waiting server out, in order.
    fn take_all(&mut self) -> Vec<ThreadId> {
        self.first.take().into_iter().chain(self.rest.drain(..)).collect()
    }

    /// Forgets `thread` if it waits here.
    fn remove(&mut self, thread: ThreadId) {
        if self.first == Some(thread) {
            self.pop_front();
        } else {
            self.rest.retain(|&r| r != thread);
        }
    }
}

/// Every endpoint, indexed by id (endpoints are never destroyed yet).
#[derive(Debug, Default)]
pub struct Endpoints {
    table: Vec<Endpoint>,
    /// Deadlines of the threads blocked in a call with a timeout, with the
    /// endpoint each waits on.
    timed: Deadlines<EndpointId>,
}

impl Endpoints {
    fn get(&self, id: &EndpointId) -> Option<&Endpoint> {
        self.table.get(id.0)
    }

    fn get_mut(&mut self, id: &EndpointId) -> Option<&mut Endpoint> {
        self.table.get_mut(id.0)
    }
}

/// A handle to endpoint `id` at its current generation, to give a process.
pub fn handle(id: EndpointId) -> Handle {
    let guard = THREADS.lock();
    let t = guard.as_ref().expect("threads exist");
    let generation = t.endpoints.get(&id).map_or(0, |e| e.generation);
    Handle { endpoint: id, generation }
}

/// Transfers made by the fast path.
static FAST: AtomicU64 = AtomicU64::new(0);
/// Of those, the ones that resumed the other thread straight into ring 3
/// (it had blocked through the fast path too).
static DIRECT: AtomicU64 = AtomicU64::new(0);
/// Messages and replies moved by the slow path (queued or handed over).
static SLOW: AtomicU64 = AtomicU64::new(0);

/// Transfers so far: (fast path, slow path).
pub fn counters() -> (u64, u64) {
    (FAST.load(Ordering::Relaxed), SLOW.load(Ordering::Relaxed))
}

/// Fast-path transfers that resumed the receiving thread straight into
/// ring 3 from its saved frame (the others returned into its kernel code).
pub fn direct_transfers() -> u64 {
    DIRECT.load(Ordering::Relaxed)
}

/// Creates an endpoint.
pub fn create_endpoint() -> EndpointId {
    let mut guard = THREADS.lock();
    let t = guard.as_mut().expect("threads exist");
    t.endpoints.table.push(Endpoint::default());
    EndpointId(t.endpoints.table.len() - 1)
}

/// Restarts an endpoint: a new generation, so every handle given out so far
/// is stale; waiting callers get `PeerGone`, waiting servers `StaleHandle`.
pub fn restart_endpoint(id: EndpointId) {
    let mut guard = THREADS.lock();
    let Some(t) = guard.as_mut() else { return };
    let Some(ep) = t.endpoints.get_mut(&id) else { return };
    ep.generation += 1;
    ep.server = None;
    let callers: alloc::vec::Vec<_> = ep.callers.drain(..).map(|w| w.thread).collect();
    let receivers = ep.receivers.take_all();
    for (thread, why) in callers
        .into_iter()
        .map(|c| (c, SyscallError::PeerGone))
        .chain(receivers.into_iter().map(|r| (r, SyscallError::StaleHandle)))
    {
        deliver(t, thread, Err(why));
        let _ = t.sched.wake(thread);
    }
}

fn deliver(t: &mut Threads, thread: ThreadId, what: Result<Message, SyscallError>) {
    if let Some(th) = t.table.get_mut(&thread) {
        th.ipc.delivered = Some(what);
    }
}

/// The endpoint a handle of the running process names, checked.
pub(super) fn resolve(t: &mut Threads, handle: u64) -> Result<EndpointId, SyscallError> {
    let (_, process) = t.current_process().ok_or(SyscallError::BadHandle)?;
    let h = *usize::try_from(handle).ok().and_then(|i| process.handles.get(i)).ok_or(SyscallError::BadHandle)?;
    let ep = t.endpoints.get(&h.endpoint).ok_or(SyscallError::PeerGone)?;
    if ep.generation != h.generation {
        return Err(SyscallError::StaleHandle);
    }
    Ok(h.endpoint)
}

/// The process that serves endpoint `id` (see `Endpoint::server`).
pub(super) fn server_of(t: &Threads, id: EndpointId) -> Option<ThreadId> {
    t.endpoints.get(&id)?.server
}

/// Takes what was delivered to the running thread while it was blocked,
/// and marks it no longer waiting (nor its deadline, if it had one).
fn take_delivered() -> Result<Message, SyscallError> {
    let mut guard = THREADS.lock();
    let t = guard.as_mut().expect("threads exist");
    let me = t.sched.current();
    t.endpoints.timed.clear(me);
    t.table.get_mut(&me).map(|th| th.ipc.wake()).unwrap_or(Err(SyscallError::PeerGone))
}

impl IpcSlot {
    /// The thread runs again: it waits for nothing, and finds what was
    /// delivered (nothing: its peer is gone).
    fn wake(&mut self) -> Result<Message, SyscallError> {
        self.wait = Wait::Nothing;
        self.fast_frame = 0;
        self.delivered.take().unwrap_or(Err(SyscallError::PeerGone))
    }

}

/// Marks the running thread as waiting for `wait` (it blocks next).
fn set_waiting(t: &mut Threads, me: ThreadId, wait: Wait) {
    if let Some(th) = t.table.get_mut(&me) {
        th.ipc.wait = wait;
    }
}

/// `call`: sends `message` on `handle`'s endpoint and waits for the reply.
pub fn call(handle: u64, message: Message) -> Result<Message, SyscallError> {
    call_until(handle, message, Timeout::Never)
}

/// `call` that gives up with `TimedOut` at `timeout` (`Poll` is the
/// caller's to refuse: a reply always takes a wait).
fn call_until(handle: u64, message: Message, timeout: Timeout) -> Result<Message, SyscallError> {
    interrupts::without_interrupts(|| {
        let mut guard = THREADS.lock();
        let t = guard.as_mut().expect("threads exist");
        let id = resolve(t, handle)?;
        let me = t.sched.current();
        if let Timeout::At(at) = timeout {
            t.endpoints.timed.set(me, at, id);
        }
        let ep = t.endpoints.get_mut(&id).expect("resolved");
        match ep.receivers.pop_front() {
            Some(server) => {
                deliver(t, server, Ok(message));
                if let Some(s) = t.table.get_mut(&server) {
                    s.ipc.reply_to = Some(me);
                }
                set_waiting(t, me, Wait::Reply);
                SLOW.fetch_add(1, Ordering::Relaxed);
                let sw = t.sched.hand_off(server).expect("a waiting server is blocked");
                switch_to(sw, guard);
            }
            None => {
                ep.callers.push_back(Waiting { thread: me, message, oneway: false });
                set_waiting(t, me, Wait::Reply);
                SLOW.fetch_add(1, Ordering::Relaxed);
                let sw = t.sched.block().expect("a process thread can block");
                switch_to(sw, guard);
            }
        }
        take_delivered()
    })
}

/// `recv`: waits for a message on `handle`'s endpoint.
pub fn recv(handle: u64) -> Result<Message, SyscallError> {
    reply_recv_inner(handle, None, Timeout::Never)
}

/// `reply_recv`: answers the last caller with `reply`, then waits for the
/// next message on `handle`'s endpoint.
pub fn reply_recv(handle: u64, reply: Message) -> Result<Message, SyscallError> {
    reply_recv_inner(handle, Some(reply), Timeout::Never)
}

/// Answers `reply` (if any) to the caller the running thread owes, then
/// takes the next message, waiting until `timeout` for one.
fn reply_recv_inner(handle: u64, reply: Option<Message>, timeout: Timeout) -> Result<Message, SyscallError> {
    interrupts::without_interrupts(|| {
        let mut guard = THREADS.lock();
        let t = guard.as_mut().expect("threads exist");
        let id = resolve(t, handle)?;
        let me = t.sched.current();
        // The caller to answer now, if any.
        let client = match reply {
            Some(r) => {
                let c = t.table.get_mut(&me).and_then(|th| th.ipc.reply_to.take());
                if let Some(c) = c {
                    deliver(t, c, Ok(r));
                    SLOW.fetch_add(1, Ordering::Relaxed);
                }
                c
            }
            None => None,
        };
        let pid = t.current_process().map_or(me, |(pid, _)| pid);
        let ep = t.endpoints.get_mut(&id).expect("resolved");
        ep.server.get_or_insert(pid);
        if let Some(next) = ep.callers.pop_front() {
            // A caller is already waiting: take its message at once. A
            // sender is done once its message is taken; a caller is owed
            // a reply.
            if next.oneway {
                deliver(t, next.thread, Ok([0; MESSAGE_WORDS]));
                let _ = t.sched.wake(next.thread);
            } else if let Some(th) = t.table.get_mut(&me) {
                th.ipc.reply_to = Some(next.thread);
            }
            if let Some(c) = client {
                let _ = t.sched.wake(c);
            }
            return Ok(next.message);
        }
        match timeout {
            Timeout::Never => {}
            Timeout::Poll => {
                if let Some(c) = client {
                    let _ = t.sched.wake(c);
                }
                return Err(SyscallError::TimedOut);
            }
            Timeout::At(at) => t.endpoints.timed.set(me, at, id),
        }
        let ep = t.endpoints.get_mut(&id).expect("resolved");
        ep.receivers.push_back(me);
        set_waiting(t, me, Wait::Message(id));
        let sw = match client {
            Some(c) => t.sched.hand_off(c).expect("a caller waiting for its reply is blocked"),
            None => t.sched.block().expect("a process thread can block"),
        };
        switch_to(sw, guard);
        take_delivered()
    })
}

/// Cleans up the running thread's IPC when it leaves its process: a reply
/// it owes is answered with `PeerGone`, and it stops waiting on endpoints.
pub(super) fn release_thread(t: &mut Threads) {
    let me = t.sched.current();
    let owed = t.table.get_mut(&me).and_then(|th| th.ipc.reply_to.take());
    if let Some(c) = owed {
        deliver(t, c, Err(SyscallError::PeerGone));
        let _ = t.sched.wake(c);
    }
    t.endpoints.timed.clear(me);
    for ep in t.endpoints.table.iter_mut() {
        ep.receivers.remove(me);
    }
}

/// Process `pid` has ended: it serves no endpoint any more.
pub(super) fn release_process(t: &mut Threads, pid: ThreadId) {
    for ep in t.endpoints.table.iter_mut() {
        if ep.server == Some(pid) {
            ep.server = None;
        }
    }
}

/// Withdraws `thread` from the IPC wait it is in, if any: it leaves the
/// endpoint's queue, its deadline is forgotten, and a server that took its
/// call owes it nothing any more. It finds nothing delivered when it runs
/// (`PeerGone`, unless the caller delivers another reason). Returns the
/// wait it was in.
pub(super) fn withdraw(t: &mut Threads, thread: ThreadId) -> Option<Wait> {
    t.endpoints.timed.clear(thread);
    let wait = match t.table.get(&thread) {
        Some(th) if th.ipc.delivered.is_none() => th.ipc.wait,
        // Gone, or its wait ended otherwise already.
        _ => return None,
    };
    match wait {
        Wait::Nothing => return None,
        Wait::Message(id) => {
            if let Some(ep) = t.endpoints.get_mut(&id) {
                ep.receivers.remove(thread);
            }
        }
        Wait::Reply | Wait::Taken => {
            let queued = t.endpoints.table.iter_mut().any(|ep| ep.withdraw(thread));
            if !queued && wait == Wait::Reply {
                // A server took the call: it owes this thread nothing.
                for th in t.table.values_mut() {
                    if th.ipc.reply_to == Some(thread) {
                        th.ipc.reply_to = None;
                    }
                }
            }
        }
    }
    if let Some(th) = t.table.get_mut(&thread) {
        th.ipc.wait = Wait::Nothing;
    }
    Some(wait)
}
