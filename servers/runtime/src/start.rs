//! Starting the trusted address space: the unwinder's thread state and the
//! fault stack the kernel delivers CPU exceptions on.

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

/// Sets the runtime up: the unwinder's thread state, and the kernel told to
/// deliver CPU exceptions to the unwinding trampoline on the fault stack.
pub fn init() -> Result<(), SyscallError> {
    // SAFETY: `MAIN_THREAD` is a static (never moved or freed) and the image
    // has one thread.
    unsafe { thread_state::set_current(&MAIN_THREAD) };
    let base = FAULT_STACK.0.get() as u64;
    sys::set_fault_handler(unwind::trampoline::address(), base..base + FAULT_STACK_SIZE as u64)
}
