//! Memory from the kernel, owned: [`Mapping`] (pages of this process's
//! own, from `map`) and [`Shared`] (another process's pages, from
//! `accept`). Both are [`Pages`]: reached through volatile accesses at
//! checked offsets, never through Rust references, because a mapping that
//! is granted may be written by its receiver at any time, and a shared one
//! may be written by its granter, or vanish when the grant ends (a touch
//! then faults; it never reads memory that was freed).

use core::ops::{Deref, DerefMut};

pub use lazarus_abi::memory::{MapFlags, GRANTS_MAX, IPC_TIMEOUT_MAX_MS, MAP_QUOTA_BYTES, PAGE_SIZE};
use lazarus_abi::SyscallError;

use crate::ipc::Handle;
use crate::sys::{self, GrantId};

/// `len` bytes at `vaddr` that the kernel mapped for this process, owned by
/// a [`Mapping`] or a [`Shared`].
///
/// # Invariants
/// `[vaddr, vaddr + len)` was mapped readable for this process by the
/// kernel while the owner lives (a grant's end may unmap it early: a touch
/// then faults and ends the process), and no Rust reference covers it.
#[derive(Debug)]
pub struct Pages {
    vaddr: u64,
    len: u64,
}

impl Pages {
    /// The address of `size` bytes at `offset`.
    ///
    /// # Panics
    /// If they are not inside the pages.
    fn at(&self, offset: u64, size: u64) -> u64 {
        let end = offset.checked_add(size);
        assert!(end.is_some_and(|e| e <= self.len), "{size} bytes at {offset:#x} outside the {:#x} mapped", self.len);
        self.vaddr + offset
    }

    /// Its first byte's address.
    pub fn vaddr(&self) -> u64 {
        self.vaddr
    }

    /// Its length in bytes (whole pages).
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Never: the kernel maps at least one page.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Copies `out.len()` bytes from `offset` into `out`.
    ///
    /// # Panics
    /// If they are not inside the pages.
    pub fn read(&self, offset: u64, out: &mut [u8]) {
        let base = self.at(offset, out.len() as u64);
        for (i, b) in out.iter_mut().enumerate() {
            // SAFETY: inside the mapped pages (checked; the invariant),
            // which no Rust reference covers; volatile: another process may
            // write them.
            *b = unsafe { ((base + i as u64) as *const u8).read_volatile() };
        }
    }

    /// The little-endian `u64` at `offset`.
    pub fn read_u64(&self, offset: u64) -> u64 {
        let mut b = [0u8; 8];
        self.read(offset, &mut b);
        u64::from_le_bytes(b)
    }

    /// Copies `bytes` to `offset`. A page the kernel mapped read-only stops
    /// the write with a fault that ends the process.
    ///
    /// # Panics
    /// If they are not inside the pages.
    pub fn write(&mut self, offset: u64, bytes: &[u8]) {
        let base = self.at(offset, bytes.len() as u64);
        for (i, b) in bytes.iter().enumerate() {
            // SAFETY: inside the pages (checked), which no Rust reference
            // covers; a page mapped read-only (or unmapped) stops the write
            // with a fault that ends the process.
            unsafe { ((base + i as u64) as *mut u8).write_volatile(*b) };
        }
    }
}

/// Makes an owner of `Pages` (a field `pages`) usable as its pages.
macro_rules! owns_pages {
    ($owner:ty) => {
        impl Deref for $owner {
            type Target = Pages;

            fn deref(&self) -> &Pages {
                &self.pages
            }
        }

        impl DerefMut for $owner {
            fn deref_mut(&mut self) -> &mut Pages {
                &mut self.pages
            }
        }
    };
}

owns_pages!(Mapping);
owns_pages!(Shared);

/// Anonymous memory of this process (`map`), unmapped when dropped.
#[derive(Debug)]
pub struct Mapping {
    pages: Pages,
}

impl Mapping {
    /// Maps `len` bytes (whole pages) of zeroed memory at the page-aligned,
    /// unmapped address `vaddr`.
    pub fn new(vaddr: u64, len: u64, flags: MapFlags) -> Result<Self, SyscallError> {
        sys::map(vaddr, len, flags)?;
        Ok(Self { pages: Pages { vaddr, len: len.next_multiple_of(PAGE_SIZE) } })
    }

    /// Unmaps `len` bytes (whole pages) at `offset` (page-aligned) of the
    /// mapping; reading or writing them afterwards faults.
    ///
    /// # Panics
    /// If they are not inside the mapping.
    pub fn unmap_pages(&mut self, offset: u64, len: u64) -> Result<(), SyscallError> {
        let at = self.pages.at(offset, len);
        // SAFETY: the pages are this value's, which no reference covers
        // (every access is volatile, through the value, and faults once
        // they are gone).
        unsafe { sys::unmap(at, len) }
    }

    /// Offers the whole mapping to the process that serves `endpoint`; the
    /// mapping cannot be unmapped until the grant ends (dropping it
    /// meanwhile leaves it mapped until the process ends).
    pub fn grant(&self, endpoint: Handle, writable: bool) -> Result<GrantId, SyscallError> {
        sys::grant(self.pages.vaddr, self.pages.len, endpoint, writable)
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        let Pages { vaddr, len } = self.pages;
        // SAFETY: the memory is this value's, reached only through it (no
        // reference into it exists), and the value is going away.
        if let Err(SyscallError::NotMapped) = unsafe { sys::unmap(vaddr, len) } {
            // `unmap_pages` made holes: the pages left, one by one.
            for page in (vaddr..vaddr + len).step_by(PAGE_SIZE as usize) {
                // SAFETY: as above.
                let _ = unsafe { sys::unmap(page, PAGE_SIZE) };
            }
        }
        // Another error (`Shared`: still granted) leaves it mapped until
        // the process ends; nothing else to do about it here.
    }
}

/// Another process's pages, accepted from a grant; the grant is revoked
/// (the pages unmapped) when dropped.
#[derive(Debug)]
pub struct Shared {
    pages: Pages,
    id: GrantId,
}

impl Shared {
    /// Accepts grant `id` at the page-aligned, unmapped address `vaddr`.
    pub fn accept(id: GrantId, vaddr: u64) -> Result<Self, SyscallError> {
        let len = sys::accept(id, vaddr)?;
        Ok(Self { pages: Pages { vaddr, len }, id })
    }

    /// Revokes the grant (as its receiver): the pages are unmapped.
    /// `BadGrant` if it had ended already (they were unmapped then).
    pub fn release(self) -> Result<(), SyscallError> {
        let id = self.id;
        core::mem::forget(self);
        sys::revoke(id)
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        // Fails only if the grant ended already: nothing left to do.
        let _ = sys::revoke(self.id);
    }
}
