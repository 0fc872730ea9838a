//! IPC: `call`, `recv`, `reply_recv` on endpoint handles.

use core::arch::asm;

use lazarus_abi::error::decode;
use lazarus_abi::syscall::MESSAGE_WORDS;
use lazarus_abi::{Syscall, SyscallError};

/// A message: four words, carried in registers.
pub type Message = [u64; MESSAGE_WORDS];

/// A handle: an index into the process's handle table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Handle(pub u64);

// Inlined, like the three calls below: a round trip's user side is part
// of every IPC figure (`ping`'s, a TAS request's).
#[inline]
fn ipc(call: Syscall, handle: Handle, m: Message) -> Result<Message, SyscallError> {
    let rax: u64;
    let mut out = m;
    // SAFETY: `syscall` enters the kernel, which reads the handle and the
    // message from the registers and writes the answer into the same four
    // (declared in/out), RAX (result), RCX and R11 (clobbered).
    unsafe {
        asm!("syscall",
             inlateout("rax") call as u64 => rax,
             in("rdi") handle.0,
             inlateout("rsi") out[0], inlateout("rdx") out[1],
             inlateout("r10") out[2], inlateout("r8") out[3],
             out("rcx") _, out("r11") _, options(nostack));
    }
    // Success is a non-negative RAX; only an error needs decoding.
    if (rax as i64) >= 0 {
        return Ok(out);
    }
    Err(decode(rax).err().flatten().unwrap_or(SyscallError::InvalidArgument))
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
