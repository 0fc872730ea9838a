//! Where the parts of a legacy virtqueue lie in its memory (virtio 1.x,
//! 2.7 "Split Virtqueues" and 4.1.4.8's legacy alignment): the descriptor
//! table, then the available ring, then — at the next 4,096-byte boundary —
//! the used ring.

/// Bytes of a descriptor: address (u64), length (u32), flags (u16), next
/// (u16).
pub const DESC_BYTES: u64 = 16;
/// Alignment of the used ring (and of the queue) in the legacy interface.
pub const LEGACY_ALIGN: u64 = 4096;
/// Largest queue a split virtqueue may have.
pub const MAX_QUEUE_SIZE: u16 = 32768;

/// Descriptor flag: the chain continues at `next`.
pub const DESC_NEXT: u16 = 1;
/// Descriptor flag: the device writes this buffer (else it reads it).
pub const DESC_WRITE: u16 = 2;

/// The layout of a legacy virtqueue of `size` entries.
///
/// # Invariants
/// `size` is a power of two from 1 to [`MAX_QUEUE_SIZE`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RingLayout {
    size: u16,
    avail: u64,
    used: u64,
    bytes: u64,
}

fn align_up(x: u64) -> u64 {
    x.next_multiple_of(LEGACY_ALIGN)
}

impl RingLayout {
    /// The layout for `size` entries; `None` if `size` is not a power of
    /// two from 1 to [`MAX_QUEUE_SIZE`].
    pub fn legacy(size: u16) -> Option<Self> {
        if size == 0 || !size.is_power_of_two() || size > MAX_QUEUE_SIZE {
            return None;
        }
        let n = u64::from(size);
        let avail = DESC_BYTES * n;
        // flags, idx, ring[n], used_event: all u16.
        let avail_bytes = 2 * (3 + n);
        let used = align_up(avail + avail_bytes);
        // flags, idx (u16 each), ring[n] of (id, len) u32 pairs, avail_event.
        let used_bytes = 2 * 3 + 8 * n;
        Some(Self { size, avail, used, bytes: align_up(used + used_bytes) })
    }

    /// Entries.
    pub fn size(&self) -> u16 {
        self.size
    }

    /// Bytes the queue takes, rounded up to whole pages.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Offset of descriptor `i` (modulo the size).
    pub fn desc(&self, i: u16) -> u64 {
        DESC_BYTES * u64::from(i % self.size)
    }

    /// Offset of the available ring's flags.
    pub fn avail_flags(&self) -> u64 {
        self.avail
    }

    /// Offset of the available ring's index: the next slot the driver fills.
    pub fn avail_idx(&self) -> u64 {
        self.avail + 2
    }

    /// Offset of available slot `i` (modulo the size).
    pub fn avail_slot(&self, i: u16) -> u64 {
        self.avail + 4 + 2 * u64::from(i % self.size)
    }

    /// Offset of the used ring's index: how many chains the device has
    /// returned (wrapping).
    pub fn used_idx(&self) -> u64 {
        self.used + 2
    }

    /// Offset of used element `i` (modulo the size): chain head (u32), then
    /// bytes written (u32).
    pub fn used_slot(&self, i: u16) -> u64 {
        self.used + 4 + 8 * u64::from(i % self.size)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The legacy `vring_size` formula of virtio 0.9.5, appendix A.
    fn vring_size(num: u64) -> u64 {
        align_up(16 * num + 2 * (3 + num)) + 2 * 3 + 8 * num
    }

    #[test]
    fn qemu_queue_of_256() {
        let r = RingLayout::legacy(256).unwrap();
        assert_eq!(r.avail_flags(), 4096);
        assert_eq!(r.avail_idx(), 4098);
        assert_eq!(r.avail_slot(0), 4100);
        assert_eq!(r.avail_slot(257), 4102, "wraps");
        assert_eq!(r.used_idx(), 8194);
        assert_eq!(r.used_slot(1), 8204);
        assert_eq!(r.bytes(), 12288);
        assert!(r.bytes() >= vring_size(256));
        assert_eq!(r.desc(3), 48);
    }

    #[test]
    fn sizes() {
        for size in [1u16, 2, 8, 128, 1024, 32768] {
            let r = RingLayout::legacy(size).unwrap();
            assert_eq!(r.used_idx() - 2, align_up(16 * u64::from(size) + 2 * (3 + u64::from(size))));
            assert!(r.bytes() >= vring_size(u64::from(size)) && r.bytes().is_multiple_of(4096));
        }
        for bad in [0u16, 3, 100, 65535] {
            assert_eq!(RingLayout::legacy(bad), None, "size {bad}");
        }
    }
}
