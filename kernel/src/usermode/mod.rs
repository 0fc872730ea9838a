//! Running code in ring 3: entering user mode, and coming back when the
//! process exits or faults.

mod enter;
mod run;
pub mod supervise;

pub use run::{end_from_syscall, end_from_trap, plan_image, run_user, run_user_with, LoadError, UserExit, UserProgram};
