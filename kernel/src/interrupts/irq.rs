//! Legacy interrupt lines routed to notifications: how a PCI device's INTx
//! interrupt reaches the ring-3 driver that owns it.
//!
//! QEMU's `pc` machine wires each PCI slot's INTA–INTD through the PIIX3's
//! PIRQ routing to an 8259 input (usually 10 or 11), so the kernel takes
//! device interrupts through the (re-based) 8259 into the local APIC's
//! LINT0 in ExtINT mode. Claiming a device routes its line here to the
//! claim's notification; the line stays masked until the driver waits:
//!
//! 1. `irq_wait` with nothing pending unmasks the line and blocks;
//! 2. the device raises INTx: [`handle`] masks the line (it is
//!    level-triggered and stays raised until the driver reads the device's
//!    interrupt status), ends the interrupt at the PIC, and signals every
//!    notification routed to the line (PCI lines may be shared);
//! 3. the driver wakes, acknowledges the device, does its work, and the
//!    next `irq_wait` unmasks the line again.
//!
//! So a device the driver has not acknowledged can never storm the kernel:
//! between a signal and the next wait its line is masked. An IOAPIC would
//! do the same with redirection entries; this module is the one place to
//! change for it.

use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, Ordering};

use super::{apic, pic, vectors::PIC_LINES};
use crate::sync::IrqMutex;
use crate::thread::notify::{self, NotificationId};

/// The notifications routed to each legacy line.
static ROUTES: IrqMutex<[Vec<NotificationId>; PIC_LINES as usize]> =
    IrqMutex::new([const { Vec::new() }; PIC_LINES as usize]);

/// Set once LINT0 lets the 8259 through.
static EXTINT_ON: AtomicBool = AtomicBool::new(false);

/// Why a line cannot be routed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RouteError {
    /// No such legacy line.
    NoSuchLine(u8),
}

/// Routes `line` to `notification`. The line becomes level-triggered and
/// stays masked until [`unmask`].
pub fn route(line: u8, notification: NotificationId) -> Result<(), RouteError> {
    if line >= PIC_LINES {
        return Err(RouteError::NoSuchLine(line));
    }
    if !EXTINT_ON.swap(true, Ordering::SeqCst) {
        apic::enable_extint();
    }
    let mut routes = ROUTES.lock();
    let list = &mut routes[usize::from(line)];
    if list.is_empty() {
        pic::mask(line);
        pic::set_level_triggered(line);
    }
    list.push(notification);
    Ok(())
}

/// Removes the route of `line` to `notification`; a line left with no
/// route is masked.
pub fn unroute(line: u8, notification: NotificationId) {
    let mut routes = ROUTES.lock();
    let Some(list) = routes.get_mut(usize::from(line)) else { return };
    list.retain(|n| *n != notification);
    if list.is_empty() {
        pic::mask(line);
    }
}

/// Unmasks `line` if something is routed to it.
pub fn unmask(line: u8) {
    let routes = ROUTES.lock();
    if routes.get(usize::from(line)).is_some_and(|l| !l.is_empty()) {
        pic::unmask(line);
    }
}

/// True if `line` is masked at the PIC (for tests).
pub fn is_masked(line: u8) -> bool {
    pic::is_masked(line)
}

/// The interrupt of legacy `line`, from the dispatcher (interrupts masked).
pub fn handle(line: u8) {
    pic::mask(line);
    pic::end_of_interrupt(line);
    let routes = ROUTES.lock();
    let Some(list) = routes.get(usize::from(line)) else { return };
    if list.is_empty() {
        log::warn!("interrupt on legacy line {line}, which nothing owns; left masked");
    }
    for &n in list {
        if !notify::signal(n) {
            log::warn!("legacy line {line}: scheduler busy, interrupt dropped");
        }
    }
}
