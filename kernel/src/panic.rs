//! The kernel's one way to die: print the cause, tell the test harness, halt.
//!
//! A kernel panic never unwinds: it is the end. (Recovery boundaries that
//! catch panics inside the kernel arrive with the `unwind/` crate.) Output
//! goes through the serial port without its lock, since the code that
//! panicked may hold it.

use core::fmt::{self, Write};
use core::panic::PanicInfo;
use core::sync::atomic::{AtomicBool, Ordering};

use crate::{cpu, ktest, serial};

static PANICKING: AtomicBool = AtomicBool::new(false);

/// Bytes of the panic message kept for the test harness; the whole message
/// is printed regardless.
const MESSAGE_CAPACITY: usize = 1024;

/// A fixed-size text buffer: the panic path must not allocate, because the
/// heap's lock may be held by the code that panicked.
struct Buffer {
    bytes: [u8; MESSAGE_CAPACITY],
    len: usize,
}

impl Write for Buffer {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for &b in s.as_bytes() {
            if self.len < self.bytes.len() {
                self.bytes[self.len] = b;
                self.len += 1;
            }
        }
        Ok(())
    }
}

impl Buffer {
    fn as_str(&self) -> &str {
        match core::str::from_utf8(&self.bytes[..self.len]) {
            Ok(s) => s,
            // Cut inside a multi-byte character: keep the valid prefix.
            Err(e) => core::str::from_utf8(&self.bytes[..e.valid_up_to()]).unwrap_or(""),
        }
    }
}

#[panic_handler]
fn panic(info: &PanicInfo<'_>) -> ! {
    x86_64::instructions::interrupts::disable();
    if PANICKING.swap(true, Ordering::SeqCst) {
        serial::emergency_write(format_args!("\nKERNEL PANIC while panicking: {}\n", info.message()));
        ktest::on_kernel_panic("panic while panicking");
        cpu::halt_forever();
    }
    let mut message = Buffer { bytes: [0; MESSAGE_CAPACITY], len: 0 };
    let _ = write!(message, "{}", info.message());
    let location = info.location();
    serial::emergency_write(format_args!("\nKERNEL PANIC: {}\n", info.message()));
    if let Some(loc) = location {
        serial::emergency_write(format_args!("  at {}:{}:{}\n", loc.file(), loc.line(), loc.column()));
    }
    ktest::on_kernel_panic(message.as_str());
    serial::emergency_write(format_args!("System halted.\n"));
    cpu::halt_forever()
}
