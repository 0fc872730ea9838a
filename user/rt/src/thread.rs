//! Threads of this process: [`spawn`] runs a function on a stack of its
//! own, [`Thread::join`] waits for its end and frees the stack.
//!
//! Each thread's stack is one of [`STACK_SLOTS`] fixed slots below the
//! main thread's stack, mapped (`map`) when the thread starts and unmapped
//! when it is joined, with an unmapped guard page under each: a thread
//! that overflows its stack faults (and ends the process) rather than
//! write into another's.

use core::sync::atomic::{AtomicU32, Ordering};

use lazarus_abi::memory::{MapFlags, PAGE_SIZE};
use lazarus_abi::syscall::THREADS_PER_PROCESS;
use lazarus_abi::SyscallError;

use crate::memory::Mapping;
use crate::sys;

/// Bytes of each thread's stack.
pub const STACK_BYTES: u64 = 64 << 10;
/// Stack slots: one for every thread a process may have besides its first.
pub const STACK_SLOTS: u32 = THREADS_PER_PROCESS as u32 - 1;
/// The top of the highest slot, well below the main thread's stack.
const SLOTS_TOP: u64 = 0x7FFF_0000_0000;
/// A slot: its stack and the guard page below it.
const SLOT_BYTES: u64 = STACK_BYTES + PAGE_SIZE;
/// The start record at a new stack's top: the function and its argument.
const RECORD_BYTES: u64 = 16;

/// Bit `i` set: slot `i` is in use.
static SLOTS: AtomicU32 = AtomicU32::new(0);

/// A thread of this process. Dropping it joins it.
#[derive(Debug)]
pub struct Thread {
    id: u64,
    slot: u32,
    /// Its stack; `None` once joined.
    stack: Option<Mapping>,
}

/// Starts `f(arg)` on a thread of its own; the value `f` returns is the
/// thread's code, which [`Thread::join`] gives back. Errors: every stack
/// slot is taken or the process has as many threads as it may,
/// `QuotaExceeded`; no memory, `NoMemory` (or the `map` quota's error).
pub fn spawn(f: fn(u64) -> u32, arg: u64) -> Result<Thread, SyscallError> {
    let slot = take_slot().ok_or(SyscallError::QuotaExceeded)?;
    let base = SLOTS_TOP - u64::from(slot + 1) * SLOT_BYTES + PAGE_SIZE;
    let started = Mapping::new(base, STACK_BYTES, MapFlags::WRITE).and_then(|mut stack| {
        let record = STACK_BYTES - RECORD_BYTES;
        stack.write(record, &(f as usize as u64).to_le_bytes());
        stack.write(record + 8, &arg.to_le_bytes());
        let top = base + record;
        // SAFETY: `start` never returns (it ends with `thread_exit`), and
        // the stack is this thread's alone: `Thread` keeps the mapping
        // until the thread has been joined.
        let id = unsafe { sys::thread_create(start as extern "C" fn(u64) -> ! as usize as u64, top, top) }?;
        Ok(Thread { id, slot, stack: Some(stack) })
    });
    if started.is_err() {
        free_slot(slot);
    }
    started
}

/// The first code of every thread `spawn` starts: `record` is its start
/// record, at the top of its stack.
extern "C" fn start(record: u64) -> ! {
    // SAFETY: `spawn` wrote the two words of the record, at the top of the
    // stack this thread runs on (which it mapped and keeps mapped), before
    // the thread started; the stack grows down from below them.
    let (f, arg) = unsafe { ((record as *const u64).read_volatile(), ((record + 8) as *const u64).read_volatile()) };
    // SAFETY: the first word is a `fn(u64) -> u32`, written by `spawn`.
    let f: fn(u64) -> u32 = unsafe { core::mem::transmute::<usize, fn(u64) -> u32>(f as usize) };
    sys::thread_exit(f(arg))
}

impl Thread {
    /// The thread's number (as `ps` shows it).
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Waits for the thread to end; returns its code and frees its stack.
    pub fn join(mut self) -> Result<u32, SyscallError> {
        self.wait()
    }

    fn wait(&mut self) -> Result<u32, SyscallError> {
        let code = sys::thread_join(self.id);
        match code {
            // It has ended (and was joined here, or by another thread: it
            // is no thread of this process any more): nothing uses its
            // stack.
            Ok(_) | Err(SyscallError::BadHandle) => {
                drop(self.stack.take());
                free_slot(self.slot);
            }
            // The process ends (or a kernel bug): the stack may still be
            // in use, so it stays mapped, for the process's end to free.
            Err(_) => core::mem::forget(self.stack.take()),
        }
        code
    }
}

impl Drop for Thread {
    fn drop(&mut self) {
        if self.stack.is_some() {
            let _ = self.wait();
        }
    }
}

fn take_slot() -> Option<u32> {
    let mut used = SLOTS.load(Ordering::Acquire);
    loop {
        let slot = (!used).trailing_zeros();
        if slot >= STACK_SLOTS {
            return None;
        }
        match SLOTS.compare_exchange_weak(used, used | 1 << slot, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => return Some(slot),
            Err(now) => used = now,
        }
    }
}

fn free_slot(slot: u32) {
    SLOTS.fetch_and(!(1 << slot), Ordering::AcqRel);
}
