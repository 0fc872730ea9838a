//! System-call errors: who is at fault, with fixed numbers.
//!
//! Every error here is the caller's mistake or a limit it ran into; a fault
//! of the kernel itself is never reported as a system-call error.

use core::fmt;

/// Why a system call failed. The number is the ABI.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u16)]
pub enum SyscallError {
    /// No system call has this number.
    UnknownSyscall = 1,
    /// A pointer argument is null, not in user space, not mapped for the
    /// caller, or its range wraps around.
    BadAddress = 2,
    /// An argument is out of its range.
    InvalidArgument = 3,
    /// A length is above the call's limit.
    TooLong = 4,
    /// No handle with this number in the caller's table.
    BadHandle = 5,
    /// The handle's endpoint was restarted since the handle was given out
    /// (its server is a new instance): get a fresh handle.
    StaleHandle = 6,
    /// The other side ended before answering (its reply obligation was
    /// answered with this error).
    PeerGone = 7,
    /// The caller has no symbol table: it was not loaded from an ELF image
    /// of the boot ramdisk, or its image has no function symbols (stripped).
    NoSymbolTable = 8,
    /// The address lies in no function of the caller's symbol table.
    NoSymbol = 9,
    /// Another process owns the device.
    DeviceBusy = 10,
    /// No PCI device matches, or the device has no interrupt line the
    /// kernel can route.
    NoDevice = 11,
    /// The caller does not own the device, or the port range is not inside
    /// one of the device's I/O BARs, or (for DMA) it owns no device at all.
    NotGranted = 12,
    /// The wait ended at its timeout with nothing to report.
    TimedOut = 13,
    /// Memory ran out: the caller's DMA quota, or physically contiguous
    /// frames, or (for `map` and `accept`) free frames.
    NoMemory = 14,
    /// The caller reached one of its own limits: the bytes it may have
    /// mapped with `map`, or the grants it may have offered at once.
    QuotaExceeded = 15,
    /// A page of the range is mapped already.
    AddressInUse = 16,
    /// A page of the range is not memory the caller mapped with `map` (it
    /// is unmapped, or the image, the stack, DMA memory or an accepted
    /// grant).
    NotMapped = 17,
    /// The grant id names no grant the caller may use: unknown, revoked,
    /// ended with one of its processes, offered to another process, or
    /// accepted already.
    BadGrant = 18,
    /// A page of the range is offered in a grant: revoke the grant first.
    Shared = 19,
}

const ALL: [SyscallError; 19] = [
    SyscallError::UnknownSyscall,
    SyscallError::BadAddress,
    SyscallError::InvalidArgument,
    SyscallError::TooLong,
    SyscallError::BadHandle,
    SyscallError::StaleHandle,
    SyscallError::PeerGone,
    SyscallError::NoSymbolTable,
    SyscallError::NoSymbol,
    SyscallError::DeviceBusy,
    SyscallError::NoDevice,
    SyscallError::NotGranted,
    SyscallError::TimedOut,
    SyscallError::NoMemory,
    SyscallError::QuotaExceeded,
    SyscallError::AddressInUse,
    SyscallError::NotMapped,
    SyscallError::BadGrant,
    SyscallError::Shared,
];

impl SyscallError {
    /// The error with this number.
    pub fn from_code(code: u16) -> Option<Self> {
        ALL.into_iter().find(|e| *e as u16 == code)
    }
}

impl fmt::Display for SyscallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::UnknownSyscall => "unknown system call",
            Self::BadAddress => "bad address",
            Self::InvalidArgument => "invalid argument",
            Self::TooLong => "length above the limit",
            Self::BadHandle => "no such handle",
            Self::StaleHandle => "stale handle (the endpoint was restarted)",
            Self::PeerGone => "the other side ended before answering",
            Self::NoSymbolTable => "no symbol table (not a ramdisk ELF image, or stripped)",
            Self::NoSymbol => "no function at this address",
            Self::DeviceBusy => "another process owns the device",
            Self::NoDevice => "no such device (or it has no usable interrupt line)",
            Self::NotGranted => "not granted: a device the caller does not own, outside its I/O ranges, or a right the caller lacks",
            Self::TimedOut => "timed out",
            Self::NoMemory => "out of memory (DMA quota, or contiguous frames)",
            Self::QuotaExceeded => "the caller's quota is used up (mapped memory, or grants)",
            Self::AddressInUse => "an address of the range is mapped already",
            Self::NotMapped => "not memory the caller mapped with map",
            Self::BadGrant => "no such grant for the caller (unknown, revoked, another's, or accepted already)",
            Self::Shared => "the pages are granted: revoke the grant first",
        })
    }
}

/// Encodes a result for RAX.
pub fn encode(result: Result<u64, SyscallError>) -> u64 {
    match result {
        // Success values stay below 2^63, so they never look negative.
        Ok(v) => v & (u64::MAX >> 1),
        Err(e) => (-(e as i64)) as u64,
    }
}

/// Decodes RAX after a system call.
pub fn decode(rax: u64) -> Result<u64, Option<SyscallError>> {
    let v = rax as i64;
    if v >= 0 {
        Ok(rax)
    } else {
        Err(u16::try_from(-v).ok().and_then(SyscallError::from_code))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_fixed() {
        assert_eq!(SyscallError::UnknownSyscall as u16, 1);
        assert_eq!(SyscallError::BadAddress as u16, 2);
        assert_eq!(SyscallError::InvalidArgument as u16, 3);
        assert_eq!(SyscallError::TooLong as u16, 4);
        assert_eq!(SyscallError::BadHandle as u16, 5);
        assert_eq!(SyscallError::StaleHandle as u16, 6);
        assert_eq!(SyscallError::PeerGone as u16, 7);
        assert_eq!(SyscallError::NoSymbolTable as u16, 8);
        assert_eq!(SyscallError::NoSymbol as u16, 9);
        assert_eq!(SyscallError::DeviceBusy as u16, 10);
        assert_eq!(SyscallError::NoDevice as u16, 11);
        assert_eq!(SyscallError::NotGranted as u16, 12);
        assert_eq!(SyscallError::TimedOut as u16, 13);
        assert_eq!(SyscallError::NoMemory as u16, 14);
        assert_eq!(SyscallError::QuotaExceeded as u16, 15);
        assert_eq!(SyscallError::AddressInUse as u16, 16);
        assert_eq!(SyscallError::NotMapped as u16, 17);
        assert_eq!(SyscallError::BadGrant as u16, 18);
        assert_eq!(SyscallError::Shared as u16, 19);
    }

    #[test]
    fn encode_decode_round_trip() {
        for e in ALL {
            assert_eq!(decode(encode(Err(e))), Err(Some(e)));
            assert_eq!(SyscallError::from_code(e as u16), Some(e));
        }
        assert_eq!(decode(encode(Ok(0))), Ok(0));
        assert_eq!(decode(encode(Ok(12345))), Ok(12345));
        assert_eq!(decode((-999i64) as u64), Err(None));
        assert_eq!(SyscallError::from_code(0), None);
    }
}
