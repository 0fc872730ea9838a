//! User processes and their threads.
//!
//! A process is an address space, a handle table and the threads that run
//! in it. Its first thread is the kernel thread that called
//! `usermode::run_user`: the *main* thread, whose id is the process's id
//! ([`ProcessId`]), so that what the kernel keys by process (grants, the
//! endpoint a process serves, claimed devices, device memory) has one
//! owner however many threads the process runs. Further threads come from
//! the `thread_create` system call; each has a kernel stack of its own, a
//! fault handler of its own (its fault stack cannot be shared) and ends
//! with `thread_exit`, when a sibling can collect its code (`thread_join`).
//!
//! How a process ends:
//! - `exit`, or a CPU exception without a fault handler, in any thread
//!   ends the whole process: the first reason is kept, and every other
//!   thread is *stopped*. A stopped thread that waits (IPC, sleep, device
//!   interrupt, join, console input) has its wait cut short and withdrawn;
//!   one that runs leaves ring 3 at its next way through the kernel (the
//!   end of a system call, a timer interrupt). It never runs user code
//!   again, and nothing it was doing in the kernel is cut off midway: it
//!   finishes, then goes.
//! - when its last thread ends with `thread_exit`, the process ends with
//!   that thread's code.
//!
//! Either way the main thread comes back into `run_user`, waits there until
//! every other thread has left the process, and only then is the process
//! torn down (its grants, its devices, its address space): no thread ever
//! runs in a space being freed.

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicUsize, Ordering};

use kernel_logic::sched::ThreadId;
use lazarus_abi::SyscallError;
use x86_64::instructions::interrupts;
use kernel_logic::pcid::Root;

use super::ipc::{self, Handle};
use super::scheduler::{self, switch_to, FaultPolicy, Threads, THREADS};
use crate::memory::address_space::{self, kernel_root, AddressSpace};
use crate::memory::isolation::{self, Views};
use crate::usermode::UserExit;

/// A process's identity: the id of its main thread.
pub type ProcessId = ThreadId;

pub use lazarus_abi::syscall::THREADS_PER_PROCESS;

/// Threads told to stop that have not left their process yet: while it is
/// zero, the checks on the way back to ring 3 cost one load.
static STOPPING: AtomicUsize = AtomicUsize::new(0);

/// A user process.
pub(super) struct Process {
    pub(super) space: AddressSpace,
    /// Its handles, by number (fixed when it starts; each of its threads
    /// holds them too, for the IPC fast path).
    pub(super) handles: Arc<[Handle]>,
    /// The ramdisk ELF image it was loaded from, if it was (for `symbolize`).
    image: Option<&'static [u8]>,
    /// Why it ends, once a thread ended it (`exit` or a fault).
    ending: Option<UserExit>,
    /// Its threads in ring 3 or in the kernel on its behalf, the main
    /// thread first until it has come back into `run_user`.
    live: Vec<ThreadId>,
    /// Threads that ended with `thread_exit`, and their codes, until joined.
    ended: Vec<(ThreadId, u32)>,
    /// The code of the last thread that ended with `thread_exit`.
    last_code: u32,
    /// The main thread waits in `detach_user` for the others to leave.
    main_waits: bool,
}

/// A thread's side of its process.
pub(super) struct UserThread {
    pub(super) process: ProcessId,
    /// Kernel stack pointer saved on entering ring 3: where the thread's
    /// end resumes, and the top of the stack its entries from ring 3 use.
    pub(super) saved_rsp: u64,
    /// The process's top-level page table with its PCID (the switch path
    /// loads it).
    pub(super) root: Root,
    /// The CR3 values of its space's two views (`memory::isolation`).
    pub(super) views: Views,
    /// Its process's handles.
    pub(super) handles: Arc<[Handle]>,
    /// Its process ends: it must not return to ring 3.
    pub(super) stop: bool,
    /// Where its CPU exceptions go, if it registered a handler.
    fault_handler: Option<FaultHandler>,
    /// The code it gave `thread_exit`.
    exit_code: u32,
    /// The sibling it waits for in `thread_join`.
    joining: Option<ThreadId>,
}

impl UserThread {
    fn new(process: ProcessId, space: &AddressSpace, handles: Arc<[Handle]>) -> Self {
        let (root, views) = (space.root(), Views::new(space.root(), space.user_root()));
        Self { process, saved_rsp: 0, root, views, handles, stop: false, fault_handler: None, exit_code: 0, joining: None }
    }
}

/// A thread's registered fault handler (`set_fault_handler`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FaultHandler {
    /// The trampoline's address.
    pub entry: u64,
    /// The fault stack.
    pub stack: core::ops::Range<u64>,
}

impl Threads {
    /// The process of the running thread, with its id.
    pub(super) fn current_process(&mut self) -> Option<(ProcessId, &mut Process)> {
        let pid = self.table.get(&self.sched.current())?.user.as_ref()?.process;
        self.processes.get_mut(&pid).map(|p| (pid, p))
    }

    /// The process-side record of the running thread.
    fn current_user(&mut self) -> Option<&mut UserThread> {
        let me = self.sched.current();
        self.table.get_mut(&me)?.user.as_mut()
    }
}

/// Makes the running thread the main thread of a new process in `space`,
/// loaded from the ramdisk ELF `image` if it was, and activates the space.
/// Returns where `enter_user` must save the kernel stack pointer (valid
/// until `detach_user`).
pub fn attach_user(space: AddressSpace, handles: &[Handle], image: Option<&'static [u8]>) -> *mut u64 {
    interrupts::without_interrupts(|| {
        let mut guard = THREADS.lock();
        let t = guard.as_mut().expect("threads exist");
        let me = t.sched.current();
        let handles: Arc<[Handle]> = Arc::from(handles);
        let user = UserThread::new(me, &space, handles.clone());
        let (root, views) = (user.root, user.views);
        let process = Process {
            space,
            handles,
            image,
            ending: None,
            live: alloc::vec![me],
            ended: Vec::new(),
            last_code: 0,
            main_waits: false,
        };
        t.processes.insert(me, process);
        let th = t.table.get_mut(&me).expect("current thread");
        let user = th.user.insert(user);
        let slot: *mut u64 = &mut user.saved_rsp;
        // SAFETY: the space is live (its process is in the table) and its
        // kernel half is the kernel's (see `AddressSpace::new`), so
        // everything the kernel uses stays mapped; interrupts are masked.
        unsafe { address_space::load(root) };
        isolation::set_views(views);
        slot
    })
}

/// Where the running thread of a process saves its kernel stack pointer on
/// entering ring 3 (valid until it leaves its process).
pub fn entry_slot() -> Option<*mut u64> {
    interrupts::without_interrupts(|| {
        let mut guard = THREADS.lock();
        let user = guard.as_mut()?.current_user()?;
        Some(&mut user.saved_rsp as *mut u64)
    })
}

/// Ends the running thread's process for `ending` (its `exit`, or a fault):
/// keeps the first reason given, stops every other thread, and returns
/// where this thread resumes the kernel. Never waits for a lock (called
/// from exception handlers); panics if the thread runs no process.
pub fn end_user(ending: UserExit) -> u64 {
    let mut guard = THREADS.try_lock().expect("thread table free when a process ends");
    let t = guard.as_mut().expect("threads exist");
    let me = t.sched.current();
    let (pid, process) = t.current_process().expect("the thread runs a process");
    process.ending.get_or_insert(ending);
    stop_others(t, pid, me);
    t.current_user().expect("the thread runs a process").saved_rsp
}

/// Ends the running thread alone (`thread_exit(code)`); returns where it
/// resumes the kernel. The process ends when its last thread has.
pub fn end_thread(code: u32) -> u64 {
    interrupts::without_interrupts(|| {
        let mut guard = THREADS.lock();
        let t = guard.as_mut().expect("threads exist");
        let user = t.current_user().expect("the thread runs a process");
        user.exit_code = code;
        user.saved_rsp
    })
}

/// Tells every thread of `pid` but `me` to stop, and cuts the waits of
/// those that wait short. Idempotent: a thread that blocked again before
/// it saw its stop (it was in the kernel already) is cut short again.
fn stop_others(t: &mut Threads, pid: ProcessId, me: ThreadId) {
    let Some(process) = t.processes.get_mut(&pid) else { return };
    let others: Vec<ThreadId> = process.live.iter().copied().filter(|&th| th != me).collect();
    if process.main_waits && pid != me {
        // The main thread polls for the stragglers from now on.
        t.sched.interrupt(pid);
    }
    for th in others {
        if let Some(user) = t.table.get_mut(&th).and_then(|r| r.user.as_mut()) {
            if !user.stop {
                user.stop = true;
                STOPPING.fetch_add(1, Ordering::SeqCst);
            }
        }
        if t.sched.interrupt(th) {
            ipc::withdraw(t, th);
        }
    }
}

/// If the running thread's process is ending and the thread must not
/// return to ring 3: where it resumes the kernel instead. Cheap while no
/// thread anywhere is stopping; never waits for a lock.
pub fn pending_stop() -> Option<u64> {
    if STOPPING.load(Ordering::SeqCst) == 0 {
        return None;
    }
    let mut guard = THREADS.try_lock()?;
    guard.as_mut()?.current_user().filter(|u| u.stop).map(|u| u.saved_rsp)
}

/// The running thread leaves its process: the reply it owes is answered
/// with `PeerGone`, it waits on no endpoint, its code is kept for a
/// joiner. Returns the process's id and whether it was the last thread.
fn leave(t: &mut Threads) -> (ProcessId, bool) {
    ipc::release_thread(t);
    let me = t.sched.current();
    let user = t.current_user().expect("the thread runs a process");
    let (pid, code, stopped) = (user.process, user.exit_code, user.stop);
    if stopped {
        STOPPING.fetch_sub(1, Ordering::SeqCst);
    }
    let process = t.processes.get_mut(&pid).expect("a thread's process exists");
    process.live.retain(|&th| th != me);
    let last = process.live.is_empty();
    if process.ending.is_none() {
        process.last_code = code;
        process.ended.push((me, code));
    }
    let joiners: Vec<ThreadId> = t
        .table
        .iter()
        .filter(|(_, r)| r.user.as_ref().is_some_and(|u| u.process == pid && u.joining == Some(me)))
        .map(|(id, _)| *id)
        .collect();
    for j in joiners {
        let _ = t.sched.wake(j);
    }
    (pid, last)
}

/// Ends the running thread's life in its process, for a thread that
/// `thread_create` started: it leaves (see `leave`), the main thread is
/// told if it was the last, and the CPU goes back to the kernel's space.
pub fn detach_thread() {
    let me = interrupts::without_interrupts(|| {
        let mut guard = THREADS.lock();
        let t = guard.as_mut().expect("threads exist");
        let (pid, last) = leave(t);
        if last && t.processes.get(&pid).is_some_and(|p| p.main_waits) {
            t.sched.interrupt(pid);
        }
        let me = t.sched.current();
        if let Some(th) = t.table.get_mut(&me) {
            th.user = None;
        }
        // SAFETY: the kernel's own table maps everything the kernel uses
        // (the process's space may be dropped as soon as the lock is free);
        // interrupts are masked.
        unsafe { address_space::load(kernel_root()) };
        // No way back to ring 3 may name the process's tables any more.
        isolation::set_views(Views::new(kernel_root(), kernel_root()));
        me
    });
    crate::usermode::supervise::release(me);
}

/// Detaches the running (main) thread's process once its other threads
/// have left it (stopping them if the process is ending), back to the
/// kernel's address space; returns the process's space (to drop) and how
/// it ended.
pub fn detach_user() -> (AddressSpace, UserExit) {
    let (me, space, ending) = interrupts::without_interrupts(|| {
        let mut guard = THREADS.lock();
        let (pid, mut last) = leave(guard.as_mut().expect("threads exist"));
        while !last {
            let t = guard.as_mut().expect("threads exist");
            let process = t.processes.get_mut(&pid).expect("its process exists");
            process.main_waits = true;
            let sw = if process.ending.is_some() {
                // Threads that were in the kernel when told to stop may
                // block again before they see it: cut them short again.
                stop_others(t, pid, pid);
                t.sched.sleep_until(crate::time::ticks() + 1)
            } else {
                // The last thread to leave wakes this one.
                t.sched.block()
            };
            switch_to(sw.expect("a process thread can block"), guard);
            guard = THREADS.lock();
            last = guard.as_ref().and_then(|t| t.processes.get(&pid)).is_none_or(|p| p.live.is_empty());
        }
        let t = guard.as_mut().expect("threads exist");
        let pid = t.sched.current();
        // It serves no endpoint any more, and its grants end: no receiver
        // keeps its frames, which go with its space; it keeps no other's.
        ipc::release_process(t, pid);
        super::memory_calls::release_process(t, pid);
        let process = t.processes.remove(&pid).expect("its process exists");
        if let Some(th) = t.table.get_mut(&pid) {
            th.user = None;
        }
        // SAFETY: the kernel's own table maps everything the kernel uses;
        // interrupts are masked.
        unsafe { address_space::load(kernel_root()) };
        // No way back to ring 3 may name the process's tables any more.
        isolation::set_views(Views::new(kernel_root(), kernel_root()));
        let ending = process.ending.unwrap_or(UserExit::Exited(i64::from(process.last_code)));
        (pid, process.space, ending)
    });
    crate::usermode::supervise::release(me);
    // Its devices stop mastering the bus, then its device memory is freed.
    // SAFETY: the process has ended: its space is no longer active (CR3 is
    // the kernel's) and the caller only drops it.
    unsafe { crate::device::release_owner(me) };
    (space, ending)
}

/// Starts a thread of the running thread's process that runs `body` (which
/// enters ring 3) on a kernel stack of its own; returns its id. Errors:
/// the caller runs no process, or it ends, `PeerGone`; the process has
/// [`THREADS_PER_PROCESS`] threads already, `QuotaExceeded`; no kernel
/// stack could be made, `NoMemory`.
pub fn create_thread(body: alloc::boxed::Box<dyn FnOnce() + Send>) -> Result<ThreadId, SyscallError> {
    // Checked once before the stack is made (outside the lock), and again
    // when the thread is added.
    fn room(t: &mut Threads) -> Result<(ProcessId, UserThread, alloc::string::String), SyscallError> {
        let name = t.table.get(&t.sched.current()).map(|r| r.name.clone()).unwrap_or_default();
        let stopping = t.current_user().is_none_or(|u| u.stop);
        let (pid, process) = t.current_process().ok_or(SyscallError::PeerGone)?;
        if stopping || process.ending.is_some() {
            return Err(SyscallError::PeerGone);
        }
        if process.live.len() + process.ended.len() >= THREADS_PER_PROCESS {
            return Err(SyscallError::QuotaExceeded);
        }
        Ok((pid, UserThread::new(pid, &process.space, process.handles.clone()), name))
    }
    let (pid, user, name) = interrupts::without_interrupts(|| room(THREADS.lock().as_mut().expect("threads exist")))?;
    let record = scheduler::new_record(&name, FaultPolicy::Panic, body, Some(user)).map_err(|_| SyscallError::NoMemory)?;
    let added = interrupts::without_interrupts(|| {
        let mut guard = THREADS.lock();
        let t = guard.as_mut().expect("threads exist");
        if let Err(e) = room(t) {
            return Err((e, record));
        }
        let id = t.table.allocate(record);
        t.sched.add(id).expect("ids are never reused");
        t.processes.get_mut(&pid).expect("checked").live.push(id);
        Ok(id)
    });
    // A record refused is dropped here, without the lock: its stack is
    // unmapped.
    added.map_err(|(e, _record)| e)
}

/// `thread_join(thread)`: waits until `thread`, of the caller's process,
/// has ended with `thread_exit`, and returns its code (once: the code is
/// then forgotten). Errors: itself, or a thread that waits for the caller
/// (directly or through others: they would wait for ever),
/// `InvalidArgument`; no such thread of this process, or already joined,
/// `BadHandle`; the process ends meanwhile, `PeerGone`.
pub fn join_thread(target: u64) -> Result<u32, SyscallError> {
    let target = ThreadId(target);
    interrupts::without_interrupts(|| {
        let mut guard = THREADS.lock();
        loop {
            let t = guard.as_mut().expect("threads exist");
            let me = t.sched.current();
            if target == me || waits_for(t, target, me) {
                return Err(SyscallError::InvalidArgument);
            }
            let stopping = t.current_user().is_none_or(|u| u.stop);
            let (_, process) = t.current_process().ok_or(SyscallError::PeerGone)?;
            if let Some(i) = process.ended.iter().position(|(id, _)| *id == target) {
                return Ok(process.ended.swap_remove(i).1);
            }
            if !process.live.contains(&target) {
                return Err(SyscallError::BadHandle);
            }
            if stopping || process.ending.is_some() {
                return Err(SyscallError::PeerGone);
            }
            t.current_user().expect("checked").joining = Some(target);
            let sw = t.sched.block().expect("a process thread can block");
            switch_to(sw, guard);
            guard = THREADS.lock();
            if let Some(u) = guard.as_mut().and_then(|t| t.current_user()) {
                u.joining = None;
            }
        }
    })
}

/// True if `from` waits, through a chain of joins, for `to`.
fn waits_for(t: &Threads, from: ThreadId, to: ThreadId) -> bool {
    let mut at = from;
    for _ in 0..THREADS_PER_PROCESS {
        match t.table.get(&at).and_then(|r| r.user.as_ref()).and_then(|u| u.joining) {
            Some(next) if next == to => return true,
            Some(next) => at = next,
            None => return false,
        }
    }
    false
}

/// Registers the running thread's fault handler.
pub fn set_fault_handler(handler: FaultHandler) {
    let mut guard = THREADS.lock();
    if let Some(user) = guard.as_mut().and_then(|t| t.current_user()) {
        user.fault_handler = Some(handler);
    }
}

/// The running thread's fault handler. Never waits for a lock (called
/// from exception handlers).
pub fn current_fault_handler() -> Option<FaultHandler> {
    let mut guard = THREADS.try_lock()?;
    guard.as_mut()?.current_user()?.fault_handler.clone()
}

/// The ramdisk ELF image the running process was loaded from, if any.
pub fn current_image() -> Option<&'static [u8]> {
    let mut guard = THREADS.lock();
    guard.as_mut()?.current_process()?.1.image
}

/// The running thread's process, if it runs one.
pub fn current_process() -> Option<ProcessId> {
    let mut guard = THREADS.lock();
    guard.as_mut()?.current_process().map(|(pid, _)| pid)
}

/// The process `thread` belongs to, if any.
pub(super) fn process_of(t: &Threads, thread: ThreadId) -> Option<ProcessId> {
    t.table.get(&thread)?.user.as_ref().map(|u| u.process)
}
