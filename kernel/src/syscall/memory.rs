//! The memory system calls (29–33): argument decoding and checks, then
//! `thread::memory_calls` does the work. Contracts: `lazarus_abi::Syscall`.

use kernel_logic::user_memory::{PageRange, RangeError};
use lazarus_abi::memory::{grant_writable, MapFlags, MAP_QUOTA_BYTES};
use lazarus_abi::SyscallError;

use crate::thread::memory_calls;

/// The pages of `[vaddr, vaddr + len)`, checked: at most the quota long
/// (no call can cover more of its own memory).
fn range(vaddr: u64, len: u64) -> Result<PageRange, SyscallError> {
    PageRange::try_new(vaddr, len, MAP_QUOTA_BYTES).map_err(|e| match e {
        RangeError::Empty => SyscallError::InvalidArgument,
        RangeError::TooLong => SyscallError::TooLong,
        RangeError::Unaligned | RangeError::OutsideUserSpace => SyscallError::BadAddress,
    })
}

/// `map(vaddr, len, flags)`.
pub fn map(vaddr: u64, len: u64, flags: u64) -> Result<u64, SyscallError> {
    let flags = MapFlags::from_bits(flags).ok_or(SyscallError::InvalidArgument)?;
    memory_calls::map(range(vaddr, len)?, flags).map(|()| 0)
}

/// `unmap(vaddr, len)`.
pub fn unmap(vaddr: u64, len: u64) -> Result<u64, SyscallError> {
    memory_calls::unmap(range(vaddr, len)?).map(|()| 0)
}

/// `grant(vaddr, len, handle, flags)`.
pub fn grant(vaddr: u64, len: u64, handle: u64, flags: u64) -> Result<u64, SyscallError> {
    let writable = grant_writable(flags).ok_or(SyscallError::InvalidArgument)?;
    memory_calls::grant(range(vaddr, len)?, handle, writable)
}

/// `accept(grant_id, vaddr)`.
pub fn accept(id: u64, vaddr: u64) -> Result<u64, SyscallError> {
    memory_calls::accept(id, vaddr)
}

/// `revoke(grant_id)`.
pub fn revoke(id: u64) -> Result<u64, SyscallError> {
    memory_calls::revoke(id).map(|()| 0)
}
