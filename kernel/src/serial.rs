//! The serial console on COM1: a polled 16550 UART.
//!
//! All kernel output goes here (QEMU puts COM1 on the terminal or in the test
//! log). Output is polled, so it works with interrupts off and in fault
//! handlers; [`emergency_write`] bypasses the lock for the panic path.

use core::fmt::{self, Write};

use x86_64::instructions::port::Port;

use crate::sync::IrqMutex;

/// I/O port base of COM1.
const COM1: u16 = 0x3F8;
/// Line status register bit: transmit holding register empty.
const LSR_THR_EMPTY: u8 = 1 << 5;
/// Line status register bit: a received byte is waiting.
const LSR_DATA_READY: u8 = 1 << 0;
/// Divisor for 115200 baud (the UART's 1.8432 MHz clock / 16 / 115200).
const DIVISOR_115200: u8 = 1;

/// A 16550 UART at an I/O port base.
struct Uart {
    base: u16,
}

impl Uart {
    const fn new(base: u16) -> Self {
        Self { base }
    }

    fn out(&self, offset: u16, value: u8) {
        // SAFETY: the ports base..base+8 belong to the UART, which only this
        // module drives; writing its registers has no memory effects.
        unsafe { Port::<u8>::new(self.base + offset).write(value) }
    }

    fn inb(&self, offset: u16) -> u8 {
        // SAFETY: as in `out`; reading UART registers has no memory effects.
        unsafe { Port::<u8>::new(self.base + offset).read() }
    }

    /// 115200 baud, 8 data bits, no parity, one stop bit, FIFOs on, no
    /// UART interrupts (the console is polled).
    fn init(&self) {
        self.out(1, 0x00); // interrupt enable: none
        self.out(3, 0x80); // line control: DLAB on to set the divisor
        self.out(0, DIVISOR_115200);
        self.out(1, 0x00);
        self.out(3, 0x03); // 8N1, DLAB off
        self.out(2, 0xC7); // FIFO: enable, clear both, 14-byte threshold
        self.out(4, 0x03); // modem control: DTR, RTS
    }

    fn read_byte(&self) -> Option<u8> {
        (self.inb(5) & LSR_DATA_READY != 0).then(|| self.inb(0))
    }

    fn write_byte(&self, byte: u8) {
        while self.inb(5) & LSR_THR_EMPTY == 0 {
            core::hint::spin_loop();
        }
        self.out(0, byte);
    }
}

impl Write for Uart {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for b in s.bytes() {
            if b == b'\n' {
                self.write_byte(b'\r');
            }
            self.write_byte(b);
        }
        Ok(())
    }
}

static COM1_PORT: IrqMutex<Uart> = IrqMutex::new(Uart::new(COM1));

/// Programs the UART. Output before this still works with QEMU, whose UART
/// needs no set-up, but real hardware needs the line settings.
pub fn init() {
    COM1_PORT.lock().init();
}

/// Writes formatted text under the console lock, so lines of different
/// threads do not interleave.
pub fn write_fmt(args: fmt::Arguments<'_>) {
    let _ = COM1_PORT.lock().write_fmt(args);
}

/// Writes without taking the lock: for the panic path, where the lock may be
/// held by the code that failed. Output may interleave with a writer that was
/// interrupted; it is never lost.
pub fn emergency_write(args: fmt::Arguments<'_>) {
    let _ = Uart::new(COM1).write_fmt(args);
}

/// A byte typed on the console, if one is waiting.
pub fn try_read() -> Option<u8> {
    COM1_PORT.lock().read_byte()
}

/// Prints to the serial console.
#[macro_export]
macro_rules! kprint {
    ($($arg:tt)*) => { $crate::serial::write_fmt(format_args!($($arg)*)) };
}

/// Prints a line to the serial console.
#[macro_export]
macro_rules! kprintln {
    () => { $crate::kprint!("\n") };
    ($($arg:tt)*) => { $crate::serial::write_fmt(format_args!("{}\n", format_args!($($arg)*))) };
}
