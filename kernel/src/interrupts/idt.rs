//! The interrupt descriptor table: one gate per stubbed vector.

use kernel_logic::idt_gate::{Gate, GATE_SIZE};
use x86_64::instructions::tables::lidt;
use x86_64::structures::DescriptorTablePointer;
use x86_64::VirtAddr;

use super::entry;
use crate::gdt;

/// Number of vectors on x86.
const VECTORS: usize = 256;

/// Page-aligned: the entry area maps it in ring 3's view (the CPU reads it
/// at every interrupt), which must show nothing else.
#[repr(C, align(4096))]
struct Idt([Gate; VECTORS]);

static IDT: spin::Once<Idt> = spin::Once::new();
static IDT_PAGE_FAULT_ON_CURRENT_STACK: spin::Once<Idt> = spin::Once::new();

/// The interrupt stack each vector switches to.
fn ist_for(vector: u8) -> Option<u8> {
    match vector {
        8 => Some(gdt::IST_DOUBLE_FAULT),
        2 => Some(gdt::IST_NMI),
        18 => Some(gdt::IST_MACHINE_CHECK),
        14 => Some(gdt::IST_PAGE_FAULT),
        _ => None,
    }
}

fn build() -> Idt {
    let code = gdt::selectors().kernel_code.0;
    let mut gates = [Gate::default(); VECTORS];
    for (vector, stub) in entry::stubs() {
        gates[usize::from(vector)] = Gate::interrupt(stub, code, 0, ist_for(vector));
    }
    Idt(gates)
}

fn load(idt: &'static Idt) {
    let ptr = DescriptorTablePointer {
        limit: (VECTORS * GATE_SIZE - 1) as u16,
        base: VirtAddr::new(idt as *const Idt as u64),
    };
    // SAFETY: the table lives in a static for the rest of the kernel's life
    // and every present gate points at a stub of `entry`.
    unsafe { lidt(&ptr) };
}

/// Builds and loads the IDT (after `gdt::init`).
pub fn init() {
    load(IDT.call_once(build));
}

/// Loads a variant in which page faults stay on the faulting stack. Only for
/// the test that proves a kernel stack overflow that cannot be handled as a
/// page fault still ends in an orderly double fault on its own stack.
pub fn load_page_fault_on_current_stack() {
    load(IDT_PAGE_FAULT_ON_CURRENT_STACK.call_once(|| {
        let mut idt = build();
        idt.0[14] = idt.0[14].with_ist(None);
        idt
    }));
}

/// The gate of `vector` in the main IDT.
pub fn gate(vector: u8) -> Option<Gate> {
    IDT.get().map(|idt| idt.0[usize::from(vector)])
}

/// The IDTs' memory (for the entry area).
pub fn entry_area_ranges() -> [core::ops::Range<u64>; 2] {
    fn range(idt: &'static spin::Once<Idt>) -> core::ops::Range<u64> {
        let start = idt as *const spin::Once<Idt> as u64;
        start..start + core::mem::size_of::<spin::Once<Idt>>() as u64
    }
    [range(&IDT), range(&IDT_PAGE_FAULT_ON_CURRENT_STACK)]
}
