//! A panic in a user program prints its message and ends the process with
//! exit code [`PANIC_EXIT_CODE`].

use core::fmt::Write;
use core::panic::PanicInfo;

use crate::console::Console;
use crate::sys;

/// Exit code of a process that panicked (like a shell's 128 + SIGABRT).
pub const PANIC_EXIT_CODE: i64 = 134;

#[panic_handler]
fn panic(info: &PanicInfo<'_>) -> ! {
    let mut c = Console::new();
    let _ = writeln!(c, "panic: {}", info.message());
    c.flush();
    sys::exit(PANIC_EXIT_CODE)
}
