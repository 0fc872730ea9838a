//! The boot sequence: from the bootloader's hand-off to a running scheduler.

use alloc::string::String;

use bootloader_api::config::{BootloaderConfig, Mapping};
use bootloader_api::info::{MemoryRegionKind, MemoryRegions};
use bootloader_api::{entry_point, BootInfo};
use kernel_logic::cmdline::{Cmdline, FW_CFG_FILE};
use kernel_logic::layout::{DYNAMIC_END, DYNAMIC_START, HEAP_SIZE};
use kernel_logic::memory_map::{Region, RegionKind};
use log::LevelFilter;
use unwind::symbols::Symbols;
use x86_64::VirtAddr;

use crate::interrupts::{apic, idt, pic};
use crate::memory::{address_space, frames, heap, paging};
use crate::thread::{self, FaultPolicy};
use crate::{cpu, fw_cfg, gdt, kprintln, ktest, logger, serial, syscall, time};

/// Bytes of the boot stack, which later serves the idle thread: room for
/// the boot sequence, including the memory-map copy below.
const BOOT_STACK_SIZE: u64 = 128 << 10;
/// Most memory-map entries the kernel reads (UEFI maps have a few hundred).
const MAX_REGIONS: usize = 512;

/// What the kernel asks of the bootloader.
pub static BOOTLOADER_CONFIG: BootloaderConfig = {
    let mut config = BootloaderConfig::new_default();
    config.mappings.physical_memory = Some(Mapping::Dynamic);
    config.mappings.dynamic_range_start = Some(DYNAMIC_START);
    // The highest page the bootloader may use (inclusive).
    config.mappings.dynamic_range_end = Some(DYNAMIC_END - 4096);
    config.kernel_stack_size = BOOT_STACK_SIZE;
    config
};

entry_point!(kernel_main, config = &BOOTLOADER_CONFIG);

fn kernel_main(boot_info: &'static mut BootInfo) -> ! {
    time::record_boot();
    serial::init();
    logger::init(LevelFilter::Info);
    cpu::init();
    gdt::init();
    idt::init();

    let Some(phys_offset) = boot_info.physical_memory_offset.into_option() else {
        panic!("the bootloader did not map physical memory");
    };
    let (regions, count) = read_memory_map(&boot_info.memory_regions);
    // SAFETY: the bootloader mapped all physical memory at this offset (we
    // asked for it in BOOTLOADER_CONFIG) and this is the only call.
    unsafe { paging::init(VirtAddr::new(phys_offset)) };
    let summary = match frames::init(&regions[..count], phys_offset) {
        Ok(s) => s,
        Err(e) => panic!("frame allocator: {e}"),
    };
    if let Err(e) = heap::init() {
        panic!("kernel heap: {e:?}");
    }
    if let Err(e) = gdt::protect_interrupt_stacks() {
        log::warn!("interrupt stacks have no guard pages: {e:?}");
    }
    install_symbols(boot_info);
    if let Some(addr) = boot_info.ramdisk_addr.into_option() {
        // SAFETY: the bootloader loaded the ramdisk at this address (in
        // memory it marks as its own) and nothing writes it afterwards.
        unsafe { crate::ramdisk::init(addr, boot_info.ramdisk_len) };
    }
    address_space::init();
    paging::reserve_kernel_areas();
    let entry_area: [core::ops::Range<u64>; 7] = {
        let ([tss, gdt, ists], [idt, idt_variant]) = (gdt::entry_area_ranges(), idt::entry_area_ranges());
        [tss, gdt, ists, idt, idt_variant, crate::interrupts::entry::stubs_range(), syscall::entry_range()]
    };
    if let Err(e) = crate::memory::isolation::init(&entry_area) {
        panic!("the entry area for ring 3 cannot be built: {e:?}");
    }
    let (smep, smap) = cpu::enable_user_protection();
    let tlb = cpu::enable_tlb_tags();
    syscall::init();

    let cmdline: &'static str = OPTIONS.call_once(|| fw_cfg::read_string(FW_CFG_FILE).unwrap_or_default());
    let options = Cmdline::new(cmdline);
    if let Some(level) = options.get("log").and_then(logger::parse_level) {
        logger::init(level);
    }

    pic::disable();
    if let Err(e) = apic::init() {
        panic!("local APIC: {e}");
    }
    let timer_hz = match apic::start_timer(time::TICK_HZ) {
        Ok(hz) => hz,
        Err(e) => panic!("timer calibration: {e}"),
    };
    thread::init();

    let free = frames::counters().free;
    kprintln!();
    kprintln!("Lazarus {} - a fault-tolerant microkernel for x86_64", env!("CARGO_PKG_VERSION"));
    kprintln!(
        "memory: {} MiB usable of {} MiB RAM ({} regions); {} frames free ({} MiB)",
        summary.usable_bytes >> 20,
        summary.ram_bytes >> 20,
        count,
        free,
        (free * 4096) >> 20,
    );
    kprintln!("heap: {} KiB kernel heap", HEAP_SIZE >> 10);
    kprintln!(
        "timer: local APIC timer {}.{:03} MHz (calibrated against the PIT), {} Hz ticks; TSC {} MHz",
        timer_hz / 1_000_000,
        timer_hz / 1000 % 1000,
        time::TICK_HZ,
        time::tsc_hz() / 1_000_000,
    );
    kprintln!(
        "protection: NX on, SMEP {}, SMAP {}",
        if smep { "on" } else { "absent" },
        if smap { "on" } else { "absent" }
    );
    kprintln!(
        "address spaces: PCID {}, kernel and user page tables apart (no global pages)",
        if tlb.pcid { "on" } else { "absent" }
    );
    let programs: alloc::vec::Vec<&str> = crate::ramdisk::names().collect();
    kprintln!("ramdisk: {} program(s): {}", programs.len(), programs.join(" "));
    if !cmdline.is_empty() {
        kprintln!("options: {cmdline}");
    }

    let test = options.get("test").map(String::from);
    let bench = options.get("bench").map(String::from);
    let init = String::from(options.get("init").unwrap_or(crate::system::DEFAULT_INIT));
    let main = thread::spawn("main", FaultPolicy::Panic, move || match (test, bench) {
        (Some(spec), _) => ktest::run(&spec),
        (None, Some(spec)) => crate::bench::run(&spec),
        (None, None) => crate::system::run(&init),
    });
    if let Err(e) = main {
        panic!("cannot start the main thread: {e:?}");
    }
    x86_64::instructions::interrupts::enable();
    thread::idle_loop()
}

/// Reads the kernel's own symbol table, for symbolized backtraces. The
/// bootloader leaves the kernel's ELF file in memory (in a region marked as
/// its own, which the frame allocator never hands out).
fn install_symbols(boot_info: &BootInfo) {
    let start = frames::phys_to_virt(x86_64::PhysAddr::new(boot_info.kernel_addr));
    // SAFETY: the bootloader reports the ELF file at this physical range; it
    // stays mapped (physical-memory mapping) and unmodified for good.
    let elf = unsafe { core::slice::from_raw_parts(start.as_ptr::<u8>(), boot_info.kernel_len as usize) };
    match Symbols::from_elf(elf, boot_info.kernel_image_offset) {
        Ok(symbols) => unwind::symbols::install(symbols),
        Err(e) => log::warn!("no symbols for backtraces: {e:?}"),
    }
}

/// Copies the bootloader's memory map into the kernel's own region type.
fn read_memory_map(map: &MemoryRegions) -> ([Region; MAX_REGIONS], usize) {
    let mut regions = [Region { start: 0, end: 0, kind: RegionKind::Reserved }; MAX_REGIONS];
    if map.len() > MAX_REGIONS {
        log::warn!("memory map has {} regions; using the first {MAX_REGIONS}", map.len());
    }
    let count = map.len().min(MAX_REGIONS);
    for (dst, src) in regions.iter_mut().zip(map.iter()) {
        let kind = match src.kind {
            MemoryRegionKind::Usable => RegionKind::Usable,
            MemoryRegionKind::Bootloader => RegionKind::Bootloader,
            _ => RegionKind::Reserved,
        };
        *dst = Region { start: src.start, end: src.end, kind };
    }
    (regions, count)
}

/// The boot options (fw_cfg `opt/lazarus/cmdline`), read once at boot.
static OPTIONS: spin::Once<String> = spin::Once::new();

/// The options a boot restored from a snapshot was given afterwards
/// (`system`, `trial=await`): set at most once, before the trusted address
/// space or any user program runs, and from then on what [`options`]
/// returns. A second `Once` rather than a replaceable cell, so that every
/// `&'static str` [`options`] ever handed out stays valid.
static REPLACED_OPTIONS: spin::Once<String> = spin::Once::new();

/// The boot options as given (empty before they are read, or if none);
/// after [`replace_options`], the replacement.
pub fn options() -> &'static str {
    REPLACED_OPTIONS.get().or_else(|| OPTIONS.get()).map_or("", String::as_str)
}

/// The boot options were already replaced once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AlreadyReplaced;

/// Replaces the boot options with `options`, once, and returns them.
///
/// Only for a boot that waited to be restored from a snapshot: the options
/// it booted with only said "wait"; the ones QEMU carries after the restore
/// say which trial to run. Call it before anything else reads the options
/// (the trusted address space reads them through the `boot_options` system
/// call when it starts), so that every reader sees one set of options.
pub fn replace_options(options: String) -> Result<&'static str, AlreadyReplaced> {
    let mut first = false;
    let stored = REPLACED_OPTIONS.call_once(|| {
        first = true;
        options
    });
    if first {
        Ok(stored.as_str())
    } else {
        Err(AlreadyReplaced)
    }
}

