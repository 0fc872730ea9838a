//! The console as user programs see it: input typed on the serial port, and
//! output written with `debug_write`.
//!
//! Input is polled from the UART (the console needs no interrupt: a reader
//! sleeps between polls). Tests can type into the same queue and capture
//! what programs write, to drive the shell without a terminal.

use alloc::collections::VecDeque;
use alloc::vec::Vec;

use crate::sync::IrqMutex;
use crate::{kprint, serial, thread};

/// How long a waiting reader sleeps between polls of the UART: short enough
/// for typing to feel immediate, long enough to cost nothing.
const POLL_MS: u64 = 10;

static TYPED: IrqMutex<VecDeque<u8>> = IrqMutex::new(VecDeque::new());
static CAPTURE: IrqMutex<Option<Vec<u8>>> = IrqMutex::new(None);

/// Waits for input; returns at least one and at most `max` bytes.
pub fn read(max: usize) -> Vec<u8> {
    loop {
        while let Some(b) = serial::try_read() {
            TYPED.lock().push_back(b);
        }
        {
            let mut typed = TYPED.lock();
            if !typed.is_empty() {
                let n = typed.len().min(max);
                return typed.drain(..n).collect();
            }
        }
        // Its process ends: it takes no input any more.
        if thread::pending_stop().is_some() {
            return Vec::new();
        }
        thread::sleep_ms(POLL_MS);
    }
}

/// Writes program output to the console (and to the capture, if on).
pub fn write(bytes: &[u8]) {
    kprint!("{}", alloc::string::String::from_utf8_lossy(bytes));
    if let Some(c) = CAPTURE.lock().as_mut() {
        c.extend_from_slice(bytes);
    }
}

/// Types `bytes` as if on the keyboard (for tests).
pub fn type_input(bytes: &[u8]) {
    TYPED.lock().extend(bytes);
}

/// Starts keeping a copy of program output (for tests).
pub fn capture_start() {
    *CAPTURE.lock() = Some(Vec::new());
}

/// Stops keeping a copy; returns what was written meanwhile.
pub fn capture_take() -> Vec<u8> {
    CAPTURE.lock().take().unwrap_or_default()
}
