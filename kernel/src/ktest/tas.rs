//! The trusted address space's recovery, end to end: its image registers a
//! fault handler, takes page faults, invalid opcodes and panics three frames
//! below a recovery boundary, and must unwind each in ring 3 with every drop
//! guard run (the image's self-test, `servers/runtime/src/selftest.rs`). The
//! kernel's part: deliver each CPU exception to the image's unwinder instead
//! of ending the process, and refuse bad fault-handler registrations.

use kernel_logic::layout::HEAP_START;
use lazarus_abi::layout::{USER_CODE_BASE, USER_STACK_SIZE, USER_STACK_TOP};
use lazarus_abi::{Syscall, SyscallError};

use super::user::call3_with;
use super::{Case, Group};
use crate::ramdisk;
use crate::usermode::{run_user, UserExit, UserProgram};

/// The group.
pub static GROUP: Group = Group {
    name: "tas",
    cases: &[
        Case { name: "faults_in_ring_3_unwind_inside_the_image", run: faults_unwind_in_ring_3 },
        Case { name: "bad_fault_handler_registrations_are_refused", run: bad_registrations },
    ],
};

fn faults_unwind_in_ring_3() {
    let image = ramdisk::program("tas").expect("ramdisk readable").expect("the ramdisk has tas");
    match run_user(UserProgram::Elf(image)).expect("tas loads") {
        UserExit::Exited(0) => {}
        UserExit::Exited(code) => panic!("the self-test failed with code {code} (see its output above)"),
        UserExit::Faulted(r) => panic!("a fault reached the kernel instead of the image's unwinder: {r}"),
    }
}

fn err(e: SyscallError) -> i64 {
    -(e as i64)
}

fn bad_registrations() {
    let set = |entry, stack, len| call3_with(Syscall::SetFaultHandler as u64, entry, stack, len, &[]);
    // The test process's own stack is a valid fault stack.
    let stack = USER_STACK_TOP - USER_STACK_SIZE;
    assert_eq!(set(USER_CODE_BASE, stack, USER_STACK_SIZE), 0, "the control: a good registration");
    let bad = err(SyscallError::BadAddress);
    assert_eq!(set(HEAP_START, stack, USER_STACK_SIZE), bad, "entry in the kernel");
    assert_eq!(set(USER_CODE_BASE, 0x1000_0000, USER_STACK_SIZE), bad, "stack not mapped");
    assert_eq!(set(USER_CODE_BASE, USER_CODE_BASE, 0x4000), bad, "stack not writable (the code page)");
    assert_eq!(set(USER_CODE_BASE, stack, 4096), bad, "stack too small");
    assert_eq!(set(USER_CODE_BASE, u64::MAX - 4095, 1 << 20), bad, "stack range wraps");
}
