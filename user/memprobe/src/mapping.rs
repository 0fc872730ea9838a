//! Checks of `map` and `unmap` in the program's own address space.

use lazarus_rt::layout::USER_END;
use lazarus_rt::memory::{MapFlags, Mapping, MAP_QUOTA_BYTES, PAGE_SIZE};
use lazarus_rt::sys;
use lazarus_rt::SyscallError;
use lazarus_rt::SyscallError::{AddressInUse, BadAddress, InvalidArgument, NotMapped, QuotaExceeded, TooLong};

use crate::{ensure, Failure};

/// Where these checks map: far from the image (near 4 MiB), the stack
/// (below 128 TiB) and the grant checks' addresses.
const BASE: u64 = 0x0000_2000_0000_0000;

/// A page of this program's code.
pub fn image_page() -> u64 {
    let code = image_page as fn() -> u64 as usize as u64;
    code & !(PAGE_SIZE - 1)
}

/// A page of this thread's stack.
fn stack_page() -> u64 {
    let local = 0u8;
    core::ptr::addr_of!(local) as u64 & !(PAGE_SIZE - 1)
}

/// Drops `m` and proves its pages were given back: the same range maps
/// again.
pub fn given_back(m: Mapping, what: &'static str) -> Result<(), Failure> {
    let (base, len) = (m.vaddr(), m.len());
    drop(m);
    Mapping::new(base, len, MapFlags::READ).map(drop).map_err(|e| Failure(what, e as u64))
}

/// `map`'s result is `expected`.
fn expect_map(vaddr: u64, len: u64, flags: MapFlags, expected: SyscallError, what: &'static str) -> Result<(), Failure> {
    match sys::map(vaddr, len, flags) {
        Err(e) if e == expected => Ok(()),
        Err(e) => Err(Failure(what, e as u64)),
        Ok(()) => Err(Failure(what, 0)),
    }
}

/// `unmap`'s result is `expected`: for ranges the kernel must refuse.
#[allow(unsafe_code)]
pub fn expect_unmap(vaddr: u64, len: u64, expected: SyscallError, what: &'static str) -> Result<(), Failure> {
    // SAFETY: the kernel must refuse every range given here (none is
    // memory `map` made); if it wrongly unmapped the image or the stack,
    // the program would fault at once, which fails the test as it should.
    match unsafe { sys::unmap(vaddr, len) } {
        Err(e) if e == expected => Ok(()),
        Err(e) => Err(Failure(what, e as u64)),
        Ok(()) => Err(Failure(what, 0)),
    }
}

/// Fresh memory is zeroed, writable where asked, spans whole pages, and
/// is gone (the address free again) once dropped.
pub fn zeroed_private_memory() -> Result<(), Failure> {
    let mut m = Mapping::new(BASE, 2 * PAGE_SIZE + 1, MapFlags::WRITE).map_err(|e| Failure("map", e as u64))?;
    ensure(m.len() == 3 * PAGE_SIZE, "rounded up to whole pages", m.len())?;
    let mut page = [0xAAu8; 4096];
    for i in 0..3 {
        m.read(i * PAGE_SIZE, &mut page);
        ensure(page.iter().all(|&b| b == 0), "fresh memory is zeroed", i)?;
    }
    for i in 0..3 {
        m.write(i * PAGE_SIZE + 100, &(0x1234_5678 + i).to_le_bytes());
    }
    for i in 0..3 {
        let w = m.read_u64(i * PAGE_SIZE + 100);
        ensure(w == 0x1234_5678 + i, "what was written is read back", w)?;
    }
    drop(m);
    let again = Mapping::new(BASE, PAGE_SIZE, MapFlags::READ).map_err(|e| Failure("the address is free after unmap", e as u64))?;
    ensure(again.read_u64(100) == 0, "a new mapping is zeroed, not the old frame", again.read_u64(100))?;
    let code = Mapping::new(BASE + 16 * PAGE_SIZE, PAGE_SIZE, MapFlags::EXECUTE).map_err(|e| Failure("an executable mapping", e as u64))?;
    ensure(code.read_u64(0) == 0, "executable memory is readable and zeroed", code.read_u64(0))?;
    Ok(())
}

/// Every bad argument gets its documented error, and nothing is mapped.
pub fn bad_arguments() -> Result<(), Failure> {
    let at = BASE + 0x100_0000;
    expect_map(at, 0, MapFlags::WRITE, InvalidArgument, "length 0")?;
    expect_map(at + 1, PAGE_SIZE, MapFlags::WRITE, BadAddress, "unaligned")?;
    expect_map(0, PAGE_SIZE, MapFlags::WRITE, BadAddress, "null")?;
    expect_map(0x1000, PAGE_SIZE, MapFlags::WRITE, BadAddress, "the null area")?;
    expect_map(0xFFFF_8000_0000_0000, PAGE_SIZE, MapFlags::WRITE, BadAddress, "kernel half")?;
    expect_map(0x0000_8000_0000_0000, PAGE_SIZE, MapFlags::WRITE, BadAddress, "non-canonical")?;
    expect_map(USER_END - PAGE_SIZE, 2 * PAGE_SIZE, MapFlags::WRITE, BadAddress, "runs past user space")?;
    expect_map(!(PAGE_SIZE - 1), 2 * PAGE_SIZE, MapFlags::WRITE, BadAddress, "wraps")?;
    expect_map(at, MAP_QUOTA_BYTES + 1, MapFlags::WRITE, TooLong, "above the quota")?;
    expect_map(at, u64::MAX, MapFlags::WRITE, TooLong, "huge")?;
    expect_map(image_page(), PAGE_SIZE, MapFlags::WRITE, AddressInUse, "over the image")?;
    expect_map(stack_page(), PAGE_SIZE, MapFlags::WRITE, AddressInUse, "over the stack")?;
    let first = Mapping::new(at + 2 * PAGE_SIZE, PAGE_SIZE, MapFlags::WRITE).map_err(|e| Failure("map", e as u64))?;
    expect_map(at, 4 * PAGE_SIZE, MapFlags::WRITE, AddressInUse, "over an earlier map")?;
    // The refused call mapped nothing, not even the pages before the
    // conflict: they are free.
    let before = Mapping::new(at, 2 * PAGE_SIZE, MapFlags::WRITE).map_err(|e| Failure("a refused map left pages behind", e as u64))?;
    drop((first, before));
    Ok(())
}

/// The quota: up to it works, a page past it is `QuotaExceeded`, and what
/// `unmap` frees counts again.
pub fn quota() -> Result<(), Failure> {
    let at = BASE + 0x1000_0000;
    let mut all = Mapping::new(at, MAP_QUOTA_BYTES, MapFlags::WRITE).map_err(|e| Failure("the whole quota", e as u64))?;
    expect_map(at + MAP_QUOTA_BYTES, PAGE_SIZE, MapFlags::WRITE, QuotaExceeded, "a page past the quota")?;
    // Give back one page in the middle: one page may be mapped again.
    all.unmap_pages(PAGE_SIZE, PAGE_SIZE).map_err(|e| Failure("unmap a page of it", e as u64))?;
    let one = Mapping::new(at + MAP_QUOTA_BYTES, PAGE_SIZE, MapFlags::WRITE).map_err(|e| Failure("a page after unmap", e as u64))?;
    expect_map(at + MAP_QUOTA_BYTES + PAGE_SIZE, PAGE_SIZE, MapFlags::WRITE, QuotaExceeded, "again past it")?;
    drop(one);
    given_back(all, "everything was given back")
}

/// `unmap` refuses what `map` did not make and bad ranges, changing
/// nothing; a part of a mapping can be unmapped.
pub fn unmap_only_mapped() -> Result<(), Failure> {
    let at = BASE + 0x2000_0000;
    expect_unmap(image_page(), PAGE_SIZE, NotMapped, "the image")?;
    expect_unmap(stack_page(), PAGE_SIZE, NotMapped, "the stack")?;
    expect_unmap(at, PAGE_SIZE, NotMapped, "nothing mapped")?;
    expect_unmap(at, 0, InvalidArgument, "length 0")?;
    expect_unmap(at + 8, PAGE_SIZE, BadAddress, "unaligned")?;
    expect_unmap(0xFFFF_8000_0000_0000, PAGE_SIZE, BadAddress, "kernel half")?;
    expect_unmap(!(PAGE_SIZE - 1), 2 * PAGE_SIZE, BadAddress, "wraps")?;
    expect_unmap(at, MAP_QUOTA_BYTES + 1, TooLong, "huge")?;
    let mut m = Mapping::new(at, 3 * PAGE_SIZE, MapFlags::WRITE).map_err(|e| Failure("map", e as u64))?;
    m.write(0, &1u64.to_le_bytes());
    m.write(2 * PAGE_SIZE, &3u64.to_le_bytes());
    expect_unmap(at, 4 * PAGE_SIZE, NotMapped, "past the mapping")?;
    m.unmap_pages(PAGE_SIZE, PAGE_SIZE).map_err(|e| Failure("unmap the middle page", e as u64))?;
    ensure(m.read_u64(0) == 1 && m.read_u64(2 * PAGE_SIZE) == 3, "the neighbours are intact", 0)?;
    expect_unmap(at, 3 * PAGE_SIZE, NotMapped, "across the hole")?;
    ensure(m.read_u64(0) == 1, "a refused unmap changed nothing", 0)?;
    let middle = Mapping::new(at + PAGE_SIZE, PAGE_SIZE, MapFlags::READ).map_err(|e| Failure("the hole is free", e as u64))?;
    drop((middle, m));
    let whole = Mapping::new(at, 3 * PAGE_SIZE, MapFlags::READ).map_err(|e| Failure("all three pages were given back", e as u64))?;
    drop(whole);
    Ok(())
}
