//! Kernel threads on top of `kernel_logic::sched`: the thread table, spawn,
//! join, sleep, yield, preemption from the timer, and ending a thread that
//! faulted.
//!
//! Every operation masks interrupts, decides under the lock what to run
//! next, drops the lock, and only then switches stacks, so no lock is ever
//! held across a switch. The boot context becomes the idle thread.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;

use kernel_logic::sched::{Join, Scheduler, State, Switch, ThreadId};
use kernel_logic::slot_table::SlotTable;
use kernel_logic::trap_frame::TrapFrame;
use unwind::thread_state::{self, ThreadState};
use x86_64::instructions::interrupts;

use super::stack::{KernelStack, StackError};
use super::switch;
use crate::interrupts::exceptions::FaultReport;
use super::process::{Process, UserThread};
use crate::memory::address_space::{self, kernel_root};
use crate::sync::{IrqGuard, IrqMutex};
use crate::{gdt, time};

/// Timer ticks a thread may run before others get the CPU (with 100 Hz
/// ticks: 20 ms, long enough that switching costs stay negligible).
const TIME_SLICE_TICKS: u32 = 2;
/// Id of the idle thread (the boot context).
const IDLE: ThreadId = ThreadId(0);

/// What happens when a thread takes a CPU exception.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultPolicy {
    /// A kernel bug: kernel panic with the fault report.
    Panic,
    /// The thread ends; its joiner gets the fault report. Whatever the
    /// thread's frames owned is abandoned (leaked), so use this only for
    /// threads that hold no locks: tests and deliberate fault demos.
    Kill,
}

/// Why a thread could not be created.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpawnError {
    /// `init` has not run.
    NotReady,
    /// No stack could be made.
    Stack(StackError),
}

pub(super) type Entry = Box<dyn FnOnce() + Send>;

pub(super) struct Thread {
    pub(super) name: String,
    /// Stack pointer saved by the last switch away from this thread (or
    /// its IPC frame, when the IPC fast path blocked it).
    pub(super) saved_rsp: u64,
    /// `None` only for the idle thread, which runs on the boot stack.
    stack: Option<KernelStack>,
    entry: Option<Entry>,
    policy: FaultPolicy,
    fault: Option<FaultReport>,
    /// Nobody will join: reap as soon as it has finished.
    detached: bool,
    /// Recovery boundaries and the fault in flight; boxed so its address
    /// stays put while it is the unwinder's current state.
    pub(super) unwind: Box<ThreadState>,
    /// Set while the thread is a thread of a user process.
    pub(super) user: Option<UserThread>,
    /// Its side of IPC: a message delivered to it, and whom it owes a reply.
    pub(super) ipc: super::ipc::IpcSlot,
}

pub(super) struct Threads {
    pub(super) sched: Scheduler,
    /// Thread records; a thread's id is its slot here (O(1) lookups on the
    /// switch and IPC paths).
    pub(super) table: SlotTable<Box<Thread>>,
    /// IPC endpoints: IPC is scheduling, so they live under the same lock.
    pub(super) endpoints: super::ipc::Endpoints,
    /// Notifications (device interrupts to their drivers): signalling one
    /// wakes a thread, so they live under the same lock.
    pub(super) notifications: super::notify::Notifications,
    /// User processes, keyed by the id of their main thread (the kernel
    /// thread that runs `usermode::run_user`), which is the process's id.
    pub(super) processes: SlotTable<Process>,
    /// Shared-memory grants between processes: a grant's end unmaps pages
    /// from its receiver's space, so they live with the spaces.
    pub(super) grants: super::memory_calls::Grants,
    /// Finished detached threads, freed by the next thread to run (a thread
    /// cannot free the stack it is running on). Boxed: a switch saves the
    /// dying thread's stack pointer into its record after it moved here.
    #[allow(clippy::vec_box)]
    zombies: Vec<Box<Thread>>,
}

pub(super) static THREADS: IrqMutex<Option<Threads>> = IrqMutex::new(None);

/// Set while `Threads::zombies` holds something, so the switch path takes
/// the lock to reap only when there is something to reap.
static ZOMBIES_PENDING: core::sync::atomic::AtomicBool = core::sync::atomic::AtomicBool::new(false);

/// A snapshot of one thread, for tests and diagnostics.
#[derive(Clone, Debug)]
pub struct ThreadInfo {
    /// Its id.
    pub id: ThreadId,
    /// Its name.
    pub name: String,
    /// Its state.
    pub state: State,
    /// The process it is a thread of, if any.
    pub process: Option<ThreadId>,
}

/// Makes the running boot context the idle thread.
pub fn init() {
    let idle = Box::new(Thread {
        name: String::from("idle"),
        saved_rsp: 0,
        stack: None,
        entry: None,
        policy: FaultPolicy::Panic,
        fault: None,
        detached: false,
        unwind: Box::new(ThreadState::new()),
        user: None,
        ipc: super::ipc::IpcSlot::default(),
    });
    // SAFETY: the idle thread's state lives in the thread table for ever,
    // and the idle thread is the one running.
    unsafe { thread_state::set_current(&*idle.unwind) };
    let mut table = SlotTable::new();
    table.insert(IDLE, idle);
    *THREADS.lock() =
        Some(Threads {
            sched: Scheduler::new(IDLE, TIME_SLICE_TICKS),
            table,
            endpoints: super::ipc::Endpoints::default(),
            notifications: super::notify::Notifications::default(),
            processes: SlotTable::new(),
            grants: super::memory_calls::Grants::new(lazarus_abi::memory::GRANTS_MAX),
            zombies: Vec::new(),
        });
}

/// Switches as `sw` says. Interrupts must be masked, so dropping the guard
/// keeps them masked until the thread switched to unmasks them.
pub(super) fn switch_to(sw: Switch, mut guard: IrqGuard<'_, Option<Threads>>) {
    debug_assert!(!interrupts::are_enabled());
    let Some(t) = guard.as_mut() else { return };
    if sw.from == sw.to {
        return;
    }
    let (Some(next), true) = (t.table.get(&sw.to), t.table.contains_key(&sw.from)) else {
        panic!("scheduler chose an unknown thread: {sw:?}");
    };
    let to = next.saved_rsp;
    let root = next.user.as_ref().map_or_else(kernel_root, |u| u.root);
    if let Some(u) = &next.user {
        gdt::set_kernel_stack(u.saved_rsp);
        crate::memory::isolation::set_views(u.views);
    }
    // SAFETY: `root` is the kernel's table or a live user space whose
    // kernel half is the kernel's, so the kernel code and this stack stay
    // mapped across the write; interrupts are masked.
    unsafe { address_space::load(root) };
    // SAFETY: the state is boxed in the thread's record, which lives at
    // least until the thread has finished and been switched away from, and
    // the next `set_current` happens at that switch.
    unsafe { thread_state::set_current(&*next.unwind) };
    let from: *mut u64 = &mut t.table.get_mut(&sw.from).expect("checked above").saved_rsp;
    if t.table.get(&sw.from).is_some_and(|th| th.detached) && t.sched.state(sw.from) == Some(State::Finished) {
        // The Box keeps `from` valid in the zombie list until it is reaped.
        let th = t.table.remove(&sw.from).expect("checked above");
        let _ = t.sched.remove(sw.from);
        t.zombies.push(th);
        ZOMBIES_PENDING.store(true, core::sync::atomic::Ordering::SeqCst);
    }
    drop(guard);
    // SAFETY: interrupts are masked; `from` points into a boxed thread that
    // lives until after this thread runs again or is reaped by another
    // thread after the switch completed; `to` was saved by a switch or made
    // by `prepare_stack`.
    unsafe { switch::switch(from, to) };
    reap_zombies();
}

pub(super) fn reap_zombies() {
    if !ZOMBIES_PENDING.swap(false, core::sync::atomic::Ordering::SeqCst) {
        return;
    }
    let zombies = match THREADS.lock().as_mut() {
        Some(t) => core::mem::take(&mut t.zombies),
        None => return,
    };
    // Dropping a thread unmaps its stack: done without the thread lock.
    drop(zombies);
}

/// First Rust code of every new thread (called by `lazarus_thread_start`).
pub(super) extern "C" fn thread_entry() -> ! {
    reap_zombies();
    let entry = THREADS.lock().as_mut().and_then(|t| {
        let id = t.sched.current();
        t.table.get_mut(&id).and_then(|th| th.entry.take())
    });
    interrupts::enable();
    if let Some(f) = entry {
        f();
    }
    exit_current()
}

/// Where a thread killed by a fault resumes, on a fresh stack.
extern "C" fn fault_exit() -> ! {
    exit_current()
}

/// Ends the running thread.
fn exit_current() -> ! {
    interrupts::disable();
    let mut guard = THREADS.lock();
    let t = guard.as_mut().expect("threads exist");
    match t.sched.exit() {
        Ok(sw) => switch_to(sw, guard),
        Err(e) => panic!("the idle thread tried to exit: {e:?}"),
    }
    unreachable!("a finished thread was scheduled again")
}

/// Starts a kernel thread running `f`.
pub fn spawn<T, F>(name: &str, policy: FaultPolicy, f: F) -> Result<JoinHandle<T>, SpawnError>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    let result = Arc::new(IrqMutex::new(None));
    let slot = result.clone();
    let entry: Entry = Box::new(move || {
        let value = f();
        *slot.lock() = Some(value);
    });
    let thread = new_record(name, policy, entry, None)?;
    let mut guard = THREADS.lock();
    let t = guard.as_mut().ok_or(SpawnError::NotReady)?;
    let id = t.table.allocate(thread);
    t.sched.add(id).expect("ids are never reused");
    Ok(JoinHandle { id, result, joined: false })
}

/// The record of a new thread that will run `entry` on a stack of its own
/// (as a thread of a process if `user` says so), not yet in the table.
pub(super) fn new_record(name: &str, policy: FaultPolicy, entry: Entry, user: Option<UserThread>) -> Result<Box<Thread>, SpawnError> {
    let stack = KernelStack::new().map_err(SpawnError::Stack)?;
    // SAFETY: the stack was just mapped for this thread alone; its top is
    // 16-byte aligned (slot layout).
    let rsp = unsafe { switch::prepare_stack(stack.top()) };
    Ok(Box::new(Thread {
        name: String::from(name),
        saved_rsp: rsp,
        stack: Some(stack),
        entry: Some(entry),
        policy,
        fault: None,
        detached: user.is_some(),
        unwind: Box::new(ThreadState::new()),
        user,
        ipc: super::ipc::IpcSlot::default(),
    }))
}

/// Owns a thread's result; `join` waits for it. Dropping the handle detaches
/// the thread: it is reaped when it finishes.
pub struct JoinHandle<T> {
    id: ThreadId,
    result: Arc<IrqMutex<Option<T>>>,
    joined: bool,
}

impl<T> JoinHandle<T> {
    /// Waits for the thread to finish; its value, or the fault that killed it.
    #[allow(clippy::result_large_err)] // joins are rare; the report moves once
    pub fn join(mut self) -> Result<T, FaultReport> {
        self.joined = true;
        loop {
            let finished = interrupts::without_interrupts(|| {
                let mut guard = THREADS.lock();
                let t = guard.as_mut().expect("threads exist");
                match t.sched.join(self.id) {
                    Ok(Join::Finished) => {
                        let _ = t.sched.remove(self.id);
                        Some(t.table.remove(&self.id))
                    }
                    Ok(Join::Blocked(sw)) => {
                        switch_to(sw, guard);
                        None
                    }
                    Err(e) => panic!("join of thread {:?} failed: {e:?}", self.id),
                }
            });
            if let Some(thread) = finished {
                let fault = thread.and_then(|mut th| th.fault.take());
                return match fault {
                    Some(report) => Err(report),
                    None => Ok(self.result.lock().take().expect("a thread that returned stored its value")),
                };
            }
        }
    }
}

impl<T> Drop for JoinHandle<T> {
    fn drop(&mut self) {
        if self.joined {
            return;
        }
        let reaped = {
            let mut guard = THREADS.lock();
            let Some(t) = guard.as_mut() else { return };
            if t.sched.state(self.id) == Some(State::Finished) {
                let _ = t.sched.remove(self.id);
                t.table.remove(&self.id)
            } else {
                if let Some(th) = t.table.get_mut(&self.id) {
                    th.detached = true;
                }
                None
            }
        };
        drop(reaped);
    }
}

/// Offers the CPU to the next ready thread.
pub fn yield_now() {
    interrupts::without_interrupts(|| {
        let mut guard = THREADS.lock();
        let Some(t) = guard.as_mut() else { return };
        if let Some(sw) = t.sched.yield_now() {
            switch_to(sw, guard);
        }
    });
}

/// Sleeps for at least `ticks` timer ticks (yields if `ticks` is 0).
pub fn sleep_ticks(ticks: u64) {
    if ticks == 0 {
        return yield_now();
    }
    interrupts::without_interrupts(|| {
        let mut guard = THREADS.lock();
        let Some(t) = guard.as_mut() else { return };
        match t.sched.sleep_until(time::ticks() + ticks) {
            Ok(sw) => switch_to(sw, guard),
            Err(e) => log::warn!("sleep refused: {e:?}"),
        }
    });
}

/// Sleeps for at least `ms` milliseconds.
pub fn sleep_ms(ms: u64) {
    sleep_ticks(time::ms_to_ticks(ms).max(1));
}

/// The timer's hook: charge the running thread, preempt it if its slice is
/// used up. Runs in the timer interrupt with interrupts masked.
pub fn on_timer_tick(now: u64) {
    let Some(mut guard) = THREADS.try_lock() else { return };
    let Some(t) = guard.as_mut() else { return };
    super::notify::expire(t, now);
    super::ipc::expire(t);
    if t.sched.tick(now) {
        if let Some(sw) = t.sched.yield_now() {
            switch_to(sw, guard);
        }
    }
}

/// The idle thread's loop: run whatever is ready, else halt until the next
/// interrupt.
pub fn idle_loop() -> ! {
    loop {
        yield_now();
        interrupts::enable_and_hlt();
    }
}

/// The running thread's id, if it can be known without waiting.
pub fn current_id() -> Option<ThreadId> {
    let guard = THREADS.try_lock()?;
    guard.as_ref().map(|t| t.sched.current())
}

/// The running thread's name (empty if unknown). Never waits for a lock.
pub fn current_name() -> String {
    let Some(guard) = THREADS.try_lock() else { return String::new() };
    guard
        .as_ref()
        .and_then(|t| t.table.get(&t.sched.current()))
        .map(|th| th.name.clone())
        .unwrap_or_default()
}

/// The running thread's fault policy, if it can be known without waiting.
pub fn current_fault_policy() -> Option<FaultPolicy> {
    let guard = THREADS.try_lock()?;
    let t = guard.as_ref()?;
    t.table.get(&t.sched.current()).map(|th| th.policy)
}

/// The fault stack of the running thread (`None` for idle, or if the thread
/// table is locked). Never waits for a lock: called from exception handlers.
pub fn current_fault_stack() -> Option<core::ops::Range<u64>> {
    let guard = THREADS.try_lock()?;
    let t = guard.as_ref()?;
    t.table.get(&t.sched.current())?.stack.as_ref().map(|s| s.fault_stack())
}

/// The stack range of the running thread (`None` for idle).
pub fn current_stack() -> Option<core::ops::Range<u64>> {
    let guard = THREADS.lock();
    let t = guard.as_ref()?;
    let th = t.table.get(&t.sched.current())?;
    th.stack.as_ref().map(|s| s.slot().stack())
}

/// Ends the running thread from an exception handler: records `report` as
/// its exit reason and rewrites `frame` so that `iretq` continues in
/// `fault_exit` on the top of the thread's own stack. Panics (a kernel
/// fault) if that cannot be done safely.
pub fn kill_current_from_trap(frame: &mut TrapFrame, report: FaultReport) {
    let Some(mut guard) = THREADS.try_lock() else {
        panic!("fault while the thread table was locked: {report}");
    };
    let top = guard.as_mut().and_then(|t| {
        let th = t.table.get_mut(&t.sched.current())?;
        let top = th.stack.as_ref()?.top();
        th.fault = Some(report.clone());
        Some(top)
    });
    drop(guard);
    let Some(top) = top else { panic!("fault in a thread that cannot be killed: {report}") };
    frame.rip = fault_exit as *const () as u64;
    // As if `fault_exit` had been called: RSP + 8 is 16-byte aligned.
    frame.rsp = top - 8;
    frame.rbp = 0;
    frame.rflags = 0x2;
}

/// Every thread and its state.
pub fn snapshot() -> Vec<ThreadInfo> {
    let guard = THREADS.lock();
    let Some(t) = guard.as_ref() else { return Vec::new() };
    t.sched
        .threads()
        .map(|(id, state)| ThreadInfo {
            id,
            name: t.table.get(&id).map(|th| th.name.clone()).unwrap_or_default(),
            state,
            process: super::process::process_of(t, id),
        })
        .collect()
}
