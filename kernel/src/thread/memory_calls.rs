//! The memory system calls on processes: `map` and `unmap` in the caller's
//! own address space, and the shared-memory grants between two (`grant`,
//! `accept`, `revoke`), with their end when a process ends.
//!
//! The spaces live in the thread table, so every change to one happens
//! under the scheduler's lock: a grant's end changes the receiver's space
//! while another process runs. Zeroing fresh frames, the slow part of
//! `map`, happens before the lock is taken.
//!
//! A grant's frames stay the granter's: they are anonymous pages of its
//! space, which cannot be unmapped while granted (`Shared`). Before a
//! granter's space is dropped (and its frames freed), [`release_process`]
//! ends its grants and unmaps them from their receivers, so no receiver
//! maps a freed frame. The arguments come checked by the system-call layer
//! (`syscall/memory.rs`).

use alloc::vec::Vec;

use kernel_logic::grant_table::{GrantError, GrantId, GrantTable};
use kernel_logic::sched::ThreadId;
use kernel_logic::user_memory::{PageRange, RangeError};
use lazarus_abi::memory::{MapFlags, MAP_QUOTA_BYTES, PAGE_SIZE};
use lazarus_abi::SyscallError;
use x86_64::structures::paging::PhysFrame;

use super::ipc;
use super::scheduler::{Threads, THREADS};
use crate::memory::address_space::AddressSpace;
use crate::memory::frames;
use crate::memory::paging::MapError;

/// Every grant. The frames are not kept with it: they are the granter's
/// anonymous pages, which stay put while granted, so `accept` reads them
/// from the granter's page tables (and a grant costs the kernel a few
/// words, however many pages it offers).
pub(super) type Grants = GrantTable;

/// The running thread's process and its space.
fn current(t: &mut Threads) -> Result<(ThreadId, &mut AddressSpace), SyscallError> {
    // A system call comes from a process; `None` would be a kernel bug,
    // reported as the caller's least harmful error.
    let (pid, process) = t.current_process().ok_or(SyscallError::InvalidArgument)?;
    Ok((pid, &mut process.space))
}

fn map_error(e: MapError) -> SyscallError {
    match e {
        MapError::OutOfFrames => SyscallError::NoMemory,
        MapError::AlreadyMapped(_) => SyscallError::AddressInUse,
        _ => SyscallError::BadAddress,
    }
}

/// The checks `map` makes before taking frames, and again before mapping
/// them.
fn check_map(space: &mut AddressSpace, range: &PageRange) -> Result<(), SyscallError> {
    if !space.is_free(range) {
        return Err(SyscallError::AddressInUse);
    }
    if (space.anonymous_pages() + range.pages()) * PAGE_SIZE > MAP_QUOTA_BYTES {
        return Err(SyscallError::QuotaExceeded);
    }
    Ok(())
}

/// `map`: fresh zeroed pages at the free `range` of the caller's space.
pub fn map(range: PageRange, flags: MapFlags) -> Result<(), SyscallError> {
    {
        let mut guard = THREADS.lock();
        let t = guard.as_mut().expect("threads exist");
        check_map(current(t)?.1, &range)?;
    }
    let mut fresh = Vec::with_capacity(range.pages() as usize);
    for _ in 0..range.pages() {
        match frames::alloc_zeroed() {
            Some(f) => fresh.push(f),
            None => {
                free_all(fresh);
                return Err(SyscallError::NoMemory);
            }
        }
    }
    let mapped = {
        let mut guard = THREADS.lock();
        let t = guard.as_mut().expect("threads exist");
        current(t).and_then(|(_, space)| {
            check_map(space, &range)?;
            space.map_anonymous(range, flags, &fresh).map_err(map_error)
        })
    };
    if mapped.is_err() {
        free_all(fresh);
    }
    mapped
}

fn free_all(frames: Vec<PhysFrame>) {
    for f in frames {
        let _ = frames::free(f);
    }
}

/// `unmap`: frees `range`, all of it the caller's anonymous memory and
/// none of it granted.
pub fn unmap(range: PageRange) -> Result<(), SyscallError> {
    let freed = {
        let mut guard = THREADS.lock();
        let t = guard.as_mut().expect("threads exist");
        let me = current(t)?.0;
        let granted = t.grants.offers(me, &range);
        let (_, space) = current(t)?;
        if space.anonymous(&range).is_none() {
            return Err(SyscallError::NotMapped);
        }
        if granted {
            return Err(SyscallError::Shared);
        }
        space.unmap_anonymous(&range).map_err(|_| SyscallError::NotMapped)?
    };
    free_all(freed);
    Ok(())
}

/// `grant`: offers `range` of the caller's anonymous memory to the process
/// that serves `handle`'s endpoint; returns the grant's id word.
pub fn grant(range: PageRange, handle: u64, writable: bool) -> Result<u64, SyscallError> {
    let mut guard = THREADS.lock();
    let t = guard.as_mut().expect("threads exist");
    let endpoint = ipc::resolve(t, handle)?;
    let receiver = ipc::server_of(t, endpoint).ok_or(SyscallError::PeerGone)?;
    let (me, space) = current(t)?;
    let all_writable = space.anonymous(&range).ok_or(SyscallError::NotMapped)?;
    if writable && !all_writable {
        return Err(SyscallError::NotGranted);
    }
    match t.grants.offer(me, receiver, range, writable) {
        Ok(id) => Ok(id.to_word()),
        Err(_) => Err(SyscallError::QuotaExceeded),
    }
}

/// `accept`: maps grant `id`, offered to the caller, at `vaddr`; returns
/// the bytes mapped.
pub fn accept(id: u64, vaddr: u64) -> Result<u64, SyscallError> {
    let id = GrantId::from_word(id);
    let mut guard = THREADS.lock();
    let t = guard.as_mut().expect("threads exist");
    let me = current(t)?.0;
    let (granter, pages, writable) = match t.grants.acceptable(id, me) {
        Ok(g) => (g.granter, g.pages, g.writable),
        Err(_) => return Err(SyscallError::BadGrant),
    };
    let at = PageRange::try_new(vaddr, pages.bytes(), pages.bytes()).map_err(|e| match e {
        RangeError::Empty | RangeError::TooLong => SyscallError::InvalidArgument,
        RangeError::Unaligned | RangeError::OutsideUserSpace => SyscallError::BadAddress,
    })?;
    if !current(t)?.1.is_free(&at) {
        return Err(SyscallError::AddressInUse);
    }
    // The granter lives (its end ends the grant) and cannot have unmapped
    // the pages (they are granted): its frames are there.
    let frames = t
        .processes
        .get_mut(&granter)
        .and_then(|process| process.space.anonymous_frames(&pages))
        .map(|(frames, _)| frames)
        .ok_or(SyscallError::BadGrant)?;
    current(t)?.1.map_accepted(at, &frames, writable, id.to_word()).map_err(map_error)?;
    t.grants.mark_accepted(id, at).map_err(|_| SyscallError::BadGrant)?;
    Ok(at.bytes())
}

/// `revoke`: ends grant `id`, which the caller made or was offered.
pub fn revoke(id: u64) -> Result<(), SyscallError> {
    let id = GrantId::from_word(id);
    let mut guard = THREADS.lock();
    let t = guard.as_mut().expect("threads exist");
    let me = current(t)?.0;
    let grant = t.grants.revoke(id, me).map_err(|_: GrantError| SyscallError::BadGrant)?;
    if grant.accepted.is_some() {
        unmap_from(t, grant.receiver, id);
    }
    Ok(())
}

/// Unmaps accepted grant `id` from the space of `receiver`'s process.
fn unmap_from(t: &mut Threads, receiver: ThreadId, id: GrantId) {
    if let Some(process) = t.processes.get_mut(&receiver) {
        process.space.unmap_accepted(id.to_word());
    }
}

/// Ends the grants of process `me`, which is ending: those it made
/// are unmapped from their receivers (its frames are about to be freed
/// with its space); those it was offered simply end (its space, about to
/// be dropped, never frees their frames).
pub(super) fn release_process(t: &mut Threads, me: ThreadId) {
    for (id, grant) in t.grants.take_of(me) {
        if grant.accepted.is_some() && grant.receiver != me {
            unmap_from(t, grant.receiver, id);
        }
    }
}

/// Live grants, and how many are accepted (for `mem`).
pub fn grant_counts() -> (usize, usize) {
    THREADS.lock().as_ref().map_or((0, 0), |t| t.grants.counts())
}
