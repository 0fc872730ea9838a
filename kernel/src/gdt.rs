//! The GDT and the TSS, whose interrupt stack table gives the exceptions that
//! must not run on a possibly broken stack a known-good stack of their own,
//! and whose `rsp0` is the kernel stack an entry from ring 3 lands on.
//!
//! Segment order is fixed by `syscall`/`sysret` (Intel SDM Vol. 2B, SYSRET):
//! kernel code, kernel data, user data, user code.
//!
//! Each interrupt stack is a static array whose lowest page is unmapped once
//! paging is up ([`protect_interrupt_stacks`]), so an overflow of the
//! interrupt stack itself faults instead of corrupting the kernel image.

use core::cell::UnsafeCell;

use x86_64::instructions::segmentation::{Segment, CS, DS, ES, SS};
use x86_64::instructions::tables::load_tss;
use x86_64::structures::gdt::{Descriptor, GlobalDescriptorTable, SegmentSelector};
use x86_64::structures::tss::TaskStateSegment;
use x86_64::VirtAddr;

use crate::memory::paging;

/// Interrupt-stack-table slot (1-based, as in the IDT gate) for #DF.
pub const IST_DOUBLE_FAULT: u8 = 1;
/// IST slot for NMI.
pub const IST_NMI: u8 = 2;
/// IST slot for #MC.
pub const IST_MACHINE_CHECK: u8 = 3;
/// IST slot for #PF, so a kernel stack overflow (a page fault on the guard
/// page below a stack) is handled on a stack that works.
pub const IST_PAGE_FAULT: u8 = 4;

/// Number of interrupt stacks.
const IST_COUNT: usize = 4;
/// Bytes per interrupt stack, guard page included: a fault report formats
/// the whole register set, which needs a few KiB.
const IST_SIZE: usize = 32 << 10;
/// The unmapped bottom page of each interrupt stack.
const GUARD_SIZE: usize = 4096;

/// The TSS, written after loading: the CPU reads `rsp0` (the entry area's
/// trampoline stack) and the IST at every entry. Page-aligned and padded:
/// the entry area maps its page for ring 3's view, which must show nothing
/// else.
#[repr(C, align(4096))]
struct TssCell(UnsafeCell<TaskStateSegment>);

// SAFETY: written only with interrupts masked on the one CPU that uses it
// (`init`, `set_kernel_stack`); otherwise read by the CPU alone.
unsafe impl Sync for TssCell {}


static TSS: TssCell = TssCell(UnsafeCell::new(TaskStateSegment::new()));


#[repr(C, align(4096))]
struct InterruptStacks(UnsafeCell<[[u8; IST_SIZE]; IST_COUNT]>);

// SAFETY: the stacks are only ever used by the CPU as interrupt stacks; Rust
// code never reads or writes them through this static.
unsafe impl Sync for InterruptStacks {}

static STACKS: InterruptStacks = InterruptStacks(UnsafeCell::new([[0; IST_SIZE]; IST_COUNT]));
/// The GDT, page-aligned and padded as the TSS is.
#[repr(C, align(4096))]
struct GdtPage(spin::Once<(GlobalDescriptorTable, Selectors)>);

static GDT: GdtPage = GdtPage(spin::Once::new());

/// The segment selectors the kernel uses.
#[derive(Clone, Copy, Debug)]
pub struct Selectors {
    /// Kernel code.
    pub kernel_code: SegmentSelector,
    /// Kernel data (and stack).
    pub kernel_data: SegmentSelector,
    /// User data (and stack), RPL 3.
    pub user_data: SegmentSelector,
    /// User code, RPL 3.
    pub user_code: SegmentSelector,
    /// The task-state segment.
    pub tss: SegmentSelector,
}

fn stack_base(index: usize) -> u64 {
    STACKS.0.get() as u64 + (index * IST_SIZE) as u64
}

/// Loads the GDT and TSS and reloads the segment registers.
pub fn init() {
    // SAFETY: runs once at boot with interrupts masked, before the TSS is
    // loaded: nothing else reads or writes it.
    let tss: &'static TaskStateSegment = unsafe {
        let tss = &mut *TSS.0.get();
        for i in 0..IST_COUNT {
            // Stacks grow down: the entry holds the top (end) of each stack.
            tss.interrupt_stack_table[i] = VirtAddr::new(stack_base(i) + IST_SIZE as u64);
        }
        // Interrupts from ring 3 land on the entry area's trampoline, which
        // moves them to the thread's entry stack.
        tss.privilege_stack_table[0] = VirtAddr::new(crate::memory::isolation::trampoline_top());
        &*TSS.0.get()
    };
    let (gdt, sel) = GDT.0.call_once(|| {
        let mut gdt = GlobalDescriptorTable::new();
        let kernel_code = gdt.append(Descriptor::kernel_code_segment());
        let kernel_data = gdt.append(Descriptor::kernel_data_segment());
        let user_data = gdt.append(Descriptor::user_data_segment());
        let user_code = gdt.append(Descriptor::user_code_segment());
        let tss = gdt.append(Descriptor::tss_segment(tss));
        (gdt, Selectors { kernel_code, kernel_data, user_data, user_code, tss })
    });
    gdt.load();
    // SAFETY: the selectors index descriptors of the GDT just loaded, which
    // lives in a static for the rest of the kernel's life.
    unsafe {
        CS::set_reg(sel.kernel_code);
        SS::set_reg(sel.kernel_data);
        DS::set_reg(sel.kernel_data);
        ES::set_reg(sel.kernel_data);
        load_tss(sel.tss);
    }
}

/// Sets the stack entries from ring 3 (interrupts, exceptions, `syscall`)
/// of the running thread put their frames on. Called with interrupts
/// masked, on every thread switch.
pub fn set_kernel_stack(top: u64) {
    crate::memory::isolation::set_entry_stack(top);
}

/// What of the GDT, TSS and interrupt stacks the CPU reads while ring 3
/// runs: the entry area maps them in ring 3's view.
pub fn entry_area_ranges() -> [core::ops::Range<u64>; 3] {
    fn range<T>(value: &T) -> core::ops::Range<u64> {
        let start = value as *const T as u64;
        start..start + core::mem::size_of::<T>() as u64
    }
    [range(&TSS), range(&GDT), range(&STACKS)]
}

/// The selectors (after `init`).
pub fn selectors() -> Selectors {
    GDT.0.get().expect("gdt::init runs first").1
}

/// Unmaps the lowest page of every interrupt stack, making it a guard page.
pub fn protect_interrupt_stacks() -> Result<(), paging::MapError> {
    for i in 0..IST_COUNT {
        // SAFETY: the lowest page of an interrupt stack is never used: a
        // handler that reached it has already overflowed, and faulting there
        // is exactly what the guard is for.
        unsafe { paging::make_guard(VirtAddr::new(stack_base(i))) }?;
    }
    Ok(())
}

/// The address of each interrupt stack's guard page.
pub fn guard_pages() -> impl Iterator<Item = u64> {
    (0..IST_COUNT).map(stack_base)
}

/// Which interrupt stack, if any, holds `addr`, and whether it is its guard page.
pub fn interrupt_stack_of(addr: u64) -> Option<(usize, bool)> {
    let start = stack_base(0);
    let end = stack_base(IST_COUNT);
    if !(start..end).contains(&addr) {
        return None;
    }
    let offset = (addr - start) as usize;
    Some((offset / IST_SIZE + 1, offset % IST_SIZE < GUARD_SIZE))
}
