//! PCI configuration space, as plain logic: where the registers are, how a
//! header and its base address registers decode, how QEMU's i440fx/PIIX3
//! routes a slot's interrupt pin, and which I/O-port accesses a device's
//! BARs allow. The kernel's `device::pci` does the port I/O around it.
//!
//! References: PCI Local Bus Specification 3.0, chapter 6 (configuration
//! space, base address registers), 3.2.2.3.2 (configuration mechanism #1);
//! Intel 82371SB (PIIX3) datasheet, PIRQ route control registers 60h–63h.

use lazarus_abi::device::{Bar, BarKind, DeviceInfo, PciAddress, BAR_COUNT, NO_IRQ, PORT_WIDTHS};

/// Configuration mechanism #1: the address port (32-bit).
pub const CONFIG_ADDRESS_PORT: u16 = 0xCF8;
/// Configuration mechanism #1: the data port (32-bit).
pub const CONFIG_DATA_PORT: u16 = 0xCFC;
/// Bit 31 of `CONFIG_ADDRESS`: the access goes to configuration space.
const CONFIG_ENABLE: u32 = 1 << 31;

/// Vendor id (16 bits) at offset 0; 0xFFFF where no function answers.
pub const REG_VENDOR: u8 = 0x00;
/// Command register (16 bits).
pub const REG_COMMAND: u8 = 0x04;
/// Revision, programming interface, subclass, class (one dword).
pub const REG_CLASS: u8 = 0x08;
/// Cache line size, latency timer, header type, BIST (one dword).
pub const REG_HEADER: u8 = 0x0C;
/// The first base address register; the others follow every 4 bytes.
pub const REG_BAR0: u8 = 0x10;
/// Subsystem vendor id and subsystem id (one dword).
pub const REG_SUBSYSTEM: u8 = 0x2C;
/// Interrupt line, interrupt pin, min grant, max latency (one dword).
pub const REG_INTERRUPT: u8 = 0x3C;
/// Dwords of a type-0 header: what [`parse`] reads.
pub const HEADER_DWORDS: usize = 16;

/// Command bit 0: the device answers I/O-port accesses to its BARs.
pub const COMMAND_IO: u16 = 1 << 0;
/// Command bit 1: the device answers memory accesses to its BARs.
pub const COMMAND_MEMORY: u16 = 1 << 1;
/// Command bit 2: the device may master the bus: DMA.
pub const COMMAND_BUS_MASTER: u16 = 1 << 2;
/// Command bit 10: the device's legacy INTx output is disabled.
pub const COMMAND_INTX_DISABLE: u16 = 1 << 10;

/// Vendor id read where no function exists.
pub const NO_VENDOR: u16 = 0xFFFF;
/// Header type bit 7: the device has functions 1–7 too.
pub const MULTIFUNCTION: u8 = 0x80;
/// Class code of bridges: they have no BARs a driver would want and
/// claiming one could cut the kernel off from devices behind it.
pub const CLASS_BRIDGE: u8 = 0x06;

/// Intel's vendor id.
pub const VENDOR_INTEL: u16 = 0x8086;
/// The PIIX3 PCI-to-ISA bridge of QEMU's `pc` machine (function 0 of
/// device 1 on bus 0), whose config registers 60h–63h route PIRQA–D.
pub const DEVICE_PIIX3_ISA: u16 = 0x7000;
/// Offset of the PIRQA route control register in the PIIX3's config space.
pub const PIIX3_PIRQ_ROUTE: u8 = 0x60;
/// Route control bit 7: the PIRQ is routed nowhere.
const PIRQ_DISABLED: u8 = 0x80;

/// Number of legacy (8259) interrupt lines.
pub const LEGACY_LINES: u8 = 16;

/// The `CONFIG_ADDRESS` value for the dword at `offset` of `addr`'s
/// configuration space (the low two bits of `offset` are dropped).
pub const fn config_address(addr: PciAddress, offset: u8) -> u32 {
    CONFIG_ENABLE
        | (addr.bus() as u32) << 16
        | (addr.device() as u32) << 11
        | (addr.function() as u32) << 8
        | (offset & 0xFC) as u32
}

/// Offset of base address register `index` (below [`BAR_COUNT`]).
pub const fn bar_offset(index: usize) -> u8 {
    REG_BAR0 + 4 * index as u8
}

/// True if the header's type says the device has more than one function.
pub const fn is_multifunction(header_dword: u32) -> bool {
    (header_dword >> 16) as u8 & MULTIFUNCTION != 0
}

/// The size a BAR decodes, from what it read back after all ones were
/// written to it (`mask`, and `upper_mask` for the upper half of a 64-bit
/// BAR): the lowest writable address bit.
fn bar_size(kind: BarKind, mask: u32, upper_mask: u32) -> u64 {
    match kind {
        BarKind::None => 0,
        BarKind::Io => {
            // I/O BARs may hardwire their upper 16 bits to zero.
            let m = mask & 0xFFFF_FFFC;
            if m == 0 {
                0
            } else {
                u64::from((!(m | 0xFFFF_0000)).wrapping_add(1) & 0xFFFF)
            }
        }
        BarKind::Memory32 => {
            let m = mask & 0xFFFF_FFF0;
            if m == 0 {
                0
            } else {
                u64::from((!m).wrapping_add(1))
            }
        }
        BarKind::Memory64 => {
            let m = u64::from(upper_mask) << 32 | u64::from(mask & 0xFFFF_FFF0);
            if m == 0 {
                0
            } else {
                (!m).wrapping_add(1)
            }
        }
    }
}

/// Decodes the six BARs of a type-0 header from their values and what each
/// read back after all ones were written (`masks`). The upper half of a
/// 64-bit BAR is reported as [`BarKind::None`].
pub fn decode_bars(values: &[u32; BAR_COUNT], masks: &[u32; BAR_COUNT]) -> [Bar; BAR_COUNT] {
    let mut bars = [Bar::default(); BAR_COUNT];
    let mut i = 0;
    while i < BAR_COUNT {
        let (v, m) = (values[i], masks[i]);
        if v & 1 == 1 {
            let size = bar_size(BarKind::Io, m, 0);
            if size != 0 {
                bars[i] = Bar { kind: BarKind::Io, prefetchable: false, base: u64::from(v & 0xFFFF_FFFC), size };
            }
            i += 1;
            continue;
        }
        let prefetchable = v & 0b1000 != 0;
        let is_64 = (v >> 1) & 0b11 == 0b10;
        if is_64 && i + 1 < BAR_COUNT {
            let size = bar_size(BarKind::Memory64, m, masks[i + 1]);
            if size != 0 {
                let base = u64::from(values[i + 1]) << 32 | u64::from(v & 0xFFFF_FFF0);
                bars[i] = Bar { kind: BarKind::Memory64, prefetchable, base, size };
            }
            i += 2;
            continue;
        }
        let size = if is_64 { 0 } else { bar_size(BarKind::Memory32, m, 0) };
        if size != 0 {
            bars[i] = Bar { kind: BarKind::Memory32, prefetchable, base: u64::from(v & 0xFFFF_FFF0), size };
        }
        i += 1;
    }
    bars
}

/// Describes the function at `addr` from the dwords of its type-0 header
/// and its BAR masks (see [`decode_bars`]); `irq_line` is the line the
/// kernel will route (see [`routable_line`]). `None` if no function
/// answers there.
pub fn parse(addr: PciAddress, header: &[u32; HEADER_DWORDS], masks: &[u32; BAR_COUNT], irq_line: u8) -> Option<DeviceInfo> {
    let id = header[usize::from(REG_VENDOR) / 4];
    let vendor = id as u16;
    if vendor == NO_VENDOR {
        return None;
    }
    let class = header[usize::from(REG_CLASS) / 4];
    let subsystem = header[usize::from(REG_SUBSYSTEM) / 4];
    let interrupt = header[usize::from(REG_INTERRUPT) / 4];
    let mut values = [0u32; BAR_COUNT];
    for (i, v) in values.iter_mut().enumerate() {
        *v = header[usize::from(bar_offset(i)) / 4];
    }
    Some(DeviceInfo {
        address: addr,
        vendor,
        device: (id >> 16) as u16,
        class: (class >> 24) as u8,
        subclass: (class >> 16) as u8,
        prog_if: (class >> 8) as u8,
        revision: class as u8,
        irq_line,
        irq_pin: (interrupt >> 8) as u8,
        subsystem_vendor: subsystem as u16,
        subsystem: (subsystem >> 16) as u16,
        bars: decode_bars(&values, masks),
    })
}

/// Which PIIX3 PIRQ (0–3: A–D) the interrupt `pin` (1–4: INTA–INTD) of
/// a device in `slot` of bus 0 drives: the i440fx board's swizzle
/// (QEMU `hw/isa/piix.c`, SeaBIOS `pci_slot_get_irq`).
pub const fn piix_pirq(slot: u8, pin: u8) -> Option<u8> {
    if pin == 0 || pin > 4 || slot == 0 || slot >= 32 {
        return None;
    }
    Some((pin - 1 + slot - 1) & 3)
}

/// The legacy line a PIIX3 route control register value names, if the
/// PIRQ is routed.
pub const fn pirq_route_line(route: u8) -> Option<u8> {
    if route & PIRQ_DISABLED != 0 {
        None
    } else {
        Some(route & 0x0F)
    }
}

/// `line` if the kernel can give it to a driver: an 8259 input other than
/// the PIT (0), the cascade (2) and the two lines whose vectors double as
/// the PICs' spurious interrupts (7, 15); [`NO_IRQ`] otherwise.
pub const fn routable_line(line: u8) -> u8 {
    match line {
        0 | 2 | 7 | 15 => NO_IRQ,
        l if l < LEGACY_LINES => l,
        _ => NO_IRQ,
    }
}

/// Ports below this are the ISA range the kernel drives itself (PICs, PIT,
/// COM1, the exit device, PCI configuration at 0xCF8): never granted, even
/// if a BAR claimed them (firmware assigns PCI I/O from 0x1000 up).
pub const FIRST_GRANTABLE_PORT: u64 = 0x1000;

/// True if `width` bytes at `offset` lie inside `bar`, an I/O BAR at or
/// above [`FIRST_GRANTABLE_PORT`], and `width` is one
/// `port_read`/`port_write` accept. The port is then `bar.base + offset`,
/// below 0x10000.
pub fn io_access_ok(bar: &Bar, offset: u64, width: u64) -> bool {
    if bar.kind != BarKind::Io || !PORT_WIDTHS.contains(&width) || bar.base < FIRST_GRANTABLE_PORT {
        return false;
    }
    match offset.checked_add(width) {
        Some(end) => end <= bar.size && bar.base.checked_add(end).is_some_and(|e| e <= 0x1_0000),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(bus: u8, dev: u8, func: u8) -> PciAddress {
        PciAddress::try_new(bus, dev, func).unwrap()
    }

    #[test]
    fn config_addresses() {
        assert_eq!(config_address(addr(0, 0, 0), 0), 0x8000_0000);
        assert_eq!(config_address(addr(0, 4, 0), 0x10), 0x8000_2010);
        assert_eq!(config_address(addr(1, 31, 7), 0x3F), 0x8001_FF3C, "low bits dropped");
        assert_eq!(bar_offset(5), 0x24);
        assert!(is_multifunction(0x0080_0000));
        assert!(!is_multifunction(0x0000_0000));
    }

    /// QEMU's legacy virtio-blk: BAR0 64 ports at 0xC040, BAR1 4 KiB MMIO
    /// (MSI-X), BAR4 a 64-bit prefetchable 16 KiB (modern capabilities).
    #[test]
    fn virtio_blk_bars_decode() {
        let values = [0xC041, 0xFEBF_1000, 0, 0, 0xFE00_000C, 0];
        let masks = [0xFFFF_FFC1, 0xFFFF_F000, 0, 0, 0xFFFF_C00C, 0xFFFF_FFFF];
        let bars = decode_bars(&values, &masks);
        assert_eq!(bars[0], Bar { kind: BarKind::Io, prefetchable: false, base: 0xC040, size: 0x40 });
        assert_eq!(bars[1], Bar { kind: BarKind::Memory32, prefetchable: false, base: 0xFEBF_1000, size: 0x1000 });
        assert_eq!(bars[2].kind, BarKind::None);
        assert_eq!(bars[4], Bar { kind: BarKind::Memory64, prefetchable: true, base: 0xFE00_0000, size: 0x4000 });
        assert_eq!(bars[5].kind, BarKind::None, "upper half of the 64-bit BAR");
    }

    #[test]
    fn odd_bars() {
        // I/O BAR with hardwired-zero upper half; a 64-bit BAR in the last
        // slot (malformed) is ignored; an unimplemented BAR reads zero.
        let values = [0xC001, 0, 0, 0, 0, 0x0000_0004];
        let masks = [0x0000_FFE1, 0, 0, 0, 0, 0xFFFF_0004];
        let bars = decode_bars(&values, &masks);
        assert_eq!(bars[0].size, 0x20);
        assert!(bars[1..].iter().all(|b| b.kind == BarKind::None));
    }

    #[test]
    fn header_parses() {
        let mut header = [0u32; HEADER_DWORDS];
        header[0] = 0x1001_1AF4;
        header[2] = 0x0100_0000;
        header[3] = 0x0000_0000;
        header[4] = 0xC041;
        header[11] = 0x0002_1AF4;
        header[15] = 0x0000_010B;
        let masks = [0xFFFF_FFC1, 0, 0, 0, 0, 0];
        let info = parse(addr(0, 4, 0), &header, &masks, 11).unwrap();
        assert_eq!((info.vendor, info.device), (0x1AF4, 0x1001));
        assert_eq!((info.class, info.subclass, info.prog_if, info.revision), (1, 0, 0, 0));
        assert_eq!((info.subsystem_vendor, info.subsystem), (0x1AF4, 2));
        assert_eq!((info.irq_line, info.irq_pin), (11, 1));
        assert_eq!(info.bars[0].size, 0x40);
        header[0] = 0xFFFF_FFFF;
        assert_eq!(parse(addr(0, 4, 0), &header, &masks, 11), None, "nothing there");
    }

    #[test]
    fn piix_swizzle() {
        // Slot 1 INTA is PIRQA; each slot and each pin shifts by one.
        assert_eq!(piix_pirq(1, 1), Some(0));
        assert_eq!(piix_pirq(3, 1), Some(2));
        assert_eq!(piix_pirq(4, 1), Some(3));
        assert_eq!(piix_pirq(4, 2), Some(0));
        assert_eq!(piix_pirq(4, 0), None, "no pin");
        assert_eq!(piix_pirq(0, 1), None, "the host bridge's slot");
        assert_eq!(pirq_route_line(0x0B), Some(11));
        assert_eq!(pirq_route_line(0x80), None);
        assert_eq!(routable_line(11), 11);
        for bad in [0, 2, 7, 15, 16, 0xFF] {
            assert_eq!(routable_line(bad), NO_IRQ, "line {bad}");
        }
    }

    #[test]
    fn io_access_checks() {
        let bar = Bar { kind: BarKind::Io, prefetchable: false, base: 0xC040, size: 0x40 };
        assert!(io_access_ok(&bar, 0, 4));
        assert!(io_access_ok(&bar, 0x3F, 1));
        assert!(io_access_ok(&bar, 0x3E, 2));
        assert!(!io_access_ok(&bar, 0x3F, 2), "runs off the end");
        assert!(!io_access_ok(&bar, 0x40, 1));
        assert!(!io_access_ok(&bar, 0, 3), "width");
        assert!(!io_access_ok(&bar, 0, 8), "width");
        assert!(!io_access_ok(&bar, u64::MAX, 1), "wraps");
        let mem = Bar { kind: BarKind::Memory32, prefetchable: false, base: 0xFEBF_1000, size: 0x1000 };
        assert!(!io_access_ok(&mem, 0, 4), "not an I/O BAR");
        let high = Bar { kind: BarKind::Io, prefetchable: false, base: 0xFFF0, size: 0x40 };
        assert!(!io_access_ok(&high, 0x20, 4), "past port 0xFFFF");
        let legacy = Bar { kind: BarKind::Io, prefetchable: false, base: 0x3F8, size: 8 };
        assert!(!io_access_ok(&legacy, 0, 1), "the kernel's own ports");
    }
}
