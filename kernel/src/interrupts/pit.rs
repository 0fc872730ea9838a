//! The programmable interval timer (8254 PIT), used once: as the known clock
//! against which the local APIC timer and the TSC are calibrated.

use kernel_logic::calibration;
use x86_64::instructions::port::Port;

/// Channel 2 data port.
const CHANNEL2: u16 = 0x42;
/// Mode/command port.
const COMMAND: u16 = 0x43;
/// Keyboard-controller port B: bit 0 gates channel 2, bit 1 drives the
/// speaker, bit 5 reads channel 2's output.
const PORT_B: u16 = 0x61;
/// Command: channel 2, low then high byte, mode 0 (interrupt on terminal
/// count), binary.
const CMD_CH2_ONESHOT: u8 = 0b1011_0000;
const GATE: u8 = 1 << 0;
const SPEAKER: u8 = 1 << 1;
const OUT2: u8 = 1 << 5;

/// Runs a one-shot of `ms` milliseconds on channel 2 and calls `start` as it
/// begins and `end` as it ends. Returns the PIT count used, or `None` if `ms`
/// does not fit the PIT.
pub fn time_oneshot(ms: u64, start: impl FnOnce(), end: impl FnOnce()) -> Option<u16> {
    let count = calibration::pit_count_for_ms(ms)?;
    let mut port_b = Port::<u8>::new(PORT_B);
    // SAFETY: channel 2 and port B drive only the PIT and the PC speaker
    // (kept off); the kernel uses them nowhere else.
    unsafe {
        let b = port_b.read() & !(GATE | SPEAKER);
        port_b.write(b);
        Port::<u8>::new(COMMAND).write(CMD_CH2_ONESHOT);
        Port::<u8>::new(CHANNEL2).write(count as u8);
        Port::<u8>::new(CHANNEL2).write((count >> 8) as u8);
        start();
        port_b.write(b | GATE);
        while port_b.read() & OUT2 == 0 {
            core::hint::spin_loop();
        }
        end();
        port_b.write(b);
    }
    Some(count)
}
