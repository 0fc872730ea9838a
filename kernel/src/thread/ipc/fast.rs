//! The IPC fast path: `call` and `reply_recv` when the other side already
//! waits, run from the `syscall` entry with interrupts masked, before (and
//! instead of) the dispatcher.
//!
//! In the manner of seL4's fast path, it does only what this one case
//! needs, and answers "slow" ([`FastExit::SLOW`]) the moment anything is
//! unusual; the slow path (`ipc.rs`, through the dispatcher) then handles
//! the call exactly as it would have, typed errors included. It takes the
//! fast path only when all of this holds, checked before anything changes
//! but the caller's own record (marked blocked early, to look it up once,
//! and put back if a later check fails):
//! - the thread table's lock is free (it always is when ring 3 enters the
//!   kernel: no lock is held across a switch), and the caller's return
//!   address is one `sysret` can return to;
//! - the handle is in the process's table and names an endpoint of the
//!   same generation (a stale or bad handle goes the slow way and gets its
//!   `StaleHandle` or `BadHandle` there);
//! - `call`: no caller is queued on the endpoint and a server waits on it;
//!   `reply_recv`: no caller is queued (the slow path would take its
//!   message without blocking), the server owes a reply, and the
//!   endpoint's queue of waiting servers has room (no allocation here);
//! - the other thread waits for exactly this (a message on this endpoint,
//!   or the reply to its call), has nothing delivered yet, runs in a
//!   process that is not ending (it was not told to stop), and is `Blocked` (the scheduler's hand-off checks
//!   this last, and is the first change).
//!
//! Then it moves the four words, blocks the caller with its saved stack
//! pointer at its own `IpcFrame`, gives the CPU to the other thread past
//! the ready queue (`Scheduler::hand_off`: the time slice runs on, so the
//! timer still preempts a pair that talks for ever), does what a switch
//! does (the TSS's `rsp0`, CR3 if the other thread is in another address
//! space, the unwinder's current thread state), and tells the entry which
//! stack to load. If the other thread blocked through the fast path too,
//! the message goes straight into its frame and the entry `sysret`s to it
//! from there (a *direct* transfer); otherwise it goes into its IPC slot
//! and the entry returns into its kernel code as the switch would.
//!
//! What it skips, and why that is sound: the dispatcher (its bookkeeping is
//! done here: the watchdog's "entered the kernel", the thread state's
//! handler depth), the scheduler's run queue and time-slice reset (a
//! hand-off leaves both alone), allocation (none), and the SMAP `clac` (the
//! `syscall` entry's `IA32_FMASK` clears RFLAGS.AC already).

use core::sync::atomic::Ordering;

use kernel_logic::pcid::Root;
use crate::memory::isolation::Views;
use kernel_logic::sched::ThreadId;
use lazarus_abi::error::encode;
use lazarus_abi::layout::USER_END;
use lazarus_abi::syscall::MESSAGE_WORDS;
use lazarus_abi::Syscall;
use unwind::thread_state::{self, ThreadState};

use super::{Handle, Message, Wait, DIRECT, FAST};
use crate::memory::address_space;
use crate::syscall::{FastExit, IpcFrame, SyscallFrame};
use crate::thread::scheduler::{reap_zombies, Thread, Threads, THREADS};
use crate::{gdt, usermode};

/// Where the CPU goes after a fast transfer.
struct Target {
    /// The stack pointer to load.
    rsp: u64,
    /// `rsp` is the target's `IpcFrame` (resume straight into ring 3).
    direct: bool,
    /// The top of its entry stack (the TSS's `rsp0`).
    rsp0: u64,
    root: Root,
    /// The CR3 values of its space's views, for the way back to ring 3.
    views: Views,
    unwind: *const ThreadState,
}

/// The fast path for `call` and `reply_recv` (`recv` passes straight to
/// the slow path); `frame` is the caller's own, on its entry stack.
/// Returns the stack to switch to, or [`FastExit::SLOW`]. Called by the
/// `syscall` entry with interrupts masked.
pub extern "C" fn fast_path(frame: &mut IpcFrame) -> FastExit {
    // A return address `sysret` would fault on: the dispatcher ends the
    // process instead.
    if frame.sys.rip >= USER_END {
        return FastExit::SLOW;
    }
    let is_call = match frame.sys.rax {
        n if n == Syscall::Call as u64 => true,
        n if n == Syscall::ReplyRecv as u64 => false,
        // `recv`: the slow path's.
        _ => return FastExit::SLOW,
    };
    let Some(mut guard) = THREADS.try_lock() else { return FastExit::SLOW };
    let Some(t) = guard.as_mut() else { return FastExit::SLOW };
    let target = transfer(t, frame, is_call);
    drop(guard);
    match target {
        Some(target) => {
            switch_context(&target);
            FastExit { rsp: target.rsp, direct: u64::from(target.direct) }
        }
        None => FastExit::SLOW,
    }
}

/// Checks everything, then moves the message in `frame` to the other side
/// and blocks the caller at `frame`; `None` (nothing changed) if the slow
/// path must handle the call.
#[inline(always)]
fn transfer(t: &mut Threads, frame: &mut IpcFrame, is_call: bool) -> Option<Target> {
    let me = t.sched.current();
    // The caller's side: its handle, and whom it owes a reply.
    let mine: &mut Thread = t.table.get_mut(&me)?;
    let h: Handle = *mine.user.as_ref()?.handles.get(usize::try_from(frame.sys.rdi).ok()?)?;
    let ep = t.endpoints.table.get_mut(h.endpoint.0)?;
    if ep.generation != h.generation || !ep.callers.is_empty() {
        return None;
    }
    let owed = mine.ipc.reply_to;
    let (to, their_wait, my_wait) = if is_call {
        (ep.receivers.front()?, Wait::Message(h.endpoint), Wait::Reply)
    } else {
        // Blocking as a receiver must not allocate.
        if !ep.receivers.has_room() {
            return None;
        }
        (owed?, Wait::Reply, Wait::Message(h.endpoint))
    };
    // Block the caller at its frame now (one lookup of its record instead
    // of two); undone below if the other side cannot take the message.
    let at = frame as *mut IpcFrame as u64;
    if !is_call {
        mine.ipc.reply_to = None;
    }
    mine.ipc.wait = my_wait;
    mine.ipc.fast_frame = at;
    mine.saved_rsp = at;
    // Balanced when it resumes (a direct transfer to it, or
    // `resume_blocked`).
    mine.unwind.enter_handler();

    // The other side: it waits for exactly this, in a process that has not
    // ended, and (the scheduler's hand-off checks it) is blocked. The
    // hand-off is the last check and the first change to anyone else: from
    // there on nothing fails.
    let peer = match t.table.get_mut(&to) {
        Some(peer) if peer.ipc.wait == their_wait && peer.ipc.delivered.is_none() => &mut **peer,
        _ => return undo(t, me, owed),
    };
    let (rsp0, root, views) = match &peer.user {
        Some(user) if !user.stop => (user.saved_rsp, user.root, user.views),
        _ => return undo(t, me, owed),
    };
    if t.sched.hand_off(to).is_err() {
        return undo(t, me, owed);
    }
    if is_call {
        ep.receivers.pop_front();
        peer.ipc.reply_to = Some(me);
    } else {
        ep.receivers.push_back(me);
    }
    let message: Message = [frame.sys.rsi, frame.sys.rdx, frame.sys.r10, frame.sys.r8];
    let theirs = peer.ipc.fast_frame;
    let direct = theirs != 0;
    let rsp = if direct {
        // SAFETY: `fast_frame` is the peer's own IpcFrame, recorded when
        // the fast path blocked it; the peer has not run since (it was
        // still blocked), so the frame is intact on its entry stack, which
        // stays mapped while the thread exists. The thread lock is held.
        write_message(unsafe { &mut (*(theirs as *mut IpcFrame)).sys }, message);
        // Its system call is over: its handler depth goes back down.
        peer.unwind.leave_handler();
        DIRECT.fetch_add(1, Ordering::Relaxed);
        theirs
    } else {
        peer.ipc.delivered = Some(Ok(message));
        peer.saved_rsp
    };
    peer.ipc.wait = Wait::Nothing;
    peer.ipc.fast_frame = 0;
    FAST.fetch_add(1, Ordering::Relaxed);
    usermode::supervise::entered_kernel();
    Some(Target { rsp, direct, rsp0, root, views, unwind: &*peer.unwind })
}

/// Takes back the caller's tentative block (the other side cannot take the
/// message after all); the slow path will handle the call. Its saved stack
/// pointer may stay: a running thread's is rewritten when it next switches.
#[cold]
fn undo(t: &mut Threads, me: ThreadId, owed: Option<ThreadId>) -> Option<Target> {
    if let Some(mine) = t.table.get_mut(&me) {
        mine.ipc.reply_to = owed;
        mine.ipc.wait = Wait::Nothing;
        mine.ipc.fast_frame = 0;
        mine.unwind.leave_handler();
    }
    None
}

fn write_message(frame: &mut SyscallFrame, m: Message) {
    const _: () = assert!(MESSAGE_WORDS == 4);
    [frame.rsi, frame.rdx, frame.r10, frame.r8] = m;
    frame.rax = encode(Ok(0));
}

/// What a switch does besides loading the stack: the entry stack of ring
/// 3's next entries, the address space (both views), the unwinder's thread
/// state.
#[inline(always)]
fn switch_context(target: &Target) {
    gdt::set_kernel_stack(target.rsp0);
    // A direct transfer goes straight back to ring 3 from the target's
    // frame (kernel memory, the same in every kernel view), and the way
    // back loads the target's user view: its kernel view is loaded at its
    // next entry. Otherwise the target's kernel code runs next, on its own
    // kernel view.
    if !target.direct {
        // SAFETY: the target's space is live (its thread runs a process that
        // has not ended: checked) and its kernel half is the kernel's, so
        // the kernel code and this stack stay mapped across the write;
        // interrupts are masked.
        unsafe { address_space::load(target.root) };
    }
    crate::memory::isolation::set_views(target.views);
    // SAFETY: the state is boxed in the target's thread record, which lives
    // while the thread runs; the next switch sets the next one.
    unsafe { thread_state::set_current(target.unwind) };
}

/// Where a thread the fast path blocked continues when the scheduler's
/// switch resumes it (it was woken by the slow path, a restart of its
/// endpoint, or its server's end): collects what was delivered into its
/// `SyscallFrame`, which the entry then returns to ring 3 from. Interrupts
/// are masked.
pub extern "C" fn resume_blocked(frame: &mut SyscallFrame) {
    // As after any switch: free the stacks of threads that finished.
    reap_zombies();
    let delivered = {
        let mut guard = THREADS.lock();
        let t = guard.as_mut().expect("threads exist");
        let me = t.sched.current();
        let th = t.table.get_mut(&me).expect("the running thread has a record");
        th.unwind.leave_handler();
        th.ipc.wake()
    };
    match delivered {
        Ok(m) => write_message(frame, m),
        Err(e) => frame.rax = encode(Err(e)),
    }
    // Woken because its process ends: it goes no further.
    if let Some(saved) = crate::thread::pending_stop() {
        usermode::stop_at(saved);
    }
}
