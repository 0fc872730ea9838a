//! Starting the trusted address space: the unwinder's thread state, the
//! fault stack the kernel delivers CPU exceptions on, how faults end, and
//! the names backtraces print.

use core::cell::UnsafeCell;

use lazarus_rt::sys;
use lazarus_rt::SyscallError;
use unwind::thread_state::{self, ThreadState};

/// Bytes of the fault stack: the fault record and the unwinder's frames.
const FAULT_STACK_SIZE: usize = 64 << 10;

#[repr(C, align(4096))]
struct FaultStack(UnsafeCell<[u8; FAULT_STACK_SIZE]>);

// SAFETY: the stack is used only by the CPU, as the fault stack, by the one
// thread of the image.
unsafe impl Sync for FaultStack {}

static FAULT_STACK: FaultStack = FaultStack(UnsafeCell::new([0; FAULT_STACK_SIZE]));

/// The main thread's unwinding state (one thread for now).
static MAIN_THREAD: ThreadState = ThreadState::new();

/// What a fault inside a recovery boundary does to the frames above it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Recovery {
    /// Unwind them: every `Drop` runs (the system).
    Unwind,
    /// Discard them: nothing is dropped, as when a process is killed (the
    /// `restart` and `none` baselines).
    Discard,
}

/// Sets the runtime up: the unwinder's thread state, backtraces symbolized
/// by the kernel, the kernel told to deliver CPU exceptions to the
/// unwinding trampoline on the fault stack, and, for
/// [`Recovery::Discard`], faults turned into escapes.
pub fn init(recovery: Recovery) -> Result<(), SyscallError> {
    // SAFETY: `MAIN_THREAD` is a static (never moved or freed) and the image
    // has one thread.
    unsafe { thread_state::set_current(&MAIN_THREAD) };
    unwind::symbols::set_resolver(resolve);
    // The kernel reads the image's symbol table on the first call (about a
    // millisecond under emulation): make that now, not in the first fault's
    // recovery, whose latency campaigns measure. A failure here only means
    // backtraces show bare addresses.
    let _ = sys::symbolize(resolve as unwind::symbols::Resolver as usize as u64, &mut [0u8; 1]);
    crate::at_fault::install(recovery);
    let base = FAULT_STACK.0.get() as u64;
    sys::set_fault_handler(unwind::trampoline::address(), base..base + FAULT_STACK_SIZE as u64)
}

/// Names a code address of this image for a backtrace: the kernel has the
/// image's symbol table (`symbolize`). One system call, into the caller's
/// buffer: no heap (it may be what faulted), no panic.
fn resolve(addr: u64, buf: &mut [u8]) -> Option<usize> {
    sys::symbolize(addr, buf).ok()
}
