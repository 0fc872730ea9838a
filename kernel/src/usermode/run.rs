//! `run_user`: run a user program in a fresh address space until it exits
//! or faults.
//!
//! The calling kernel thread becomes the process's main thread for the
//! duration: its record names the process (so switches load its CR3) and
//! holds the saved kernel stack pointer (so entries from ring 3 land below
//! it). Further threads (`thread_create`) run [`run_thread`] on kernel
//! threads of their own. A thread leaves ring 3 for good in one of four
//! ways, each of which resumes the kernel where it entered ring 3: the
//! `exit` system call or a CPU exception (which end the whole process),
//! `thread_exit` (the thread alone), or a stop (a sibling ended the
//! process). When every thread has left, the address space is detached and
//! dropped, freeing every page and page table (`thread/process.rs`).

use kernel_logic::trap_frame::TrapFrame;
use kernel_logic::elf::{self, ElfError};
use lazarus_abi::layout::{USER_CODE_BASE, USER_STACK_SIZE, USER_STACK_TOP, USER_START};
use x86_64::structures::paging::{Page, PageTableFlags};
use x86_64::VirtAddr;

use super::enter;
use crate::gdt;
use crate::interrupts::exceptions::FaultReport;
use crate::memory::address_space::AddressSpace;
use crate::memory::paging::MapError;
use crate::thread;
use crate::thread::ipc::Handle;

/// How a process ended.
#[derive(Clone, Debug)]
pub enum UserExit {
    /// It called `exit` with this code.
    Exited(i64),
    /// A CPU exception in ring 3 ended it.
    Faulted(FaultReport),
}

/// A program to run.
#[derive(Clone, Copy, Debug)]
pub enum UserProgram<'a> {
    /// A static ELF executable, loaded as its segments say (after the checks
    /// of `kernel_logic::elf::plan`).
    Elf(&'a [u8]),
    /// Position-independent machine code, loaded at [`USER_CODE_BASE`]
    /// read-only and executable, entered at its first byte (for tests).
    Code(&'a [u8]),
}

/// Why a program could not be started.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoadError {
    /// The ELF image was refused.
    Elf(ElfError),
    /// Memory for the address space ran out, or a mapping failed.
    Map(MapError),
}

impl From<MapError> for LoadError {
    fn from(e: MapError) -> Self {
        Self::Map(e)
    }
}

impl core::fmt::Display for LoadError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Elf(e) => write!(f, "the ELF image is refused: {e:?}"),
            Self::Map(e) => write!(f, "the address space cannot be built: {e:?}"),
        }
    }
}

/// Tags `resume_kernel` returns to `enter_user` with: why the thread left.
const RESUMED_EXIT: u64 = 1;
const RESUMED_FAULT: u64 = 2;
const RESUMED_THREAD_EXIT: u64 = 3;
const RESUMED_STOP: u64 = 4;

/// Checks the ELF `image` and plans where its segments go in a process.
pub fn plan_image(image: &[u8]) -> Result<elf::Plan, ElfError> {
    elf::plan(image, USER_START..USER_STACK_TOP - USER_STACK_SIZE)
}

/// Builds the address space of `program`; returns it and the entry point.
fn build_space(program: UserProgram<'_>) -> Result<(AddressSpace, u64), LoadError> {
    let mut space = AddressSpace::new()?;
    let entry = match program {
        UserProgram::Code(code) => {
            let code_pages = (code.len() as u64).div_ceil(4096).max(1);
            for i in 0..code_pages {
                let page = Page::containing_address(VirtAddr::new(USER_CODE_BASE + i * 4096));
                space.map(page, PageTableFlags::empty())?;
            }
            space.write(USER_CODE_BASE, code)?;
            USER_CODE_BASE
        }
        UserProgram::Elf(image) => {
            let plan = plan_image(image).map_err(LoadError::Elf)?;
            for seg in plan.segments() {
                let mut flags = PageTableFlags::empty();
                if seg.write {
                    flags |= PageTableFlags::WRITABLE;
                }
                if !seg.execute {
                    flags |= PageTableFlags::NO_EXECUTE;
                }
                for addr in seg.pages.clone().step_by(4096) {
                    space.map(Page::containing_address(VirtAddr::new(addr)), flags)?;
                }
                space.write(seg.vaddr, &image[seg.file.clone()])?;
            }
            plan.entry
        }
    };
    for i in 1..=USER_STACK_SIZE / 4096 {
        let page = Page::containing_address(VirtAddr::new(USER_STACK_TOP - i * 4096));
        space.map(page, PageTableFlags::WRITABLE | PageTableFlags::NO_EXECUTE)?;
    }
    Ok((space, entry))
}

/// Runs `program` as a process on the calling thread; returns how it ended.
pub fn run_user(program: UserProgram<'_>) -> Result<UserExit, LoadError> {
    run_user_with(program, &[])
}

/// Runs `program` with a handle table: handle `i` is `handles[i]`. The
/// calling thread is the process's main thread; this returns once every
/// thread of the process has ended.
pub fn run_user_with(program: UserProgram<'_>, handles: &[Handle]) -> Result<UserExit, LoadError> {
    let (space, entry) = build_space(program)?;
    // Only a program of the ramdisk has a symbol table `symbolize` may
    // cache: its bytes stay put for good.
    let image = match program {
        UserProgram::Elf(image) => crate::ramdisk::program_image(image),
        UserProgram::Code(_) => None,
    };
    let slot = thread::attach_user(space, handles, image);
    // As if the entry had been called: the ABI's stack alignment.
    // SAFETY: `slot` lives in this thread's record until `detach_user`
    // below; the attached space maps the entry and the stack.
    let tag = unsafe { enter(slot, entry, USER_STACK_TOP - 8, 0) };
    let (space, ending) = thread::detach_user();
    drop(space);
    assert!((RESUMED_EXIT..=RESUMED_STOP).contains(&tag), "returned from user mode with tag {tag}");
    Ok(ending)
}

/// The body of a thread `thread_create` started: enters ring 3 at `entry`
/// with its stack at `stack_top` (as if called: `stack_top - 8`) and `arg`
/// in RDI, and leaves the process when the thread ends.
pub fn run_thread(entry: u64, stack_top: u64, arg: u64) {
    // Told to stop before it ever ran: it does not start.
    if thread::pending_stop().is_none() {
        if let Some(slot) = thread::entry_slot() {
            // SAFETY: the thread runs in its process's space (the switch to
            // it loaded it), which maps `entry` and the stack (checked by
            // `thread_create`; if the process unmapped them since, its own
            // thread faults in ring 3); `slot` lives until `detach_thread`.
            let tag = unsafe { enter(slot, entry, stack_top - 8, arg) };
            assert!((RESUMED_EXIT..=RESUMED_STOP).contains(&tag), "returned from user mode with tag {tag}");
        }
    }
    thread::detach_thread();
}

/// Enters ring 3; returns the tag the thread left with.
///
/// # Safety
/// As `enter::enter_user`, whose every way back uses `slot`'s value.
unsafe fn enter(slot: *mut u64, entry: u64, rsp: u64, arg: u64) -> u64 {
    let sel = gdt::selectors();
    // SAFETY: forwarded to the caller's guarantees.
    unsafe { enter::enter_user(slot, entry, rsp, u64::from(sel.user_code.0), u64::from(sel.user_data.0), arg) }
}

/// Ends the running process from its `exit` system call.
pub fn end_from_syscall(code: i64) -> ! {
    let saved = thread::end_user(UserExit::Exited(code));
    // SAFETY: `saved` is the slot value of this thread's `enter`, which
    // has not returned; the frames below it are the system-call path, which
    // owns nothing at this point.
    unsafe { enter::resume_kernel(saved, RESUMED_EXIT) }
}

/// Ends the running thread alone, from its `thread_exit` system call.
pub fn end_thread_from_syscall(code: u32) -> ! {
    let saved = thread::end_thread(code);
    // SAFETY: as in `end_from_syscall`.
    unsafe { enter::resume_kernel(saved, RESUMED_THREAD_EXIT) }
}

/// Takes the running thread out of its ending process on its way back to
/// ring 3 from a system call; `saved` is what `thread::pending_stop` gave.
pub fn stop_at(saved: u64) -> ! {
    // SAFETY: as in `end_from_syscall`: `pending_stop` gave this thread's
    // slot value, and the caller is at the end of its system call.
    unsafe { enter::resume_kernel(saved, RESUMED_STOP) }
}

/// Ends the running process from a CPU exception it took in ring 3: rewrites
/// `frame` so that returning from the exception resumes `run_user`.
pub fn end_from_trap(frame: &mut TrapFrame, report: FaultReport) {
    let saved = thread::end_user(UserExit::Faulted(report));
    resume_from_trap(frame, saved, RESUMED_FAULT);
}

/// Takes the running thread out of its ending process from an interrupt
/// that came from ring 3 (`saved`: what `thread::pending_stop` gave).
pub fn stop_from_trap(frame: &mut TrapFrame, saved: u64) {
    resume_from_trap(frame, saved, RESUMED_STOP);
}

/// Rewrites `frame` so that returning from the trap resumes the kernel at
/// the thread's `enter`, which returns `tag`.
fn resume_from_trap(frame: &mut TrapFrame, saved: u64, tag: u64) {
    let sel = gdt::selectors();
    frame.rip = enter::resume_kernel_address();
    frame.rdi = saved;
    frame.rsi = tag;
    frame.cs = u64::from(sel.kernel_code.0);
    frame.ss = u64::from(sel.kernel_data.0);
    frame.rsp = saved;
    // Interrupts stay masked until `resume_kernel` restores the saved flags.
    frame.rflags = 0x2;
}
