//! System calls (register convention: `lazarus_abi::syscall`).

use core::arch::asm;

use lazarus_abi::device::{DeviceInfo, PciAddress, DEVICE_INFO_BYTES, PCI_ANY};
use lazarus_abi::error::decode;
use lazarus_abi::memory::{MapFlags, GRANT_WRITE};
use lazarus_abi::{Syscall, SyscallError};

fn syscall2(call: Syscall, a: u64, b: u64) -> u64 {
    let rax: u64;
    // SAFETY: `syscall` enters the kernel, which preserves every register but
    // RAX (result), RCX and R11 (declared clobbered) and touches no memory of
    // ours except what the arguments point at (read-only for these calls).
    unsafe {
        asm!("syscall", inlateout("rax") call as u64 => rax, in("rdi") a, in("rsi") b,
             out("rcx") _, out("r11") _, options(nostack, readonly));
    }
    rax
}

fn result(rax: u64) -> Result<u64, SyscallError> {
    // An unknown error code would be a kernel bug; report it as the
    // nearest meaning rather than invent one.
    decode(rax).map_err(|e| e.unwrap_or(SyscallError::InvalidArgument))
}

/// Writes `bytes` to the kernel console; returns how many were written.
pub fn debug_write(bytes: &[u8]) -> Result<usize, SyscallError> {
    result(syscall2(Syscall::DebugWrite, bytes.as_ptr() as u64, bytes.len() as u64)).map(|n| n as usize)
}

/// Ends the process with `code`.
pub fn exit(code: i64) -> ! {
    syscall2(Syscall::Exit, code as u64, 0);
    unreachable!("exit returned")
}

/// Offers the CPU to another thread.
pub fn yield_now() {
    syscall2(Syscall::Yield, 0, 0);
}

/// Sleeps at least `ms` milliseconds.
pub fn sleep_ms(ms: u64) -> Result<(), SyscallError> {
    result(syscall2(Syscall::SleepMs, ms, 0)).map(|_| ())
}

/// The cheapest system call: does nothing, returns.
pub fn null() {
    syscall2(Syscall::Null, 0, 0);
}

/// The time-stamp counter: cycles of the guest clock (instructions, under
/// QEMU's `-icount shift=0`).
pub fn cycles() -> u64 {
    // SAFETY: `rdtsc` only reads the time-stamp counter, which the kernel
    // lets user mode read (CR4.TSD clear).
    unsafe { core::arch::x86_64::_rdtsc() }
}

/// Registers the process's fault handler: CPU exceptions go to `entry` on
/// the fault stack `stack` instead of ending the process.
pub fn set_fault_handler(entry: u64, stack: core::ops::Range<u64>) -> Result<(), SyscallError> {
    let rax: u64;
    // SAFETY: as in `syscall2`, with a third argument in RDX.
    unsafe {
        asm!("syscall", inlateout("rax") Syscall::SetFaultHandler as u64 => rax, in("rdi") entry,
             in("rsi") stack.start, in("rdx") stack.end - stack.start,
             out("rcx") _, out("r11") _, options(nostack));
    }
    result(rax).map(|_| ())
}

fn syscall2_out(call: Syscall, buf: &mut [u8]) -> Result<usize, SyscallError> {
    let rax: u64;
    // SAFETY: as in `syscall2`; the kernel writes at most `buf.len()` bytes
    // into `buf` (hence no `readonly`).
    unsafe {
        asm!("syscall", inlateout("rax") call as u64 => rax, in("rdi") buf.as_mut_ptr() as u64,
             in("rsi") buf.len() as u64, out("rcx") _, out("r11") _, options(nostack));
    }
    result(rax).map(|n| n as usize)
}

/// Waits for console input; fills `buf` with at least one byte of it.
pub fn console_read(buf: &mut [u8]) -> Result<usize, SyscallError> {
    syscall2_out(Syscall::ConsoleRead, buf)
}

/// The kernel's thread table as text, cut to `buf`.
pub fn thread_list(buf: &mut [u8]) -> Result<usize, SyscallError> {
    syscall2_out(Syscall::ThreadList, buf)
}

/// The kernel's memory figures as text, cut to `buf`.
pub fn mem_info(buf: &mut [u8]) -> Result<usize, SyscallError> {
    syscall2_out(Syscall::MemInfo, buf)
}

/// Resets the machine.
pub fn reboot() -> ! {
    syscall2(Syscall::Reboot, 0, 0);
    unreachable!("reboot returned")
}

/// Nanoseconds since boot.
pub fn uptime_ns() -> u64 {
    syscall2(Syscall::Uptime, 0, 0)
}

/// The boot options (`key=value` words), cut to `buf`.
pub fn boot_options(buf: &mut [u8]) -> Result<usize, SyscallError> {
    syscall2_out(Syscall::BootOptions, buf)
}

fn syscall4(call: Syscall, a: u64, b: u64, c: u64, d: u64) -> Result<u64, SyscallError> {
    let rax: u64;
    // SAFETY: as in `syscall2`, with arguments in RDX and R10; the kernel
    // only reads the arguments of these calls.
    unsafe {
        asm!("syscall", inlateout("rax") call as u64 => rax, in("rdi") a, in("rsi") b, in("rdx") c,
             in("r10") d, out("rcx") _, out("r11") _, options(nostack));
    }
    result(rax)
}

/// Arms the kernel's watchdog for this thread: while the word at `word` is
/// non-zero, running `limit_ms` in ring 3 without a system call delivers a
/// watchdog fault (vector `lazarus_abi::syscall::WATCHDOG_VECTOR`) to the
/// fault handler. The word must stay alive and in place as long as armed.
pub fn set_watchdog(word: &core::sync::atomic::AtomicU64, limit_ms: u64) -> Result<(), SyscallError> {
    syscall4(Syscall::SetWatchdog, word.as_ptr() as u64, limit_ms, 0, 0).map(|_| ())
}

/// Fault injection: the kernel flips `bit` of saved register `register` of
/// this thread at the first timer tick at least `after_ticks` from now that
/// finds it in ring 3 with its watchdog word equal to `value`.
pub fn arm_regflip(value: u64, register: u64, bit: u64, after_ticks: u64) -> Result<(), SyscallError> {
    syscall4(Syscall::ArmRegflip, value, register, bit, after_ticks).map(|_| ())
}

/// Fault injection (`memflip` into code): the kernel flips `bit` (0–7) of
/// the byte at `offset` (modulo the function's size) into the function
/// holding the code address `function`, for the thread that set the
/// watchdog word; returns the flipped byte's address.
pub fn flip_code(function: u64, offset: u64, bit: u64) -> Result<u64, SyscallError> {
    syscall4(Syscall::FlipCode, function, offset, bit, 0)
}

/// Writes the image's bytes back over any of this process's code that
/// changed (for the thread that set the watchdog word); returns the bytes
/// restored.
pub fn repair_code() -> Result<u64, SyscallError> {
    syscall4(Syscall::RepairCode, 0, 0, 0, 0)
}

/// Names the code address `addr` of this process: writes `name+0xoffset`
/// (demangled, from the symbol table of the ramdisk image the process was
/// loaded from) into `buf`, cut to fit; returns the bytes written (valid
/// UTF-8). `NoSymbolTable` if the process has no such table, `NoSymbol` if
/// `addr` is in no function, `TooLong` for a buffer above
/// `lazarus_abi::syscall::SYMBOL_TEXT_MAX` bytes. Allocates nothing: fit
/// for fault paths.
pub fn symbolize(addr: u64, buf: &mut [u8]) -> Result<usize, SyscallError> {
    let rax: u64;
    // SAFETY: as in `syscall2`, with a third argument in RDX; the kernel
    // writes at most `buf.len()` bytes into `buf` (hence no `readonly`).
    unsafe {
        asm!("syscall", inlateout("rax") Syscall::Symbolize as u64 => rax, in("rdi") addr,
             in("rsi") buf.as_mut_ptr() as u64, in("rdx") buf.len() as u64,
             out("rcx") _, out("r11") _, options(nostack));
    }
    result(rax).map(|n| n as usize)
}

fn syscall5(call: Syscall, a: u64, b: u64, c: u64, d: u64, e: u64) -> Result<u64, SyscallError> {
    let rax: u64;
    // SAFETY: as in `syscall2`, with arguments in RDX, R10 and R8; the
    // device calls that take a buffer are wrapped below with a `&mut`
    // borrow of it (hence no `readonly`); `dma_alloc` maps fresh memory only
    // where nothing was mapped, which no Rust object can occupy.
    unsafe {
        asm!("syscall", inlateout("rax") call as u64 => rax, in("rdi") a, in("rsi") b, in("rdx") c,
             in("r10") d, in("r8") e, out("rcx") _, out("r11") _, options(nostack));
    }
    result(rax)
}

/// The address of the `index`-th PCI function (0 first) whose vendor and
/// device ids match (`None`: any). `NoDevice` when there is none.
pub fn pci_find(vendor: Option<u16>, device: Option<u16>, index: u64) -> Result<PciAddress, SyscallError> {
    let id = |v: Option<u16>| v.map_or(PCI_ANY, u64::from);
    let word = syscall5(Syscall::PciFind, id(vendor), id(device), index, 0, 0)?;
    PciAddress::from_word(word).ok_or(SyscallError::InvalidArgument)
}

/// Writes the encoded description of the function at `address` into
/// `buf` (at least `DEVICE_INFO_BYTES` long); returns the bytes written.
pub fn device_info_into(address: PciAddress, buf: &mut [u8]) -> Result<usize, SyscallError> {
    syscall5(Syscall::DeviceInfo, address.to_word(), buf.as_mut_ptr() as u64, buf.len() as u64, 0, 0).map(|n| n as usize)
}

/// The description of the function at `address`.
pub fn device_info(address: PciAddress) -> Result<DeviceInfo, SyscallError> {
    let mut buf = [0u8; DEVICE_INFO_BYTES];
    device_info_into(address, &mut buf)?;
    DeviceInfo::decode(&buf).ok_or(SyscallError::InvalidArgument)
}

/// Claims the function at `address` for this process (see
/// `lazarus_abi::Syscall::DeviceClaim`).
pub fn device_claim(address: PciAddress) -> Result<(), SyscallError> {
    syscall5(Syscall::DeviceClaim, address.to_word(), 0, 0, 0, 0).map(|_| ())
}

/// Gives up the function at `address`: it stops mastering the bus.
pub fn device_release(address: PciAddress) -> Result<(), SyscallError> {
    syscall5(Syscall::DeviceRelease, address.to_word(), 0, 0, 0, 0).map(|_| ())
}

/// Reads `width` (1, 2 or 4) bytes at port `offset` of I/O BAR `bar` of an
/// owned device. `device::IoBar` is the typed way.
pub fn port_read(address: PciAddress, bar: u64, offset: u64, width: u64) -> Result<u64, SyscallError> {
    syscall5(Syscall::PortRead, address.to_word(), bar, offset, width, 0)
}

/// Writes the low `width` bytes of `value` at port `offset` of I/O BAR
/// `bar` of an owned device.
pub fn port_write(address: PciAddress, bar: u64, offset: u64, width: u64, value: u64) -> Result<(), SyscallError> {
    syscall5(Syscall::PortWrite, address.to_word(), bar, offset, width, value).map(|_| ())
}

/// Maps `len` bytes of zeroed, physically contiguous device memory at the
/// page-aligned, unmapped address `vaddr`; returns its physical address.
/// `device::DmaRegion` is the safe way to use it.
pub fn dma_alloc(vaddr: u64, len: u64) -> Result<u64, SyscallError> {
    syscall5(Syscall::DmaAlloc, vaddr, len, 0, 0, 0)
}

/// Unmaps and frees the device memory `dma_alloc` mapped at `vaddr`.
/// Nothing may use it any more (`device::DmaRegion` owns it).
pub fn dma_free(vaddr: u64) -> Result<(), SyscallError> {
    syscall5(Syscall::DmaFree, vaddr, 0, 0, 0, 0).map(|_| ())
}

/// Waits up to `timeout_ms` (0: do not block) for the interrupt of an owned
/// device; returns how many came since the last return. The line is
/// unmasked only when the call blocks: acknowledge the device (e.g. read
/// its interrupt status) before waiting again.
pub fn irq_wait(address: PciAddress, timeout_ms: u64) -> Result<u64, SyscallError> {
    syscall5(Syscall::IrqWait, address.to_word(), timeout_ms, 0, 0, 0)
}

/// Maps `len` bytes (rounded up to whole pages) of fresh zeroed memory at
/// the page-aligned, unmapped address `vaddr` with `flags` (writable or
/// executable, never both). Safe: it maps only where nothing is mapped,
/// which no Rust object can occupy. `memory::Mapping` owns such memory.
pub fn map(vaddr: u64, len: u64, flags: MapFlags) -> Result<(), SyscallError> {
    syscall5(Syscall::Map, vaddr, len, flags.bits(), 0, 0).map(|_| ())
}

/// Unmaps and frees `[vaddr, vaddr + len)` (whole pages), which this
/// process mapped with [`map`] and did not grant.
///
/// # Safety
/// Nothing may use the memory any more: no reference into it may be
/// alive, and no code may touch it again (it would fault).
pub unsafe fn unmap(vaddr: u64, len: u64) -> Result<(), SyscallError> {
    syscall5(Syscall::Unmap, vaddr, len, 0, 0, 0).map(|_| ())
}

/// A grant's id: what the receiver passes to [`accept`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GrantId(pub u64);

/// Offers `[vaddr, vaddr + len)` (whole pages this process mapped with
/// [`map`]) to the process that serves `endpoint`, read-only or
/// `writable`; returns the grant's id, to be sent to the receiver. The
/// pages cannot be unmapped until the grant ends.
pub fn grant(vaddr: u64, len: u64, endpoint: crate::ipc::Handle, writable: bool) -> Result<GrantId, SyscallError> {
    let flags = if writable { GRANT_WRITE } else { 0 };
    syscall5(Syscall::Grant, vaddr, len, endpoint.0, flags, 0).map(GrantId)
}

/// Maps the pages of grant `id`, offered to this process, at the
/// page-aligned, unmapped address `vaddr`; returns the bytes mapped. Safe
/// as [`map`] is; the pages are shared with the granter, who may write
/// them at any time and whose end unmaps them: reach them only through
/// volatile accesses (`memory::Shared`).
pub fn accept(id: GrantId, vaddr: u64) -> Result<u64, SyscallError> {
    syscall5(Syscall::Accept, id.0, vaddr, 0, 0, 0)
}

/// Ends grant `id`, made or accepted by this process: the receiver's
/// mapping goes away (the granter keeps its pages). Safe: memory of a
/// grant is only ever reached through volatile accesses, which fault,
/// never read freed memory, once it is gone.
pub fn revoke(id: GrantId) -> Result<(), SyscallError> {
    syscall5(Syscall::Revoke, id.0, 0, 0, 0, 0).map(|_| ())
}

/// Starts another thread of this process at `entry`, with its stack
/// pointer at `stack_top - 8` (16-byte aligned `stack_top`, as if `entry`
/// had been called) and `arg` in its first argument register; returns its
/// number, for [`thread_join`]. `thread::spawn` is the safe way.
///
/// # Safety
/// `entry` must be a function that never returns (it ends with
/// [`thread_exit`] or [`exit`]), and the stack below `stack_top` must be
/// memory nothing else uses until the thread has ended.
pub unsafe fn thread_create(entry: u64, stack_top: u64, arg: u64) -> Result<u64, SyscallError> {
    syscall5(Syscall::ThreadCreate, entry, stack_top, arg, 0, 0)
}

/// Ends the calling thread with `code`, which [`thread_join`] returns; the
/// process ends when its last thread has ([`exit`] ends it at once).
pub fn thread_exit(code: u32) -> ! {
    syscall2(Syscall::ThreadExit, u64::from(code), 0);
    unreachable!("thread_exit returned")
}

/// Waits until thread `id` of this process has ended with [`thread_exit`];
/// returns its code (once).
pub fn thread_join(id: u64) -> Result<u32, SyscallError> {
    syscall5(Syscall::ThreadJoin, id, 0, 0, 0, 0).map(|code| code as u32)
}
