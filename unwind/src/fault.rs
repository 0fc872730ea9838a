//! What a recovery boundary hands back when the code inside it failed.

use alloc::string::String;
use core::fmt;

use kernel_logic::trap_frame::{exception_name, PageFaultCode, TrapFrame};

use crate::backtrace::Backtrace;
use crate::symbols;

/// Most skipped frames an unwind remembers by address (it counts them all).
pub const MAX_SKIPPED: usize = 8;

/// Where a panic happened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    /// Source file.
    pub file: String,
    /// Line.
    pub line: u32,
    /// Column.
    pub column: u32,
}

/// A CPU exception taken inside a boundary. `repr(C)`: the kernel writes it
/// onto a server's fault stack for the trusted address space's unwinder,
/// and both sides are built from this crate by the same pinned compiler.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExceptionInfo {
    /// Vector number (0–31).
    pub vector: u8,
    /// The registers at the fault (RIP is the faulting instruction for
    /// faults, the next one for traps).
    pub frame: TrapFrame,
    /// The faulting data address, for page faults (CR2).
    pub address: Option<u64>,
}

/// What a control-flow check found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CfiKind {
    /// A guarded function's return address changed while it ran.
    ReturnAddress {
        /// Address of the return-address slot.
        slot: u64,
        /// The value saved on entry (and put back before unwinding).
        expected: u64,
        /// The value found on exit.
        found: u64,
    },
    /// An indirect call to an address outside its allowed set.
    IllegalTarget {
        /// The address the call would have gone to.
        target: u64,
    },
    /// The shadow stack itself does not match the guarded frames.
    ShadowStack,
}

/// A failed control-flow check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CfiViolation {
    /// The guarded entry point that noticed.
    pub site: &'static str,
    /// What was wrong.
    pub kind: CfiKind,
}

/// The kind of failure.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FaultKind {
    /// A Rust panic.
    Panic {
        /// The panic message.
        message: String,
        /// Where it was raised.
        location: Option<Location>,
    },
    /// A CPU exception.
    Exception(ExceptionInfo),
    /// A control-flow-integrity violation.
    Cfi(CfiViolation),
}

/// What unwinding did on the way from the fault to the boundary.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UnwindRecord {
    /// Frames whose cleanup landing pads ran (their live values dropped).
    pub frames_cleaned: u32,
    /// Frames passed over without running anything: their locals were not
    /// dropped (see `docs/unwinding.md` for when and why).
    pub frames_skipped: u32,
    skipped: [u64; MAX_SKIPPED],
}

impl UnwindRecord {
    /// Notes a frame whose cleanups ran.
    pub fn cleaned(&mut self) {
        self.frames_cleaned += 1;
    }

    /// Notes a frame passed over at code address `pc`.
    pub fn skipped(&mut self, pc: u64) {
        if let Some(slot) = self.skipped.get_mut(self.frames_skipped as usize) {
            *slot = pc;
        }
        self.frames_skipped += 1;
    }

    /// Addresses of the first skipped frames.
    pub fn skipped_frames(&self) -> &[u64] {
        &self.skipped[..(self.frames_skipped as usize).min(MAX_SKIPPED)]
    }
}

/// A failure caught by a recovery boundary.
#[derive(Clone, Debug)]
pub struct Fault {
    /// What went wrong.
    pub kind: FaultKind,
    /// Where: the stack at the fault, innermost frame first.
    pub backtrace: Backtrace,
    /// What the unwinder did.
    pub unwind: UnwindRecord,
}

impl Fault {
    /// A fault of `kind` with `backtrace` and an empty unwind record.
    pub fn new(kind: FaultKind, backtrace: Backtrace) -> Self {
        Self { kind, backtrace, unwind: UnwindRecord::default() }
    }

    /// For a CPU exception, the faulting instruction's address.
    pub fn faulting_rip(&self) -> Option<u64> {
        match &self.kind {
            FaultKind::Exception(e) => Some(e.frame.rip),
            _ => None,
        }
    }

    /// The exception vector, for CPU exceptions.
    pub fn vector(&self) -> Option<u8> {
        match &self.kind {
            FaultKind::Exception(e) => Some(e.vector),
            _ => None,
        }
    }

    /// A one-line summary.
    pub fn summary(&self) -> Summary<'_> {
        Summary(self)
    }
}

/// One-line description of a fault (see [`Fault::summary`]).
pub struct Summary<'a>(&'a Fault);

impl fmt::Display for Summary<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0.kind {
            FaultKind::Panic { message, location } => {
                write!(f, "panic: {message}")?;
                if let Some(l) = location {
                    write!(f, " at {}:{}:{}", l.file, l.line, l.column)?;
                }
                Ok(())
            }
            FaultKind::Exception(e) => {
                write!(f, "{} (vector {}) at ", exception_name(e.vector), e.vector)?;
                symbols::write_address(f, e.frame.rip)?;
                if e.vector == 14 {
                    write!(f, ", {}", PageFaultCode(e.frame.error_code))?;
                } else if e.frame.error_code != 0 {
                    write!(f, ", error code {:#x}", e.frame.error_code)?;
                }
                if let Some(a) = e.address {
                    write!(f, ", address {a:#x}")?;
                }
                Ok(())
            }
            FaultKind::Cfi(c) => {
                write!(f, "CFI violation in {}: ", c.site)?;
                match c.kind {
                    CfiKind::ReturnAddress { slot, expected, found } => {
                        write!(f, "return address at {slot:#x} changed from {expected:#x} to {found:#x}")
                    }
                    CfiKind::IllegalTarget { target } => write!(f, "indirect call to {target:#x} not allowed"),
                    CfiKind::ShadowStack => f.write_str("shadow stack does not match the guarded frames"),
                }
            }
        }
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.summary())?;
        let u = &self.unwind;
        write!(f, "  unwinding ran cleanups in {} frame(s)", u.frames_cleaned)?;
        if u.frames_skipped > 0 {
            write!(f, "; skipped {} frame(s) whose locals were not dropped:", u.frames_skipped)?;
            for &pc in u.skipped_frames() {
                write!(f, "\n    ")?;
                symbols::write_address(f, pc)?;
            }
        }
        writeln!(f)?;
        write!(f, "{}", self.backtrace)
    }
}
