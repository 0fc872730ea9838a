//! The `flip_code` system call: `memflip` fault injection into code. The
//! trusted address space maps its text read-only and executable, so it
//! cannot flip a bit of it itself; the kernel does, through the frame, for
//! the one thread it supervises (see `usermode::supervise`), and only in a
//! function of that process's own image.

use lazarus_abi::SyscallError;
use x86_64::structures::paging::PageTableFlags;

use super::symbolize;
use crate::memory::address_space::translate_user_page;
use crate::memory::frames::phys_to_virt;
use crate::thread;
use crate::usermode::supervise;

/// Bits in a byte: `bit` must be below.
const BYTE_BITS: u64 = 8;

/// `flip_code(function, offset, bit)` for the running thread (see
/// `lazarus_abi::Syscall::FlipCode` for the contract); returns the address
/// of the flipped byte.
pub fn flip_code(function: u64, offset: u64, bit: u64) -> Result<u64, SyscallError> {
    if bit >= BYTE_BITS {
        return Err(SyscallError::InvalidArgument);
    }
    if !supervise::is_supervised() {
        return Err(SyscallError::NotGranted);
    }
    let image = thread::current_image().ok_or(SyscallError::NoSymbolTable)?;
    let symbols = symbolize::table(image).ok_or(SyscallError::NoSymbolTable)?;
    let (start, size) = symbols.extent(function).ok_or(SyscallError::NoSymbol)?;
    let addr = start + offset % size;
    let (phys, flags) = translate_user_page(addr).ok_or(SyscallError::BadAddress)?;
    if flags.contains(PageTableFlags::WRITABLE) || flags.contains(PageTableFlags::NO_EXECUTE) {
        return Err(SyscallError::BadAddress);
    }
    let byte = phys_to_virt(phys).as_mut_ptr::<u8>();
    // SAFETY: `phys` is the frame behind a present user page of the running
    // process's own address space (each process gets its own copy of its
    // image's code), reached at the physical-memory offset; the kernel
    // relies on nothing in it. Changing one of its bytes is the fault being
    // injected. The CPU (and QEMU's translator) notice writes to code pages
    // by physical address, so the process runs the changed byte.
    unsafe { byte.write_volatile(byte.read_volatile() ^ (1 << bit)) };
    Ok(addr)
}
