//! Kernel thread stacks: one slot of the stack area each, holding the stack
//! and a smaller fault stack (where unwinding starts after a CPU exception),
//! each with an unmapped guard below, so an overflow faults instead of
//! silently overwriting whatever lies beneath.

use kernel_logic::layout::{StackSlot, STACK_SLOTS};
use x86_64::structures::paging::Page;
use x86_64::VirtAddr;

use crate::memory::paging::{self, MapError, KERNEL_DATA};
use crate::sync::IrqMutex;

const WORDS: usize = STACK_SLOTS.div_ceil(64) as usize;

/// Slots in use, one bit each.
static SLOTS: IrqMutex<[u64; WORDS]> = IrqMutex::new([0; WORDS]);

/// Why a stack could not be made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StackError {
    /// Every slot is in use.
    NoSlot,
    /// Mapping the stack failed (usually: out of frames).
    Map(MapError),
}

/// A mapped kernel stack; unmapped and its frames freed on drop.
#[derive(Debug)]
pub struct KernelStack {
    slot: StackSlot,
}

/// The mapped pages of a slot: its stack and its fault stack.
fn pages(slot: StackSlot) -> impl Iterator<Item = Page> {
    let range = |r: core::ops::Range<u64>| {
        Page::range(Page::containing_address(VirtAddr::new(r.start)), Page::containing_address(VirtAddr::new(r.end)))
    };
    range(slot.stack()).chain(range(slot.fault_stack()))
}

fn take_slot() -> Option<StackSlot> {
    let mut bits = SLOTS.lock();
    let (w, word) = bits.iter_mut().enumerate().find(|(_, w)| **w != u64::MAX)?;
    let bit = (!*word).trailing_zeros();
    *word |= 1 << bit;
    StackSlot::try_new(w as u64 * 64 + u64::from(bit))
}

fn release_slot(slot: StackSlot) {
    let i = slot.index();
    SLOTS.lock()[(i / 64) as usize] &= !(1 << (i % 64));
}

impl KernelStack {
    /// Maps a new stack in a free slot.
    pub fn new() -> Result<Self, StackError> {
        let slot = take_slot().ok_or(StackError::NoSlot)?;
        let stack = Self { slot };
        for page in pages(slot) {
            // On failure `stack` drops and unmaps the pages mapped so far.
            paging::map_fresh(page, KERNEL_DATA).map_err(StackError::Map)?;
        }
        Ok(stack)
    }

    /// One past the highest byte: the initial stack pointer (16-byte aligned).
    pub fn top(&self) -> u64 {
        self.slot.stack().end
    }

    /// The slot.
    pub fn slot(&self) -> StackSlot {
        self.slot
    }

    /// The fault stack.
    pub fn fault_stack(&self) -> core::ops::Range<u64> {
        self.slot.fault_stack()
    }
}

impl Drop for KernelStack {
    fn drop(&mut self) {
        for page in pages(self.slot) {
            // SAFETY: the stack's owner is gone (its thread has switched away
            // for good), and the frames came from `map_fresh`.
            match unsafe { paging::unmap_and_free(page) } {
                Ok(()) | Err(MapError::NotMapped) => {}
                Err(e) => log::error!("stack slot {}: unmapping {page:?} failed: {e:?}", self.slot.index()),
            }
        }
        release_slot(self.slot);
    }
}
