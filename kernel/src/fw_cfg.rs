//! Reading boot options from QEMU's firmware configuration device (fw_cfg).
//!
//! QEMU exposes named files to the guest (`-fw_cfg name=...,string=...`); the
//! kernel reads its command line from one. The legacy I/O-port interface is
//! enough for a few bytes: write a 16-bit key to the selector port, then read
//! the item byte by byte from the data port (QEMU docs, `specs/fw_cfg.rst`).
//!
//! Files can be read again at any time, and what they hold comes from the
//! command line of the QEMU that runs the guest *now*: a machine restored
//! from a saved state (`-incoming`) sees the new QEMU's files, not the ones
//! it booted with, which is how a trial restored from a snapshot learns its
//! options (`system`). A read is a sequence of port accesses, so a save in
//! the middle of one can mix the two QEMUs' bytes; readers that care read
//! twice. The ports are not locked: only the boot thread, and later the
//! one thread awaiting a restore, read fw_cfg.

use alloc::string::String;
use alloc::vec::Vec;

use x86_64::instructions::port::Port;

/// Selector port (16-bit, write).
const SELECTOR: u16 = 0x510;
/// Data port (8-bit, read).
const DATA: u16 = 0x511;
/// Key of the signature item, which reads "QEMU".
const KEY_SIGNATURE: u16 = 0x0000;
/// Key of the file directory.
const KEY_FILE_DIR: u16 = 0x0019;
/// Length of a file name in a directory entry, NUL padded.
const NAME_LEN: usize = 56;
/// Largest file the kernel will read: boot options are short, and a bound
/// keeps a confused host from making the kernel allocate without limit.
const MAX_FILE: u32 = 4096;

fn select(key: u16) {
    // SAFETY: the fw_cfg selector port only chooses which item the data port
    // returns; no memory is touched. Without fw_cfg the write goes nowhere.
    unsafe { Port::<u16>::new(SELECTOR).write(key) }
}

fn read_bytes(buf: &mut [u8]) {
    let mut port = Port::<u8>::new(DATA);
    for b in buf {
        // SAFETY: reading the fw_cfg data port has no memory effects.
        *b = unsafe { port.read() };
    }
}

fn read_be_u32() -> u32 {
    let mut b = [0; 4];
    read_bytes(&mut b);
    u32::from_be_bytes(b)
}

fn read_be_u16() -> u16 {
    let mut b = [0; 2];
    read_bytes(&mut b);
    u16::from_be_bytes(b)
}

/// True if QEMU's fw_cfg device answers.
pub fn present() -> bool {
    select(KEY_SIGNATURE);
    let mut sig = [0; 4];
    read_bytes(&mut sig);
    &sig == b"QEMU"
}

/// The contents of the fw_cfg file `name`, if the device and file exist.
pub fn read_file(name: &str) -> Option<Vec<u8>> {
    if !present() {
        return None;
    }
    select(KEY_FILE_DIR);
    let count = read_be_u32();
    for _ in 0..count {
        let size = read_be_u32();
        let key = read_be_u16();
        let _reserved = read_be_u16();
        let mut raw = [0u8; NAME_LEN];
        read_bytes(&mut raw);
        let len = raw.iter().position(|&b| b == 0).unwrap_or(NAME_LEN);
        if &raw[..len] == name.as_bytes() {
            let size = size.min(MAX_FILE) as usize;
            let mut data = alloc::vec![0; size];
            select(key);
            read_bytes(&mut data);
            return Some(data);
        }
    }
    None
}

/// The fw_cfg file `name` as text (invalid UTF-8 replaced), if present.
pub fn read_string(name: &str) -> Option<String> {
    read_file(name).map(|d| String::from_utf8_lossy(&d).trim_end_matches('\0').into())
}
