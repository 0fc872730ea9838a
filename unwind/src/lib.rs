//! Recovery boundaries: panics, CPU exceptions and CFI violations become
//! orderly unwinds that run every `Drop` they soundly can.
//!
//! Used by the kernel now and by the trusted-address-space runtime later: the
//! same code runs in ring 0 and ring 3. [`catch`] runs code in a boundary
//! and returns `Err(Fault)` when it fails; [`raise`] starts an unwind; the
//! embedder turns CPU exceptions into unwinds with [`trampoline::redirect`]
//! and keeps [`thread_state`] current on every thread switch.
//!
//! Design principles:
//! - soundness before coverage: a frame whose live values cannot be known is
//!   skipped, never guessed at; what was skipped is counted and reported
//!   (the rule is in `docs/unwinding.md` and in `personality`);
//! - nested faults are refused, never looped on;
//! - built on the `unwinding` crate's DWARF unwinder, with this crate's own
//!   personality routine; `gimli` (through `unwinding`) reads the CFI and
//!   `object` the symbol table.
//!
//! The modules that need the bare-metal target (the personality lang item,
//! the unwinder, assembly) exist only when building for it; the rest is
//! plain logic, tested on the host.

#![cfg_attr(not(test), no_std)]
// `lang_items`: this crate provides the personality routine itself, to
// apply the recovery rule; `asm_unwind`: fallible accesses are asm blocks
// that may unwind.
#![cfg_attr(target_os = "none", feature(lang_items, asm_unwind))]
#![cfg_attr(target_os = "none", allow(internal_features))]

extern crate alloc;

pub mod backtrace;
pub mod cfi;
pub mod fault;
pub mod lsda;
pub mod symbols;
pub mod thread_state;

#[cfg(target_os = "none")]
pub mod boundary;
#[cfg(target_os = "none")]
pub mod fallible;
#[cfg(target_os = "none")]
mod personality;
#[cfg(target_os = "none")]
pub mod trampoline;

#[cfg(target_os = "none")]
pub use boundary::{
    can_raise, catch, raise, set_raise_hook, set_unwind_failed_hook, try_raise, RaiseError, RaiseHook, UnwindFailedHook,
};
pub use fault::{Fault, FaultKind};
