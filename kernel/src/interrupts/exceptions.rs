//! CPU exceptions: the fault report, and what happens to the code that faulted.
//!
//! Mechanism only, in this order:
//! - a fault of a thread inside a recovery boundary becomes an unwind of
//!   that thread back to the boundary (`unwind::trampoline::redirect`);
//! - else a fault of a thread whose policy is [`FaultPolicy::Kill`] ends the
//!   thread with the report as its exit reason;
//! - anything else is a kernel panic that prints the report and a backtrace.

use core::fmt;

use kernel_logic::layout::{StackHit, StackSlot};
use kernel_logic::trap_frame::{exception_name, is_trap, PageFaultCode, TrapFrame};
use unwind::backtrace::Backtrace;
use unwind::fault::ExceptionInfo;
use x86_64::registers::control::Cr2;
use x86_64::VirtAddr;

use crate::cpu::UserAccess;
use crate::memory::address_space::translate_user;
use crate::memory::paging;
use crate::usermode;
use crate::thread::{self, FaultPolicy};
use crate::{gdt, serial};

/// Where a faulting address lies, when it is somewhere notable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddressHint {
    /// In a kernel thread stack slot.
    ThreadStack(StackHit),
    /// In an interrupt stack (IST slot, whether in its guard page).
    InterruptStack {
        /// IST slot number.
        ist: usize,
        /// True if in the unmapped guard page.
        guard: bool,
    },
}

/// Everything known about one CPU exception.
#[derive(Clone, Debug)]
pub struct FaultReport {
    /// Exception vector.
    pub vector: u8,
    /// The saved registers at the fault.
    pub frame: TrapFrame,
    /// The faulting address, for page faults (CR2).
    pub cr2: Option<u64>,
    /// Where CR2 (for page faults) or RSP (otherwise) lies, if notable.
    pub hint: Option<AddressHint>,
}

impl FaultReport {
    /// Captures the report for the exception whose frame is `frame`.
    pub fn capture(vector: u8, frame: &TrapFrame) -> Self {
        let cr2 = (vector == 14).then(Cr2::read_raw);
        let addr = cr2.unwrap_or(frame.rsp);
        let hint = StackSlot::classify(addr).map(AddressHint::ThreadStack).or_else(|| {
            gdt::interrupt_stack_of(addr).map(|(ist, guard)| AddressHint::InterruptStack { ist, guard })
        });
        Self { vector, frame: *frame, cr2, hint }
    }

    /// True if this page fault hit the guard page below a kernel stack.
    pub fn is_stack_guard_hit(&self) -> bool {
        matches!(self.hint, Some(AddressHint::ThreadStack(StackHit::Guard(_) | StackHit::FaultStackGuard(_))))
            || matches!(self.hint, Some(AddressHint::InterruptStack { guard: true, .. }))
    }
}

impl fmt::Display for FaultReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = &self.frame;
        write!(f, "{} (vector {}), error code {:#x}", exception_name(self.vector), self.vector, r.error_code)?;
        if self.vector == 14 {
            write!(f, " ({})", PageFaultCode(r.error_code))?;
        }
        writeln!(f)?;
        let at = if is_trap(self.vector) { "after" } else { "at" };
        write!(f, "  {at} rip {:#018x}  cs {:#x}  rflags {:#x}", r.rip, r.cs, r.rflags)?;
        match self.cr2 {
            Some(cr2) => writeln!(f, "  cr2 {cr2:#018x}")?,
            None => writeln!(f)?,
        }
        match self.hint {
            Some(AddressHint::ThreadStack(StackHit::Guard(s))) => {
                writeln!(f, "  address is in the guard page of kernel stack slot {}: stack overflow", s.index())?
            }
            Some(AddressHint::ThreadStack(StackHit::Stack(s))) => {
                writeln!(f, "  address is in kernel stack slot {}", s.index())?
            }
            Some(AddressHint::ThreadStack(StackHit::FaultStack(s))) => {
                writeln!(f, "  address is in the fault stack of slot {}", s.index())?
            }
            Some(AddressHint::ThreadStack(StackHit::FaultStackGuard(s))) => {
                writeln!(f, "  address is in the guard page of the fault stack of slot {}: overflow", s.index())?
            }
            Some(AddressHint::InterruptStack { ist, guard: true }) => {
                writeln!(f, "  address is in the guard page of interrupt stack {ist}: overflow")?
            }
            Some(AddressHint::InterruptStack { ist, guard: false }) => {
                writeln!(f, "  address is in interrupt stack {ist}")?
            }
            None => {}
        }
        writeln!(f, "  rax {:#018x} rbx {:#018x} rcx {:#018x} rdx {:#018x}", r.rax, r.rbx, r.rcx, r.rdx)?;
        writeln!(f, "  rsi {:#018x} rdi {:#018x} rbp {:#018x} rsp {:#018x}", r.rsi, r.rdi, r.rbp, r.rsp)?;
        writeln!(f, "  r8  {:#018x} r9  {:#018x} r10 {:#018x} r11 {:#018x}", r.r8, r.r9, r.r10, r.r11)?;
        write!(f, "  r12 {:#018x} r13 {:#018x} r14 {:#018x} r15 {:#018x}", r.r12, r.r13, r.r14, r.r15)
    }
}

/// Handles exception `vector`.
pub fn handle(vector: u8, frame: &mut TrapFrame) {
    match vector {
        // A breakpoint is a request to stop and look, not an error: report
        // and go on after the `int3`.
        3 => {
            log::info!("breakpoint after rip {:#x}", frame.rip);
            return;
        }
        // Aborts: the state is not trustworthy enough to end just a thread.
        8 | 18 => fatal(vector, frame),
        _ => {}
    }
    // A fault in ring 3 goes to the process's own unwinder if it has one
    // (the trusted address space), else ends that process and nothing else.
    if frame.cs & 3 == 3 {
        if deliver_to_process(vector, frame) {
            return;
        }
        let report = FaultReport::capture(vector, frame);
        log::warn!("user process killed by {report}");
        usermode::end_from_trap(frame, report);
        return;
    }
    // `redirect` checks that the thread is in a boundary and not unwinding.
    if let Some(fault_stack) = thread::current_fault_stack() {
        let address = (vector == 14).then(Cr2::read_raw);
        let info = ExceptionInfo { vector, frame: *frame, address };
        if unwind::trampoline::redirect(frame, info, fault_stack).is_ok() {
            return;
        }
    }
    if thread::current_fault_policy() == Some(FaultPolicy::Kill) {
        let report = FaultReport::capture(vector, frame);
        log::warn!("thread '{}' killed by {report}", thread::current_name());
        thread::kill_current_from_trap(frame, report);
        return;
    }
    fatal(vector, frame)
}

/// Redirects a ring-3 fault to the process's registered trampoline, with the
/// fault record written at the top of its fault stack (the contract of
/// `unwind::trampoline`). False if there is no handler, or the fault is on
/// the fault stack itself (a fault of the process's unwinder), or the
/// record's page is not a writable user page: the process then ends.
pub(crate) fn deliver_to_process(vector: u8, frame: &mut TrapFrame) -> bool {
    let Some(handler) = thread::current_fault_handler() else { return false };
    if handler.stack.contains(&frame.rsp) {
        return false;
    }
    let (record, rsp) = unwind::trampoline::record_layout(handler.stack.end);
    let size = core::mem::size_of::<ExceptionInfo>() as u64;
    let writable = |a: u64| matches!(translate_user(a), Some((_, true)));
    if record < handler.stack.start || !writable(record) || !writable(record + size - 1) {
        return false;
    }
    let address = (vector == 14).then(Cr2::read_raw);
    let info = ExceptionInfo { vector, frame: *frame, address };
    {
        let _window = UserAccess::open();
        // SAFETY: both ends of the record are in present, writable user
        // pages of the running process (checked above; the record is smaller
        // than a page, so it spans at most those two), and the window is open.
        unsafe { (record as *mut ExceptionInfo).write_unaligned(info) };
    }
    frame.rdi = record;
    frame.r10 = frame.rsp;
    frame.r11 = frame.rip;
    frame.rsp = rsp;
    frame.rip = handler.entry;
    true
}

fn fatal(vector: u8, frame: &TrapFrame) -> ! {
    let report = FaultReport::capture(vector, frame);
    // The DWARF unwinder cannot walk from here to the faulting code (the
    // interrupt frame is in between), so follow the frame pointers, reading
    // only pages that are mapped.
    let readable = |addr: u64| -> Option<u64> {
        VirtAddr::try_new(addr).ok().and_then(paging::try_translate)?;
        // SAFETY: the page holding `addr` is mapped (checked just above) and
        // `addr` is 8-byte aligned (the walk checks), so the read cannot fault.
        Some(unsafe { (addr as *const u64).read_volatile() })
    };
    let backtrace = Backtrace::from_frame_pointers(frame.rip, frame.rbp, readable);
    serial::emergency_write(format_args!("\nfaulting code's {backtrace}\n"));
    panic!("CPU exception in the kernel: {report}")
}
