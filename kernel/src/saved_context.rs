//! The kernel's saved-context layout, in assembly: RFLAGS and the
//! callee-saved registers, pushed by a context switch and by the entry to
//! user mode, popped by their counterparts. One definition, so that every
//! pair pushes and pops in the same order (and `thread::switch::prepare_stack`
//! builds a new thread's first frame in that order too).

/// Pushes RFLAGS, RBP, RBX, R12, R13, R14, R15 (seven words).
macro_rules! push_saved_context {
    () => {
        "pushfq\n push rbp\n push rbx\n push r12\n push r13\n push r14\n push r15"
    };
}

/// Pops what [`push_saved_context`] pushed.
macro_rules! pop_saved_context {
    () => {
        "pop r15\n pop r14\n pop r13\n pop r12\n pop rbx\n pop rbp\n popfq"
    };
}

pub(crate) use {pop_saved_context, push_saved_context};
