//! Kernel threads: guarded stacks, the context switch, and the preemptive
//! round-robin scheduler, IPC endpoints, notifications, and the memory
//! calls that change processes' spaces (grants among them), and user
//! processes with their threads.

pub mod ipc;
pub mod memory_calls;
pub mod notify;
mod process;
mod scheduler;
mod stack;
mod switch;

pub use process::{
    attach_user, create_thread, current_fault_handler, current_image, current_process, detach_thread, detach_user, end_thread, end_user, entry_slot, join_thread, pending_stop, set_fault_handler,
    FaultHandler,
};
pub use scheduler::{
    current_fault_policy, current_fault_stack, current_id, current_name, current_stack, idle_loop, init, kill_current_from_trap, on_timer_tick, sleep_ms, sleep_ticks, snapshot, spawn, yield_now, FaultPolicy,
    JoinHandle, SpawnError,
};
