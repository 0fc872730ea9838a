//! The boot ramdisk: the user programs, as a ustar archive the bootloader
//! loaded into memory (format: `kernel_logic::ramdisk`).

use kernel_logic::ramdisk::{self, RamdiskError};

static RAMDISK: spin::Once<&'static [u8]> = spin::Once::new();

/// Takes note of the ramdisk the bootloader loaded at `addr`, `len` bytes.
///
/// # Safety
/// The range must be mapped, hold the ramdisk, and never change afterwards.
pub unsafe fn init(addr: u64, len: u64) {
    // SAFETY: forwarded to the caller's guarantee.
    let bytes = unsafe { core::slice::from_raw_parts(addr as *const u8, len as usize) };
    RAMDISK.call_once(|| bytes);
}

/// The contents of the program called `name`.
pub fn program(name: &str) -> Result<Option<&'static [u8]>, RamdiskError> {
    match RAMDISK.get() {
        Some(disk) => ramdisk::find(disk, name),
        None => Ok(None),
    }
}

/// The ramdisk's own copy of `image`, if `image` is exactly one of its
/// programs (the same bytes at the same address), not a copy or a part of
/// one. Such an image lives as long as the kernel and never changes, so its
/// address identifies it.
pub fn program_image(image: &[u8]) -> Option<&'static [u8]> {
    let disk = RAMDISK.get()?;
    ramdisk::files(disk)
        .map_while(Result::ok)
        .map(|f| f.data)
        .find(|data| core::ptr::eq(data.as_ptr(), image.as_ptr()) && data.len() == image.len())
}

/// The names of all programs (for the boot banner and diagnostics).
pub fn names() -> impl Iterator<Item = &'static str> {
    RAMDISK.get().into_iter().flat_map(|d| ramdisk::files(d).map_while(Result::ok).map(|f| f.name))
}
