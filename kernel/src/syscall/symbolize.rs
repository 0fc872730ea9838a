//! The `symbolize` system call: names a code address of the calling process
//! from the symbol table of the ramdisk ELF image it was loaded from, so a
//! ring-3 image (the trusted address space) can print symbolized
//! backtraces without a copy of its own file.
//!
//! Each image's function symbols are read once, on the first call that
//! needs them, and kept for good: the cache is keyed by the image's address,
//! which identifies it because only ramdisk programs (never moved, never
//! freed) are ever recorded as a process's image. It holds at most one
//! table per ramdisk program, so it is bounded.

use alloc::sync::Arc;
use alloc::vec::Vec;

use lazarus_abi::syscall::SYMBOL_TEXT_MAX;
use lazarus_abi::SyscallError;
use unwind::symbols::Symbols;

use super::usercopy::{check_user_range, copy_to_user};
use crate::sync::IrqMutex;
use crate::thread;

/// An image's symbols, or `None` if it has none (not ELF, or stripped):
/// remembered too, so a stripped image is not parsed on every call.
type Table = Option<Arc<Symbols<'static>>>;

/// The tables read so far, by the image's address.
static TABLES: IrqMutex<Vec<(usize, Table)>> = IrqMutex::new(Vec::new());

/// `symbolize(addr, buf, len)` for the running process: checks the
/// arguments, then writes `addr`'s `name+0xoffset` text into the user
/// buffer (see `lazarus_abi::Syscall::Symbolize` for the contract).
pub fn symbolize(addr: u64, buf: u64, len: u64) -> Result<u64, SyscallError> {
    if len == 0 {
        return Err(SyscallError::InvalidArgument);
    }
    if len > SYMBOL_TEXT_MAX {
        return Err(SyscallError::TooLong);
    }
    // Check before the lookup, so a bad buffer fails the same way whatever
    // the address.
    check_user_range(buf, len, true)?;
    let image = thread::current_image().ok_or(SyscallError::NoSymbolTable)?;
    let mut text = alloc::vec![0u8; len as usize];
    let n = write_symbol(image, addr, &mut text)?;
    copy_to_user(buf, &text[..n])?;
    Ok(n as u64)
}

/// Writes the `name+0xoffset` text of `addr` in `image` (a ramdisk program,
/// loaded at its link addresses) into `out`, cut to fit; returns the bytes
/// written.
pub fn write_symbol(image: &'static [u8], addr: u64, out: &mut [u8]) -> Result<usize, SyscallError> {
    let symbols = table(image).ok_or(SyscallError::NoSymbolTable)?;
    let resolved = symbols.lookup(addr).ok_or(SyscallError::NoSymbol)?;
    Ok(resolved.write_into(out))
}

/// The symbols of `image`, read on first use.
pub(super) fn table(image: &'static [u8]) -> Table {
    let key = image.as_ptr() as usize;
    let cached = |tables: &[(usize, Table)]| tables.iter().find(|(k, _)| *k == key).map(|(_, t)| t.clone());
    if let Some(t) = cached(&TABLES.lock()) {
        return t;
    }
    // Parsed without the lock (it takes a while, and the lock masks
    // interrupts). The loader already accepted the image, so its segments
    // are at their link addresses: no bias. Should two calls race, the
    // first table stored wins and the other is dropped.
    let parsed = Symbols::from_elf(image, 0).ok().map(Arc::new);
    let mut tables = TABLES.lock();
    if let Some(t) = cached(&tables) {
        return t;
    }
    tables.push((key, parsed.clone()));
    parsed
}
