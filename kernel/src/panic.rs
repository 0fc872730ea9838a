//! Panics: inside a recovery boundary they unwind to it; anywhere else they
//! are the kernel's one way to die.
//!
//! A panic of a thread inside a boundary (and not already unwinding) is
//! raised as a `Fault` and unwound. Any other panic is a kernel panic: print
//! the cause and a backtrace, tell the test harness, halt. Kernel-panic
//! output goes through the serial port without its lock, since the code
//! that panicked may hold it.

use core::fmt::{self, Write};
use core::panic::PanicInfo;
use core::sync::atomic::{AtomicBool, Ordering};

use alloc::string::ToString;
use unwind::fault::{Fault, FaultKind, Location};

use crate::memory::heap;
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
    // Raising allocates the fault; a panic with the heap locked (inside the
    // allocator) cannot be raised and is fatal.
    if unwind::can_raise() && !heap::is_locked() {
        let location = info.location().map(|l| Location { file: l.file().to_string(), line: l.line(), column: l.column() });
        let kind = FaultKind::Panic { message: info.message().to_string(), location };
        let why = unwind::try_raise(Fault::new(kind, unwind::backtrace::capture()));
        serial::emergency_write(format_args!("\ncannot unwind this panic ({why:?})"));
    }
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
    serial::emergency_write(format_args!("{}\n", unwind::backtrace::capture()));
    ktest::on_kernel_panic(message.as_str());
    serial::emergency_write(format_args!("System halted.\n"));
    cpu::halt_forever()
}
