//! Interrupts and exceptions: entry stubs, the IDT, dispatch, fault reports,
//! the interrupt controllers and timers, and the legacy lines routed to
//! ring-3 drivers.

pub mod apic;
pub mod dispatch;
pub mod entry;
pub mod exceptions;
pub mod idt;
pub mod irq;
pub mod pic;
pub mod pit;
pub mod vectors;
