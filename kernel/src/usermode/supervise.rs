//! Supervising the trusted address space from the timer: the watchdog that
//! interrupts a server that stopped answering, and the `regflip` fault
//! injector that flips one bit of a server thread's saved registers.
//!
//! Mechanism only. The trusted address space (TAS) tells the kernel the
//! address of one word it keeps non-zero while a server is at work (the
//! server's number); the kernel never interprets it beyond "zero or not" and
//! "equal to the armed value or not". Each timer tick that interrupts the
//! supervised thread in ring 3:
//! - counts one tick of running in ring 3 without entering the kernel (any
//!   system call resets the count, see [`entered_kernel`]);
//! - fires an armed register flip once its tick has come and the word holds
//!   the armed server;
//! - when the count reaches the watchdog's limit while the word is
//!   non-zero, delivers a fault with [`WATCHDOG_VECTOR`] to the process's
//!   fault handler, exactly like a CPU exception at the interrupted
//!   instruction, so the server unwinds;
//! - when that has happened [`MAX_WATCHDOG_STRIKES`] times with no system
//!   call in between (the process's own unwinder is stuck), ends the
//!   process rather than interrupt it forever.

use core::sync::atomic::{AtomicU64, Ordering};

use kernel_logic::sched::ThreadId;
use kernel_logic::trap_frame::TrapFrame;
use lazarus_abi::syscall::{REGFLIP_REGISTERS, WATCHDOG_VECTOR};
use lazarus_abi::SyscallError;
use x86_64::VirtAddr;

use crate::cpu::UserAccess;
use crate::interrupts::exceptions;
use crate::memory::address_space::translate_user;
use crate::sync::IrqMutex;
use crate::{kprintln, thread, time};

/// Forced unwinds in a row, with no system call between them, after which
/// the process is beyond its own recovery (its unwinder itself is stuck)
/// and is ended.
const MAX_WATCHDOG_STRIKES: u64 = 3;

/// Longest watchdog limit a process may ask for: a minute.
const MAX_WATCHDOG_MS: u64 = 60_000;
/// Latest a register flip may be armed for: ten minutes of ticks.
const MAX_REGFLIP_TICKS: u64 = 600 * time::TICK_HZ;
/// Index of `rip` and `rflags` in the `arm_regflip` register order.
const RIP: u8 = 16;
const RFLAGS: u8 = 17;
/// The RFLAGS bits ring 3 can change itself (CF, PF, AF, ZF, SF, TF, DF, OF,
/// AC, ID): a flip of another bit (IOPL, IF, VM…) would hand the process a
/// privilege rather than corrupt its state, so it is recorded but not applied.
const USER_RFLAGS: u64 = (1 << 0) | (1 << 2) | (1 << 4) | (1 << 6) | (1 << 7) | (1 << 8) | (1 << 10) | (1 << 11) | (1 << 18) | (1 << 21);
/// Index of `rsp` in the `arm_regflip` register order.
const RSP: u8 = 4;
/// #GP, raised when a flipped RIP is not canonical (the fetch would fault).
const GENERAL_PROTECTION: u8 = 13;
/// #SS, raised when a flipped RSP is not canonical (the next push would fault).
const STACK_FAULT: u8 = 12;

/// The supervised thread and what is armed for it.
struct Supervision {
    thread: ThreadId,
    /// User address of the word that is non-zero while a server works.
    word: u64,
    /// Watchdog limit in ticks; 0: no watchdog.
    limit_ticks: u64,
    regflip: Option<Regflip>,
}

/// An armed register flip.
#[derive(Clone, Copy)]
struct Regflip {
    value: u64,
    register: u8,
    bit: u8,
    at_tick: u64,
}

static SUPERVISION: IrqMutex<Option<Supervision>> = IrqMutex::new(None);

/// Since the supervised thread last entered the kernel: the ticks it was
/// found in ring 3 since the last forced unwind (bits 0-31) and the forced
/// unwinds (32-63). One word, so a system call clears both with one store.
static SINCE_KERNEL: AtomicU64 = AtomicU64::new(0);
/// The ticks' bits of [`SINCE_KERNEL`].
const TICKS_MASK: u64 = 0xFFFF_FFFF;
/// One forced unwind in [`SINCE_KERNEL`].
const STRIKE: u64 = 1 << 32;

/// Notes that the running thread entered the kernel (a system call).
pub fn entered_kernel() {
    SINCE_KERNEL.store(0, Ordering::Relaxed);
}

/// `set_watchdog(word, limit_ms)`: the caller must have a fault handler
/// (the watchdog's fault goes there) and `word` must be a writable user word.
pub fn set_watchdog(word: u64, limit_ms: u64) -> Result<(), SyscallError> {
    let thread = thread::current_id().ok_or(SyscallError::InvalidArgument)?;
    if thread::current_fault_handler().is_none() || limit_ms > MAX_WATCHDOG_MS {
        return Err(SyscallError::InvalidArgument);
    }
    crate::syscall::check_user_range(word, 8, true)?;
    if word % 8 != 0 {
        return Err(SyscallError::BadAddress);
    }
    let mut s = SUPERVISION.lock();
    let regflip = s.as_ref().filter(|s| s.thread == thread).and_then(|s| s.regflip);
    *s = Some(Supervision { thread, word, limit_ticks: time::ms_to_ticks(limit_ms), regflip });
    SINCE_KERNEL.store(0, Ordering::Relaxed);
    Ok(())
}

/// `arm_regflip(value, register, bit, after_ticks)`: only for the thread
/// that set the watchdog word.
pub fn arm_regflip(value: u64, register: u64, bit: u64, after_ticks: u64) -> Result<(), SyscallError> {
    if value == 0 || register >= REGFLIP_REGISTERS as u64 || bit >= 64 || after_ticks > MAX_REGFLIP_TICKS {
        return Err(SyscallError::InvalidArgument);
    }
    let thread = thread::current_id();
    let mut s = SUPERVISION.lock();
    let Some(sup) = s.as_mut().filter(|s| Some(s.thread) == thread) else {
        return Err(SyscallError::InvalidArgument);
    };
    sup.regflip = Some(Regflip { value, register: register as u8, bit: bit as u8, at_tick: time::ticks() + after_ticks });
    Ok(())
}

/// True if the running thread set the watchdog word: the thread of the
/// trusted address space, the only one fault injection is for.
pub fn is_supervised() -> bool {
    let thread = thread::current_id();
    SUPERVISION.lock().as_ref().is_some_and(|s| Some(s.thread) == thread)
}

/// Forgets the supervision of `thread` (its process ended).
pub fn release(thread: ThreadId) {
    let mut s = SUPERVISION.lock();
    if s.as_ref().is_some_and(|s| s.thread == thread) {
        *s = None;
    }
}

/// Reads the supervised word; `None` if it is no longer a present user page.
fn read_word(addr: u64) -> Option<u64> {
    translate_user(addr)?;
    let _window = UserAccess::open();
    // SAFETY: `addr` is 8-aligned (checked when set) and in a present user
    // page of the active address space (the supervised thread's: checked by
    // the caller), and the user-access window is open.
    Some(unsafe { (addr as *const u64).read_volatile() })
}

/// Called on every timer tick with the interrupted context, before the
/// scheduler runs.
pub fn on_tick(frame: &mut TrapFrame, now: u64) {
    if frame.cs & 3 != 3 {
        return;
    }
    let Some(mut guard) = SUPERVISION.try_lock() else { return };
    let Some(sup) = guard.as_mut() else { return };
    if thread::current_id() != Some(sup.thread) {
        return;
    }
    let since = SINCE_KERNEL.fetch_add(1, Ordering::Relaxed) + 1;
    let ticks = since & TICKS_MASK;
    let Some(word) = read_word(sup.word) else { return };
    if let Some(flip) = sup.regflip.filter(|f| now >= f.at_tick && word == f.value) {
        sup.regflip = None;
        drop(guard);
        apply_regflip(frame, flip);
        return;
    }
    if sup.limit_ticks != 0 && ticks >= sup.limit_ticks && word != 0 {
        drop(guard);
        // Ticks back to 0, one strike more.
        let strikes = (since >> 32) + 1;
        SINCE_KERNEL.store(strikes * STRIKE, Ordering::Relaxed);
        // Stuck for good: its own unwinder does not get out (it loops on
        // the fault stack, where no fault can be delivered, or never makes
        // a system call again). Ending the process is all that is left;
        // its clients' calls then fail.
        if strikes > MAX_WATCHDOG_STRIKES {
            let report = exceptions::FaultReport::capture(WATCHDOG_VECTOR, frame);
            kprintln!("watchdog: server {word} did not recover from {MAX_WATCHDOG_STRIKES} forced unwinds; ending the process");
            super::end_from_trap(frame, report);
            return;
        }
        // On the fault stack (already unwinding) nothing can be delivered:
        // the unwind gets until the last strike to finish.
        if exceptions::deliver_to_process(WATCHDOG_VECTOR, frame) {
            kprintln!("watchdog: server {word} ran {ticks} ticks in ring 3 without answering; forcing it to unwind");
        } else {
            kprintln!("watchdog: server {word} still in its fault handler after {ticks} ticks (strike {strikes})");
        }
    }
}

/// The saved register number `index` of `frame` (hardware order).
fn register(frame: &mut TrapFrame, index: u8) -> &mut u64 {
    match index {
        0 => &mut frame.rax,
        1 => &mut frame.rcx,
        2 => &mut frame.rdx,
        3 => &mut frame.rbx,
        4 => &mut frame.rsp,
        5 => &mut frame.rbp,
        6 => &mut frame.rsi,
        7 => &mut frame.rdi,
        8 => &mut frame.r8,
        9 => &mut frame.r9,
        10 => &mut frame.r10,
        11 => &mut frame.r11,
        12 => &mut frame.r12,
        13 => &mut frame.r13,
        14 => &mut frame.r14,
        15 => &mut frame.r15,
        RIP => &mut frame.rip,
        _ => &mut frame.rflags,
    }
}

fn apply_regflip(frame: &mut TrapFrame, flip: Regflip) {
    kprintln!("campaign: injected at={}", time::uptime_us() * 1000);
    let mask = 1u64 << flip.bit;
    if flip.register == RFLAGS && mask & USER_RFLAGS == 0 {
        kprintln!("regflip: rflags bit {} is not writable from ring 3; not applied", flip.bit);
        return;
    }
    let rip = frame.rip;
    let reg = register(frame, flip.register);
    let before = *reg;
    *reg ^= mask;
    kprintln!("regflip: register {} bit {}: {before:#x} -> {:#x} at rip {rip:#x}", flip.register, flip.bit, *reg);
    // `iretq` to a non-canonical RIP or RSP faults in ring 0. The flipped
    // process would have faulted at its next fetch or push, so restore the
    // register and deliver that fault instead.
    let vector = match flip.register {
        RIP => GENERAL_PROTECTION,
        RSP => STACK_FAULT,
        _ => return,
    };
    let reg = register(frame, flip.register);
    if VirtAddr::try_new(*reg).is_ok() {
        return;
    }
    *reg ^= mask;
    if !exceptions::deliver_to_process(vector, frame) {
        kprintln!("regflip: the process cannot take the fault of its flipped register; it ends");
        crate::usermode::end_from_trap(frame, exceptions::FaultReport::capture(vector, frame));
    }
}
