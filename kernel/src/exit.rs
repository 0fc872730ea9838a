//! Leaving QEMU with a status, through its `isa-debug-exit` device.
//!
//! QEMU is started with `-device isa-debug-exit,iobase=0xf4,iosize=0x04`; a
//! write of `v` to the port ends QEMU with exit status `(v << 1) | 1`. On a
//! machine without the device the write does nothing and the kernel halts.

use x86_64::instructions::port::Port;

/// I/O port of QEMU's `isa-debug-exit` device.
const DEBUG_EXIT_PORT: u16 = 0xF4;

/// What the kernel reports to the host.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum QemuExit {
    /// Everything passed: QEMU exits with status 33.
    Success = 0x10,
    /// Something failed: QEMU exits with status 35.
    Failure = 0x11,
}

/// Ends the QEMU session; halts if there is no exit device.
pub fn exit_qemu(code: QemuExit) -> ! {
    // SAFETY: port 0xF4 is QEMU's debug-exit device (or nothing); writing it
    // touches no memory.
    unsafe { Port::<u32>::new(DEBUG_EXIT_PORT).write(code as u32) };
    crate::cpu::halt_forever()
}

/// Keyboard-controller command port; command 0xFE pulses the CPU's reset line.
const KBC_COMMAND: u16 = 0x64;
const KBC_RESET: u8 = 0xFE;

/// Resets the machine (QEMU with `-no-reboot` then exits, status 0).
pub fn reset() -> ! {
    // SAFETY: the keyboard controller's reset command touches no memory;
    // the machine restarts.
    unsafe { Port::<u8>::new(KBC_COMMAND).write(KBC_RESET) };
    crate::cpu::halt_forever()
}
