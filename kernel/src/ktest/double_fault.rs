//! A kernel stack overflow that cannot be handled as a page fault must end
//! in an orderly double fault on the double-fault stack, never a triple
//! fault (which resets the machine silently).
//!
//! Normally page faults run on their own interrupt stack, so an overflow is
//! just a page fault (see the `interrupts` group). This group loads an IDT
//! in which page faults stay on the faulting stack: delivering the page
//! fault then faults again, which the CPU turns into a double fault. The
//! kernel panic that follows ends the boot, so this group has one case.

use super::{expect_fatal, trigger, Case, Group};
use crate::interrupts::idt;

/// The group.
pub static GROUP: Group = Group {
    name: "double_fault",
    cases: &[Case { name: "kernel_stack_overflow_ends_in_double_fault", run: stack_overflow_double_fault }],
};

fn stack_overflow_double_fault() {
    idt::load_page_fault_on_current_stack();
    expect_fatal("#DF double fault");
    trigger::overflow_stack(0);
}
