//! TLB tests: PCIDs per address space and the invalidation rules of
//! `memory/tlb.rs` — a space changed while it was not active, a PCID handed
//! to a new space, kernel-half pages global or not.
//!
//! Each stale-TLB case reads a page through one space, switches away,
//! changes the mapping so that the same address now maps a frame holding
//! something else, switches back and reads again. On a CPU with PCIDs a
//! missing flush shows as the old value; the CPU QEMU emulates here (TCG)
//! has no PCIDs and flushes on every CR3 write, so each case also checks
//! the bookkeeping that decides the flush (`tlb::flush_pending`), which the
//! same code keeps with or without PCIDs.

use kernel_logic::pcid::{Pcid, Root};
use kernel_logic::user_memory::PageRange;
use lazarus_abi::memory::MapFlags;
use x86_64::instructions::interrupts;
use x86_64::registers::control::{Cr3, Cr4, Cr4Flags};
use x86_64::structures::paging::{Page, PageTableFlags, PhysFrame};
use x86_64::VirtAddr;

use super::{trigger, Case, Group};
use crate::cpu::{self, UserAccess};
use crate::memory::address_space::{self, kernel_root, translate_user_page, AddressSpace};
use crate::memory::paging::{self, KERNEL_DATA};
use crate::memory::{frames, tlb};

/// The group.
pub static GROUP: Group = Group {
    name: "tlb",
    cases: &[
        Case { name: "pcid_is_on_exactly_when_the_cpu_has_it", run: pcid_is_on_exactly_when_the_cpu_has_it },
        Case { name: "each_space_has_a_pcid_of_its_own", run: each_space_has_a_pcid_of_its_own },
        Case { name: "a_page_unmapped_while_inactive_is_gone_after_the_switch_back", run: unmapped_while_inactive },
        Case { name: "a_grant_revoked_while_inactive_is_gone_after_the_switch_back", run: revoked_while_inactive },
        Case { name: "a_reused_pcid_does_not_see_the_old_space", run: a_reused_pcid_does_not_see_the_old_space },
        Case { name: "no_kernel_page_is_global_and_a_kernel_unmap_flushes_every_space", run: kernel_unmap },
        Case { name: "user_pages_are_never_global", run: user_pages_are_never_global },
    ],
};

/// A user address the cases map (above the never-mapped first 2 MiB).
const USER_ADDR: u64 = 0x4000_0000;
/// What the old frame holds.
const OLD: u64 = 0x01D0_01D0_01D0_01D0;
/// What the new frame holds.
const NEW: u64 = 0x0E30_0E30_0E30_0E30;

/// Runs `f` with interrupts masked and `root` loaded, then loads the
/// kernel's table back (on unwinding too) and unmasks.
fn inside<T>(root: Root, f: impl FnOnce() -> T) -> T {
    struct Back(bool);
    impl Drop for Back {
        fn drop(&mut self) {
            // SAFETY: the kernel's own table; interrupts are still masked.
            unsafe { address_space::load(kernel_root()) };
            if self.0 {
                interrupts::enable();
            }
        }
    }
    let back = Back(interrupts::are_enabled());
    interrupts::disable();
    // SAFETY: the callers pass the root of a space they hold (alive for the
    // call) or the kernel's; this thread runs no process of its own, so the
    // kernel's table is its own and is loaded back by `Back`.
    unsafe { address_space::load(root) };
    let value = f();
    drop(back);
    value
}

/// Reads 8 bytes at user address `addr` through `root`.
fn read_user(root: Root, addr: u64) -> u64 {
    inside(root, || {
        let _window = UserAccess::open();
        // SAFETY: the callers map `addr` in the space of `root` (a fault
        // would fail the case); the user-access window is open.
        unsafe { trigger::read_u64(addr) }
    })
}

/// Reads 8 bytes at kernel address `addr` through `root`.
fn read_kernel(root: Root, addr: u64) -> u64 {
    // SAFETY: the callers map `addr` in the kernel half, shared by `root`.
    inside(root, || unsafe { trigger::read_u64(addr) })
}

/// The CR3 value while `root` is loaded.
fn cr3_inside(root: Root) -> u64 {
    let (pml4, low) = inside(root, Cr3::read_raw);
    pml4.start_address().as_u64() | u64::from(low)
}

fn fresh_frame_holding(value: u64) -> PhysFrame {
    let frame = frames::alloc_zeroed().expect("a frame");
    // SAFETY: the frame was just allocated and is reached at the offset.
    unsafe { frames::phys_to_virt(frame.start_address()).as_mut_ptr::<u64>().write(value) };
    frame
}

fn one_page() -> PageRange {
    PageRange::try_new(USER_ADDR, 4096, 4096).expect("a valid range")
}

/// A space with the page at `USER_ADDR` mapped (anonymous, writable) to a
/// frame holding `value`, read once through the space so the TLB holds it.
fn space_holding(value: u64) -> AddressSpace {
    let mut space = AddressSpace::new().expect("space");
    space.map_anonymous(one_page(), MapFlags::WRITE, &[fresh_frame_holding(value)]).expect("map");
    assert_eq!(read_user(space.root(), USER_ADDR), value);
    assert!(!tlb::flush_pending(space.root().pcid()), "a load takes the pending flush");
    space
}

fn pcid_is_on_exactly_when_the_cpu_has_it() {
    let leaf1 = core::arch::x86_64::__cpuid(1);
    let has_pcid = leaf1.ecx & cpu::CPUID_1_ECX_PCID != 0;
    let has_invpcid = core::arch::x86_64::__cpuid_count(7, 0).ebx & cpu::CPUID_7_EBX_INVPCID != 0;
    let cr4 = Cr4::read();
    crate::kprintln!(
        "  cpu: PCID {}, INVPCID {}; CR4.PCIDE {}, CR4.PGE {}",
        has_pcid,
        has_invpcid,
        cr4.contains(Cr4Flags::PCID),
        cr4.contains(Cr4Flags::PAGE_GLOBAL)
    );
    assert_eq!(cr4.contains(Cr4Flags::PCID), has_pcid);
    assert_eq!(cpu::pcid_enabled(), has_pcid);
    assert!(!cr4.contains(Cr4Flags::PAGE_GLOBAL), "no global pages (page-table isolation)");
}

fn each_space_has_a_pcid_of_its_own() {
    assert_eq!(kernel_root().pcid(), Pcid::KERNEL);
    let a = AddressSpace::new().expect("space");
    let b = AddressSpace::new().expect("space");
    let (pa, pb) = (a.root().pcid(), b.root().pcid());
    assert!(pa != Pcid::KERNEL && pb != Pcid::KERNEL && pa != pb, "{pa:?} {pb:?}");
    assert!(tlb::in_use(pa) && tlb::in_use(pb));
    // CR3 carries the tag only with PCIDE on (its low bits are PWT/PCD
    // otherwise, and the kernel leaves them clear).
    let tag = |p: Pcid| if cpu::pcid_enabled() { u64::from(p.get()) } else { 0 };
    assert_eq!(cr3_inside(a.root()), a.root().pml4() | tag(pa));
    assert_eq!(cr3_inside(b.root()), b.root().pml4() | tag(pb));
    assert_eq!(cr3_inside(kernel_root()), kernel_root().pml4());
    drop(a);
    assert!(!tlb::in_use(pa), "a dropped space's PCID is free");
    drop(b);
}

/// The common shape of the two "changed while inactive" cases: `map_old`
/// maps a frame holding `OLD` at `USER_ADDR` (the frame stays the test's),
/// the space is read through and left, `unmap_old` takes the page away
/// while the space is not active, and a frame holding `NEW` is mapped
/// there.
fn changed_while_inactive(map_old: fn(&mut AddressSpace, PhysFrame), unmap_old: fn(&mut AddressSpace)) {
    let mut space = AddressSpace::new().expect("space");
    let old = fresh_frame_holding(OLD);
    map_old(&mut space, old);
    assert_eq!(read_user(space.root(), USER_ADDR), OLD);
    let pcid = space.root().pcid();
    assert!(!tlb::flush_pending(pcid), "a load takes the pending flush");
    unmap_old(&mut space);
    assert!(tlb::flush_pending(pcid), "the space changed while inactive: its next load must flush");
    space.map_anonymous(one_page(), MapFlags::WRITE, &[fresh_frame_holding(NEW)]).expect("map");
    assert_eq!(read_user(space.root(), USER_ADDR), NEW, "the old frame seen through a stale TLB entry");
    assert!(!tlb::flush_pending(pcid));
    drop(space);
    frames::free(old).expect("free");
}

/// The grant id the revoke case uses.
const GRANT: u64 = 7;

fn unmapped_while_inactive() {
    // Anonymous memory unmapped while the space is not active (the path of
    // a process's end; its own `unmap` runs with the space active).
    changed_while_inactive(
        |space, frame| space.map_anonymous(one_page(), MapFlags::WRITE, &[frame]).expect("map"),
        // The frame is handed back, and freed by the caller.
        |space| drop(space.unmap_anonymous(&one_page()).expect("unmap")),
    );
}

fn revoked_while_inactive() {
    // A grant's end unmaps it from its receiver, which is not running.
    changed_while_inactive(
        |space, frame| space.map_accepted(one_page(), &[frame], true, GRANT).expect("map"),
        |space| space.unmap_accepted(GRANT),
    );
}

fn a_reused_pcid_does_not_see_the_old_space() {
    let old = space_holding(OLD);
    let pcid = old.root().pcid();
    // Drop and make with interrupts masked, so no other space takes the
    // PCID in between.
    let mut new = interrupts::without_interrupts(|| {
        drop(old);
        AddressSpace::new().expect("space")
    });
    assert_eq!(new.root().pcid(), pcid, "the lowest free PCID is reused");
    assert!(tlb::flush_pending(pcid), "a reused PCID's first load must flush");
    new.map_anonymous(one_page(), MapFlags::WRITE, &[fresh_frame_holding(NEW)]).expect("map");
    assert_eq!(read_user(new.root(), USER_ADDR), NEW, "the old space's frame seen through a stale TLB entry");
    assert!(!tlb::flush_pending(pcid));
}

/// A scratch page of the kernel half (the `memory` group uses the first
/// few).
fn scratch() -> Page {
    Page::containing_address(VirtAddr::new(kernel_logic::layout::SCRATCH_START + 16 * 4096))
}

/// Maps the scratch page to a frame holding `OLD` with `flags`, reads it
/// through `space`, unmaps it from the kernel's table, maps a frame holding
/// `NEW` there and returns whether `space` had a flush pending after the
/// unmap; then reads through `space` again, which must see `NEW`.
fn kernel_unmap_seen_from(space: &AddressSpace, flags: PageTableFlags) -> bool {
    let page = scratch();
    let addr = page.start_address().as_u64();
    let old = fresh_frame_holding(OLD);
    // SAFETY: the scratch page is the test's, and the frame fresh.
    unsafe { paging::map(page, old, flags) }.expect("map");
    assert_eq!(read_kernel(space.root(), addr), OLD);
    assert!(!tlb::flush_pending(space.root().pcid()));
    // SAFETY: nothing uses the page but this test.
    assert_eq!(unsafe { paging::unmap(page) }, Ok(old));
    let pending = tlb::flush_pending(space.root().pcid());
    let new = fresh_frame_holding(NEW);
    // SAFETY: as above.
    unsafe { paging::map(page, new, flags) }.expect("map");
    assert_eq!(read_kernel(space.root(), addr), NEW, "the old kernel frame seen through a stale TLB entry");
    // SAFETY: as above.
    assert_eq!(unsafe { paging::unmap(page) }, Ok(new));
    frames::free(old).expect("free");
    frames::free(new).expect("free");
    pending
}

fn kernel_unmap() {
    // No global translation may outlive the switch to ring 3's view.
    assert!(!KERNEL_DATA.contains(PageTableFlags::GLOBAL));
    assert!(!Cr4::read().contains(Cr4Flags::PAGE_GLOBAL), "CR4.PGE is off");
    let page = scratch();
    let frame = paging::map_fresh(page, KERNEL_DATA).expect("map");
    assert!(!paging::flags_of(page.start_address()).expect("mapped").contains(PageTableFlags::GLOBAL));
    // SAFETY: the test's scratch page.
    unsafe { paging::unmap(page) }.expect("unmap");
    frames::free(frame).expect("free");
    let space = space_holding(OLD);
    let pending = kernel_unmap_seen_from(&space, KERNEL_DATA);
    assert!(pending, "a kernel entry may survive under any PCID: every space flushes");
}

fn user_pages_are_never_global() {
    let mut space = AddressSpace::new().expect("space");
    let page = Page::containing_address(VirtAddr::new(USER_ADDR));
    space.map(page, PageTableFlags::WRITABLE | PageTableFlags::GLOBAL).expect("map");
    let flags = inside(space.root(), || translate_user_page(USER_ADDR)).expect("mapped").1;
    assert!(flags.contains(PageTableFlags::USER_ACCESSIBLE | PageTableFlags::WRITABLE));
    assert!(!flags.contains(PageTableFlags::GLOBAL), "{flags:?}");
}
