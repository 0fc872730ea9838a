//! The legacy virtio PCI interface: register offsets in I/O BAR 0, device
//! status bits, and what identifies a legacy block device (virtio 1.x,
//! 4.1.4.8 and 5.2; virtio 0.9.5, 2.1).

/// Virtio's PCI vendor id.
pub const VENDOR_VIRTIO: u16 = 0x1AF4;
/// First device id of the transitional (legacy-capable) range.
pub const FIRST_TRANSITIONAL: u16 = 0x1000;
/// Last device id of the transitional range.
pub const LAST_TRANSITIONAL: u16 = 0x103F;
/// The transitional block device's id.
pub const DEVICE_BLK_TRANSITIONAL: u16 = 0x1001;
/// The modern-only block device's id (not driven here).
pub const DEVICE_BLK_MODERN: u16 = 0x1042;
/// A transitional device's subsystem id names its type: 2 is block.
pub const SUBSYSTEM_BLK: u16 = 2;
/// The BAR holding the legacy registers (an I/O BAR).
pub const REGISTER_BAR: u8 = 0;

/// Features the device offers (u32, read-only).
pub const DEVICE_FEATURES: u64 = 0x00;
/// Features the driver accepts (u32).
pub const DRIVER_FEATURES: u64 = 0x04;
/// Page frame number of the selected queue (u32): its physical address
/// divided by 4,096; 0 takes the queue away.
pub const QUEUE_PFN: u64 = 0x08;
/// Entries of the selected queue (u16, read-only in the legacy interface).
pub const QUEUE_SIZE: u64 = 0x0C;
/// Which queue the queue registers mean (u16).
pub const QUEUE_SELECT: u64 = 0x0E;
/// Writing a queue's index tells the device it has new buffers (u16).
pub const QUEUE_NOTIFY: u64 = 0x10;
/// Device status (u8); writing 0 resets the device.
pub const DEVICE_STATUS: u64 = 0x12;
/// Interrupt status (u8): reading returns and clears it, lowering INTx.
pub const ISR_STATUS: u64 = 0x13;
/// The device-specific configuration, with MSI-X off: for a block device,
/// its capacity in 512-byte sectors (u64, as two u32) comes first.
pub const DEVICE_CONFIG: u64 = 0x14;

/// Status: the driver has seen the device.
pub const STATUS_ACKNOWLEDGE: u8 = 1;
/// Status: the driver knows how to drive it.
pub const STATUS_DRIVER: u8 = 2;
/// Status: the driver is ready; the device may use its queues.
pub const STATUS_DRIVER_OK: u8 = 4;
/// Status: the driver gave up on the device.
pub const STATUS_FAILED: u8 = 0x80;

/// ISR bit 0: a queue has used buffers.
pub const ISR_QUEUE: u8 = 1;

/// Feature bit: the device has a write cache and takes `REQUEST_FLUSH`
/// (virtio 1.x, 5.2.3: `VIRTIO_BLK_F_FLUSH`, bit 9). A driver that does
/// not accept it gets a device that writes through (5.2.5.1).
pub const FEATURE_FLUSH: u32 = 1 << 9;

/// Request type: read sectors into the buffer.
pub const REQUEST_IN: u32 = 0;
/// Request type: write the buffer to sectors.
pub const REQUEST_OUT: u32 = 1;
/// Request type: put everything written so far on the medium (no data).
pub const REQUEST_FLUSH: u32 = 4;
/// Request status written by the device: done.
pub const REQUEST_OK: u8 = 0;

/// True if `vendor:device` (with its subsystem id) is a block device this
/// driver can speak to through the legacy interface.
pub fn is_legacy_blk(vendor: u16, device: u16, subsystem: u16) -> bool {
    vendor == VENDOR_VIRTIO
        && (device == DEVICE_BLK_TRANSITIONAL
            || ((FIRST_TRANSITIONAL..=LAST_TRANSITIONAL).contains(&device) && subsystem == SUBSYSTEM_BLK))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_block_devices_are_recognized() {
        assert!(is_legacy_blk(0x1AF4, 0x1001, 2));
        assert!(is_legacy_blk(0x1AF4, 0x1001, 0));
        assert!(!is_legacy_blk(0x1AF4, 0x1000, 1), "a network card");
        assert!(!is_legacy_blk(0x1AF4, 0x1042, 2), "modern only");
        assert!(!is_legacy_blk(0x8086, 0x1001, 2));
    }
}
