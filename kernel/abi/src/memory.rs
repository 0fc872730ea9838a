//! Memory a process asks for, and memory it shares: the flags and limits of
//! `map`, `unmap`, `grant`, `accept` and `revoke`, and the limit of the
//! IPC calls with a timeout. See [`crate::Syscall`] for each call's
//! contract.
//!
//! A process maps anonymous, zeroed pages with `map` (readable always,
//! writable or executable but never both: W^X) and gives them back with
//! `unmap`. It can offer pages it mapped to the process that serves an
//! endpoint (`grant`, which returns a grant id); that process maps the same
//! frames at an address of its own (`accept`), never executable; `revoke`
//! (by either side) unmaps them from the receiver again. A grant ends when
//! either process ends: a receiver never keeps a mapping of frames that
//! were freed.

/// Bytes per page: every address and length of these calls counts in
/// whole pages.
pub const PAGE_SIZE: u64 = 4096;

/// `map` flag: the pages are writable (never together with
/// [`MAP_EXECUTE`]).
pub const MAP_WRITE: u64 = 1 << 0;
/// `map` flag: the pages are executable (never together with
/// [`MAP_WRITE`]).
pub const MAP_EXECUTE: u64 = 1 << 1;

/// `grant` flag: the receiver may write the pages (which must be writable
/// for the granter). Without it the receiver maps them read-only.
pub const GRANT_WRITE: u64 = 1 << 0;

/// Most bytes of anonymous memory (`map`) one process may have mapped at
/// once: 16 MiB, a bound on what one program can take from a 256 MiB
/// guest. One `map` asking for more is `TooLong`; one that would pass it
/// with what is mapped already is `QuotaExceeded`.
pub const MAP_QUOTA_BYTES: u64 = 16 << 20;

/// Most grants one process may have offered (accepted or not) at once: a
/// bound on the kernel memory a process makes the kernel keep for it.
pub const GRANTS_MAX: usize = 64;

/// Longest timeout of `call_timeout`, `recv_timeout` and `send`: a minute,
/// as `sleep_ms`.
pub const IPC_TIMEOUT_MAX_MS: u64 = 60_000;

/// The rights of pages mapped with `map`.
///
/// # Invariants
/// Never both writable and executable (W^X).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct MapFlags {
    writable: bool,
    executable: bool,
}

impl MapFlags {
    /// Read-only, not executable.
    pub const READ: Self = Self { writable: false, executable: false };
    /// Readable and writable, not executable.
    pub const WRITE: Self = Self { writable: true, executable: false };
    /// Readable and executable, not writable.
    pub const EXECUTE: Self = Self { writable: false, executable: true };

    /// The flags of the word `bits`; `None` for an unknown bit, or for
    /// [`MAP_WRITE`] with [`MAP_EXECUTE`].
    pub fn from_bits(bits: u64) -> Option<Self> {
        if bits & !(MAP_WRITE | MAP_EXECUTE) != 0 {
            return None;
        }
        let flags = Self { writable: bits & MAP_WRITE != 0, executable: bits & MAP_EXECUTE != 0 };
        (!(flags.writable && flags.executable)).then_some(flags)
    }

    /// The word for the system call.
    pub fn bits(self) -> u64 {
        (if self.writable { MAP_WRITE } else { 0 }) | (if self.executable { MAP_EXECUTE } else { 0 })
    }

    /// The pages are writable.
    pub fn writable(self) -> bool {
        self.writable
    }

    /// The pages are executable.
    pub fn executable(self) -> bool {
        self.executable
    }
}

/// The rights a grant gives its receiver, from `grant`'s flags word:
/// `Some(true)` writable, `Some(false)` read-only, `None` for an unknown
/// bit.
pub fn grant_writable(bits: u64) -> Option<bool> {
    (bits & !GRANT_WRITE == 0).then_some(bits & GRANT_WRITE != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn map_flags_round_trip_and_refuse_w_and_x() {
        for flags in [MapFlags::READ, MapFlags::WRITE, MapFlags::EXECUTE] {
            assert_eq!(MapFlags::from_bits(flags.bits()), Some(flags));
        }
        assert_eq!(MapFlags::from_bits(0), Some(MapFlags::READ));
        assert_eq!(MapFlags::from_bits(MAP_WRITE | MAP_EXECUTE), None, "W^X");
        assert_eq!(MapFlags::from_bits(1 << 2), None, "unknown bit");
        assert_eq!(MapFlags::from_bits(u64::MAX), None);
        assert!(MapFlags::WRITE.writable() && !MapFlags::WRITE.executable());
        assert!(MapFlags::EXECUTE.executable() && !MapFlags::EXECUTE.writable());
    }

    #[test]
    fn grant_flags() {
        assert_eq!(grant_writable(0), Some(false));
        assert_eq!(grant_writable(GRANT_WRITE), Some(true));
        assert_eq!(grant_writable(2), None);
        assert_eq!(grant_writable(u64::MAX), None);
    }

    #[test]
    fn limits_are_whole_pages() {
        assert!(MAP_QUOTA_BYTES.is_multiple_of(PAGE_SIZE));
    }
}
