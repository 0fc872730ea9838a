//! Interrupts and exceptions: entry stubs, the IDT, dispatch, fault reports,
//! and the interrupt controllers and timers.

pub mod apic;
pub mod dispatch;
pub mod entry;
pub mod exceptions;
pub mod idt;
pub mod pic;
pub mod pit;
pub mod vectors;
