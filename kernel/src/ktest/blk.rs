//! Device access for ring-3 drivers, end to end, on the legacy virtio-blk
//! disk the harness attaches to every test boot: the PCI scan finds it; a
//! notification counts, wakes and times out; bad arguments of every device
//! system call get their typed errors; a claimed device is busy for
//! everyone else; the `blkprobe` program drives the disk from ring 3
//! (set-up, a sector written and read back, waiting on the interrupt)
//! and ends still holding it; and whether a driver exits or faults, the
//! kernel stops its device and frees its device memory — nothing leaks.

use kernel_logic::layout::HEAP_START;
use kernel_logic::pci::{COMMAND_BUS_MASTER, COMMAND_INTX_DISABLE, COMMAND_IO};
use lazarus_abi::device::{BarKind, PciAddress, DEVICE_INFO_BYTES, DMA_WINDOW_BASE, IRQ_WAIT_MAX_MS, NO_IRQ, PCI_ANY};
use lazarus_abi::layout::{USER_STACK_SIZE, USER_STACK_TOP};
use lazarus_abi::{Syscall, SyscallError};

use super::user::call3_with;
use super::{Case, Group};
use crate::accounting;
use crate::device::{self, pci};
use crate::interrupts::irq;
use crate::thread::{self, notify, FaultPolicy};
use crate::usermode::{run_user, UserExit, UserProgram};
use crate::{kprintln, ramdisk, time};

/// The group.
pub static GROUP: Group = Group {
    name: "blk",
    cases: &[
        Case { name: "pci_scan_finds_the_virtio_disk", run: scan_finds_the_disk },
        Case { name: "notifications_count_wake_and_time_out", run: notifications },
        Case { name: "bad_device_call_arguments_get_typed_errors", run: bad_raw_arguments },
        Case { name: "a_claimed_device_is_busy_for_other_processes", run: busy_for_others },
        Case { name: "blkprobe_drives_the_disk_from_ring_3", run: blkprobe_drives_the_disk },
        Case { name: "a_faulting_driver_leaves_no_device_or_memory_behind", run: faulting_driver_leaks_nothing },
    ],
};

/// Virtio's vendor id and the transitional block device's id.
const VIRTIO: u16 = 0x1AF4;
const VIRTIO_BLK: u16 = 0x1001;
/// Device memory the faulting driver maps: 64 KiB.
const FAULT_DMA_BYTES: u64 = 64 << 10;

/// The legacy virtio-blk disk.
fn disk() -> PciAddress {
    match pci::find(Some(VIRTIO), Some(VIRTIO_BLK), 0) {
        Some(d) => d.address,
        None => panic!("no legacy virtio-blk disk: does the harness attach its scratch disk?"),
    }
}

fn err(e: SyscallError) -> i64 {
    -(e as i64)
}

fn scan_finds_the_disk() {
    let devices = pci::init();
    for d in devices {
        kprintln!(
            "  pci {} {:04x}:{:04x} class {:02x}.{:02x} irq line {} pin {}",
            d.address,
            d.vendor,
            d.device,
            d.class,
            d.subclass,
            d.irq_line,
            d.irq_pin
        );
    }
    assert!(devices.len() >= 3, "host bridge, ISA bridge, IDE at least");
    let host = pci::get(PciAddress::try_new(0, 0, 0).expect("valid")).expect("a host bridge at 00:00.0");
    assert_eq!(host.class, 6, "the host bridge is a bridge");
    let d = pci::get(disk()).expect("found by find");
    assert_eq!((d.class, d.subclass), (1, 0), "mass storage, SCSI-class (virtio-blk's)");
    assert_eq!(d.subsystem, 2, "a legacy virtio device's subsystem id is its type: block");
    assert_eq!(d.bars[0].kind, BarKind::Io, "legacy registers in I/O BAR 0");
    assert!(d.bars[0].size >= 0x20 && d.bars[0].base >= 0x1000, "BAR0 {:?}", d.bars[0]);
    assert_ne!(d.irq_line, NO_IRQ, "a routable legacy interrupt line");
    assert_eq!(d.irq_pin, 1, "INTA");
    // The scan is done once: the same list again.
    assert!(core::ptr::eq(pci::devices(), devices));
    // Ids filter; an index past the matches finds nothing.
    assert!(pci::find(Some(VIRTIO), Some(VIRTIO_BLK), 1).is_none());
    assert!(pci::find(None, None, devices.len()).is_none());
    assert_eq!(pci::find(None, None, 0).map(|d| d.address), Some(devices[0].address));
}

fn notifications() {
    let n = notify::create();
    assert!(notify::signal(n) && notify::signal(n));
    assert_eq!(notify::pending(n), Some(2));
    let mut blocked = false;
    assert_eq!(notify::wait(n, 0, || blocked = true), Ok(2), "pending signals return at once");
    assert!(!blocked, "nothing to unmask when something was pending");
    assert_eq!(notify::wait(n, 0, || blocked = true), Err(SyscallError::TimedOut), "a poll");
    assert!(blocked, "the hook runs before a wait with nothing pending");
    let start = time::ticks();
    assert_eq!(notify::wait(n, 3, || {}), Err(SyscallError::TimedOut));
    assert!(time::ticks() - start >= 3, "waited its three ticks");
    // A signal from another thread wakes the waiter long before its deadline.
    let signaller = thread::spawn("signaller", FaultPolicy::Panic, move || {
        thread::sleep_ms(30);
        notify::signal(n)
    })
    .expect("spawn");
    let start = time::ticks();
    assert_eq!(notify::wait(n, 500, || {}), Ok(1));
    assert!(time::ticks() - start < 100, "woken by the signal, not the deadline");
    assert!(signaller.join().expect("no fault"));
    notify::destroy(n);
    assert_eq!(notify::wait(n, 0, || {}), Err(SyscallError::NotGranted), "a destroyed notification");
    assert!(notify::signal(n), "signalling a destroyed notification is harmless");
    assert_eq!(notify::pending(n), None);
}

/// Argument words the typed user-side wrappers cannot even build: from a
/// process of raw code (`syscall(nr, a, b, c)`).
fn bad_raw_arguments() {
    let call = |nr: Syscall, a, b, c| call3_with(nr as u64, a, b, c, &[]);
    let disk = disk().to_word();
    let stack = USER_STACK_TOP - USER_STACK_SIZE;
    let invalid = err(SyscallError::InvalidArgument);
    assert_eq!(call(Syscall::PciFind, u64::from(VIRTIO), u64::from(VIRTIO_BLK), 0), disk as i64, "the control");
    assert_eq!(call(Syscall::PciFind, PCI_ANY, PCI_ANY, 0), 0, "the host bridge comes first");
    assert_eq!(call(Syscall::PciFind, 0x1_0000, PCI_ANY, 0), invalid, "vendor id above 16 bits");
    assert_eq!(call(Syscall::PciFind, PCI_ANY, u64::MAX, 0), invalid, "device id above 16 bits");
    assert_eq!(call(Syscall::PciFind, PCI_ANY, PCI_ANY, u64::MAX), err(SyscallError::NoDevice), "huge index");
    let info = DEVICE_INFO_BYTES as u64;
    assert_eq!(call(Syscall::DeviceInfo, disk, stack, info), info as i64, "the control");
    assert_eq!(call(Syscall::DeviceInfo, 0x1_0000, stack, info), invalid, "address word above 16 bits");
    assert_eq!(call(Syscall::DeviceInfo, disk, stack, info - 1), invalid, "buffer too small");
    assert_eq!(call(Syscall::DeviceInfo, disk, 0, info), err(SyscallError::BadAddress), "null buffer");
    assert_eq!(call(Syscall::DeviceInfo, disk, HEAP_START, info), err(SyscallError::BadAddress), "kernel buffer");
    assert_eq!(call(Syscall::DeviceInfo, disk, USER_STACK_TOP - 8, info), err(SyscallError::BadAddress), "runs off");
    assert_eq!(call(Syscall::DeviceInfo, 0xFFFF, stack, info), err(SyscallError::NoDevice), "ff:1f.7");
    assert_eq!(call(Syscall::DeviceClaim, 0x1_0000, 0, 0), invalid);
    assert_eq!(call(Syscall::DeviceClaim, u64::MAX, 0, 0), invalid);
    assert_eq!(call(Syscall::DeviceRelease, 0x1_0000, 0, 0), invalid);
    assert_eq!(call(Syscall::DeviceRelease, disk, 0, 0), err(SyscallError::NotGranted), "not the owner");
    assert_eq!(call(Syscall::PortRead, 0x1_0000, 0, 0), invalid);
    assert_eq!(call(Syscall::PortRead, disk, 0, 0), invalid, "width 0 (R10 is zero)");
    assert_eq!(call(Syscall::IrqWait, 0x1_0000, 0, 0), invalid);
    assert_eq!(call(Syscall::IrqWait, disk, IRQ_WAIT_MAX_MS + 1, 0), invalid, "timeout above the limit");
    assert_eq!(call(Syscall::IrqWait, disk, 0, 0), err(SyscallError::NotGranted), "not the owner");
    assert_eq!(call(Syscall::IrqWait, 0xFFFF, 0, 0), err(SyscallError::NoDevice));
    assert_eq!(call(Syscall::DmaAlloc, DMA_WINDOW_BASE, 4096, 0), err(SyscallError::NotGranted), "owns nothing");
    assert_eq!(call(Syscall::DmaFree, DMA_WINDOW_BASE, 0, 0), invalid, "no region there");
    assert_eq!(call(Syscall::DmaFree, 0, 0, 0), invalid);
    // The first number no call has (the table grows with the kernel).
    let past_the_last = (0..).find(|&n| Syscall::from_number(n).is_none()).expect("numbers run out of calls");
    assert_eq!(call3_with(past_the_last, 0, 0, 0, &[]), err(SyscallError::UnknownSyscall), "past the last call");
    assert!(PciAddress::from_word(disk).is_some_and(|d| device::owner_of(d).is_none()), "nothing claimed");
}

core::arch::global_asm!(
    ".pushsection .rodata.lazarus_blk_programs, \"a\"",
    // claim(params[0]); if that failed, or params[1] is 0, exit with its
    // result; else dma_alloc(params[1], params[2]), exit with its error,
    // or fault (ud2) holding the device and its memory.
    ".global lazarus_up_claim",
    "lazarus_up_claim:",
    "    mov rdi, [rip + lazarus_up_claim_params]",
    "    mov eax, {claim}",
    "    syscall",
    "    test rax, rax",
    "    jnz 2f",
    "    mov rdi, [rip + lazarus_up_claim_params + 8]",
    "    test rdi, rdi",
    "    jz 2f",
    "    mov rsi, [rip + lazarus_up_claim_params + 16]",
    "    mov eax, {dma_alloc}",
    "    syscall",
    "    test rax, rax",
    "    js 2f",
    "    ud2",
    "2:  mov rdi, rax",
    "    mov eax, {exit}",
    "    syscall",
    "    ud2",
    "    .balign 8",
    ".global lazarus_up_claim_params",
    "lazarus_up_claim_params:",
    "    .quad 0, 0, 0",
    ".global lazarus_up_claim_end",
    "lazarus_up_claim_end:",
    ".popsection",
    claim = const Syscall::DeviceClaim as u64,
    dma_alloc = const Syscall::DmaAlloc as u64,
    exit = const Syscall::Exit as u64,
);

/// The claiming program for `address`, with device memory of `len` bytes
/// at `vaddr` (0: none; it then exits with the claim's result).
fn claimer(address: u64, vaddr: u64, len: u64) -> alloc::vec::Vec<u8> {
    unsafe extern "C" {
        static lazarus_up_claim: u8;
        static lazarus_up_claim_params: u8;
        static lazarus_up_claim_end: u8;
    }
    let (start, end) = (&raw const lazarus_up_claim, &raw const lazarus_up_claim_end);
    // SAFETY: the two labels delimit the program in read-only data.
    let image = unsafe { core::slice::from_raw_parts(start, end as usize - start as usize) };
    let mut code = alloc::vec::Vec::from(image);
    let params = &raw const lazarus_up_claim_params as usize - start as usize;
    for (i, w) in [address, vaddr, len].into_iter().enumerate() {
        code[params + 8 * i..params + 8 * i + 8].copy_from_slice(&w.to_le_bytes());
    }
    code
}

/// Runs the claiming program as a driver (see [`claimer`]).
fn run_claimer(address: u64, vaddr: u64, len: u64) -> UserExit {
    let code = claimer(address, vaddr, len);
    device::as_driver(|| run_user(UserProgram::Code(&code))).expect("the address space can be built")
}

/// The same program, without the driver right the kernel gives.
fn run_claimer_unprivileged(address: u64) -> UserExit {
    run_user(UserProgram::Code(&claimer(address, 0, 0))).expect("the address space can be built")
}

fn exit_code(e: UserExit) -> i64 {
    match e {
        UserExit::Exited(code) => code,
        UserExit::Faulted(r) => panic!("the process faulted: {r}"),
    }
}

/// The device is stopped and unrouted: nobody owns it, it masters no bus,
/// its INTx is off and its line masked.
fn assert_released(address: PciAddress) {
    assert_eq!(device::owner_of(address), None, "still claimed");
    let command = pci::command(address);
    assert_eq!(command & COMMAND_BUS_MASTER, 0, "bus mastering left on: {command:#x}");
    assert_ne!(command & COMMAND_INTX_DISABLE, 0, "INTx left on: {command:#x}");
    let line = pci::get(address).map_or(NO_IRQ, |d| d.irq_line);
    assert!(line == NO_IRQ || irq::is_masked(line), "line {line} left unmasked");
}

fn busy_for_others() {
    let disk = disk();
    // The owner is a process's thread, so "another process" is another
    // thread: one that claims the device and ends (as a kernel thread, it
    // keeps the claim until it is released for it).
    let other = thread::spawn("other-owner", FaultPolicy::Panic, move || {
        let me = thread::current_id().expect("a thread");
        device::claim(me, disk).map(|()| me)
    })
    .expect("spawn")
    .join()
    .expect("no fault")
    .expect("the other thread claims it");
    assert_eq!(device::owner_of(disk), Some(other));
    let command = pci::command(disk);
    assert_eq!(command & (COMMAND_BUS_MASTER | COMMAND_IO), COMMAND_BUS_MASTER | COMMAND_IO, "enabled: {command:#x}");
    assert_eq!(command & COMMAND_INTX_DISABLE, 0, "INTx on for its owner");
    assert_eq!(exit_code(run_claimer(disk.to_word(), 0, 0)), err(SyscallError::DeviceBusy));
    assert_eq!(device::owner_of(disk), Some(other), "the busy claim changed nothing");
    device::claim(other, disk).expect("claiming what one owns again");
    let me = thread::current_id().expect("the test thread");
    assert_eq!(device::release(me, disk), Err(SyscallError::NotGranted), "not the owner");
    device::release(other, disk).expect("released by its owner");
    assert_eq!(device::release(other, disk), Err(SyscallError::NotGranted), "released twice");
    assert_released(disk);
    // Free, but a process the kernel did not make a driver may not claim it.
    assert_eq!(exit_code(run_claimer_unprivileged(disk.to_word())), err(SyscallError::NotGranted));
    assert_released(disk);
    // A driver process claims it, exits, and the kernel releases it.
    assert_eq!(exit_code(run_claimer(disk.to_word(), 0, 0)), 0);
    assert_released(disk);
}

fn blkprobe_drives_the_disk() {
    let image = ramdisk::program("blkprobe").expect("ramdisk readable").expect("the ramdisk has blkprobe");
    let disk = disk();
    let run = || match device::as_driver(|| run_user(UserProgram::Elf(image))).expect("blkprobe loads") {
        UserExit::Exited(0) => {}
        UserExit::Exited(code) => panic!("blkprobe failed with code {code} (see its output above)"),
        UserExit::Faulted(r) => panic!("blkprobe faulted: {r}"),
    };
    // The first run also warms up the tables the kernel keeps.
    run();
    assert_released(disk);
    let before = accounting::snapshot();
    run();
    assert_released(disk);
    assert_eq!(accounting::snapshot(), before, "frames, heap and locks as before the second run");
}

fn faulting_driver_leaks_nothing() {
    let disk = disk();
    let dma = |len| run_claimer(disk.to_word(), DMA_WINDOW_BASE, len);
    // Warm-up, then the same again must leave everything as it was.
    assert!(matches!(dma(FAULT_DMA_BYTES), UserExit::Faulted(_)));
    assert_released(disk);
    let before = accounting::snapshot();
    for _ in 0..5 {
        match dma(FAULT_DMA_BYTES) {
            UserExit::Faulted(r) => assert_eq!(r.vector, 6, "the driver's ud2"),
            UserExit::Exited(code) => panic!("the driver exited with {code} instead of faulting"),
        }
        assert_released(disk);
    }
    assert_eq!(accounting::snapshot(), before, "device memory freed at the fault");
    // A bad request from the same program is a typed error, not a fault.
    assert_eq!(exit_code(dma(0)), err(SyscallError::InvalidArgument));
    assert_eq!(exit_code(dma(1 << 40)), err(SyscallError::TooLong));
    assert_released(disk);
}
