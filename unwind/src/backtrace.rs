//! Backtraces: the code addresses of a stack's frames, innermost first,
//! printed with symbol names when the image's symbols are installed.

use core::fmt;

use crate::symbols;

/// Most frames a backtrace keeps.
pub const MAX_FRAMES: usize = 48;

/// The frames of a stack, innermost first. Each entry is the address to
/// symbolize: the faulting instruction for the frame that faulted, the
/// return address minus one (inside the call) for the others.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Backtrace {
    pcs: [u64; MAX_FRAMES],
    len: usize,
    truncated: bool,
}

impl Default for Backtrace {
    fn default() -> Self {
        Self::empty()
    }
}

impl Backtrace {
    /// No frames.
    pub const fn empty() -> Self {
        Self { pcs: [0; MAX_FRAMES], len: 0, truncated: false }
    }

    /// Appends a frame; returns false once full.
    pub fn push(&mut self, pc: u64) -> bool {
        if self.len == MAX_FRAMES {
            self.truncated = true;
            return false;
        }
        self.pcs[self.len] = pc;
        self.len += 1;
        true
    }

    /// The frames.
    pub fn frames(&self) -> &[u64] {
        &self.pcs[..self.len]
    }

    /// Drops the innermost frames up to (not including) the first at `pc`,
    /// if there is one: the frames of the machinery that took the backtrace.
    pub fn trim_to(&mut self, pc: u64) {
        if let Some(i) = self.frames().iter().position(|&p| p == pc) {
            self.pcs.copy_within(i..self.len, 0);
            self.len -= i;
        }
    }

    /// Walks the frame-pointer chain from `rip` and `rbp`: for a stack the
    /// DWARF unwinder cannot walk from where the caller is (an exception
    /// handler reporting a fatal fault). `read` returns the word at an
    /// address, or `None` if it is not safely readable.
    pub fn from_frame_pointers(rip: u64, mut rbp: u64, read: impl Fn(u64) -> Option<u64>) -> Self {
        let mut bt = Self::empty();
        bt.push(rip);
        while rbp != 0 && rbp.is_multiple_of(8) {
            let (Some(next), Some(ret)) = (read(rbp), read(rbp.wrapping_add(8))) else { break };
            if ret == 0 || !bt.push(ret - 1) {
                break;
            }
            // Frames grow down, so callers' frames are at higher addresses.
            if next <= rbp {
                break;
            }
            rbp = next;
        }
        bt
    }
}

impl fmt::Debug for Backtrace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut list = f.debug_list();
        for p in self.frames() {
            list.entry(&format_args!("{p:#x}"));
        }
        list.finish()
    }
}

impl fmt::Display for Backtrace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "  backtrace:")?;
        if self.len == 0 {
            return write!(f, " (empty)");
        }
        let frames = self.frames();
        let mut i = 0;
        while i < frames.len() {
            let pc = frames[i];
            // A run of the same frame (deep recursion) prints once.
            let run = frames[i..].iter().take_while(|&&p| p == pc).count();
            write!(f, "\n    #{i:<2} ")?;
            symbols::write_address(f, pc)?;
            if run > 1 {
                write!(f, "  (and {} more times, frames #{}..#{})", run - 1, i + 1, i + run - 1)?;
            }
            i += run;
        }
        if self.truncated {
            write!(f, "\n    ... (more frames)")?;
        }
        Ok(())
    }
}

/// Captures the current stack with the DWARF unwinder.
#[cfg(target_os = "none")]
pub fn capture() -> Backtrace {
    use core::ffi::{c_int, c_void};

    use unwinding::abi::{UnwindContext, UnwindReasonCode, _Unwind_Backtrace, _Unwind_GetIPInfo};

    extern "C" fn each(ctx: &UnwindContext<'_>, arg: *mut c_void) -> UnwindReasonCode {
        // SAFETY: `arg` is the `&mut Backtrace` passed below, live for the walk.
        let bt = unsafe { &mut *(arg as *mut Backtrace) };
        let mut exact: c_int = 0;
        let ip = _Unwind_GetIPInfo(ctx, &mut exact) as u64;
        if ip == 0 {
            return UnwindReasonCode::END_OF_STACK;
        }
        let pc = if exact != 0 { ip } else { ip - 1 };
        if bt.push(pc) { UnwindReasonCode::NO_REASON } else { UnwindReasonCode::END_OF_STACK }
    }

    let mut bt = Backtrace::empty();
    _Unwind_Backtrace(each, &mut bt as *mut Backtrace as *mut c_void);
    bt
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn frame_pointer_walk_follows_the_chain() {
        // Three frames: rbp 0x1000 -> 0x1100 -> 0x1200 -> 0 (end).
        let mem: HashMap<u64, u64> =
            [(0x1000, 0x1100), (0x1008, 0x501), (0x1100, 0x1200), (0x1108, 0x601), (0x1200, 0), (0x1208, 0x701)]
                .into();
        let bt = Backtrace::from_frame_pointers(0x400, 0x1000, |a| mem.get(&a).copied());
        assert_eq!(bt.frames(), [0x400, 0x500, 0x600, 0x700]);
    }

    #[test]
    fn frame_pointer_walk_stops_on_loops_and_unreadable_memory() {
        let looping: HashMap<u64, u64> = [(0x1000, 0x1000), (0x1008, 0x501)].into();
        assert_eq!(Backtrace::from_frame_pointers(1, 0x1000, |a| looping.get(&a).copied()).frames(), [1, 0x500]);
        assert_eq!(Backtrace::from_frame_pointers(1, 0x1000, |_| None).frames(), [1]);
        assert_eq!(Backtrace::from_frame_pointers(1, 0x1003, |_| Some(0)).frames(), [1], "misaligned rbp");
    }

    #[test]
    fn repeated_frames_print_once() {
        let mut bt = Backtrace::empty();
        for pc in [1, 2, 2, 2, 3] {
            bt.push(pc);
        }
        let text = format!("{bt}");
        assert_eq!(text.lines().count(), 4, "{text}");
        assert!(text.contains("(and 2 more times, frames #2..#3)"), "{text}");
    }

    #[test]
    fn push_truncates_and_trim_drops_inner_frames() {
        let mut bt = Backtrace::empty();
        for pc in 0..(MAX_FRAMES as u64 + 5) {
            bt.push(pc);
        }
        assert_eq!(bt.frames().len(), MAX_FRAMES);
        assert!(format!("{bt}").ends_with("(more frames)"));
        bt.trim_to(10);
        assert_eq!(bt.frames()[0], 10);
        assert_eq!(bt.frames().len(), MAX_FRAMES - 10);
        bt.trim_to(9999);
        assert_eq!(bt.frames()[0], 10, "no such frame: unchanged");
    }
}
