//! Control-flow integrity checks for the entry points of recovery domains.
//!
//! Two checks (what they catch and miss: `docs/unwinding.md`):
//! - [`guarded`]: on entry, the function's own return address is copied to a
//!   per-thread shadow stack together with a check word; on exit the stack
//!   slot must still hold it. A mismatch is put right (so the unwinder can
//!   find the true caller) and raised as a CFI fault.
//! - [`check_target`]: an indirect call target must be one of a known set.

use crate::fault::CfiKind;

/// Guarded calls one thread may nest.
pub const SHADOW_DEPTH: usize = 32;
/// Mixed into every check word, so a stray write of the same value to the
/// shadow copy and the stack slot is still noticed.
const CHECK_SALT: u64 = 0x9E37_79B9_7F4A_7C15;

/// One guarded frame.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ShadowEntry {
    /// Address of the return-address slot on the stack.
    pub slot: u64,
    /// The return address on entry.
    pub ret: u64,
    check: u64,
}

impl ShadowEntry {
    fn new(slot: u64, ret: u64) -> Self {
        Self { slot, ret, check: check_word(slot, ret) }
    }

    fn intact(&self) -> bool {
        self.check == check_word(self.slot, self.ret)
    }
}

fn check_word(slot: u64, ret: u64) -> u64 {
    (slot ^ CHECK_SALT).rotate_left(17) ^ ret
}

/// A thread's shadow stack of guarded return addresses.
#[derive(Debug)]
pub struct ShadowStack {
    entries: [ShadowEntry; SHADOW_DEPTH],
    len: usize,
}

impl Default for ShadowStack {
    fn default() -> Self {
        Self::new()
    }
}

impl ShadowStack {
    /// An empty shadow stack.
    pub const fn new() -> Self {
        Self { entries: [ShadowEntry { slot: 0, ret: 0, check: 0 }; SHADOW_DEPTH], len: 0 }
    }

    /// Records a guarded frame; `false` if the stack is full (the frame then
    /// runs unguarded, which is reported by the caller).
    pub fn push(&mut self, slot: u64, ret: u64) -> bool {
        if self.len == SHADOW_DEPTH {
            return false;
        }
        self.entries[self.len] = ShadowEntry::new(slot, ret);
        self.len += 1;
        true
    }

    /// Removes the innermost entry, which must be for `slot`, and checks
    /// `found` (the slot's value now) against it.
    pub fn pop_and_check(&mut self, slot: u64, found: u64) -> Result<(), CfiKind> {
        let Some(top) = self.len.checked_sub(1) else { return Err(CfiKind::ShadowStack) };
        let e = self.entries[top];
        self.len = top;
        if e.slot != slot || !e.intact() {
            return Err(CfiKind::ShadowStack);
        }
        if e.ret != found {
            return Err(CfiKind::ReturnAddress { slot, expected: e.ret, found });
        }
        Ok(())
    }

    /// Drops entries above `len` (frames left by unwinding).
    pub fn truncate(&mut self, len: usize) {
        self.len = self.len.min(len);
    }

    /// Number of guarded frames.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True if no frame is guarded.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The innermost guarded frame.
    pub fn top(&self) -> Option<ShadowEntry> {
        self.len.checked_sub(1).map(|i| self.entries[i])
    }
}

/// Checks that `target` is one of `allowed` before an indirect call.
pub fn check_target(target: u64, allowed: &[u64]) -> Result<(), CfiKind> {
    if allowed.contains(&target) { Ok(()) } else { Err(CfiKind::IllegalTarget { target }) }
}

#[cfg(target_os = "none")]
pub use guard::{current_return_slot, guarded, raise_illegal_target};

#[cfg(target_os = "none")]
mod guard {
    use super::*;
    use crate::backtrace;
    use crate::boundary::raise;
    use crate::fault::{CfiViolation, Fault, FaultKind};
    use crate::thread_state::current;

    /// Runs `f` as a guarded entry point named `site`: if `f` leaves this
    /// function's return address changed, the change is undone and a CFI
    /// fault is raised (and unwound like a panic).
    #[inline(never)]
    pub fn guarded<R>(site: &'static str, f: impl FnOnce() -> R) -> R {
        let rbp: u64;
        // SAFETY: reads RBP only. The kernel and runtime are built with frame
        // pointers, so in this non-inlined function RBP is its frame base and
        // the return address is at RBP + 8.
        unsafe { core::arch::asm!("mov {}, rbp", out(reg) rbp, options(nomem, nostack, preserves_flags)) };
        let slot = rbp + 8;
        // SAFETY: the slot is in this function's own frame, which is live.
        let ret = unsafe { (slot as *const u64).read_volatile() };
        let Some(state) = current() else { return f() };
        let depth = state.shadow.lock().len();
        if !state.shadow.lock().push(slot, ret) {
            return f();
        }
        /// Pops the entry again if `f` unwinds.
        struct Pop(usize);
        impl Drop for Pop {
            fn drop(&mut self) {
                if let Some(s) = current() {
                    s.shadow.lock().truncate(self.0);
                }
            }
        }
        let pop = Pop(depth);
        let value = f();
        core::mem::forget(pop);
        // SAFETY: as above, the slot is in this live frame.
        let found = unsafe { (slot as *const u64).read_volatile() };
        let checked = state.shadow.lock().pop_and_check(slot, found);
        if let Err(kind) = checked {
            // Put the true return address back, so the unwinder (and, were
            // the fault ignored, the return) goes to the real caller.
            // SAFETY: the slot is this frame's return-address slot.
            unsafe { (slot as *mut u64).write_volatile(ret) };
            state.shadow.lock().truncate(depth);
            drop(value);
            let fault = Fault::new(FaultKind::Cfi(CfiViolation { site, kind }), backtrace::capture());
            raise(fault);
        }
        value
    }

    /// The return-address slot of the innermost guarded frame (for fault
    /// injection and tests).
    pub fn current_return_slot() -> Option<u64> {
        current()?.shadow.lock().top().map(|e| e.slot)
    }

    /// Raises a CFI fault for an indirect call to `target` outside its set.
    pub fn raise_illegal_target(site: &'static str, target: u64) -> ! {
        let kind = CfiKind::IllegalTarget { target };
        raise(Fault::new(FaultKind::Cfi(CfiViolation { site, kind }), backtrace::capture()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn balanced_push_pop_passes() {
        let mut s = ShadowStack::default();
        assert!(s.push(0x100, 0xAAA));
        assert!(s.push(0x80, 0xBBB));
        assert_eq!(s.pop_and_check(0x80, 0xBBB), Ok(()));
        assert_eq!(s.pop_and_check(0x100, 0xAAA), Ok(()));
        assert!(s.is_empty());
    }

    #[test]
    fn changed_return_address_is_reported() {
        let mut s = ShadowStack::default();
        s.push(0x100, 0xAAA);
        assert_eq!(s.pop_and_check(0x100, 0xDEAD), Err(CfiKind::ReturnAddress { slot: 0x100, expected: 0xAAA, found: 0xDEAD }));
    }

    #[test]
    fn mismatched_frames_and_tampered_entries_are_shadow_stack_faults() {
        let mut s = ShadowStack::default();
        assert_eq!(s.pop_and_check(0x100, 0), Err(CfiKind::ShadowStack), "empty");
        s.push(0x100, 0xAAA);
        assert_eq!(s.pop_and_check(0x108, 0xAAA), Err(CfiKind::ShadowStack), "other slot");
        s.push(0x100, 0xAAA);
        s.entries[0].ret = 0xDEAD; // the shadow copy itself was hit
        assert_eq!(s.pop_and_check(0x100, 0xDEAD), Err(CfiKind::ShadowStack));
    }

    #[test]
    fn full_stack_refuses_and_truncate_drops() {
        let mut s = ShadowStack::default();
        for i in 0..SHADOW_DEPTH as u64 {
            assert!(s.push(i * 8, i));
        }
        assert!(!s.push(0, 0));
        s.truncate(3);
        assert_eq!(s.len(), 3);
        assert_eq!(s.top().map(|e| e.slot), Some(16));
    }

    #[test]
    fn target_check() {
        assert_eq!(check_target(5, &[1, 5, 9]), Ok(()));
        assert_eq!(check_target(6, &[1, 5, 9]), Err(CfiKind::IllegalTarget { target: 6 }));
    }
}
