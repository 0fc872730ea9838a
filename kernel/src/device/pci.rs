//! PCI configuration space through mechanism #1 (ports 0xCF8/0xCFC), and
//! the list of functions found on the buses.
//!
//! The scan is a brute-force walk of every bus, device and function (8,192
//! probes: a few milliseconds even under TCG), done once — at boot through
//! [`init`], or on the first use otherwise — and kept: devices do not come
//! and go on QEMU's `pc` machine. Each function's BARs are sized by the
//! usual write-all-ones dance with its decoding turned off meanwhile, so a
//! BAR never answers at a bogus address. Bridges are listed but not sized
//! nor handed out. The layout and decoding are `kernel_logic::pci`.

use alloc::vec::Vec;

use kernel_logic::pci::{
    self, bar_offset, config_address, is_multifunction, piix_pirq, pirq_route_line, routable_line, CLASS_BRIDGE,
    COMMAND_IO, COMMAND_MEMORY, CONFIG_ADDRESS_PORT, CONFIG_DATA_PORT, DEVICE_PIIX3_ISA, HEADER_DWORDS,
    NO_VENDOR, PIIX3_PIRQ_ROUTE, REG_COMMAND, REG_HEADER, REG_INTERRUPT, REG_VENDOR, VENDOR_INTEL,
};
use lazarus_abi::device::{DeviceInfo, PciAddress, BAR_COUNT, NO_IRQ};
use x86_64::instructions::port::Port;

use crate::sync::{IrqGuard, IrqMutex};

/// Serializes the two-step accesses (address, then data) to configuration
/// space; the guard is the proof of holding it.
static CONFIG: IrqMutex<()> = IrqMutex::new(());

/// Every function found, in bus/device/function order.
static DEVICES: spin::Once<Vec<DeviceInfo>> = spin::Once::new();

/// Buses configuration mechanism #1 reaches.
const BUSES: u16 = 256;
/// Devices per bus.
const DEVICES_PER_BUS: u8 = 32;
/// Functions per device.
const FUNCTIONS: u8 = 8;

fn read_locked(_held: &IrqGuard<'_, ()>, addr: PciAddress, offset: u8) -> u32 {
    // SAFETY: CONFIG_ADDRESS/CONFIG_DATA are the host bridge's
    // configuration ports, used only here under the CONFIG lock (held, as
    // the guard proves); a configuration read has no side effect on the
    // devices this kernel knows.
    unsafe {
        Port::<u32>::new(CONFIG_ADDRESS_PORT).write(config_address(addr, offset));
        Port::<u32>::new(CONFIG_DATA_PORT).read()
    }
}

fn write_locked(_held: &IrqGuard<'_, ()>, addr: PciAddress, offset: u8, value: u32) {
    // SAFETY: as in `read_locked`; the callers write only registers whose
    // effect they own (BAR sizing with decoding off, then the value read).
    unsafe {
        Port::<u32>::new(CONFIG_ADDRESS_PORT).write(config_address(addr, offset));
        Port::<u32>::new(CONFIG_DATA_PORT).write(value);
    }
}

/// The 16-bit command register of `addr`.
fn command_locked(held: &IrqGuard<'_, ()>, addr: PciAddress) -> u16 {
    read_locked(held, addr, REG_COMMAND) as u16
}

/// Writes the 16-bit command register alone: a 16-bit access to the low
/// half of the data port, so the status register beside it (whose bits
/// clear when written with ones) is left alone.
fn set_command_locked(_held: &IrqGuard<'_, ()>, addr: PciAddress, value: u16) {
    // SAFETY: as in `write_locked`: the command register of a function the
    // caller is entitled to change (the scan, or the owner's claim).
    unsafe {
        Port::<u32>::new(CONFIG_ADDRESS_PORT).write(config_address(addr, REG_COMMAND));
        Port::<u16>::new(CONFIG_DATA_PORT).write(value);
    }
}

/// A dword of `addr`'s configuration space.
pub fn read_dword(addr: PciAddress, offset: u8) -> u32 {
    let held = CONFIG.lock();
    read_locked(&held, addr, offset)
}

/// Sets the bits `set` and clears the bits `clear` of `addr`'s command
/// register (`kernel_logic::pci::COMMAND_*`); returns the new value.
pub fn update_command(addr: PciAddress, set: u16, clear: u16) -> u16 {
    let held = CONFIG.lock();
    let value = (command_locked(&held, addr) | set) & !clear;
    set_command_locked(&held, addr, value);
    value
}

/// The command register of `addr`.
pub fn command(addr: PciAddress) -> u16 {
    let held = CONFIG.lock();
    command_locked(&held, addr)
}

/// Scans the buses (once) and logs what it found at debug level.
pub fn init() -> &'static [DeviceInfo] {
    DEVICES.call_once(|| {
        let found = scan();
        for d in &found {
            log::debug!(
                "pci {} {:04x}:{:04x} class {:02x}.{:02x}.{:02x} rev {} irq line {} pin {} bars {:?}",
                d.address,
                d.vendor,
                d.device,
                d.class,
                d.subclass,
                d.prog_if,
                d.revision,
                d.irq_line,
                d.irq_pin,
                d.bars.iter().filter(|b| b.size != 0).map(|b| (b.kind, b.base, b.size)).collect::<Vec<_>>(),
            );
        }
        log::debug!("pci: {} function(s)", found.len());
        found
    })
}

/// Every function, in bus/device/function order.
pub fn devices() -> &'static [DeviceInfo] {
    init()
}

/// The function at `addr`, if there is one.
pub fn get(addr: PciAddress) -> Option<&'static DeviceInfo> {
    devices().iter().find(|d| d.address == addr)
}

/// The `index`-th function whose ids match (`None` matches any).
pub fn find(vendor: Option<u16>, device: Option<u16>, index: usize) -> Option<&'static DeviceInfo> {
    devices()
        .iter()
        .filter(|d| vendor.is_none_or(|v| v == d.vendor) && device.is_none_or(|v| v == d.device))
        .nth(index)
}

fn scan() -> Vec<DeviceInfo> {
    let mut found = Vec::new();
    for bus in 0..BUSES {
        for dev in 0..DEVICES_PER_BUS {
            let Some(first) = PciAddress::try_new(bus as u8, dev, 0) else { continue };
            if read_dword(first, REG_VENDOR) as u16 == NO_VENDOR {
                continue;
            }
            let functions = if is_multifunction(read_dword(first, REG_HEADER)) { FUNCTIONS } else { 1 };
            for function in 0..functions {
                if let Some(info) = PciAddress::try_new(bus as u8, dev, function).and_then(probe) {
                    found.push(info);
                }
            }
        }
    }
    found
}

/// Reads, sizes and decodes one function.
fn probe(addr: PciAddress) -> Option<DeviceInfo> {
    let held = CONFIG.lock();
    let mut header = [0u32; HEADER_DWORDS];
    for (i, dword) in header.iter_mut().enumerate() {
        *dword = read_locked(&held, addr, (i * 4) as u8);
    }
    if header[0] as u16 == NO_VENDOR {
        return None;
    }
    let header_type = (header[usize::from(REG_HEADER) / 4] >> 16) as u8 & 0x7F;
    let class = (header[2] >> 24) as u8;
    let mut masks = [0u32; BAR_COUNT];
    if header_type == 0 && class != CLASS_BRIDGE {
        let command = command_locked(&held, addr);
        set_command_locked(&held, addr, command & !(COMMAND_IO | COMMAND_MEMORY));
        for (i, mask) in masks.iter_mut().enumerate() {
            let offset = bar_offset(i);
            let original = header[usize::from(offset) / 4];
            write_locked(&held, addr, offset, u32::MAX);
            *mask = read_locked(&held, addr, offset);
            write_locked(&held, addr, offset, original);
        }
        set_command_locked(&held, addr, command);
    }
    drop(held);
    let pin = (header[usize::from(REG_INTERRUPT) / 4] >> 8) as u8;
    let line_register = header[usize::from(REG_INTERRUPT) / 4] as u8;
    let line = if pin == 0 { NO_IRQ } else { routable_line(legacy_line(addr, pin).unwrap_or(line_register)) };
    pci::parse(addr, &header, &masks, line)
}

/// The 8259 line a bus-0 device's pin reaches through the PIIX3's PIRQ
/// routing, on QEMU's `pc` machine; `None` elsewhere (the firmware's
/// interrupt-line register is then the best knowledge there is).
fn legacy_line(addr: PciAddress, pin: u8) -> Option<u8> {
    let isa = PciAddress::try_new(0, 1, 0)?;
    let id = read_dword(isa, REG_VENDOR);
    if addr.bus() != 0 || id as u16 != VENDOR_INTEL || (id >> 16) as u16 != DEVICE_PIIX3_ISA {
        return None;
    }
    let pirq = piix_pirq(addr.device(), pin)?;
    let routes = read_dword(isa, PIIX3_PIRQ_ROUTE);
    pirq_route_line((routes >> (8 * pirq)) as u8)
}
