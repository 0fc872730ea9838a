//! Copying from user memory: every byte checked to be a present user page
//! of the calling process before it is read.

use alloc::vec::Vec;

use lazarus_abi::layout::is_user_range;
use lazarus_abi::SyscallError;

use crate::cpu::UserAccess;
use crate::memory::address_space::translate_user;

/// Checks that `[addr, addr + len)` lies in user space and that each of its
/// pages is a present user page of the running process (and writable, if
/// `write`); `BadAddress` otherwise.
pub fn check_user_range(addr: u64, len: u64, write: bool) -> Result<(), SyscallError> {
    if !is_user_range(addr, len) {
        return Err(SyscallError::BadAddress);
    }
    if len == 0 {
        return Ok(());
    }
    let first = addr & !0xFFF;
    let last = (addr + len - 1) & !0xFFF;
    for page in (first..=last).step_by(4096) {
        match translate_user(page) {
            Some((_, writable)) if writable || !write => {}
            _ => return Err(SyscallError::BadAddress),
        }
    }
    Ok(())
}

/// Copies `len` bytes from user address `addr` of the running process.
/// The range must lie in user space and be mapped for the user throughout;
/// otherwise `BadAddress`, and nothing is read.
pub fn copy_from_user(addr: u64, len: u64) -> Result<Vec<u8>, SyscallError> {
    check_user_range(addr, len, false)?;
    let mut out = alloc::vec![0u8; len as usize];
    let _window = UserAccess::open();
    for (i, b) in out.iter_mut().enumerate() {
        // SAFETY: every page of the range is a present user page of the
        // active address space (checked above), which only this thread
        // changes, and the user-access window is open.
        *b = unsafe { ((addr + i as u64) as *const u8).read_volatile() };
    }
    Ok(out)
}

/// Copies `bytes` to user address `addr` of the running process. The range
/// must lie in user space and be mapped writable for the user throughout;
/// otherwise `BadAddress`, and nothing is written.
pub fn copy_to_user(addr: u64, bytes: &[u8]) -> Result<(), SyscallError> {
    check_user_range(addr, bytes.len() as u64, true)?;
    let _window = UserAccess::open();
    for (i, b) in bytes.iter().enumerate() {
        // SAFETY: every page of the range is a present, writable user page
        // of the active address space (checked above), which only this
        // thread changes, and the user-access window is open.
        unsafe { ((addr + i as u64) as *mut u8).write_volatile(*b) };
    }
    Ok(())
}
