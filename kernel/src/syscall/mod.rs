//! System calls: the `syscall` entry, argument checking, and the handlers.

mod device;
mod dispatch;
mod entry;
mod ipc_timed;
mod memory;
mod code;
mod report;
mod symbolize;
mod usercopy;

pub use entry::{entry_range, init, FastExit, IpcFrame, SyscallFrame};
pub use symbolize::write_symbol;
pub use usercopy::check_user_range;
