//! The IPC calls with a timeout (34–36): the timeout checked, then
//! `thread::ipc` does the work. Contracts: `lazarus_abi::Syscall`.

use lazarus_abi::memory::IPC_TIMEOUT_MAX_MS;
use lazarus_abi::SyscallError;

use crate::thread::ipc::{self, Message, Timeout};

/// A timeout argument in milliseconds, checked.
fn timeout(ms: u64) -> Result<Timeout, SyscallError> {
    if ms > IPC_TIMEOUT_MAX_MS {
        return Err(SyscallError::InvalidArgument);
    }
    Ok(Timeout::after_ms(ms))
}

/// `call_timeout(handle, message, timeout_ms)`.
pub fn call_timeout(handle: u64, message: Message, ms: u64) -> Result<Message, SyscallError> {
    ipc::call_timeout(handle, message, timeout(ms)?)
}

/// `recv_timeout(handle, timeout_ms)`.
pub fn recv_timeout(handle: u64, ms: u64) -> Result<Message, SyscallError> {
    ipc::recv_timeout(handle, timeout(ms)?)
}

/// `send(handle, message, timeout_ms)`.
pub fn send(handle: u64, message: Message, ms: u64) -> Result<(), SyscallError> {
    ipc::send(handle, message, timeout(ms)?)
}
