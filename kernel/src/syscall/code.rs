//! System calls on the trusted address space's own code, for the thread the
//! kernel supervises (see `usermode::supervise`): `flip_code`, fault
//! injection (a `memflip` into text, which the process cannot write: its
//! code is mapped read-only), and `repair_code`, which writes the image's
//! bytes back over any that changed, as a fresh load of the program would.
//!
//! Both write through the frames, which are the process's own copy of its
//! image (the loader copies every segment), so the pages stay read-only and
//! executable for the process. The CPU (and QEMU's translator) notice
//! writes to code pages by physical address, so the process runs the bytes
//! as changed.

use lazarus_abi::SyscallError;
use x86_64::structures::paging::PageTableFlags;
use x86_64::PhysAddr;

use super::symbolize;
use crate::memory::address_space::translate_user_page;
use crate::memory::frames::phys_to_virt;
use crate::thread;
use crate::usermode::{plan_image, supervise};

/// Bits in a byte: `bit` must be below.
const BYTE_BITS: u64 = 8;
/// Bytes in a page.
const PAGE: u64 = 4096;

/// `flip_code(function, offset, bit)` for the running thread (see
/// `lazarus_abi::Syscall::FlipCode` for the contract); returns the address
/// of the flipped byte.
pub fn flip_code(function: u64, offset: u64, bit: u64) -> Result<u64, SyscallError> {
    if bit >= BYTE_BITS {
        return Err(SyscallError::InvalidArgument);
    }
    let image = supervised_image()?;
    let symbols = symbolize::table(image).ok_or(SyscallError::NoSymbolTable)?;
    let (start, size) = symbols.extent(function).ok_or(SyscallError::NoSymbol)?;
    let addr = start + offset % size;
    let phys = code_frame(addr).ok_or(SyscallError::BadAddress)?;
    let byte = phys_to_virt(phys).as_mut_ptr::<u8>();
    // SAFETY: `phys` is in the frame behind a present, read-only user code
    // page of the running process (`code_frame`), its own copy of its
    // image, reached at the physical-memory offset; the kernel relies on
    // nothing in it. Changing one of its bytes is the fault being injected.
    unsafe { byte.write_volatile(byte.read_volatile() ^ (1 << bit)) };
    Ok(addr)
}

/// `repair_code()` for the running thread (see
/// `lazarus_abi::Syscall::RepairCode`); returns the bytes restored.
pub fn repair_code() -> Result<u64, SyscallError> {
    let image = supervised_image()?;
    // The loader accepted this image, so planning it again succeeds; a
    // failure would mean the image changed, and then nothing is repaired.
    let plan = plan_image(image).map_err(|_| SyscallError::NoSymbolTable)?;
    let mut restored = 0;
    for seg in plan.segments().filter(|s| s.execute && !s.write) {
        let want = &image[seg.file.clone()];
        let mut done = 0;
        while done < want.len() {
            let at = seg.vaddr + done as u64;
            let chunk = ((PAGE - at % PAGE) as usize).min(want.len() - done);
            // A page the process no longer maps (it cannot unmap its image,
            // but be safe) is skipped.
            if let Some(phys) = code_frame(at) {
                // SAFETY: `phys..phys + chunk` lies in the frame behind one
                // present, read-only user code page of the running process
                // (`chunk` stops at the page's end), its own copy of its
                // image, reached at the physical-memory offset; nothing else
                // holds a reference into it while the kernel runs this call.
                let have = unsafe { core::slice::from_raw_parts_mut(phys_to_virt(phys).as_mut_ptr::<u8>(), chunk) };
                restored += restore(have, &want[done..done + chunk]);
            }
            done += chunk;
        }
    }
    Ok(restored)
}

/// Writes `want` over `have` (of the same length) where they differ;
/// returns the bytes changed. This runs over the whole text at every
/// restart, so the words are compared by the CPU's string compare and only
/// a word that differs is looked at byte by byte.
fn restore(have: &mut [u8], want: &[u8]) -> u64 {
    let words = have.len().min(want.len()) / 8;
    let mut changed = 0;
    let mut from = 0;
    while let Some(i) = first_different_word(&have[from * 8..words * 8], &want[from * 8..words * 8]) {
        let at = (from + i) * 8;
        changed += fix(&mut have[at..at + 8], &want[at..at + 8]);
        from += i + 1;
    }
    let tail = words * 8;
    changed + fix(&mut have[tail..], &want[tail..])
}

/// Writes `want` over `have` byte by byte; returns the bytes changed.
fn fix(have: &mut [u8], want: &[u8]) -> u64 {
    let mut changed = 0;
    for (h, w) in have.iter_mut().zip(want) {
        if h != w {
            *h = *w;
            changed += 1;
        }
    }
    changed
}

/// The index of the first 8-byte word in which `a` and `b` differ (both a
/// whole number of words long, the same length), if any.
fn first_different_word(a: &[u8], b: &[u8]) -> Option<usize> {
    let words = a.len().min(b.len()) / 8;
    if words == 0 {
        return None;
    }
    let left: usize;
    let differ: u8;
    // SAFETY: `repe cmpsq` reads `words` words from each slice (both hold
    // that many bytes times 8) and writes nothing; the direction flag is
    // clear (the ABI guarantees it between functions), so it walks up.
    // With `words > 0` the flags it leaves are those of its last compare.
    unsafe {
        core::arch::asm!(
            "repe cmpsq",
            "setne {differ}",
            differ = out(reg_byte) differ,
            inout("rsi") a.as_ptr() => _,
            inout("rdi") b.as_ptr() => _,
            inout("rcx") words => left,
            options(readonly, nostack),
        );
    }
    (differ != 0).then(|| words - left - 1)
}

/// The running thread's image, if the kernel supervises it.
fn supervised_image() -> Result<&'static [u8], SyscallError> {
    if !supervise::is_supervised() {
        return Err(SyscallError::NotGranted);
    }
    thread::current_image().ok_or(SyscallError::NoSymbolTable)
}

/// The physical address behind user address `addr` if it is in a present,
/// read-only, executable page of the running process.
fn code_frame(addr: u64) -> Option<PhysAddr> {
    let (phys, flags) = translate_user_page(addr)?;
    let code = !flags.contains(PageTableFlags::WRITABLE) && !flags.contains(PageTableFlags::NO_EXECUTE);
    code.then_some(phys)
}
