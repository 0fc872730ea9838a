//! Devices for ring-3 drivers: the PCI functions found at boot, and who
//! owns which (claims, port access, interrupt routing). Device memory is
//! `memory::dma`; the interrupt path is `interrupts::irq` and
//! `thread::notify`.

mod claims;
pub mod pci;

pub use claims::{as_driver, claim, irq_wait, may_drive, owner_of, port_read, port_write, release, release_owner, require_any_claim};
