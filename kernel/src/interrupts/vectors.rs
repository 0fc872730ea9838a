//! Interrupt vector numbers the kernel assigns.
//!
//! Vectors 0–31 are the CPU's exceptions. The legacy PICs are moved to
//! 0x20–0x2F (and masked but for the lines ring-3 drivers own) so a
//! spurious PIC interrupt can never look like an exception; the local
//! APIC's vectors sit above them.

/// First vector of the (masked) master PIC.
pub const PIC_MASTER_BASE: u8 = 0x20;
/// First vector of the (masked) slave PIC.
pub const PIC_SLAVE_BASE: u8 = 0x28;
/// Legacy lines (8259 inputs), whose vectors are `PIC_MASTER_BASE + line`.
pub const PIC_LINES: u8 = 16;
/// The last legacy line's vector.
pub const PIC_LAST_VECTOR: u8 = PIC_MASTER_BASE + PIC_LINES - 1;
/// The master PIC's spurious interrupt (IRQ 7).
pub const PIC_SPURIOUS_MASTER: u8 = PIC_MASTER_BASE + 7;
/// The slave PIC's spurious interrupt (IRQ 15).
pub const PIC_SPURIOUS_SLAVE: u8 = PIC_SLAVE_BASE + 7;
/// The local APIC timer.
pub const TIMER: u8 = 0x30;
/// The local APIC's spurious interrupt; its low four bits must be ones on
/// old APICs, so 0xFF is the conventional choice.
pub const APIC_SPURIOUS: u8 = 0xFF;
