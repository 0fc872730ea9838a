//! Devices for ring-3 drivers: PCI addresses, the description of a device
//! the kernel hands out, and the limits of device access.
//!
//! A driver finds a device (`pci_find`), reads its description
//! (`device_info`, a [`DeviceInfo`] encoded in [`DEVICE_INFO_BYTES`]
//! bytes), claims it (`device_claim`: one owner at a time), then reaches its
//! I/O-port registers through `port_read`/`port_write` (offsets inside one
//! of its I/O BARs), gets memory the device can reach (`dma_alloc`), and
//! waits for its interrupt (`irq_wait`). See [`crate::Syscall`] for each
//! call's contract.

use core::fmt;

/// "Any vendor" or "any device" for `pci_find`.
pub const PCI_ANY: u64 = 0xFFFF;

/// Base address registers of a PCI header of type 0.
pub const BAR_COUNT: usize = 6;

/// `irq_line` of a device with no interrupt line the kernel can route.
pub const NO_IRQ: u8 = 0xFF;

/// Most bytes one `dma_alloc` maps: a virtqueue of 256 entries and its
/// buffers need well under this; more would be physically contiguous memory
/// a 256 MiB guest may not have in one piece.
pub const DMA_MAX_BYTES: u64 = 256 << 10;

/// Most DMA bytes one process may hold at once: a bound on what a driver
/// can take from the frame pool (4 MiB of a 256 MiB guest).
pub const DMA_QUOTA_BYTES: u64 = 4 << 20;

/// Device memory lies below this physical address (4 GiB), so devices with
/// 32-bit DMA addresses (legacy virtio queues among them) can reach it.
pub const DMA_PHYS_LIMIT: u64 = 1 << 32;

/// Longest wait one `irq_wait` may ask for: a minute, as `sleep_ms`.
pub const IRQ_WAIT_MAX_MS: u64 = 60_000;

/// Where a process may place DMA mappings if it has no better idea: a
/// region far from the ELF images (which load near 4 MiB) and the stack
/// (below 128 TiB). Any free, page-aligned user address works.
pub const DMA_WINDOW_BASE: u64 = 0x0000_7000_0000_0000;

/// A PCI function's address: bus, device (slot) and function.
///
/// In system calls it travels as one word, `bus << 8 | device << 3 |
/// function` (the bus/device/function number of configuration mechanism
/// #1); [`PciAddress::from_word`] refuses any other bit.
///
/// # Invariants
/// `device < 32` and `function < 8`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PciAddress {
    bus: u8,
    device: u8,
    function: u8,
}

impl PciAddress {
    /// The address of `bus:device.function`, if `device < 32` and
    /// `function < 8`.
    pub const fn try_new(bus: u8, device: u8, function: u8) -> Option<Self> {
        if device < 32 && function < 8 {
            Some(Self { bus, device, function })
        } else {
            None
        }
    }

    /// The bus.
    pub const fn bus(self) -> u8 {
        self.bus
    }

    /// The device (slot) on its bus.
    pub const fn device(self) -> u8 {
        self.device
    }

    /// The function of the device.
    pub const fn function(self) -> u8 {
        self.function
    }

    /// The system-call word.
    pub const fn to_word(self) -> u64 {
        (self.bus as u64) << 8 | (self.device as u64) << 3 | self.function as u64
    }

    /// The address a system-call word names; `None` above 16 bits.
    pub const fn from_word(word: u64) -> Option<Self> {
        if word > 0xFFFF {
            return None;
        }
        Some(Self { bus: (word >> 8) as u8, device: ((word >> 3) & 0x1F) as u8, function: (word & 7) as u8 })
    }
}

impl fmt::Display for PciAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02x}:{:02x}.{}", self.bus, self.device, self.function)
    }
}

/// What a base address register decodes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(u8)]
pub enum BarKind {
    /// Not implemented (or the upper half of a 64-bit BAR).
    #[default]
    None = 0,
    /// A range of I/O ports: reachable through `port_read`/`port_write`.
    Io = 1,
    /// Memory below 4 GiB.
    Memory32 = 2,
    /// Memory anywhere (the BAR and the next one form one 64-bit address).
    Memory64 = 3,
}

impl BarKind {
    fn from_u8(v: u8) -> Option<Self> {
        Some(match v {
            0 => Self::None,
            1 => Self::Io,
            2 => Self::Memory32,
            3 => Self::Memory64,
            _ => return None,
        })
    }
}

/// One base address register, decoded and sized.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Bar {
    /// What it decodes.
    pub kind: BarKind,
    /// Memory BARs: the device tolerates prefetching.
    pub prefetchable: bool,
    /// First port or physical address.
    pub base: u64,
    /// Ports or bytes decoded (a power of two; 0 if none).
    pub size: u64,
}

/// A PCI function as the kernel found it at boot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeviceInfo {
    /// Where it is.
    pub address: PciAddress,
    /// Vendor id (0x1AF4: virtio).
    pub vendor: u16,
    /// Device id (0x1001: legacy virtio-blk; 0x1042: modern).
    pub device: u16,
    /// Class code (0x01: mass storage).
    pub class: u8,
    /// Subclass.
    pub subclass: u8,
    /// Programming interface.
    pub prog_if: u8,
    /// Revision (0 for a legacy or transitional virtio device).
    pub revision: u8,
    /// The legacy interrupt line the kernel routes for this device
    /// (an 8259 input, 0–15), or [`NO_IRQ`].
    pub irq_line: u8,
    /// The interrupt pin it uses: 0 none, 1–4 INTA–INTD.
    pub irq_pin: u8,
    /// Subsystem vendor id.
    pub subsystem_vendor: u16,
    /// Subsystem id (a legacy virtio device's type: 2 for block).
    pub subsystem: u16,
    /// The base address registers; the upper half of a 64-bit BAR reads as
    /// [`BarKind::None`].
    pub bars: [Bar; BAR_COUNT],
}

/// Bytes of the header of an encoded [`DeviceInfo`].
const HEADER_BYTES: usize = 16;
/// Bytes of one encoded [`Bar`]: kind, flags, 6 reserved, base, size.
const BAR_BYTES: usize = 24;
/// Bytes of an encoded [`DeviceInfo`]: what `device_info` writes.
pub const DEVICE_INFO_BYTES: usize = HEADER_BYTES + BAR_COUNT * BAR_BYTES;
/// Flag bit of an encoded [`Bar`]: prefetchable.
const BAR_PREFETCHABLE: u8 = 1;

impl DeviceInfo {
    /// The fixed little-endian encoding `device_info` writes:
    /// address (u16), vendor (u16), device (u16), class, subclass, prog_if,
    /// revision, irq_line, irq_pin (u8 each), subsystem vendor (u16),
    /// subsystem (u16); then per BAR: kind (u8), flags (u8, bit 0
    /// prefetchable), 6 reserved zero bytes, base (u64), size (u64).
    pub fn encode(&self) -> [u8; DEVICE_INFO_BYTES] {
        let mut out = [0u8; DEVICE_INFO_BYTES];
        out[0..2].copy_from_slice(&(self.address.to_word() as u16).to_le_bytes());
        out[2..4].copy_from_slice(&self.vendor.to_le_bytes());
        out[4..6].copy_from_slice(&self.device.to_le_bytes());
        out[6..12].copy_from_slice(&[self.class, self.subclass, self.prog_if, self.revision, self.irq_line, self.irq_pin]);
        out[12..14].copy_from_slice(&self.subsystem_vendor.to_le_bytes());
        out[14..16].copy_from_slice(&self.subsystem.to_le_bytes());
        for (i, bar) in self.bars.iter().enumerate() {
            let at = HEADER_BYTES + i * BAR_BYTES;
            out[at] = bar.kind as u8;
            out[at + 1] = if bar.prefetchable { BAR_PREFETCHABLE } else { 0 };
            out[at + 8..at + 16].copy_from_slice(&bar.base.to_le_bytes());
            out[at + 16..at + 24].copy_from_slice(&bar.size.to_le_bytes());
        }
        out
    }

    /// Decodes what [`DeviceInfo::encode`] wrote; `None` if `bytes` is
    /// shorter or holds an unknown BAR kind.
    pub fn decode(bytes: &[u8]) -> Option<Self> {
        let bytes = bytes.get(..DEVICE_INFO_BYTES)?;
        let u16_at = |at: usize| u16::from_le_bytes([bytes[at], bytes[at + 1]]);
        let u64_at = |at: usize| {
            let mut w = [0u8; 8];
            w.copy_from_slice(&bytes[at..at + 8]);
            u64::from_le_bytes(w)
        };
        let mut bars = [Bar::default(); BAR_COUNT];
        for (i, bar) in bars.iter_mut().enumerate() {
            let at = HEADER_BYTES + i * BAR_BYTES;
            *bar = Bar {
                kind: BarKind::from_u8(bytes[at])?,
                prefetchable: bytes[at + 1] & BAR_PREFETCHABLE != 0,
                base: u64_at(at + 8),
                size: u64_at(at + 16),
            };
        }
        Some(Self {
            address: PciAddress::from_word(u64::from(u16_at(0)))?,
            vendor: u16_at(2),
            device: u16_at(4),
            class: bytes[6],
            subclass: bytes[7],
            prog_if: bytes[8],
            revision: bytes[9],
            irq_line: bytes[10],
            irq_pin: bytes[11],
            subsystem_vendor: u16_at(12),
            subsystem: u16_at(14),
            bars,
        })
    }
}

/// Widths `port_read`/`port_write` accept, in bytes.
pub const PORT_WIDTHS: [u64; 3] = [1, 2, 4];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_pack_as_bus_device_function() {
        let a = PciAddress::try_new(0, 4, 0).unwrap();
        assert_eq!(a.to_word(), 0x20);
        assert_eq!(PciAddress::from_word(0x20), Some(a));
        let b = PciAddress::try_new(0xAB, 31, 7).unwrap();
        assert_eq!(b.to_word(), 0xABFF);
        assert_eq!(PciAddress::from_word(b.to_word()), Some(b));
        assert_eq!(PciAddress::from_word(0x1_0000), None);
        assert_eq!(PciAddress::from_word(u64::MAX), None);
        assert_eq!(PciAddress::try_new(0, 32, 0), None);
        assert_eq!(PciAddress::try_new(0, 0, 8), None);
        assert_eq!(b.to_string(), "ab:1f.7");
    }

    #[test]
    fn device_info_round_trips() {
        let mut bars = [Bar::default(); BAR_COUNT];
        bars[0] = Bar { kind: BarKind::Io, prefetchable: false, base: 0xC040, size: 0x40 };
        bars[1] = Bar { kind: BarKind::Memory32, prefetchable: false, base: 0xFEBF_1000, size: 0x1000 };
        bars[4] = Bar { kind: BarKind::Memory64, prefetchable: true, base: 0xFE00_0000, size: 0x4000 };
        let info = DeviceInfo {
            address: PciAddress::try_new(0, 4, 0).unwrap(),
            vendor: 0x1AF4,
            device: 0x1001,
            class: 1,
            subclass: 0,
            prog_if: 0,
            revision: 0,
            irq_line: 11,
            irq_pin: 1,
            subsystem_vendor: 0x1AF4,
            subsystem: 2,
            bars,
        };
        let bytes = info.encode();
        assert_eq!(bytes.len(), 160);
        assert_eq!(DeviceInfo::decode(&bytes), Some(info));
        assert_eq!(DeviceInfo::decode(&bytes[..159]), None, "too short");
        let mut bad = bytes;
        bad[HEADER_BYTES] = 9;
        assert_eq!(DeviceInfo::decode(&bad), None, "unknown BAR kind");
    }
}
