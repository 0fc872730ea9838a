//! The system-call dispatcher and handlers: every argument is checked, every
//! failure is a typed error for the caller.

use lazarus_abi::error::encode;
use lazarus_abi::{Syscall, SyscallError};
use x86_64::instructions::interrupts;
use x86_64::VirtAddr;

use super::entry::SyscallFrame;
use super::device;
use super::code;
use super::report;
use super::{ipc_timed, memory};
use super::symbolize;
use super::usercopy::{check_user_range, copy_from_user, copy_to_user};
use lazarus_abi::layout::is_user_range;

use crate::thread::ipc;
use crate::{console, cpu, thread, usermode};

/// Most bytes one `debug_write` takes: a console line or a few, never a
/// way to make the kernel copy without limit.
const MAX_DEBUG_WRITE: u64 = 4096;
/// Longest sleep one call may ask for: a minute.
const MAX_SLEEP_MS: u64 = 60_000;
/// Smallest fault stack a process may register: room for the fault record
/// and the unwinder's first frames.
const MIN_FAULT_STACK: u64 = 16 << 10;
/// Nanoseconds in a microsecond (the kernel's clock counts microseconds).
const NS_PER_US: u64 = 1000;

/// Called by the entry with interrupts masked; returns with them masked.
pub extern "C" fn syscall_dispatch(frame: &mut SyscallFrame) {
    cpu::close_user_access();
    usermode::supervise::entered_kernel();
    let state = unwind::thread_state::current();
    // Kernel code serving a system call is not inside the caller's
    // recovery boundaries: a fault here is a kernel bug, never unwound.
    if let Some(s) = state {
        s.enter_handler();
    }
    interrupts::enable();
    let result = match Syscall::from_number(frame.rax) {
        None => Err(SyscallError::UnknownSyscall),
        Some(Syscall::Exit) => {
            interrupts::disable();
            if let Some(s) = state {
                s.leave_handler();
            }
            usermode::end_from_syscall(frame.rdi as i64)
        }
        Some(Syscall::ThreadExit) => match u32::try_from(frame.rdi) {
            Ok(code) => {
                interrupts::disable();
                if let Some(s) = state {
                    s.leave_handler();
                }
                usermode::end_thread_from_syscall(code)
            }
            Err(_) => Err(SyscallError::InvalidArgument),
        },
        Some(call) => handle(call, &mut *frame),
    };
    frame.rax = encode(result);
    interrupts::disable();
    if let Some(s) = state {
        s.leave_handler();
    }
    // `sysret` to a non-canonical address would fault in ring 0 with the
    // user's stack; end such a process instead.
    if VirtAddr::try_new(frame.rip).is_err() {
        usermode::end_from_syscall(-1);
    }
    // Its process ended while it was in here (a sibling's `exit` or
    // fault): it goes no further.
    if let Some(saved) = thread::pending_stop() {
        usermode::stop_at(saved);
    }
}

fn handle(call: Syscall, f: &mut SyscallFrame) -> Result<u64, SyscallError> {
    match call {
        Syscall::DebugWrite => {
            let (ptr, len) = (f.rdi, f.rsi);
            if len > MAX_DEBUG_WRITE {
                return Err(SyscallError::TooLong);
            }
            if ptr == 0 {
                return Err(SyscallError::BadAddress);
            }
            let bytes = copy_from_user(ptr, len)?;
            console::write(&bytes);
            Ok(len)
        }
        Syscall::Yield => {
            thread::yield_now();
            Ok(0)
        }
        Syscall::SleepMs => {
            if f.rdi > MAX_SLEEP_MS {
                return Err(SyscallError::InvalidArgument);
            }
            thread::sleep_ms(f.rdi);
            Ok(0)
        }
        Syscall::Null => Ok(0),
        Syscall::ConsoleRead => {
            let (buf, len) = (f.rdi, f.rsi.min(MAX_DEBUG_WRITE));
            if len == 0 {
                return Err(SyscallError::InvalidArgument);
            }
            // Check before waiting, so a bad buffer fails at once.
            check_user_range(buf, len, true)?;
            let typed = console::read(len as usize);
            copy_to_user(buf, &typed)?;
            Ok(typed.len() as u64)
        }
        Syscall::ThreadList | Syscall::MemInfo => {
            let text = if call == Syscall::ThreadList { report::threads() } else { report::memory() };
            let n = text.len().min(f.rsi as usize);
            copy_to_user(f.rdi, &text.as_bytes()[..n])?;
            Ok(n as u64)
        }
        Syscall::Reboot => crate::exit::reset(),
        Syscall::Uptime => Ok(crate::time::uptime_us().saturating_mul(NS_PER_US)),
        Syscall::BootOptions => {
            let text = crate::boot::options();
            let n = text.len().min(f.rsi as usize);
            copy_to_user(f.rdi, &text.as_bytes()[..n])?;
            Ok(n as u64)
        }
        Syscall::SetWatchdog => usermode::supervise::set_watchdog(f.rdi, f.rsi).map(|()| 0),
        Syscall::ArmRegflip => usermode::supervise::arm_regflip(f.rdi, f.rsi, f.rdx, f.r10).map(|()| 0),
        Syscall::Symbolize => symbolize::symbolize(f.rdi, f.rsi, f.rdx),
        Syscall::PciFind => device::pci_find(f.rdi, f.rsi, f.rdx),
        Syscall::DeviceInfo => device::device_info(f.rdi, f.rsi, f.rdx),
        Syscall::DeviceClaim => device::claim(f.rdi),
        Syscall::DeviceRelease => device::release(f.rdi),
        Syscall::PortRead => device::port_read(f.rdi, f.rsi, f.rdx, f.r10),
        Syscall::PortWrite => device::port_write(f.rdi, f.rsi, f.rdx, f.r10, f.r8),
        Syscall::DmaAlloc => device::dma_alloc(f.rdi, f.rsi),
        Syscall::DmaFree => device::dma_free(f.rdi),
        Syscall::IrqWait => device::irq_wait(f.rdi, f.rsi),
        Syscall::FlipCode => code::flip_code(f.rdi, f.rsi, f.rdx),
        Syscall::RepairCode => code::repair_code(),
        Syscall::SetFaultHandler => {
            let (entry, stack, len) = (f.rdi, f.rsi, f.rdx);
            if !is_user_range(entry, 1) || len < MIN_FAULT_STACK {
                return Err(SyscallError::BadAddress);
            }
            check_user_range(stack, len, true)?;
            thread::set_fault_handler(thread::FaultHandler { entry, stack: stack..stack + len });
            Ok(0)
        }
        Syscall::Call | Syscall::Recv | Syscall::ReplyRecv => {
            let words = [f.rsi, f.rdx, f.r10, f.r8];
            let got = match call {
                Syscall::Call => ipc::call(f.rdi, words),
                Syscall::Recv => ipc::recv(f.rdi),
                _ => ipc::reply_recv(f.rdi, words),
            }?;
            [f.rsi, f.rdx, f.r10, f.r8] = got;
            Ok(0)
        }
        Syscall::Exit | Syscall::ThreadExit => unreachable!("handled by the dispatcher"),
        Syscall::ThreadCreate => create_thread(f.rdi, f.rsi, f.rdx),
        Syscall::ThreadJoin => thread::join_thread(f.rdi).map(u64::from),
        Syscall::Map => memory::map(f.rdi, f.rsi, f.rdx),
        Syscall::Unmap => memory::unmap(f.rdi, f.rsi),
        Syscall::Grant => memory::grant(f.rdi, f.rsi, f.rdx, f.r10),
        Syscall::Accept => memory::accept(f.rdi, f.rsi),
        Syscall::Revoke => memory::revoke(f.rdi),
        Syscall::CallTimeout | Syscall::RecvTimeout => {
            let got = match call {
                Syscall::CallTimeout => ipc_timed::call_timeout(f.rdi, [f.rsi, f.rdx, f.r10, f.r8], f.r9),
                _ => ipc_timed::recv_timeout(f.rdi, f.r9),
            }?;
            [f.rsi, f.rdx, f.r10, f.r8] = got;
            Ok(0)
        }
        Syscall::Send => ipc_timed::send(f.rdi, [f.rsi, f.rdx, f.r10, f.r8], f.r9).map(|()| 0),
    }
}

/// `thread_create(entry, stack_top, arg)`: the checks, then a kernel thread
/// that runs the new thread (see `lazarus_abi::Syscall::ThreadCreate`).
fn create_thread(entry: u64, stack_top: u64, arg: u64) -> Result<u64, SyscallError> {
    /// The stack bytes that must be writable: the return-address slot and
    /// the first frame's worth below it.
    const STACK_CHECKED: u64 = 64;
    if !is_user_range(entry, 1) || stack_top % 16 != 0 || stack_top < STACK_CHECKED {
        return Err(SyscallError::BadAddress);
    }
    check_user_range(stack_top - STACK_CHECKED, STACK_CHECKED, true)?;
    let id = thread::create_thread(alloc::boxed::Box::new(move || usermode::run_thread(entry, stack_top, arg)))?;
    Ok(id.0)
}
