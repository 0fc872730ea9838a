//! The kernel's virtual address layout.
//!
//! The bootloader places the kernel image, the boot stack, the boot info and
//! the mapping of all physical memory anywhere in [`DYNAMIC_START`] ..
//! [`DYNAMIC_END`]; the kernel keeps everything it maps itself above that, each
//! area in its own 512 GiB level-4 slot so areas never share page tables with
//! the bootloader's mappings. The lower half is left for user address spaces.

use core::ops::Range;

/// Start of the range the bootloader may use for its own mappings.
pub const DYNAMIC_START: u64 = 0xFFFF_8000_0000_0000;
/// End of the range the bootloader may use for its own mappings.
pub const DYNAMIC_END: u64 = 0xFFFF_C000_0000_0000;

/// The kernel heap.
pub const HEAP_START: u64 = 0xFFFF_C000_0000_0000;
/// Size of the kernel heap: 8 MiB holds every kernel object of the tests and
/// demos with room to spare, and costs 2048 frames of a 256 MiB guest.
pub const HEAP_SIZE: u64 = 8 << 20;

/// Kernel thread stacks, one slot each (see [`StackSlot`]).
pub const STACKS_START: u64 = 0xFFFF_C080_0000_0000;
/// Bytes of mapped stack per kernel thread: 64 KiB, enough for the deepest
/// kernel path plus a formatted fault report.
pub const STACK_SIZE: u64 = 64 << 10;
/// Bytes of the fault stack each thread has beside its stack: the unwinder
/// starts on it when the thread takes a CPU exception, so it works even when
/// the thread's own stack overflowed. Parsing unwind tables needs a few KiB.
pub const FAULT_STACK_SIZE: u64 = 32 << 10;
/// Unmapped bytes below the stack and below the fault stack. Larger frames
/// touch every page on the way down (stack probes), so they hit it too.
pub const GUARD_SIZE: u64 = 16 << 10;
/// Bytes per slot, low to high: guard, fault stack, guard, stack.
pub const STACK_SLOT_SIZE: u64 = 128 << 10;
/// Number of stack slots: bounds the number of live kernel threads.
pub const STACK_SLOTS: u64 = 4096;

const _: () = assert!(GUARD_SIZE + FAULT_STACK_SIZE + GUARD_SIZE + STACK_SIZE == STACK_SLOT_SIZE);

/// Device registers (local APIC, later device MMIO), mapped uncached.
pub const MMIO_START: u64 = 0xFFFF_C100_0000_0000;
/// Size of the MMIO window.
pub const MMIO_SIZE: u64 = 1 << 30;

/// Scratch area where in-kernel tests map and unmap pages.
pub const SCRATCH_START: u64 = 0xFFFF_C180_0000_0000;
/// Size of the scratch area.
pub const SCRATCH_SIZE: u64 = 1 << 30;

/// A kernel stack slot: a guard, the fault stack, a guard, the stack.
///
/// # Invariants
/// The index is below [`STACK_SLOTS`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct StackSlot(u64);

/// Where an address falls inside the stack area.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StackHit {
    /// In the slot's mapped stack.
    Stack(StackSlot),
    /// In the guard below the stack: a stack overflow if it was a stack access.
    Guard(StackSlot),
    /// In the slot's fault stack.
    FaultStack(StackSlot),
    /// In the guard below the fault stack: the unwinder itself overflowed.
    FaultStackGuard(StackSlot),
}

impl StackSlot {
    /// The slot with this index, if it exists.
    pub fn try_new(index: u64) -> Option<Self> {
        (index < STACK_SLOTS).then_some(Self(index))
    }

    /// The slot's index.
    pub fn index(self) -> u64 {
        self.0
    }

    fn base(self) -> u64 {
        STACKS_START + self.0 * STACK_SLOT_SIZE
    }

    /// The unmapped guard below the stack.
    pub fn guard(self) -> Range<u64> {
        let end = self.stack().start;
        end - GUARD_SIZE..end
    }

    /// The fault stack, on which the unwinder starts after a CPU exception.
    pub fn fault_stack(self) -> Range<u64> {
        let start = self.base() + GUARD_SIZE;
        start..start + FAULT_STACK_SIZE
    }

    /// The unmapped guard below the fault stack.
    pub fn fault_stack_guard(self) -> Range<u64> {
        self.base()..self.base() + GUARD_SIZE
    }

    /// The mapped stack; it grows down from `end`.
    pub fn stack(self) -> Range<u64> {
        let end = self.base() + STACK_SLOT_SIZE;
        end - STACK_SIZE..end
    }

    /// Which slot, and which part of it, holds `addr`.
    pub fn classify(addr: u64) -> Option<StackHit> {
        let offset = addr.checked_sub(STACKS_START)?;
        let slot = Self::try_new(offset / STACK_SLOT_SIZE)?;
        Some(if slot.stack().contains(&addr) {
            StackHit::Stack(slot)
        } else if slot.guard().contains(&addr) {
            StackHit::Guard(slot)
        } else if slot.fault_stack().contains(&addr) {
            StackHit::FaultStack(slot)
        } else {
            StackHit::FaultStackGuard(slot)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const fn l4_index(addr: u64) -> u64 {
        (addr >> 39) & 511
    }

    #[test]
    fn areas_are_in_distinct_level4_slots_above_the_bootloader() {
        let areas = [
            (HEAP_START, HEAP_SIZE),
            (STACKS_START, STACK_SLOTS * STACK_SLOT_SIZE),
            (MMIO_START, MMIO_SIZE),
            (SCRATCH_START, SCRATCH_SIZE),
        ];
        let mut seen = Vec::new();
        for (start, size) in areas {
            assert!(start >= DYNAMIC_END);
            let (first, last) = (l4_index(start), l4_index(start + size - 1));
            for i in first..=last {
                assert!(!seen.contains(&i), "level-4 slot {i} shared");
                seen.push(i);
            }
        }
        assert!(l4_index(DYNAMIC_END - 1) < *seen.iter().min().unwrap());
    }

    #[test]
    fn parts_partition_the_slot() {
        let s = StackSlot::try_new(3).unwrap();
        assert_eq!(s.fault_stack_guard().end, s.fault_stack().start);
        assert_eq!(s.fault_stack().end, s.guard().start);
        assert_eq!(s.guard().end, s.stack().start);
        assert_eq!(s.stack().end - s.fault_stack_guard().start, STACK_SLOT_SIZE);
        assert_eq!(s.stack().end - s.stack().start, STACK_SIZE);
        for r in [s.fault_stack_guard(), s.fault_stack(), s.guard(), s.stack()] {
            assert_eq!(r.start % 4096, 0);
            assert_eq!(r.end % 16, 0, "stack tops are 16-byte aligned");
        }
    }

    #[test]
    fn classify_addresses() {
        let s = StackSlot::try_new(7).unwrap();
        assert_eq!(StackSlot::classify(s.stack().end - 8), Some(StackHit::Stack(s)));
        assert_eq!(StackSlot::classify(s.stack().start), Some(StackHit::Stack(s)));
        assert_eq!(StackSlot::classify(s.stack().start - 1), Some(StackHit::Guard(s)));
        assert_eq!(StackSlot::classify(s.guard().start), Some(StackHit::Guard(s)));
        assert_eq!(StackSlot::classify(s.fault_stack().end - 1), Some(StackHit::FaultStack(s)));
        assert_eq!(StackSlot::classify(s.fault_stack().start - 1), Some(StackHit::FaultStackGuard(s)));
        assert_eq!(StackSlot::classify(s.fault_stack_guard().start), Some(StackHit::FaultStackGuard(s)));
        let next = StackSlot::try_new(8).unwrap();
        assert_eq!(StackSlot::classify(s.stack().end), Some(StackHit::FaultStackGuard(next)));
        assert_eq!(StackSlot::classify(STACKS_START - 1), None);
        assert_eq!(StackSlot::classify(STACKS_START + STACK_SLOTS * STACK_SLOT_SIZE), None);
        assert_eq!(StackSlot::try_new(STACK_SLOTS), None);
    }
}
