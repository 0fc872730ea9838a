//! Per-thread unwinding state: boundary depth, the fault in flight, the CFI
//! shadow stack.
//!
//! The embedder (the kernel's scheduler, later the trusted-address-space
//! runtime) owns one [`ThreadState`] per thread and tells this crate which
//! one is running with [`set_current`] on every switch. Fields use atomics
//! and try-locks because an exception handler on the same CPU reads them.

use core::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, AtomicUsize, Ordering};

use crate::cfi::ShadowStack;

/// One thread's unwinding state.
#[derive(Debug)]
pub struct ThreadState {
    /// Recovery boundaries the thread is inside.
    pub(crate) depth: AtomicUsize,
    /// Set from the moment a fault is raised until a boundary catches it.
    pub(crate) unwinding: AtomicBool,
    /// Return addresses of guarded entry points.
    #[cfg_attr(not(target_os = "none"), allow(dead_code))] // used by the target-only CFI guard
    pub(crate) shadow: spin::Mutex<ShadowStack>,
    /// Faults caught by boundaries of this thread.
    pub(crate) caught: AtomicU64,
    /// Interrupt or exception handlers the thread is inside: nothing can be
    /// unwound through their frames, so no fault is raised meanwhile.
    pub(crate) handler_depth: AtomicUsize,
}

/// A thread's boundary and guarded-frame depths at one moment
/// ([`ThreadState::mark`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mark {
    depth: usize,
    shadow: usize,
}

impl Mark {
    /// Outside every boundary, no guarded frame.
    pub const ZERO: Mark = Mark { depth: 0, shadow: 0 };
}

impl Default for ThreadState {
    fn default() -> Self {
        Self::new()
    }
}

impl ThreadState {
    /// A fresh state: no boundary, nothing in flight (usable in a `static`).
    pub const fn new() -> Self {
        Self {
            depth: AtomicUsize::new(0),
            unwinding: AtomicBool::new(false),
            shadow: spin::Mutex::new(ShadowStack::new()),
            caught: AtomicU64::new(0),
            handler_depth: AtomicUsize::new(0),
        }
    }

    /// Where the thread stands now: boundaries and guarded frames, for an
    /// escape path that will discard frames without unwinding them.
    pub fn mark(&self) -> Mark {
        Mark { depth: self.depth.load(Ordering::SeqCst), shadow: self.shadow.lock().len() }
    }

    /// Forgets the boundaries and guarded frames entered since `mark`, whose
    /// frames were discarded without unwinding, and any fault in flight.
    pub fn discard_to(&self, mark: Mark) {
        self.depth.store(mark.depth, Ordering::SeqCst);
        self.shadow.lock().truncate(mark.shadow);
        self.unwinding.store(false, Ordering::SeqCst);
    }

    /// True if the thread is inside at least one recovery boundary.
    pub fn in_boundary(&self) -> bool {
        self.depth.load(Ordering::SeqCst) > 0
    }

    /// True while a fault of this thread is being unwound.
    pub fn is_unwinding(&self) -> bool {
        self.unwinding.load(Ordering::SeqCst)
    }

    /// The thread enters an interrupt or exception handler.
    pub fn enter_handler(&self) {
        self.handler_depth.fetch_add(1, Ordering::SeqCst);
    }

    /// The thread leaves an interrupt or exception handler.
    pub fn leave_handler(&self) {
        self.handler_depth.fetch_sub(1, Ordering::SeqCst);
    }

    /// True if a fault raised now could be unwound: inside a boundary, not
    /// unwinding already, not in a handler.
    pub fn can_raise(&self) -> bool {
        self.in_boundary() && !self.is_unwinding() && self.handler_depth.load(Ordering::SeqCst) == 0
    }

    /// Faults this thread's boundaries have caught.
    pub fn faults_caught(&self) -> u64 {
        self.caught.load(Ordering::Relaxed)
    }
}

static CURRENT: AtomicPtr<ThreadState> = AtomicPtr::new(core::ptr::null_mut());

/// Makes `state` the running thread's state.
///
/// # Safety
/// `state` must stay valid (not moved, not freed) until the next call, and
/// only the thread it belongs to may run in between.
pub unsafe fn set_current(state: *const ThreadState) {
    CURRENT.store(state.cast_mut(), Ordering::SeqCst);
}

/// The running thread's state, if the embedder set one.
pub fn current() -> Option<&'static ThreadState> {
    let p = CURRENT.load(Ordering::SeqCst);
    // SAFETY: `set_current`'s contract keeps the pointee alive while its
    // thread runs, and only that thread (or a handler interrupting it) reads
    // it; the reference does not outlive the thread's time on the CPU in
    // any use inside this crate.
    unsafe { p.as_ref() }
}
