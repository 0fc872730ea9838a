//! Where things are in a user address space.

/// One past the highest user address: the lower canonical half.
pub const USER_END: u64 = 0x0000_8000_0000_0000;
/// Lowest address a user mapping may have: the first 2 MiB stay unmapped so
/// null and small offsets from null always fault.
pub const USER_START: u64 = 0x20_0000;
/// Where a process's code is loaded (until ELF images say otherwise).
pub const USER_CODE_BASE: u64 = 0x40_0000;
/// One past the top of the main thread's stack.
pub const USER_STACK_TOP: u64 = 0x7FFF_FFF0_0000;
/// Bytes of the main thread's stack.
pub const USER_STACK_SIZE: u64 = 64 << 10;

/// True if `[addr, addr + len)` lies inside user space (and does not wrap).
pub fn is_user_range(addr: u64, len: u64) -> bool {
    match addr.checked_add(len) {
        Some(end) => addr >= USER_START && end <= USER_END,
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_ranges() {
        assert!(is_user_range(USER_CODE_BASE, 4096));
        assert!(is_user_range(USER_END - 8, 8));
        assert!(!is_user_range(USER_END - 8, 9));
        assert!(!is_user_range(0, 8), "null page");
        assert!(!is_user_range(0xFFFF_8000_0000_0000, 8), "kernel half");
        assert!(!is_user_range(u64::MAX - 3, 8), "wraps");
        assert!(is_user_range(USER_START, 0));
        assert!(USER_STACK_TOP < USER_END && USER_CODE_BASE >= USER_START);
    }
}
