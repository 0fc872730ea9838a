//! Who owns which device, and what owning one allows: its I/O ports, its
//! interrupt (through a notification), and device memory.
//!
//! A claim names a PCI function and its owner, the thread that runs the
//! owning process (processes have one thread). One owner per function;
//! claiming again what one owns changes nothing. Claiming turns on the
//! function's decoding, bus mastering and INTx, and routes its legacy line
//! to a fresh notification. Releasing — or the owner's end, through
//! [`release_owner`] — turns bus mastering and INTx off first, so the
//! device can neither write memory nor interrupt once nobody answers for
//! it, then unroutes the line; only then is the owner's device memory
//! freed.
//!
//! The I/O-port design: the kernel does each access for the driver
//! (`port_read`/`port_write` system calls, checked against the device's
//! I/O BARs), rather than opening the ports to ring 3 through the TSS's
//! I/O permission bitmap. A system call per register access costs about a
//! hundred guest instructions, nothing beside the device's own emulation,
//! and a block driver touches a few registers per request; the bitmap would
//! need an 8 KiB TSS, switched per process on every context switch.

use alloc::vec::Vec;

use kernel_logic::pci::{io_access_ok, CLASS_BRIDGE, COMMAND_BUS_MASTER, COMMAND_INTX_DISABLE, COMMAND_IO, COMMAND_MEMORY};
use kernel_logic::sched::ThreadId;
use lazarus_abi::device::{DeviceInfo, PciAddress, BAR_COUNT, IRQ_WAIT_MAX_MS, NO_IRQ, PORT_WIDTHS};
use lazarus_abi::SyscallError;
use x86_64::instructions::port::Port;

use super::pci;
use crate::interrupts::irq;
use crate::memory::dma;
use crate::sync::IrqMutex;
use crate::thread::notify::{self, NotificationId};
use crate::time;

/// One owned function.
#[derive(Debug)]
struct Claim {
    address: PciAddress,
    owner: ThreadId,
    /// The legacy line routed for it, with the notification it signals.
    irq: Option<(u8, NotificationId)>,
}

static CLAIMS: IrqMutex<Vec<Claim>> = IrqMutex::new(Vec::new());

/// Threads whose process may claim devices. Without an IOMMU a device's
/// DMA can write any memory, so the right is the kernel's to give, to the
/// programs it trusts as drivers (the trusted address space, the driver
/// test), never to a program because it asked.
static DRIVERS: IrqMutex<Vec<ThreadId>> = IrqMutex::new(Vec::new());

/// Runs `f` (which runs a process on this thread) with the right to claim
/// devices, taken back when `f` returns or unwinds.
pub fn as_driver<R>(f: impl FnOnce() -> R) -> R {
    struct Right(Option<ThreadId>);
    impl Drop for Right {
        fn drop(&mut self) {
            if let Some(me) = self.0 {
                DRIVERS.lock().retain(|d| *d != me);
            }
        }
    }
    let me = crate::thread::current_id();
    if let Some(me) = me {
        DRIVERS.lock().push(me);
    }
    let _right = Right(me);
    f()
}

/// Whether `thread`'s process was given the right to claim devices.
pub fn may_drive(thread: ThreadId) -> bool {
    DRIVERS.lock().contains(&thread)
}

/// The function at `address`, if it is one a driver may claim.
fn claimable(address: PciAddress) -> Result<&'static DeviceInfo, SyscallError> {
    match pci::get(address) {
        Some(info) if info.class != CLASS_BRIDGE => Ok(info),
        _ => Err(SyscallError::NoDevice),
    }
}

/// The owner of the function at `address`, if it is claimed.
pub fn owner_of(address: PciAddress) -> Option<ThreadId> {
    CLAIMS.lock().iter().find(|c| c.address == address).map(|c| c.owner)
}

/// `NotGranted` unless `owner` owns some device (the condition for device
/// memory).
pub fn require_any_claim(owner: ThreadId) -> Result<(), SyscallError> {
    if CLAIMS.lock().iter().any(|c| c.owner == owner) {
        Ok(())
    } else {
        Err(SyscallError::NotGranted)
    }
}

/// The claim of `address` by `owner`: its interrupt route. `NoDevice` if
/// there is no such function, `NotGranted` if `owner` does not own it.
fn owned(owner: ThreadId, address: PciAddress) -> Result<Option<(u8, NotificationId)>, SyscallError> {
    claimable(address)?;
    CLAIMS
        .lock()
        .iter()
        .find(|c| c.address == address && c.owner == owner)
        .map(|c| c.irq)
        .ok_or(SyscallError::NotGranted)
}

/// `device_claim(address)` by `owner`.
pub fn claim(owner: ThreadId, address: PciAddress) -> Result<(), SyscallError> {
    let info = claimable(address)?;
    let line = (info.irq_line != NO_IRQ && info.irq_pin != 0).then_some(info.irq_line);
    // Made before the lock (it takes the scheduler's); given back if unused.
    let notification = line.map(|_| notify::create());
    let taken = {
        let mut claims = CLAIMS.lock();
        match claims.iter().find(|c| c.address == address) {
            Some(c) if c.owner == owner => Ok(false),
            Some(_) => Err(SyscallError::DeviceBusy),
            None => {
                claims.push(Claim { address, owner, irq: line.zip(notification) });
                Ok(true)
            }
        }
    };
    if !matches!(taken, Ok(true)) {
        if let Some(n) = notification {
            notify::destroy(n);
        }
        return taken.map(|_| ());
    }
    pci::update_command(address, COMMAND_IO | COMMAND_MEMORY | COMMAND_BUS_MASTER, COMMAND_INTX_DISABLE);
    if let Some((line, n)) = line.zip(notification) {
        if let Err(e) = irq::route(line, n) {
            log::warn!("device {address}: interrupt line {line} not routed: {e:?}");
        }
    }
    log::debug!("device {address} claimed by thread {}", owner.0);
    Ok(())
}

/// Stops a device whose claim ended: no more DMA, no more interrupts.
fn stop(claim: &Claim) {
    pci::update_command(claim.address, COMMAND_INTX_DISABLE, COMMAND_BUS_MASTER);
    if let Some((line, n)) = claim.irq {
        irq::unroute(line, n);
        notify::destroy(n);
    }
    log::debug!("device {} released by thread {}", claim.address, claim.owner.0);
}

/// `device_release(address)` by `owner`.
pub fn release(owner: ThreadId, address: PciAddress) -> Result<(), SyscallError> {
    claimable(address)?;
    let claim = {
        let mut claims = CLAIMS.lock();
        let at = claims.iter().position(|c| c.address == address && c.owner == owner).ok_or(SyscallError::NotGranted)?;
        claims.swap_remove(at)
    };
    stop(&claim);
    Ok(())
}

/// Releases everything `owner` held, in the safe order: its devices stop
/// (no bus mastering), then its device memory is freed.
///
/// # Safety
/// `owner`'s process has ended: its address space is no longer active and
/// will only be dropped (see `memory::dma::release_owner`).
pub unsafe fn release_owner(owner: ThreadId) {
    let mine: Vec<Claim> = {
        let mut claims = CLAIMS.lock();
        let (mine, rest) = core::mem::take(&mut *claims).into_iter().partition(|c| c.owner == owner);
        *claims = rest;
        mine
    };
    for claim in &mine {
        stop(claim);
    }
    // SAFETY: the devices above no longer master the bus; the caller
    // guarantees the space is gone from use.
    let freed = unsafe { dma::release_owner(owner) };
    if freed != 0 {
        log::debug!("thread {}: {freed} bytes of device memory freed at its end", owner.0);
    }
}

/// The port `[offset, offset + width)` of I/O BAR `bar` of a device
/// `owner` owns.
fn port(owner: ThreadId, address: PciAddress, bar: u64, offset: u64, width: u64) -> Result<u16, SyscallError> {
    if bar >= BAR_COUNT as u64 || !PORT_WIDTHS.contains(&width) {
        return Err(SyscallError::InvalidArgument);
    }
    owned(owner, address)?;
    let info = claimable(address)?;
    let bar = &info.bars[bar as usize];
    if !io_access_ok(bar, offset, width) {
        return Err(SyscallError::NotGranted);
    }
    // Below 0x10000: `io_access_ok` checked it.
    Ok((bar.base + offset) as u16)
}

/// `port_read(address, bar, offset, width)` by `owner`.
pub fn port_read(owner: ThreadId, address: PciAddress, bar: u64, offset: u64, width: u64) -> Result<u64, SyscallError> {
    let port = port(owner, address, bar, offset, width)?;
    // SAFETY: the port lies in an I/O BAR of a device the caller owns (and
    // above the ISA range the kernel drives itself): only that device
    // decodes it, and the kernel uses no claimed device itself.
    let value = unsafe {
        match width {
            1 => u64::from(Port::<u8>::new(port).read()),
            2 => u64::from(Port::<u16>::new(port).read()),
            _ => u64::from(Port::<u32>::new(port).read()),
        }
    };
    Ok(value)
}

/// `port_write(address, bar, offset, width, value)` by `owner`.
pub fn port_write(owner: ThreadId, address: PciAddress, bar: u64, offset: u64, width: u64, value: u64) -> Result<(), SyscallError> {
    let port = port(owner, address, bar, offset, width)?;
    if width < 8 && value >> (8 * width) != 0 {
        return Err(SyscallError::InvalidArgument);
    }
    // SAFETY: as in `port_read`; the value fits the width (checked).
    unsafe {
        match width {
            1 => Port::<u8>::new(port).write(value as u8),
            2 => Port::<u16>::new(port).write(value as u16),
            _ => Port::<u32>::new(port).write(value as u32),
        }
    }
    Ok(())
}

/// `irq_wait(address, timeout_ms)` by `owner`.
pub fn irq_wait(owner: ThreadId, address: PciAddress, timeout_ms: u64) -> Result<u64, SyscallError> {
    if timeout_ms > IRQ_WAIT_MAX_MS {
        return Err(SyscallError::InvalidArgument);
    }
    let (line, notification) = owned(owner, address)?.ok_or(SyscallError::NoDevice)?;
    // One tick more than the time asks for: the current tick is partly over.
    let ticks = if timeout_ms == 0 { 0 } else { time::ms_to_ticks(timeout_ms) + 1 };
    notify::wait(notification, ticks, || irq::unmask(line))
}
