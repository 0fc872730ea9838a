//! Proof that a ring-3 driver works: checks the typed errors of every
//! device system call, then drives the legacy virtio-blk disk the in-QEMU
//! tests attach — set-up, capacity, one sector written with a pattern
//! unique to this run and read back, each request waiting on the device's
//! interrupt — and exits 0.
//!
//! It ends with `exit` while it still owns the device and its device
//! memory, on purpose: the kernel must release both (the `blk` test group
//! checks that nothing is left). Each failure prints what went wrong and
//! exits with its own code (see [`Failure`]).

#![no_std]
#![no_main]
#![forbid(unsafe_code)]

mod checks;

use lazarus_rt::device::{BarKind, DMA_WINDOW_BASE, NO_IRQ};
use lazarus_rt::{println, sys};
use virtio_blk::legacy::{DEVICE_BLK_TRANSITIONAL, VENDOR_VIRTIO};
use virtio_blk::{LegacyBlk, Wait, SECTOR_SIZE};

/// Why the probe failed: the exit code names the step.
#[derive(Clone, Copy, Debug)]
#[repr(i32)]
pub enum Failure {
    /// No legacy virtio-blk device on the PCI buses.
    NoDisk = 10,
    /// Its description is not what QEMU gives.
    Description = 11,
    /// A system call with bad arguments did not fail as it should.
    BadArgumentAccepted = 12,
    /// Setting the device up failed.
    Open = 13,
    /// The capacity is not the scratch disk's.
    Capacity = 14,
    /// A request failed.
    Request = 15,
    /// The sector read back is not what was written.
    Mismatch = 16,
    /// A request completed without its interrupt.
    NoInterrupt = 17,
}

/// Where the driver maps its device memory.
pub const DRIVER_DMA: u64 = DMA_WINDOW_BASE;
/// Requests `write_and_read_back` makes.
const REQUESTS: u64 = 4;
/// Smallest disk the test expects (the harness's scratch disk is 1 MiB).
const MIN_SECTORS: u64 = 2048;

fn main() -> i32 {
    match run() {
        Ok(()) => 0,
        Err(f) => {
            println!("blkprobe: failed: {f:?}");
            f as i32
        }
    }
}

fn run() -> Result<(), Failure> {
    let address = sys::pci_find(Some(VENDOR_VIRTIO), Some(DEVICE_BLK_TRANSITIONAL), 0).map_err(|e| {
        println!("blkprobe: no legacy virtio-blk device: {e}");
        Failure::NoDisk
    })?;
    let info = sys::device_info(address).map_err(|_| Failure::Description)?;
    println!(
        "blkprobe: virtio-blk at {address}: BAR0 {:?} {:#x}+{:#x}, irq line {} pin {}",
        info.bars[0].kind, info.bars[0].base, info.bars[0].size, info.irq_line, info.irq_pin
    );
    if info.bars[0].kind != BarKind::Io || info.bars[0].size < 0x20 || info.irq_line == NO_IRQ || info.class != 1 {
        return Err(Failure::Description);
    }
    checks::before_claim(address)?;
    let mut disk = LegacyBlk::open(address, DRIVER_DMA, Wait::Interrupt).map_err(|e| {
        println!("blkprobe: set-up failed: {e}");
        Failure::Open
    })?;
    println!(
        "blkprobe: {} sectors, queue of {} entries at {:#x}, device features {:#x}",
        disk.capacity(),
        disk.queue_size(),
        disk.queue_phys(),
        disk.device_features()
    );
    if disk.capacity() < MIN_SECTORS {
        return Err(Failure::Capacity);
    }
    checks::while_owning(address, &info)?;
    write_and_read_back(&mut disk)?;
    // Each of the four requests waited for its interrupt.
    if disk.interrupts() < REQUESTS || disk.lost_interrupts() != 0 {
        println!("blkprobe: {} interrupts, {} lost", disk.interrupts(), disk.lost_interrupts());
        return Err(Failure::NoInterrupt);
    }
    println!("blkprobe: ok ({} interrupts); exiting with the device and its memory still held", disk.interrupts());
    // No drop: the kernel must stop the device and free its memory.
    sys::exit(0)
}

/// The byte `i` of this run's pattern: the run's seed (from the clock)
/// mixed with the offset, so no earlier run or stale buffer can match.
fn pattern(seed: u64, i: usize) -> u8 {
    (seed.rotate_left((i % 64) as u32) as u8) ^ (i as u8).wrapping_mul(31)
}

fn write_and_read_back(disk: &mut LegacyBlk) -> Result<(), Failure> {
    let request = |e| {
        println!("blkprobe: request failed: {e}");
        Failure::Request
    };
    let seed = sys::uptime_ns() | 1;
    let last = disk.capacity() - 1;
    let mut before = [0u8; SECTOR_SIZE];
    disk.read(last, &mut before).map_err(request)?;
    let mut sector = [0u8; SECTOR_SIZE];
    for (i, b) in sector.iter_mut().enumerate() {
        *b = pattern(seed, i);
    }
    if before == sector {
        return Err(Failure::Mismatch);
    }
    disk.write(last, &sector).map_err(request)?;
    let mut back = [0u8; SECTOR_SIZE];
    disk.read(last, &mut back).map_err(request)?;
    if back != sector {
        let first = back.iter().zip(&sector).position(|(a, b)| a != b).unwrap_or(0);
        println!("blkprobe: sector {last} differs at byte {first}: {:#x} != {:#x}", back[first], sector[first]);
        return Err(Failure::Mismatch);
    }
    // Sector 0 is another place: it must not have changed.
    let mut zero = [0u8; SECTOR_SIZE];
    disk.read(0, &mut zero).map_err(request)?;
    if zero == sector {
        return Err(Failure::Mismatch);
    }
    println!("blkprobe: sector {last} written and read back ({SECTOR_SIZE} bytes, seed {seed:#x})");
    Ok(())
}

lazarus_rt::entry!(main);
