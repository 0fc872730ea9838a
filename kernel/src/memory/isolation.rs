//! Page-table isolation: ring 3 runs on a level-4 table of its own, which
//! maps the process's user half and, of the kernel, only the *entry area*:
//! the code that crosses between the rings, the data it needs before it
//! has switched tables (a trampoline stack, two CR3 values, a scratch
//! word), and what the CPU itself reads on an interrupt (GDT, TSS, IDT,
//! interrupt stacks). Everything else of the kernel (its heap, the thread
//! stacks, the map of all physical memory) is not mapped while ring 3
//! runs, so a user program cannot reach it even by speculation
//! (Meltdown-class leaks; the Linux name is KPTI).
//!
//! Each address space has two level-4 tables (`AddressSpace`): the kernel
//! view (user half and whole kernel half), which CR3 holds whenever the
//! kernel runs, and the user view (the same user-half tables, and the
//! entry area's tables, shared by every space, in the kernel half). The
//! crossings switch CR3 between the two:
//! - the `syscall` entry (`syscall/entry.rs`, in the entry area too) saves
//!   the user's RSP, loads the kernel view and the thread's entry stack;
//!   its way back reads the whole frame, then loads the user view.
//! - interrupts from ring 3 land on the trampoline stack (the TSS's `rsp0`)
//!   or an interrupt stack; `lazarus_pti_trap` loads the kernel view and
//!   moves the trampoline's frame to the thread's entry stack before the
//!   common entry runs; `lazarus_pti_iret` copies the return frame back to
//!   the trampoline, loads the user view and returns.
//! - a process's first entry to ring 3 ends in `lazarus_pti_iret_fresh`.
//!
//! The CR3 values come from two words of the entry area that every switch
//! to a thread of a process sets ([`set_views`]), so the crossings need no
//! lookup. One CPU: one trampoline stack, one pair of words.
//!
//! The IPC fast path's direct transfer (`thread::ipc::fast`) does not load
//! the receiver's kernel view at all: it only sets the two words and
//! returns to ring 3 from the receiver's frame (kernel memory, the same in
//! every kernel view), and the way back loads the receiver's user view.

use x86_64::structures::paging::mapper::Translate;
use x86_64::structures::paging::{Mapper, OffsetPageTable, Page, PageTableFlags, PhysFrame, Size4KiB};
use x86_64::VirtAddr;
use kernel_logic::pcid::Root;

use super::address_space::table;
use super::frames::{self, KernelFrames};
use super::paging::{self, MapError};

/// First level-4 entry of the kernel half.
const KERNEL_HALF: usize = 256;

core::arch::global_asm!(
    // The entry area's data: mapped in the user view, so written and read
    // before CR3 is switched. Page-aligned and padded: it shares its pages
    // with nothing else of the kernel.
    ".pushsection .bss.lazarus_entry_data, \"aw\", @nobits",
    ".balign 4096",
    ".global lazarus_entry_data_start",
    "lazarus_entry_data_start:",
    // CR3 of the running process's kernel and user views.
    ".global lazarus_pti_kernel_cr3",
    "lazarus_pti_kernel_cr3: .skip 8",
    ".global lazarus_pti_user_cr3",
    "lazarus_pti_user_cr3: .skip 8",
    // The user's RSP at a `syscall`, until the entry stack is loaded.
    ".global lazarus_pti_user_rsp",
    "lazarus_pti_user_rsp: .skip 8",
    // The user's RDI at a `sysret`, while RDI loads CR3.
    ".global lazarus_pti_scratch",
    "lazarus_pti_scratch: .skip 8",
    ".balign 4096",
    // The trampoline stack: interrupts from ring 3 land here, and the ways
    // back to ring 3 leave from here.
    ".skip 4096",
    ".global lazarus_pti_stack_top",
    "lazarus_pti_stack_top:",
    ".global lazarus_entry_data_end",
    "lazarus_entry_data_end:",
    ".popsection",
    // The top of the running thread's entry stack (`gdt::set_kernel_stack`):
    // kernel data, read once the kernel view is loaded.
    ".pushsection .bss.lazarus_kernel_stack_top, \"aw\", @nobits",
    ".balign 8",
    ".global lazarus_kernel_stack_top",
    "lazarus_kernel_stack_top: .skip 8",
    ".popsection",
    // The crossings (see the module's documentation).
    ".pushsection .text.lazarus_entry, \"ax\"",
    ".balign 4096",
    ".global lazarus_entry_text_start",
    "lazarus_entry_text_start:",
    // Every trap stub comes here with the vector and an error code pushed
    // (RSP + 24: the interrupted CS). From ring 3: the kernel view, and the
    // frame moved from the trampoline to the thread's entry stack (a frame
    // on an interrupt stack stays there).
    ".global lazarus_pti_trap",
    "lazarus_pti_trap:",
    "    test byte ptr [rsp + 24], 3",
    "    jz lazarus_trap_common",
    "    push rax",
    "    mov rax, [rip + lazarus_pti_kernel_cr3]",
    "    mov cr3, rax",
    "    lea rax, [rip + lazarus_pti_stack_top - 64]",
    "    cmp rax, rsp",
    "    jne 2f",
    "    push rbx",
    "    mov rbx, rsp",
    "    mov rsp, [rip + lazarus_kernel_stack_top]",
    // As the CPU aligns an interrupt frame.
    "    and rsp, -16",
    "    push qword ptr [rbx + 64]",
    "    push qword ptr [rbx + 56]",
    "    push qword ptr [rbx + 48]",
    "    push qword ptr [rbx + 40]",
    "    push qword ptr [rbx + 32]",
    "    push qword ptr [rbx + 24]",
    "    push qword ptr [rbx + 16]",
    "    push qword ptr [rbx + 8]",
    "    mov rbx, [rbx]",
    "2:  pop rax",
    "    jmp lazarus_trap_common",
    // Back to ring 3 from a trap, interrupts masked, RSP at the saved RAX,
    // then the vector, the error code and the `iretq` frame.
    ".global lazarus_pti_iret",
    "lazarus_pti_iret:",
    "    mov rax, rsp",
    "    lea rsp, [rip + lazarus_pti_stack_top]",
    "    push qword ptr [rax + 56]",
    "    push qword ptr [rax + 48]",
    "    push qword ptr [rax + 40]",
    "    push qword ptr [rax + 32]",
    "    push qword ptr [rax + 24]",
    "    push qword ptr [rax]",
    "    mov rax, [rip + lazarus_pti_user_cr3]",
    "    mov cr3, rax",
    "    pop rax",
    "    iretq",
    // A thread's first entry to ring 3: its `iretq` frame is on the
    // trampoline, every register but RAX as ring 3 must find it.
    ".global lazarus_pti_iret_fresh",
    "lazarus_pti_iret_fresh:",
    "    mov rax, [rip + lazarus_pti_user_cr3]",
    "    mov cr3, rax",
    "    xor eax, eax",
    "    iretq",
    ".balign 4096",
    ".global lazarus_entry_text_end",
    "lazarus_entry_text_end:",
    ".popsection",
);

unsafe extern "C" {
    static lazarus_entry_data_start: u8;
    static lazarus_entry_data_end: u8;
    static lazarus_entry_text_start: u8;
    static lazarus_entry_text_end: u8;
    static lazarus_pti_stack_top: u8;
    static mut lazarus_pti_kernel_cr3: u64;
    static mut lazarus_pti_user_cr3: u64;
    static mut lazarus_kernel_stack_top: u64;
}

/// The top of the trampoline stack (the TSS's `rsp0`).
pub fn trampoline_top() -> u64 {
    &raw const lazarus_pti_stack_top as u64
}

/// Sets where the running thread's entries from ring 3 put their frames.
/// Interrupts masked.
pub fn set_entry_stack(top: u64) {
    // SAFETY: an aligned store to a word only this CPU's kernel uses, with
    // interrupts masked; the entries read it with interrupts masked.
    unsafe { (&raw mut lazarus_kernel_stack_top).write_volatile(top) };
}

/// The CR3 values of a space's two views, as the crossings load them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Views {
    kernel: u64,
    user: u64,
}

impl Views {
    /// The views of a space whose kernel view is `kernel` and user view
    /// `user` (both with the space's PCID). Entering the kernel keeps the
    /// TLB (what the user view cached is true in the kernel view too);
    /// leaving it flushes the PCID, so no kernel translation stays cached
    /// while ring 3 runs. Without PCIDs every CR3 write flushes anyway.
    /// Call after `cpu::enable_tlb_tags`.
    pub fn new(kernel: Root, user: Root) -> Self {
        let pcide = crate::cpu::pcid_enabled();
        Self { kernel: kernel.cr3(pcide, false), user: user.cr3(pcide, true) }
    }
}

/// Makes `views` the ones the crossings switch between: the process whose
/// thread runs next. Interrupts masked.
#[inline(always)] // on the IPC fast path
pub fn set_views(views: Views) {
    // SAFETY: aligned stores to words only this CPU's kernel uses, with
    // interrupts masked; the crossings read them with interrupts masked.
    unsafe {
        (&raw mut lazarus_pti_kernel_cr3).write_volatile(views.kernel);
        (&raw mut lazarus_pti_user_cr3).write_volatile(views.user);
    }
}

/// The kernel-half entries every user view shares: the entry area's.
static TEMPLATE: spin::Once<PhysFrame> = spin::Once::new();

/// Builds the entry area's tables (at boot, after the GDT, TSS, IDT and
/// interrupt stacks are set up, before the first address space): every
/// page of `ranges` mapped at its kernel address, with the kernel's rights.
pub fn init(ranges: &[core::ops::Range<u64>]) -> Result<(), MapError> {
    let root = frames::alloc_zeroed().ok_or(MapError::OutOfFrames)?;
    // SAFETY: the fresh table is ours alone, mapped at the offset.
    let mut mapper = unsafe { OffsetPageTable::new(&mut *table(root), frames::phys_offset()) };
    let own = [
        (&raw const lazarus_entry_text_start as u64)..(&raw const lazarus_entry_text_end as u64),
        (&raw const lazarus_entry_data_start as u64)..(&raw const lazarus_entry_data_end as u64),
    ];
    for range in own.iter().chain(ranges) {
        for addr in (range.start & !0xFFF..range.end).step_by(4096) {
            let va = VirtAddr::new(addr);
            // Guard pages (unmapped on purpose) stay unmapped.
            let (Some(phys), Some(flags)) = (paging::translate(va), paging::flags_of(va)) else { continue };
            let page: Page<Size4KiB> = Page::containing_address(va);
            let frame = PhysFrame::containing_address(phys);
            let flags = flags & (PageTableFlags::PRESENT | PageTableFlags::WRITABLE | PageTableFlags::NO_EXECUTE);
            // SAFETY: the frame is the kernel's own mapping of this page,
            // mapped again at the same address with the same rights.
            let flush = unsafe { mapper.map_to_with_table_flags(page, frame, flags, PageTableFlags::PRESENT | PageTableFlags::WRITABLE, &mut KernelFrames) }?;
            // Not active: nothing to flush.
            flush.ignore();
        }
    }
    // Every page of the entry area is mapped: a crossing never faults.
    debug_assert!(mapper.translate_addr(VirtAddr::new(trampoline_top() - 8)).is_some());
    TEMPLATE.call_once(|| root);
    Ok(())
}

/// Fills the kernel half of a new user view with the entry area's tables.
pub fn fill_user_view(view: PhysFrame) {
    let template = *TEMPLATE.get().expect("isolation::init runs at boot");
    // SAFETY: both tables are mapped at the offset; the new view is its
    // owner's alone, the template only read.
    unsafe {
        let (to, from) = (&mut *table(view), &*table(template));
        for i in KERNEL_HALF..512 {
            to[i] = from[i].clone();
        }
    }
}

/// Gives `view` the level-4 entries of `kernel` that cover the user
/// addresses `start..=last` (after a mapping there may have added one).
pub fn mirror_user_half(kernel: PhysFrame, view: PhysFrame, start: u64, last: u64) {
    let index = |addr: u64| usize::from(VirtAddr::new_truncate(addr).p4_index());
    let (first, last) = (index(start), index(last).min(KERNEL_HALF - 1));
    // SAFETY: both tables are mapped at the offset and belong to one
    // address space, changed only under its owner's exclusive borrow.
    unsafe {
        let (to, from) = (&mut *table(view), &*table(kernel));
        for i in first..=last {
            to[i] = from[i].clone();
        }
    }
}

/// The user view of the running process (what the crossings load).
pub fn active_user_view() -> PhysFrame {
    // SAFETY: an aligned read of a word this CPU's kernel writes with
    // interrupts masked.
    let value = unsafe { (&raw const lazarus_pti_user_cr3).read_volatile() };
    PhysFrame::containing_address(x86_64::PhysAddr::new(value & 0x000F_FFFF_FFFF_F000))
}

