//! Processor set-up: the control-register bits the kernel relies on, and halting.

use x86_64::registers::control::{Cr0, Cr0Flags, Cr3, Cr3Flags, Cr4, Cr4Flags};
use core::sync::atomic::{AtomicBool, Ordering};

use x86_64::registers::model_specific::{Efer, EferFlags};

/// Turns on what the rest of the kernel assumes:
/// - SSE (CR0.EM clear, CR0.MP set, CR4.OSFXSR and OSXMMEXCPT set): the
///   bootloader leaves it off, and the unwinder saves MXCSR with `stmxcsr`,
///   which raises #UD without it;
/// - CR0.WP, so the kernel cannot write read-only pages either;
/// - EFER.NXE, so no-execute page bits are honoured rather than reserved.
pub fn init() {
    // SAFETY: these bits only enable features; nothing the kernel has set up
    // depends on them being off (no page has NX set before NXE, no code uses
    // SSE before this).
    unsafe {
        Cr0::update(|f| {
            f.remove(Cr0Flags::EMULATE_COPROCESSOR);
            f.insert(Cr0Flags::MONITOR_COPROCESSOR | Cr0Flags::WRITE_PROTECT);
        });
        Cr4::update(|f| f.insert(Cr4Flags::OSFXSR | Cr4Flags::OSXMMEXCPT_ENABLE));
        Efer::update(|f| f.insert(EferFlags::NO_EXECUTE_ENABLE));
    }
}

/// CPUID leaf 7 (structured extended features), sub-leaf 0, EBX bits.
const CPUID_SMEP: u32 = 1 << 7;
const CPUID_SMAP: u32 = 1 << 20;

static SMAP: AtomicBool = AtomicBool::new(false);

fn leaf7_ebx() -> u32 {
    core::arch::x86_64::__cpuid_count(7, 0).ebx
}

/// Turns on supervisor-mode execution and access prevention where the CPU
/// has them: the kernel then faults on executing user pages (SMEP) and on
/// touching them outside a [`UserAccess`] window (SMAP). Returns which are on.
pub fn enable_user_protection() -> (bool, bool) {
    let ebx = leaf7_ebx();
    let (smep, smap) = (ebx & CPUID_SMEP != 0, ebx & CPUID_SMAP != 0);
    // SAFETY: only sets bits the CPU reports support for; the kernel never
    // executes user pages and touches them only inside `UserAccess`.
    unsafe {
        Cr4::update(|f| {
            f.set(Cr4Flags::SUPERVISOR_MODE_EXECUTION_PROTECTION, smep);
            f.set(Cr4Flags::SUPERVISOR_MODE_ACCESS_PREVENTION, smap);
        })
    };
    SMAP.store(smap, Ordering::SeqCst);
    (smep, smap)
}

/// True if SMAP is on.
pub fn smap_enabled() -> bool {
    SMAP.load(Ordering::SeqCst)
}

/// CPUID leaf 1, ECX bit 17: process-context identifiers (CR4.PCIDE).
pub const CPUID_1_ECX_PCID: u32 = 1 << 17;
/// CPUID leaf 7 sub-leaf 0, EBX bit 10: INVPCID. Only reported: the kernel
/// flushes a PCID by loading it (`memory::tlb`), which needs no INVPCID.
pub const CPUID_7_EBX_INVPCID: u32 = 1 << 10;

static PCID: AtomicBool = AtomicBool::new(false);

/// What [`enable_tlb_tags`] turned on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TlbTags {
    /// CR4.PCIDE: CR3 carries a PCID, and a CR3 write may keep the TLB.
    pub pcid: bool,
}

/// Turns on PCIDs where the CPU has them (the rules that make them safe
/// are in `memory::tlb`), and turns global pages off: with page-table
/// isolation (`memory::isolation`) no kernel translation may outlive the
/// switch to ring 3's view, which a global one would. Call once at boot,
/// with the kernel's own table active and before any other is loaded:
/// PCIDE may only be set with CR3's bits 11:0 clear, and every entry cached
/// until then is tagged PCID 0, the kernel table's.
pub fn enable_tlb_tags() -> TlbTags {
    let leaf1 = core::arch::x86_64::__cpuid(1);
    let tags = TlbTags { pcid: leaf1.ecx & CPUID_1_ECX_PCID != 0 };
    // SAFETY: clearing PGE flushes the whole TLB and changes no mapping.
    unsafe { Cr4::update(|f| f.remove(Cr4Flags::PAGE_GLOBAL)) };
    if tags.pcid {
        let (pml4, low) = Cr3::read_raw();
        if low != 0 {
            // SAFETY: the same table, without PWT/PCD: the mapping does not
            // change, and PCIDE needs CR3[11:0] clear.
            unsafe { Cr3::write(pml4, Cr3Flags::empty()) };
        }
        // SAFETY: the CPU has PCIDs, the kernel runs in long mode and CR3's
        // bits 11:0 are clear (above); from here on every CR3 value is a
        // `Root`'s (`address_space::load`, the crossings of
        // `memory::isolation`), which puts a tag in them.
        unsafe { Cr4::update(|f| f.insert(Cr4Flags::PCID)) };
    }
    PCID.store(tags.pcid, Ordering::SeqCst);
    tags
}

/// True if CR4.PCIDE is on.
#[inline] // on every address-space switch
pub fn pcid_enabled() -> bool {
    PCID.load(Ordering::Relaxed)
}

/// A window in which the kernel may touch user pages (RFLAGS.AC set, so
/// SMAP allows it); closed on drop. Keep it around the copy alone.
pub struct UserAccess(());

impl UserAccess {
    /// Opens the window.
    pub fn open() -> Self {
        if smap_enabled() {
            // SAFETY: `stac` only sets RFLAGS.AC; SMAP is on, so it exists.
            unsafe { core::arch::asm!("stac", options(nomem, nostack)) };
        }
        Self(())
    }
}

impl Drop for UserAccess {
    fn drop(&mut self) {
        close_user_access();
    }
}

/// Clears RFLAGS.AC: user pages are protected again. Also used on every
/// entry from user mode, where AC may have been left set by user code.
#[inline] // on every system call
pub fn close_user_access() {
    if smap_enabled() {
        // SAFETY: `clac` only clears RFLAGS.AC; SMAP is on, so it exists.
        unsafe { core::arch::asm!("clac", options(nomem, nostack)) };
    }
}

/// Stops this CPU for good: interrupts off, then `hlt` forever.
pub fn halt_forever() -> ! {
    x86_64::instructions::interrupts::disable();
    loop {
        x86_64::instructions::hlt();
    }
}
