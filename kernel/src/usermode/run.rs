//! `run_user`: run a user program in a fresh address space until it exits
//! or faults.
//!
//! The calling kernel thread becomes the process's thread for the duration:
//! its record holds the address space (so switches load its CR3) and the
//! saved kernel stack pointer (so entries from ring 3 land below it). The
//! process ends in one of two ways, both of which resume the kernel where
//! `run_user` entered ring 3: the `exit` system call, or a CPU exception in
//! ring 3. Then the address space is detached and dropped, freeing every
//! page and page table.

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

/// Tags `resume_kernel` returns to `run_user` with.
const RESUMED_EXIT: u64 = 1;
const RESUMED_FAULT: u64 = 2;

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

/// Runs `program` with a handle table: handle `i` is `handles[i]`.
pub fn run_user_with(program: UserProgram<'_>, handles: &[Handle]) -> Result<UserExit, LoadError> {
    let (space, entry) = build_space(program)?;
    // Only a program of the ramdisk has a symbol table `symbolize` may
    // cache: its bytes stay put for good.
    let image = match program {
        UserProgram::Elf(image) => crate::ramdisk::program_image(image),
        UserProgram::Code(_) => None,
    };
    let slot = thread::attach_user(space, handles, image);
    let sel = gdt::selectors();
    // SAFETY: the attached space maps the code and stack at these addresses
    // for the user; `slot` lives in this thread's record until `detach_user`
    // below; every way back (exit, fault) resumes with the slot's value.
    let tag = unsafe {
        enter::enter_user(
            slot,
            entry,
            // As if the entry had been called: the ABI's stack alignment.
            USER_STACK_TOP - 8,
            u64::from(sel.user_code.0),
            u64::from(sel.user_data.0),
        )
    };
    let (space, ending) = thread::detach_user();
    if let Some(me) = thread::current_id() {
        super::supervise::release(me);
    }
    drop(space);
    match (tag, ending) {
        (RESUMED_EXIT | RESUMED_FAULT, Some(exit)) => Ok(exit),
        _ => panic!("returned from user mode without an exit record (tag {tag})"),
    }
}

/// Ends the running process from its `exit` system call.
pub fn end_from_syscall(code: i64) -> ! {
    let saved = thread::end_user(UserExit::Exited(code));
    // SAFETY: `saved` is the slot value of this thread's `run_user`, which
    // has not returned; the frames below it are the system-call path, which
    // owns nothing at this point.
    unsafe { enter::resume_kernel(saved, RESUMED_EXIT) }
}

/// Ends the running process from a CPU exception it took in ring 3: rewrites
/// `frame` so that returning from the exception resumes `run_user`.
pub fn end_from_trap(frame: &mut TrapFrame, report: FaultReport) {
    let saved = thread::end_user(UserExit::Faulted(report));
    let sel = gdt::selectors();
    frame.rip = enter::resume_kernel_address();
    frame.rdi = saved;
    frame.rsi = RESUMED_FAULT;
    frame.cs = u64::from(sel.kernel_code.0);
    frame.ss = u64::from(sel.kernel_data.0);
    frame.rsp = saved;
    // Interrupts stay masked until `resume_kernel` restores the saved flags.
    frame.rflags = 0x2;
}
