//! The legacy 8259 interrupt controllers: moved out of the way and masked.
//!
//! The kernel uses the local APIC. The PICs still exist, and after boot they
//! may deliver on vectors 8–15, which are exceptions; re-basing them to
//! 0x20–0x2F and masking every line means at worst a spurious interrupt on a
//! vector the kernel knows to ignore.

use x86_64::instructions::port::Port;

use super::vectors::{PIC_MASTER_BASE, PIC_SLAVE_BASE};

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
