//! The device system calls (18–26): argument decoding and checks, then the
//! device, DMA and notification code does the work. Contracts:
//! `lazarus_abi::Syscall`.

use lazarus_abi::device::{PciAddress, DEVICE_INFO_BYTES, PCI_ANY};
use lazarus_abi::SyscallError;
use kernel_logic::sched::ThreadId;

use super::usercopy::{check_user_range, copy_to_user};
use crate::memory::dma;
use crate::{device, thread};

/// The calling process's owner identity: its id (its main thread's).
fn caller() -> Result<ThreadId, SyscallError> {
    // A system call comes from a process's thread, and the scheduler's lock
    // is free here; `None` would be a kernel bug, reported as the caller's
    // least harmful error.
    thread::current_process().ok_or(SyscallError::InvalidArgument)
}

/// A PCI address word, checked.
fn address(word: u64) -> Result<PciAddress, SyscallError> {
    PciAddress::from_word(word).ok_or(SyscallError::InvalidArgument)
}

/// A vendor or device id of `pci_find`: `None` for "any".
fn id(word: u64) -> Result<Option<u16>, SyscallError> {
    match word {
        PCI_ANY => Ok(None),
        w => u16::try_from(w).map(Some).map_err(|_| SyscallError::InvalidArgument),
    }
}

/// `pci_find(vendor, device, index)`.
pub fn pci_find(vendor: u64, dev: u64, index: u64) -> Result<u64, SyscallError> {
    let (vendor, dev) = (id(vendor)?, id(dev)?);
    let index = usize::try_from(index).map_err(|_| SyscallError::NoDevice)?;
    device::pci::find(vendor, dev, index).map(|d| d.address.to_word()).ok_or(SyscallError::NoDevice)
}

/// `device_info(address, buf, len)`.
pub fn device_info(word: u64, buf: u64, len: u64) -> Result<u64, SyscallError> {
    let address = address(word)?;
    if len < DEVICE_INFO_BYTES as u64 {
        return Err(SyscallError::InvalidArgument);
    }
    check_user_range(buf, DEVICE_INFO_BYTES as u64, true)?;
    let info = device::pci::get(address).ok_or(SyscallError::NoDevice)?;
    copy_to_user(buf, &info.encode())?;
    Ok(DEVICE_INFO_BYTES as u64)
}

/// `device_claim(address)`: `NotGranted` unless the kernel made the
/// caller a driver ([`device::as_driver`]).
pub fn claim(word: u64) -> Result<u64, SyscallError> {
    let (owner, address) = (caller()?, address(word)?);
    if !device::may_drive(owner) {
        return Err(SyscallError::NotGranted);
    }
    device::claim(owner, address).map(|()| 0)
}

/// `device_release(address)`.
pub fn release(word: u64) -> Result<u64, SyscallError> {
    device::release(caller()?, address(word)?).map(|()| 0)
}

/// `port_read(address, bar, offset, width)`.
pub fn port_read(word: u64, bar: u64, offset: u64, width: u64) -> Result<u64, SyscallError> {
    device::port_read(caller()?, address(word)?, bar, offset, width)
}

/// `port_write(address, bar, offset, width, value)`.
pub fn port_write(word: u64, bar: u64, offset: u64, width: u64, value: u64) -> Result<u64, SyscallError> {
    device::port_write(caller()?, address(word)?, bar, offset, width, value).map(|()| 0)
}

/// `dma_alloc(vaddr, len)`.
pub fn dma_alloc(vaddr: u64, len: u64) -> Result<u64, SyscallError> {
    let owner = caller()?;
    device::require_any_claim(owner)?;
    dma::alloc(owner, vaddr, len)
}

/// `dma_free(vaddr)`.
pub fn dma_free(vaddr: u64) -> Result<u64, SyscallError> {
    dma::free(caller()?, vaddr).map(|()| 0)
}

/// `irq_wait(address, timeout_ms)`.
pub fn irq_wait(word: u64, timeout_ms: u64) -> Result<u64, SyscallError> {
    device::irq_wait(caller()?, address(word)?, timeout_ms)
}
