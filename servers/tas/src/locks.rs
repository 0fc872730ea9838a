//! The locks servers share, each with the instance that holds it.
//!
//! A lock's word is 0 when free, otherwise its owner: the slot's index
//! plus one (bits 0-15) and the instance's generation (16-47). The guard a
//! server's `Env::locked` holds releases the lock when the body returns;
//! if the body faults, the guard's `Drop` releases it while the frames
//! unwind (counted per slot as released by unwinding), and if the frames
//! are discarded instead, the backstop ([`reclaim`]) releases every lock
//! the slot still holds. The TAS has one thread, so a lock is never
//! waited for: a held lock answers `Busy`.

use core::sync::atomic::{AtomicU64, Ordering};

use server_api::{LockId, Status};

/// Slots the counters have room for.
const SLOTS_MAX: usize = 8;

/// Each lock's owner word (0: free).
static OWNERS: [AtomicU64; LockId::COUNT] = [const { AtomicU64::new(0) }; LockId::COUNT];
/// Per slot: locks released by unwinding, over all its instances.
static UNWOUND: [AtomicU64; SLOTS_MAX] = [const { AtomicU64::new(0) }; SLOTS_MAX];

/// The instance that takes a lock.
#[derive(Clone, Copy, Debug)]
pub struct Owner {
    /// Its slot's index.
    pub slot: usize,
    /// Its generation.
    pub generation: u32,
}

impl Owner {
    fn word(self) -> u64 {
        (self.slot as u64 + 1) & 0xFFFF | u64::from(self.generation) << 16
    }
}

fn slot_of(word: u64) -> Option<usize> {
    (word != 0).then(|| (word & 0xFFFF) as usize - 1)
}

/// A held lock. [`Guard::release`] on the way out; dropped, it releases
/// the lock as the holder's frames unwind.
pub struct Guard {
    lock: usize,
    word: u64,
    slot: usize,
}

impl Guard {
    /// Releases the lock: the body returned.
    pub fn release(self) {
        let _ = OWNERS[self.lock].compare_exchange(self.word, 0, Ordering::SeqCst, Ordering::SeqCst);
        core::mem::forget(self);
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        if OWNERS[self.lock].compare_exchange(self.word, 0, Ordering::SeqCst, Ordering::SeqCst).is_ok() {
            if let Some(count) = UNWOUND.get(self.slot) {
                count.fetch_add(1, Ordering::SeqCst);
            }
        }
    }
}

/// Takes `lock` for `owner`; `Busy` if anyone holds it (the owner itself
/// included: locks are not re-entrant), `BadRequest` for no such lock.
pub fn acquire(lock: LockId, owner: Owner) -> Result<Guard, Status> {
    let index = usize::from(lock.0);
    let word = owner.word();
    let cell = OWNERS.get(index).ok_or(Status::BadRequest)?;
    cell.compare_exchange(0, word, Ordering::SeqCst, Ordering::SeqCst).map_err(|_| Status::Busy)?;
    Ok(Guard { lock: index, word, slot: owner.slot })
}

/// Locks held by any instance of `slot`.
pub fn held_by(slot: usize) -> u64 {
    OWNERS.iter().filter(|w| slot_of(w.load(Ordering::SeqCst)) == Some(slot)).count() as u64
}

/// Locks of `slot` released by unwinding so far.
pub fn released_by_unwinding(slot: usize) -> u64 {
    UNWOUND.get(slot).map_or(0, |c| c.load(Ordering::SeqCst))
}

/// The backstop: releases every lock an instance of `slot` holds; how many.
pub fn reclaim(slot: usize) -> u64 {
    let mut released = 0;
    for cell in &OWNERS {
        let word = cell.load(Ordering::SeqCst);
        if slot_of(word) == Some(slot) && cell.compare_exchange(word, 0, Ordering::SeqCst, Ordering::SeqCst).is_ok() {
            released += 1;
        }
    }
    released
}
