//! The trusted address space's recovery, end to end: its image registers a
//! fault handler, takes page faults, invalid opcodes and panics three frames
//! below a recovery boundary, and must unwind each in ring 3 with every drop
//! guard run, and print their backtraces with its own function names (the
//! image's self-test, `servers/runtime/src/selftest.rs`). The kernel's part:
//! deliver each CPU exception to the image's unwinder instead of ending the
//! process, refuse bad fault-handler registrations, and name the image's
//! code addresses (`symbolize`) from its symbol table, with typed errors.

use kernel_logic::layout::HEAP_START;
use lazarus_abi::layout::{USER_CODE_BASE, USER_STACK_SIZE, USER_STACK_TOP};
use lazarus_abi::syscall::SYMBOL_TEXT_MAX;
use lazarus_abi::{Syscall, SyscallError};
use unwind::symbols::Symbols;

use super::user::call3_with;
use super::{Case, Group};
use crate::ramdisk;
use crate::syscall::write_symbol;
use crate::usermode::{run_user, UserExit, UserProgram};

/// The group.
pub static GROUP: Group = Group {
    name: "tas",
    cases: &[
        Case { name: "faults_in_ring_3_unwind_inside_the_image", run: faults_unwind_in_ring_3 },
        Case { name: "bad_fault_handler_registrations_are_refused", run: bad_registrations },
        Case { name: "symbolize_names_code_of_the_image", run: symbolize_names_image_code },
        Case { name: "bad_symbolize_arguments_get_typed_errors", run: bad_symbolize_arguments },
    ],
};

fn tas_image() -> &'static [u8] {
    ramdisk::program("tas").expect("ramdisk readable").expect("the ramdisk has tas")
}

fn faults_unwind_in_ring_3() {
    // The self-test also names its own functions through `symbolize`, and
    // checks that its backtraces do (exit codes 13 and 20-23); it flips and
    // repairs a byte of its own code (30-34); a fault it cannot unwind is
    // discarded instead (40-42).
    let image = tas_image();
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

/// The kernel's side of `symbolize`, on the `tas` image: the text a process
/// of that image gets for an address of its own code.
fn symbolize_names_image_code() {
    let image = tas_image();
    let own = Symbols::from_elf(image, 0).expect("the tas image keeps its symbol table");
    let outer = own.find("selftest::outer").expect("the self-test's function is there");
    let text = |addr| {
        let mut out = [0u8; 128];
        write_symbol(image, addr, &mut out).map(|n| alloc::string::String::from_utf8_lossy(&out[..n]).into_owned())
    };
    assert_eq!(text(outer + 0x1f).as_deref(), Ok("tas_runtime::selftest::outer+0x1f"), "demangled, no hash");
    assert_eq!(text(outer).as_deref(), Ok("tas_runtime::selftest::outer+0x0"));
    assert_eq!(text(0), Err(SyscallError::NoSymbol), "below every function");
    assert_eq!(text(USER_STACK_TOP - 8), Err(SyscallError::NoSymbol), "the stack");
    let mut out = [0u8; 5];
    assert_eq!(write_symbol(image, outer, &mut out), Ok(5), "cut to the buffer");
    assert_eq!(&out, b"tas_r");
    static NOT_ELF: [u8; 64] = [0; 64];
    assert_eq!(write_symbol(&NOT_ELF, outer, &mut out), Err(SyscallError::NoSymbolTable));
    // Second lookups come from the cache and say the same.
    assert_eq!(text(outer + 0x1f).as_deref(), Ok("tas_runtime::selftest::outer+0x1f"));
}

/// Bad arguments, from a process of test code (which has no image, so a
/// call whose arguments pass gets `NoSymbolTable`).
fn bad_symbolize_arguments() {
    let symbolize = |addr, buf, len| call3_with(Syscall::Symbolize as u64, addr, buf, len, &[]);
    let stack = USER_STACK_TOP - USER_STACK_SIZE;
    let code = USER_CODE_BASE;
    assert_eq!(symbolize(code, stack, 64), err(SyscallError::NoSymbolTable), "the control: arguments pass");
    assert_eq!(symbolize(code, stack, SYMBOL_TEXT_MAX), err(SyscallError::NoSymbolTable), "the largest buffer");
    assert_eq!(symbolize(code, stack, 0), err(SyscallError::InvalidArgument), "empty buffer");
    assert_eq!(symbolize(code, stack, SYMBOL_TEXT_MAX + 1), err(SyscallError::TooLong), "above the limit");
    assert_eq!(symbolize(code, stack, 1 << 40), err(SyscallError::TooLong), "huge length");
    let bad = err(SyscallError::BadAddress);
    assert_eq!(symbolize(code, HEAP_START, 64), bad, "buffer in the kernel heap");
    assert_eq!(symbolize(code, 0xFFFF_8000_0000_0000, 64), bad, "buffer in the kernel half");
    assert_eq!(symbolize(code, 0, 64), bad, "null buffer");
    assert_eq!(symbolize(code, code, 64), bad, "buffer not writable (the code page)");
    assert_eq!(symbolize(code, 0x1000_0000, 64), bad, "buffer not mapped");
    assert_eq!(symbolize(code, u64::MAX - 31, 64), bad, "buffer wraps");
    assert_eq!(symbolize(code, USER_STACK_TOP - 8, 64), bad, "buffer runs off the stack's top");
}
