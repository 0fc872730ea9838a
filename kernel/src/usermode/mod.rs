//! Running code in ring 3: entering user mode, and coming back when the
//! thread leaves its process (exit, fault, `thread_exit`, stop).

mod enter;
mod run;
pub mod supervise;

pub use run::{
    end_from_syscall, end_from_trap, end_thread_from_syscall, plan_image, run_thread, run_user, run_user_with, stop_at, stop_from_trap, LoadError, UserExit, UserProgram,
};
