//! Kernel threads: guarded stacks, the context switch, and the preemptive
//! round-robin scheduler, IPC endpoints, notifications, and the memory
//! calls that change processes' spaces (grants among them).

pub mod ipc;
pub mod memory_calls;
pub mod notify;
mod scheduler;
mod stack;
mod switch;

pub use scheduler::{
    attach_user, current_fault_handler, current_image, detach_user, end_user, set_fault_handler, current_fault_policy, current_fault_stack, current_id, current_name, current_stack, idle_loop, init, kill_current_from_trap, on_timer_tick,
    sleep_ms, sleep_ticks, snapshot, spawn, yield_now, FaultHandler, FaultPolicy, JoinHandle, SpawnError,
};
