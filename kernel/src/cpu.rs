//! Processor set-up: the control-register bits the kernel relies on, and halting.

use x86_64::registers::control::{Cr0, Cr0Flags, Cr4, Cr4Flags};
use x86_64::registers::model_specific::{Efer, EferFlags};

/// Turns on what the rest of the kernel assumes:
/// - SSE (CR0.EM clear, CR0.MP set, CR4.OSFXSR and OSXMMEXCPT set): the
///   bootloader leaves it off, and the unwinder saves MXCSR with `stmxcsr`,
///   which raises #UD without it;
/// - CR0.WP, so the kernel cannot write read-only pages either;
/// - EFER.NXE, so no-execute page bits are honoured rather than reserved.
pub fn init() {
    // SAFETY: these bits only enable features; nothing the kernel has set up
    // depends on them being off (no page has NX set before NXE, no code uses
    // SSE before this).
    unsafe {
        Cr0::update(|f| {
            f.remove(Cr0Flags::EMULATE_COPROCESSOR);
            f.insert(Cr0Flags::MONITOR_COPROCESSOR | Cr0Flags::WRITE_PROTECT);
        });
        Cr4::update(|f| f.insert(Cr4Flags::OSFXSR | Cr4Flags::OSXMMEXCPT_ENABLE));
        Efer::update(|f| f.insert(EferFlags::NO_EXECUTE_ENABLE));
    }
}

/// Stops this CPU for good: interrupts off, then `hlt` forever.
pub fn halt_forever() -> ! {
    x86_64::instructions::interrupts::disable();
    loop {
        x86_64::instructions::hlt();
    }
}
