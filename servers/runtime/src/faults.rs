//! The faults the injector makes, each exactly as its model describes:
//! real CPU exceptions from real instructions, real panics, real stack
//! overflows, corrupted return addresses and function pointers caught by
//! the CFI checks, and bit flips in memory.
//!
//! Each function is where the fault happens; the injector (in the TAS)
//! calls it from an injection site inside the target server, so the fault
//! strikes with the server's frames and values live below it.

use core::arch::asm;
use core::hint::black_box;

/// Reads address 0: a page fault (never mapped).
#[inline(never)]
pub fn null_read() -> u64 {
    let v: u64;
    // SAFETY: address 0 is never mapped in the TAS, so the read faults and
    // the kernel delivers the page fault to the unwinder; nothing is read.
    unsafe { asm!("mov {v}, qword ptr [{a}]", a = in(reg) 0u64, v = out(reg) v, options(nostack, may_unwind)) };
    v
}

/// Reads a wild address: non-canonical ones raise #GP, unmapped ones a page
/// fault; a mapped one is simply read (the fault is masked).
#[inline(never)]
pub fn wild_read(addr: u64) -> u64 {
    let v: u64;
    // SAFETY: a read of any address is either harmless (mapped, readable)
    // or faults and is delivered to the unwinder; it writes nothing.
    unsafe { asm!("mov {v}, qword ptr [{a}]", a = in(reg) addr, v = out(reg) v, options(nostack, may_unwind)) };
    v
}

/// Calls an address where nothing is mapped: a page fault whose
/// instruction pointer is in no function, so the unwinder has no frame to
/// start from (what a corrupted return address or register often does).
#[inline(never)]
pub fn call_unmapped() {
    // SAFETY: the call faults on its instruction fetch (nothing is mapped
    // at the first page) and the kernel delivers the fault; no code runs
    // there.
    unsafe { asm!("call {a}", a = in(reg) 0x1000u64, clobber_abi("C"), options(may_unwind)) };
}

/// Executes `ud2`: #UD.
#[inline(never)]
pub fn invalid_opcode() {
    // SAFETY: `ud2` raises #UD and does nothing else.
    unsafe { asm!("ud2", options(nostack, may_unwind)) };
}

/// Divides by zero with `div`: #DE.
#[inline(never)]
pub fn divide_error() -> u64 {
    let q: u64;
    // SAFETY: `div` by zero raises #DE before writing anything.
    unsafe {
        asm!("div {d}", d = in(reg) black_box(0u64), inout("rax") 1u64 => q, inout("rdx") 0u64 => _,
             options(nostack, may_unwind));
    }
    q
}

/// Bytes each level of [`overflow_stack`] takes: a few levels per page.
const OVERFLOW_FRAME_BYTES: usize = 1024;

/// Recurses until the stack's guard page: a page fault on the stack, which
/// the kernel delivers on the fault stack.
#[inline(never)]
#[allow(unconditional_recursion)] // the point: it ends at the guard page
pub fn overflow_stack(depth: u64) -> u64 {
    let mut frame = [0u8; OVERFLOW_FRAME_BYTES];
    frame[(depth as usize) % OVERFLOW_FRAME_BYTES] = depth as u8;
    black_box(&mut frame);
    let below = overflow_stack(black_box(depth + 1));
    below.wrapping_add(u64::from(black_box(frame)[0]))
}

/// Spins forever without entering the kernel: the watchdog's case.
#[inline(never)]
pub fn hang() -> ! {
    loop {
        core::hint::spin_loop();
        black_box(());
    }
}

/// Corrupts the return address of a guarded frame by flipping `bit`: the
/// guard finds it on the way out and raises a CFI fault.
#[inline(never)]
pub fn corrupt_return_address(bit: u32) {
    unwind::cfi::guarded("injected return address", || {
        if let Some(slot) = unwind::cfi::current_return_slot() {
            // SAFETY: the slot is the return-address slot of the enclosing
            // guarded frame, live while this closure runs; the guard checks
            // it (and restores it) before returning through it.
            unsafe { (slot as *mut u64).write_volatile((slot as *const u64).read_volatile() ^ (1 << (bit % 64))) };
        }
    });
}

/// A function-pointer call through a pointer with `bit` flipped: the
/// indirect-call check refuses the target (a CFI fault).
#[inline(never)]
pub fn corrupt_function_pointer(bit: u32) {
    let legal: fn() -> u64 = || 0;
    let target = (legal as usize as u64) ^ (1 << (bit % 64));
    if let Err(_kind) = unwind::cfi::check_target(target, &[legal as usize as u64]) {
        unwind::cfi::raise_illegal_target("injected function pointer", target);
    }
}

/// Flips `bit` of the byte at `addr`, which must be a writable byte of the
/// TAS that no other thread uses (a server's stack, heap, state or store).
///
/// # Safety
/// `addr` must be valid for a one-byte read and write.
pub unsafe fn flip_bit(addr: u64, bit: u8) {
    let p = addr as *mut u8;
    // SAFETY: the caller guarantees the byte is valid to read and write.
    unsafe { p.write_volatile(p.read_volatile() ^ (1 << (bit % 8))) };
}

/// The current stack pointer (for flips into the live stack).
#[inline(always)]
pub fn stack_pointer() -> u64 {
    let rsp: u64;
    // SAFETY: reads RSP only.
    unsafe { asm!("mov {}, rsp", out(reg) rsp, options(nomem, nostack, preserves_flags)) };
    rsp
}

/// `memflip` into a private heap: flips `bit` of the byte at `offset`
/// (modulo the region's size) of heap `id`'s region, whether that byte is
/// in a live block or free (then the fault is masked, or corrupts the free
/// list: both are what a bit flip in that memory does).
pub fn flip_in_heap(id: crate::heap::HeapId, offset: u32, bit: u8) -> u64 {
    let (start, size) = crate::heap::region(id);
    let addr = start + u64::from(offset) % size;
    // SAFETY: the byte is in the heap's static region, writable, used by
    // this thread only; corrupting it is the injected fault.
    unsafe { flip_bit(addr, bit) };
    addr
}

/// `memflip` into the live stack: flips `bit` of the byte at `offset`
/// (modulo the live part) above the current stack pointer, where the
/// frames of the running server and its callers are.
pub fn flip_in_stack(offset: u32, bit: u8) -> u64 {
    let rsp = stack_pointer();
    let live = lazarus_rt::layout::USER_STACK_TOP.saturating_sub(rsp).max(1);
    let addr = rsp + u64::from(offset) % live;
    // SAFETY: the byte is in the thread's mapped stack, between the stack
    // pointer and the top; corrupting it is the injected fault.
    unsafe { flip_bit(addr, bit) };
    addr
}

/// `memflip` into a server's state object: flips `bit` of its byte at
/// `offset` (modulo its size). The value may no longer be valid for its
/// type: that is the fault being injected.
pub fn flip_in_value<T: ?Sized>(value: &mut T, offset: u32, bit: u8) -> u64 {
    let size = core::mem::size_of_val(value).max(1) as u64;
    let addr = (value as *mut T).cast::<u8>() as u64 + u64::from(offset) % size;
    // SAFETY: the byte is inside `value`, which we borrow mutably.
    unsafe { flip_bit(addr, bit) };
    addr
}
