//! The legacy 8259 interrupt controllers: moved out of the way and masked,
//! then used for one thing: the legacy (INTx) interrupt lines of PCI
//! devices that ring-3 drivers own (`interrupts::irq`).
//!
//! The kernel's own interrupts come from the local APIC. The PICs still
//! exist, and after boot they may deliver on vectors 8–15, which are
//! exceptions; re-basing them to 0x20–0x2F and masking every line means at
//! worst a spurious interrupt on a vector the kernel knows to ignore. A
//! line a driver owns is unmasked while the driver waits for it, set to
//! level-triggered (PCI INTx lines are), and masked again by its handler
//! until the driver has acknowledged the device.

use x86_64::instructions::port::Port;

use super::vectors::{PIC_MASTER_BASE, PIC_SLAVE_BASE};
use crate::sync::IrqMutex;

const MASTER_CMD: u16 = 0x20;
const MASTER_DATA: u16 = 0x21;
const SLAVE_CMD: u16 = 0xA0;
const SLAVE_DATA: u16 = 0xA1;
/// ICW1: initialise, ICW4 follows.
const ICW1_INIT: u8 = 0x11;
/// ICW4: 8086 mode.
const ICW4_8086: u8 = 0x01;
/// An unused port whose write gives the old PICs time to settle.
const IO_WAIT_PORT: u16 = 0x80;
/// OCW2: non-specific end of interrupt.
const OCW2_EOI: u8 = 0x20;
/// The master's input the slave is cascaded on.
const CASCADE_LINE: u8 = 2;
/// Lines per PIC.
const LINES_PER_PIC: u8 = 8;
/// The PIIX edge/level control registers (ELCR1 for lines 0–7, ELCR2 for
/// 8–15): a set bit makes the line level-triggered (Intel 82371SB, 4.1.10).
const ELCR_MASTER: u16 = 0x4D0;
const ELCR_SLAVE: u16 = 0x4D1;

/// Serializes read-modify-writes of the mask and trigger registers.
static PIC_LOCK: IrqMutex<()> = IrqMutex::new(());

fn inb(port: u16) -> u8 {
    // SAFETY: reading an 8259 data port (the mask register) or an ELCR
    // has no side effect.
    unsafe { Port::<u8>::new(port).read() }
}

fn out(port: u16, value: u8) {
    // SAFETY: the 8259 command/data ports and the POST port 0x80; writing
    // them reprograms only the PICs, which the kernel owns.
    unsafe {
        Port::<u8>::new(port).write(value);
        Port::<u8>::new(IO_WAIT_PORT).write(0);
    }
}

/// Re-bases both PICs and masks all their lines.
pub fn disable() {
    out(MASTER_CMD, ICW1_INIT);
    out(SLAVE_CMD, ICW1_INIT);
    out(MASTER_DATA, PIC_MASTER_BASE);
    out(SLAVE_DATA, PIC_SLAVE_BASE);
    out(MASTER_DATA, 4); // ICW3: slave on line 2
    out(SLAVE_DATA, 2); // ICW3: cascade identity
    out(MASTER_DATA, ICW4_8086);
    out(SLAVE_DATA, ICW4_8086);
    out(MASTER_DATA, 0xFF);
    out(SLAVE_DATA, 0xFF);
}

/// The data (mask) port and bit of `line` (0–15).
fn mask_bit(line: u8) -> (u16, u8) {
    if line < LINES_PER_PIC {
        (MASTER_DATA, 1 << line)
    } else {
        (SLAVE_DATA, 1 << (line - LINES_PER_PIC))
    }
}

/// Masks `line`.
pub fn mask(line: u8) {
    let _held = PIC_LOCK.lock();
    let (port, bit) = mask_bit(line);
    out(port, inb(port) | bit);
}

/// Unmasks `line` (and the cascade, for a slave line).
pub fn unmask(line: u8) {
    let _held = PIC_LOCK.lock();
    if line >= LINES_PER_PIC {
        out(MASTER_DATA, inb(MASTER_DATA) & !(1 << CASCADE_LINE));
    }
    let (port, bit) = mask_bit(line);
    out(port, inb(port) & !bit);
}

/// True if `line` is masked.
pub fn is_masked(line: u8) -> bool {
    let (port, bit) = mask_bit(line);
    inb(port) & bit != 0
}

/// Makes `line` level-triggered, as PCI interrupt lines are.
pub fn set_level_triggered(line: u8) {
    let _held = PIC_LOCK.lock();
    let (port, bit) = if line < LINES_PER_PIC {
        (ELCR_MASTER, 1 << line)
    } else {
        (ELCR_SLAVE, 1 << (line - LINES_PER_PIC))
    };
    out(port, inb(port) | bit);
}

/// Ends the interrupt of `line` at the PIC(s) that delivered it.
pub fn end_of_interrupt(line: u8) {
    if line >= LINES_PER_PIC {
        out(SLAVE_CMD, OCW2_EOI);
    }
    out(MASTER_CMD, OCW2_EOI);
}
