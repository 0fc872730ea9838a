//! Fallible memory accesses: loads and stores that may fault and unwind.
//!
//! Each is an `asm!` block with `options(may_unwind)`, so the compiler
//! treats it like a call that may unwind and gives it an exact landing pad:
//! a fault here drops every live value of the enclosing frame too. Each
//! block also records its address range in the section
//! `lazarus_fault_sites`, which is how the personality knows the faulting
//! instruction is one of these (rule 1 in `personality`).

use core::arch::asm;

/// One range of fault-site instructions, as offsets relative to the fields
/// themselves (position independent: no relocations needed).
#[repr(C)]
struct SiteEntry {
    start: i32,
    end: i32,
}

// An empty entry, so the section (and the linker's bounds of it) exists in
// every image, also one that uses no fallible access. `is_fault_site`
// refers to its label, which makes the linker take this object file.
core::arch::global_asm!(
    ".pushsection lazarus_fault_sites, \"aR\"",
    ".balign 4",
    ".global lazarus_fault_sites_anchor",
    "lazarus_fault_sites_anchor:",
    ".long 0",
    ".long -4",
    ".popsection",
);

unsafe extern "C" {
    static lazarus_fault_sites_anchor: SiteEntry;
    static __start_lazarus_fault_sites: SiteEntry;
    static __stop_lazarus_fault_sites: SiteEntry;
}

/// True if `ip` is the address of a registered fallible access.
pub fn is_fault_site(ip: u64) -> bool {
    core::hint::black_box(&raw const lazarus_fault_sites_anchor);
    let mut p = &raw const __start_lazarus_fault_sites;
    let end = &raw const __stop_lazarus_fault_sites;
    while p < end {
        // SAFETY: the linker bounds the section by these two symbols and
        // the assembler fills it with whole `SiteEntry`s.
        let e = unsafe { &*p };
        let start = (&raw const e.start as u64).wrapping_add(e.start as i64 as u64);
        let stop = (&raw const e.end as u64).wrapping_add(e.end as i64 as u64);
        if (start..stop).contains(&ip) {
            return true;
        }
        // SAFETY: stays within the section (checked by the loop condition).
        p = unsafe { p.add(1) };
    }
    false
}

/// The assembly of a fallible access: the instruction, with its address
/// range recorded in `lazarus_fault_sites` (offsets relative to the entry).
macro_rules! fault_site {
    ($insn:literal) => {
        concat!(
            "2:\n",
            $insn,
            "\n3:\n",
            ".pushsection lazarus_fault_sites, \"aR\"\n",
            ".balign 4\n",
            ".long 2b - .\n",
            ".long 3b - .\n",
            ".popsection",
        )
    };
}

/// Reads 8 bytes at `addr`; a fault unwinds from here like a panic would.
///
/// # Safety
/// If `addr` is readable, reading it must be allowed (no data race with a
/// writer that Rust's rules would forbid).
#[inline(always)]
pub unsafe fn read_u64(addr: u64) -> u64 {
    let value: u64;
    // SAFETY: the caller vouches for the access if it succeeds; if it faults,
    // the unwinder starts here (may_unwind) with an exact landing pad.
    unsafe {
        asm!(
            fault_site!("mov {v}, qword ptr [{a}]"),
            a = in(reg) addr,
            v = out(reg) value,
            options(nostack, may_unwind),
        )
    };
    value
}

/// Writes 8 bytes at `addr`; a fault unwinds from here like a panic would.
///
/// # Safety
/// If `addr` is writable, the caller must own it.
#[inline(always)]
pub unsafe fn write_u64(addr: u64, value: u64) {
    // SAFETY: as for `read_u64`.
    unsafe {
        asm!(
            fault_site!("mov qword ptr [{a}], {v}"),
            a = in(reg) addr,
            v = in(reg) value,
            options(nostack, may_unwind),
        )
    };
}
