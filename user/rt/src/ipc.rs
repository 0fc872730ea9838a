//! IPC: `call`, `recv`, `reply_recv` on endpoint handles, and with a
//! timeout: `call_timeout`, `recv_timeout`, `send`.

use core::arch::asm;

use lazarus_abi::error::decode;
use lazarus_abi::syscall::MESSAGE_WORDS;
use lazarus_abi::{Syscall, SyscallError};

/// A message: four words, carried in registers.
pub type Message = [u64; MESSAGE_WORDS];

/// A handle: an index into the process's handle table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Handle(pub u64);

/// `syscall` with an IPC call's registers: `$call` in RAX, the handle word
/// in RDI, the message `$m` in RSI, RDX, R10 and R8, and the answer back in
/// them; `$($more)*` adds operands, each with a trailing comma (R9's
/// timeout). Evaluates to RAX.
macro_rules! ipc_syscall {
    ($call:expr, $handle:expr, $m:ident; $($more:tt)*) => {{
        let rax: u64;
        // SAFETY: `syscall` enters the kernel, which reads the handle, the
        // message and the other operands from the registers and writes the
        // answer into the message's four (declared in/out), RAX (result),
        // RCX and R11 (clobbered); it touches no memory of ours.
        unsafe {
            asm!("syscall",
                 inlateout("rax") $call as u64 => rax,
                 in("rdi") $handle,
                 inlateout("rsi") $m[0], inlateout("rdx") $m[1],
                 inlateout("r10") $m[2], inlateout("r8") $m[3],
                 out("rcx") _, out("r11") _, $($more)* options(nostack));
        }
        rax
    }};
}

/// The answer of an IPC call: the message, or the error RAX names.
#[inline]
fn answer(rax: u64, m: Message) -> Result<Message, SyscallError> {
    // Success is a non-negative RAX; only an error needs decoding.
    if (rax as i64) >= 0 {
        return Ok(m);
    }
    Err(decode(rax).err().flatten().unwrap_or(SyscallError::InvalidArgument))
}

// Inlined, like the three calls below: a round trip's user side is part
// of every IPC figure (`ping`'s, a TAS request's).
#[inline]
fn ipc(call: Syscall, handle: Handle, m: Message) -> Result<Message, SyscallError> {
    let mut out = m;
    let rax = ipc_syscall!(call, handle.0, out;);
    answer(rax, out)
}

/// Sends `message` to the endpoint and waits for the reply.
#[inline]
pub fn call(handle: Handle, message: Message) -> Result<Message, SyscallError> {
    ipc(Syscall::Call, handle, message)
}

/// Waits for a message on the endpoint (the sender then waits for a reply).
#[inline]
pub fn recv(handle: Handle) -> Result<Message, SyscallError> {
    ipc(Syscall::Recv, handle, [0; MESSAGE_WORDS])
}

/// Answers the last caller with `reply`, then waits for the next message.
#[inline]
pub fn reply_recv(handle: Handle, reply: Message) -> Result<Message, SyscallError> {
    ipc(Syscall::ReplyRecv, handle, reply)
}

/// Serves the endpoint for ever: takes each message, answers it with what
/// `answer` returns and takes the next (an answer to a `send`, or to a call
/// that timed out, goes nowhere). Returns only when a receive fails, with
/// its error.
pub fn serve(handle: Handle, mut answer: impl FnMut(Message) -> Message) -> SyscallError {
    let mut message = match recv(handle) {
        Ok(m) => m,
        Err(e) => return e,
    };
    loop {
        message = match reply_recv(handle, answer(message)) {
            Ok(m) => m,
            Err(e) => return e,
        };
    }
}

/// The IPC calls with a timeout: as [`ipc`], with `timeout_ms` in R9.
fn ipc_timed(call: Syscall, handle: Handle, m: Message, timeout_ms: u64) -> Result<Message, SyscallError> {
    let mut out = m;
    let rax = ipc_syscall!(call, handle.0, out; in("r9") timeout_ms,);
    answer(rax, out)
}

/// [`call`] that gives up after `timeout_ms` (1 to
/// `lazarus_abi::memory::IPC_TIMEOUT_MAX_MS`) with `TimedOut`; the message
/// is then withdrawn, or its server owes no reply any more (a late reply
/// is dropped, never returned to a later call).
pub fn call_timeout(handle: Handle, message: Message, timeout_ms: u64) -> Result<Message, SyscallError> {
    ipc_timed(Syscall::CallTimeout, handle, message, timeout_ms)
}

/// [`recv`] that gives up after `timeout_ms` with `TimedOut` (0: only a
/// message that waits already).
pub fn recv_timeout(handle: Handle, timeout_ms: u64) -> Result<Message, SyscallError> {
    ipc_timed(Syscall::RecvTimeout, handle, [0; MESSAGE_WORDS], timeout_ms)
}

/// Sends a one-way message: returns once a server took it, or fails with
/// `TimedOut` after `timeout_ms` (0: unless a server waits now), the
/// message withdrawn. The server owes no reply.
pub fn send(handle: Handle, message: Message, timeout_ms: u64) -> Result<(), SyscallError> {
    ipc_timed(Syscall::Send, handle, message, timeout_ms).map(|_| ())
}
