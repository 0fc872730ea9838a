//! Bad arguments of every device system call, each of which must fail with
//! its typed error (the contracts in `lazarus_abi::Syscall`). Calls whose
//! argument words cannot be built with the typed wrappers (address words
//! above 16 bits, say) are checked from the kernel's side by the `blk` test
//! group.

use core::fmt::Debug;

use lazarus_rt::device::{
    BarKind, DeviceInfo, DmaRegion, PciAddress, DMA_MAX_BYTES, DMA_QUOTA_BYTES, DMA_WINDOW_BASE, IRQ_WAIT_MAX_MS,
};
use lazarus_rt::layout::{USER_CODE_BASE, USER_END, USER_STACK_TOP};
use lazarus_rt::{println, sys, SyscallError};

use crate::{Failure, DRIVER_DMA};

/// Where the quota check maps its regions: far from the driver's.
const QUOTA_BASE: u64 = DMA_WINDOW_BASE + (1 << 30);
/// Room between two quota-check regions: more than the largest region.
const QUOTA_STRIDE: u64 = 1 << 20;
/// Regions the quota check may map: more than the quota allows.
const QUOTA_TRIES: usize = (DMA_QUOTA_BYTES / DMA_MAX_BYTES) as usize + 4;
/// A quick timeout for the wait that must time out.
const SHORT_WAIT_MS: u64 = 20;

/// Fails unless `got` is the error `want`.
fn expect<T: Debug>(what: &str, got: Result<T, SyscallError>, want: SyscallError) -> Result<(), Failure> {
    match got {
        Err(e) if e == want => Ok(()),
        other => {
            println!("blkprobe: {what}: expected {want:?}, got {other:?}");
            Err(Failure::BadArgumentAccepted)
        }
    }
}

/// Fails unless `got` is `Ok`.
fn expect_ok<T: Debug>(what: &str, got: Result<T, SyscallError>) -> Result<T, Failure> {
    got.map_err(|e| {
        println!("blkprobe: {what}: expected success, got {e:?}");
        Failure::BadArgumentAccepted
    })
}

/// Before the device is claimed: everything that needs ownership is
/// refused, and devices that do not exist (or are bridges) are no devices.
pub fn before_claim(disk: PciAddress) -> Result<(), Failure> {
    use SyscallError::*;
    expect("port_read unowned", sys::port_read(disk, 0, 0, 4), NotGranted)?;
    expect("port_write unowned", sys::port_write(disk, 0, 0x12, 1, 0), NotGranted)?;
    expect("irq_wait unowned", sys::irq_wait(disk, 0), NotGranted)?;
    expect("device_release unowned", sys::device_release(disk), NotGranted)?;
    expect("dma_alloc owning no device", sys::dma_alloc(DRIVER_DMA, 4096), NotGranted)?;
    expect("dma_free of nothing", sys::dma_free(DRIVER_DMA), InvalidArgument)?;
    expect("pci_find no such id", sys::pci_find(Some(0x1AF4), Some(0xBEEF), 0), NoDevice)?;
    expect("pci_find past the last match", sys::pci_find(None, None, 10_000), NoDevice)?;
    let nowhere = PciAddress::try_new(0xFF, 31, 7).ok_or(Failure::BadArgumentAccepted)?;
    expect("device_info nowhere", sys::device_info(nowhere), NoDevice)?;
    expect("device_claim nowhere", sys::device_claim(nowhere), NoDevice)?;
    expect("irq_wait nowhere", sys::irq_wait(nowhere, 0), NoDevice)?;
    let host_bridge = PciAddress::try_new(0, 0, 0).ok_or(Failure::BadArgumentAccepted)?;
    expect_ok("device_info of the host bridge", sys::device_info(host_bridge))?;
    expect("device_claim of a bridge", sys::device_claim(host_bridge), NoDevice)?;
    expect("device_info short buffer", sys::device_info_into(disk, &mut [0u8; 100]), InvalidArgument)?;
    // Every function found describes itself.
    let mut index = 0;
    while let Ok(a) = sys::pci_find(None, None, index) {
        expect_ok("device_info of a found function", sys::device_info(a))?;
        index += 1;
    }
    if index < 3 {
        println!("blkprobe: only {index} PCI functions found");
        return Err(Failure::Description);
    }
    Ok(())
}

/// With the device claimed and set up: ownership is exclusive to its
/// ranges, and device memory checks its arguments and its quota.
pub fn while_owning(disk: PciAddress, info: &DeviceInfo) -> Result<(), Failure> {
    use SyscallError::*;
    expect_ok("claiming what one owns", sys::device_claim(disk))?;
    let size = info.bars[0].size;
    expect("port_read BAR 6", sys::port_read(disk, 6, 0, 1), InvalidArgument)?;
    expect("port_read width 3", sys::port_read(disk, 0, 0, 3), InvalidArgument)?;
    expect("port_read width 8", sys::port_read(disk, 0, 0, 8), InvalidArgument)?;
    expect("port_read width 0", sys::port_read(disk, 0, 0, 0), InvalidArgument)?;
    expect("port_read past the BAR", sys::port_read(disk, 0, size, 1), NotGranted)?;
    expect("port_read across the BAR's end", sys::port_read(disk, 0, size - 1, 2), NotGranted)?;
    expect("port_read at a huge offset", sys::port_read(disk, 0, u64::MAX, 1), NotGranted)?;
    for bar in 1..6u64 {
        let kind = info.bars[bar as usize].kind;
        expect("port_read of a BAR that is no I/O BAR", sys::port_read(disk, bar, 0, 1), NotGranted)
            .inspect_err(|_| println!("blkprobe: (BAR {bar} is {kind:?})"))?;
        if kind == BarKind::Io {
            return Err(Failure::Description);
        }
    }
    expect("port_write value wider than the port", sys::port_write(disk, 0, 0x0E, 1, 0x100), InvalidArgument)?;
    expect("port_write past the BAR", sys::port_write(disk, 0, size, 4, 0), NotGranted)?;
    expect_ok("port_read of the status register", sys::port_read(disk, 0, 0x12, 1))?;
    expect("irq_wait beyond the longest wait", sys::irq_wait(disk, IRQ_WAIT_MAX_MS + 1), InvalidArgument)?;
    expect("irq_wait without blocking", sys::irq_wait(disk, 0), TimedOut)?;
    // (How long it waited is the kernel test's to check, in timer ticks:
    // the clock a process reads drifts from them on a loaded host.)
    expect("irq_wait that times out", sys::irq_wait(disk, SHORT_WAIT_MS), TimedOut)?;
    dma_arguments()?;
    dma_quota()
}

fn dma_arguments() -> Result<(), Failure> {
    use SyscallError::*;
    let spare = QUOTA_BASE;
    expect("dma_alloc of 0 bytes", sys::dma_alloc(spare, 0), InvalidArgument)?;
    expect("dma_alloc above the limit", sys::dma_alloc(spare, DMA_MAX_BYTES + 1), TooLong)?;
    expect("dma_alloc of everything", sys::dma_alloc(spare, u64::MAX), TooLong)?;
    expect("dma_alloc unaligned", sys::dma_alloc(spare + 8, 4096), BadAddress)?;
    expect("dma_alloc at null", sys::dma_alloc(0, 4096), BadAddress)?;
    expect("dma_alloc in the kernel", sys::dma_alloc(0xFFFF_8000_0000_0000, 4096), BadAddress)?;
    expect("dma_alloc over the driver's memory", sys::dma_alloc(DRIVER_DMA, 4096), BadAddress)?;
    expect("dma_alloc over the code", sys::dma_alloc(USER_CODE_BASE, 4096), BadAddress)?;
    expect("dma_alloc over the stack", sys::dma_alloc(USER_STACK_TOP - 4096, 4096), BadAddress)?;
    expect("dma_alloc past user space", sys::dma_alloc(USER_END - 4096, 8192), BadAddress)?;
    expect("dma_free inside a region", sys::dma_free(DRIVER_DMA + 4096), InvalidArgument)?;
    // A good one: zeroed, page-aligned, below 4 GiB, and freed twice fails.
    let phys = expect_ok("dma_alloc", sys::dma_alloc(spare, 3 * 4096))?;
    if phys % 4096 != 0 || phys >= 1 << 32 {
        println!("blkprobe: device memory at {phys:#x}");
        return Err(Failure::BadArgumentAccepted);
    }
    expect_ok("dma_free", sys::dma_free(spare))?;
    expect("dma_free twice", sys::dma_free(spare), InvalidArgument)?;
    Ok(())
}

/// Maps regions of the largest size until the quota refuses one; all of
/// them are zeroed and freed when dropped, after which memory is there
/// again.
fn dma_quota() -> Result<(), Failure> {
    let mut regions: [Option<DmaRegion>; QUOTA_TRIES] = core::array::from_fn(|_| None);
    let mut refused = None;
    for (i, slot) in regions.iter_mut().enumerate() {
        match DmaRegion::alloc(QUOTA_BASE + i as u64 * QUOTA_STRIDE, DMA_MAX_BYTES) {
            Ok(mut r) => {
                if r.read64(0) != 0 || r.read64(DMA_MAX_BYTES - 8) != 0 {
                    println!("blkprobe: device memory not zeroed");
                    return Err(Failure::BadArgumentAccepted);
                }
                r.write64(0, u64::MAX);
                *slot = Some(r);
            }
            Err(e) => {
                refused = Some((i, e));
                break;
            }
        }
    }
    let held: u64 = regions.iter().flatten().map(DmaRegion::len).sum();
    match refused {
        Some((count, SyscallError::NoMemory)) if count > 0 && held <= DMA_QUOTA_BYTES => {
            println!("blkprobe: quota: {count} regions of {DMA_MAX_BYTES} bytes, then NoMemory");
        }
        other => {
            println!("blkprobe: quota check: {other:?} after {held} bytes");
            return Err(Failure::BadArgumentAccepted);
        }
    }
    drop(regions);
    let again = expect_ok("dma_alloc after freeing", DmaRegion::alloc(QUOTA_BASE, DMA_MAX_BYTES))?;
    if again.read64(0) != 0 {
        println!("blkprobe: reused device memory not zeroed");
        return Err(Failure::BadArgumentAccepted);
    }
    Ok(())
}
