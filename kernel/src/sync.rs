//! Locks for a kernel that takes interrupts: a spin lock that also masks them.
//!
//! A lock taken by a thread can also be wanted by an interrupt handler that
//! preempts it on the same CPU (the timer enters the scheduler; the scheduler
//! allocates). With interrupts masked while the lock is held, that handler can
//! never spin on a lock its own CPU holds.

use core::ops::{Deref, DerefMut};
use core::sync::atomic::{AtomicUsize, Ordering};

use x86_64::instructions::interrupts;

/// Guards of `IrqMutex`es alive now, in the whole kernel: an unwind that
/// leaves one behind shows up here.
static HELD: AtomicUsize = AtomicUsize::new(0);

/// Number of `IrqMutex` guards alive now.
pub fn held_locks() -> usize {
    HELD.load(Ordering::SeqCst)
}

/// A spin lock whose guard keeps interrupts masked on this CPU.
pub struct IrqMutex<T> {
    inner: spin::Mutex<T>,
}

/// Holds the lock and the interrupt mask; both are released on drop, in that order.
pub struct IrqGuard<'a, T> {
    guard: Option<spin::MutexGuard<'a, T>>,
    were_enabled: bool,
}

impl<T> IrqMutex<T> {
    /// A new unlocked mutex.
    pub const fn new(value: T) -> Self {
        Self { inner: spin::Mutex::new(value) }
    }

    /// Masks interrupts, then spins until the lock is free.
    pub fn lock(&self) -> IrqGuard<'_, T> {
        let were_enabled = interrupts::are_enabled();
        interrupts::disable();
        let guard = self.inner.lock();
        HELD.fetch_add(1, Ordering::SeqCst);
        IrqGuard { guard: Some(guard), were_enabled }
    }

    /// True if the lock is held now.
    pub fn is_locked(&self) -> bool {
        self.inner.is_locked()
    }

    /// Takes the lock if it is free; never spins. For fault paths, which
    /// must not wait for a lock the faulting code may hold.
    #[inline] // on the IPC fast path
    pub fn try_lock(&self) -> Option<IrqGuard<'_, T>> {
        let were_enabled = interrupts::are_enabled();
        interrupts::disable();
        match self.inner.try_lock() {
            Some(g) => {
                HELD.fetch_add(1, Ordering::SeqCst);
                Some(IrqGuard { guard: Some(g), were_enabled })
            }
            None => {
                if were_enabled {
                    interrupts::enable();
                }
                None
            }
        }
    }

}

impl<T> Deref for IrqGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.guard.as_ref().expect("guard present until drop")
    }
}

impl<T> DerefMut for IrqGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        self.guard.as_mut().expect("guard present until drop")
    }
}

impl<T> Drop for IrqGuard<'_, T> {
    #[inline] // on the IPC fast path
    fn drop(&mut self) {
        self.guard = None;
        HELD.fetch_sub(1, Ordering::SeqCst);
        if self.were_enabled {
            interrupts::enable();
        }
    }
}
