//! Panics in the trusted address space: inside a recovery boundary they
//! unwind to it; anywhere else the image prints the panic and exits.

use alloc::string::ToString;
use core::panic::PanicInfo;

use lazarus_rt::{println, sys};
use unwind::fault::{Fault, FaultKind, Location};

/// Exit code of an image whose panic could not be unwound.
const UNRECOVERABLE_PANIC: i64 = 134;

#[panic_handler]
fn panic(info: &PanicInfo<'_>) -> ! {
    if unwind::can_raise() {
        let location = info.location().map(|l| Location { file: l.file().to_string(), line: l.line(), column: l.column() });
        let kind = FaultKind::Panic { message: info.message().to_string(), location };
        let why = unwind::try_raise(Fault::new(kind, unwind::backtrace::capture()));
        println!("tas: cannot unwind this panic ({why:?})");
    }
    println!("tas: panic outside any recovery boundary: {}", info.message());
    sys::exit(UNRECOVERABLE_PANIC)
}
