//! Memory tests: frames, the heap, page mappings, guard pages and NX; the
//! memory system calls of processes (`process_memory.rs`).

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;

use kernel_logic::frame_bitmap::FreeError;
use kernel_logic::layout::{StackHit, SCRATCH_START};
use kernel_logic::trap_frame::PageFaultCode;
use x86_64::structures::paging::{Page, PageTableFlags};
use x86_64::VirtAddr;

use super::process_memory as pm;
use super::{trigger, Case, Group};
use crate::gdt;
use crate::interrupts::exceptions::AddressHint;
use crate::memory::paging::{self, KERNEL_DATA};
use crate::memory::{frames, heap};
use crate::thread::{self, FaultPolicy};

/// The group.
pub static GROUP: Group = Group {
    name: "memory",
    cases: &[
        Case { name: "frame_alloc_free_restores_counters", run: frame_alloc_free_restores_counters },
        Case { name: "frame_double_free_is_refused", run: frame_double_free_is_refused },
        Case { name: "heap_alloc_free_restores_accounting", run: heap_alloc_free_restores_accounting },
        Case { name: "map_translate_unmap", run: map_translate_unmap },
        Case { name: "guard_page_touch_is_reported", run: guard_page_touch_is_reported },
        Case { name: "no_execute_page_faults_on_fetch", run: no_execute_page_faults_on_fetch },
        Case { name: "interrupt_stacks_have_guard_pages", run: interrupt_stacks_have_guard_pages },
        Case { name: "map_refuses_bad_arguments_with_typed_errors", run: pm::map_bad_arguments },
        Case { name: "unmap_grant_accept_revoke_refuse_bad_arguments", run: pm::other_calls_bad_arguments },
        Case { name: "a_writable_mapping_is_not_executable", run: pm::writable_is_not_executable },
        Case { name: "a_read_only_mapping_reads_zero_and_is_not_writable", run: pm::read_only_is_not_writable },
        Case { name: "mapped_pages_are_freed_when_the_process_ends", run: pm::freed_at_process_end },
        // memprobe's checks, by the bit of its exit code (user/memprobe).
        Case { name: "map_gives_zeroed_private_memory", run: || pm::memprobe_check(0) },
        Case { name: "map_refuses_bad_arguments", run: || pm::memprobe_check(1) },
        Case { name: "map_has_a_quota", run: || pm::memprobe_check(2) },
        Case { name: "unmap_takes_only_what_map_made", run: || pm::memprobe_check(3) },
        Case { name: "a_grant_is_seen_by_both_sides", run: || pm::memprobe_check(4) },
        Case { name: "grant_calls_refuse_bad_arguments", run: || pm::memprobe_check(5) },
        Case { name: "a_revoked_grant_is_gone_from_the_receiver", run: || pm::memprobe_check(6) },
        Case { name: "the_receiver_can_give_a_grant_back", run: || pm::memprobe_check(7) },
        Case { name: "a_receiver_that_ends_leaves_the_granter_whole", run: || pm::memprobe_check(8) },
        Case { name: "a_grant_left_at_exit_is_accepted", run: || pm::memprobe_check(13) },
        Case { name: "a_grant_is_gone_from_the_receiver_when_the_granter_ends", run: pm::gone_when_granter_ends },
        Case { name: "memory_calls_leave_no_frame_page_or_grant_behind", run: pm::nothing_left_behind },
    ],
};

fn frame_alloc_free_restores_counters() {
    let start = frames::counters();
    let taken: Vec<_> = (0..256).map(|_| frames::alloc().expect("frames available")).collect();
    let mid = frames::counters();
    assert_eq!(mid.allocated, start.allocated + 256);
    assert_eq!(mid.free, start.free - 256);
    let mut addrs: Vec<u64> = taken.iter().map(|f| f.start_address().as_u64()).collect();
    addrs.sort_unstable();
    addrs.dedup();
    assert_eq!(addrs.len(), 256, "no frame handed out twice");
    assert!(addrs[0] != 0, "frame 0 is never handed out");
    for f in taken {
        frames::free(f).expect("frame was allocated");
    }
    let end = frames::counters();
    assert_eq!((end.free, end.allocated), (start.free, start.allocated));
}

fn frame_double_free_is_refused() {
    let f = frames::alloc().expect("a frame");
    frames::free(f).expect("first free");
    let before = frames::counters();
    let n = f.start_address().as_u64() / 4096;
    assert_eq!(frames::free(f), Err(FreeError::AlreadyFree { frame: n }));
    assert_eq!(frames::counters(), before, "a refused free changes nothing");
}

fn heap_alloc_free_restores_accounting() {
    let start = heap::stats();
    {
        let v = alloc::vec![7u8; 100_000];
        let b = Box::new([1u64; 512]);
        let s: String = (0..1000).map(|i| char::from(b'a' + (i % 26) as u8)).collect();
        let mid = heap::stats();
        assert!(mid.used >= start.used + 100_000 + 4096 + 1000, "{mid:?}");
        assert_eq!(mid.live_allocations, start.live_allocations + 3);
        assert_eq!(v[99_999] as u64 + b[511] + s.len() as u64, 7 + 1 + 1000);
    }
    let end = heap::stats();
    assert_eq!(end.used, start.used);
    assert_eq!(end.live_allocations, start.live_allocations);
    assert_eq!(end.total_allocations, start.total_allocations + 3);
}

fn scratch_page(index: u64) -> Page {
    Page::containing_address(VirtAddr::new(SCRATCH_START + index * 4096))
}

fn map_translate_unmap() {
    let page = scratch_page(0);
    // Warm up: the first mapping in the scratch area creates page tables
    // that stay; the counters are compared after that.
    let f = paging::map_fresh(page, KERNEL_DATA).expect("map");
    // SAFETY: the scratch page is ours and nothing else uses it.
    unsafe { paging::unmap_and_free(page) }.expect("unmap");
    let _ = f;

    let start = frames::counters();
    let frame = paging::map_fresh(page, KERNEL_DATA).expect("map");
    let addr = page.start_address();
    assert_eq!(paging::translate(addr + 123u64), Some(frame.start_address() + 123u64));
    let flags = paging::flags_of(addr).expect("mapped");
    assert!(flags.contains(PageTableFlags::NO_EXECUTE | PageTableFlags::WRITABLE));
    // SAFETY: the page was just mapped for this test.
    unsafe {
        trigger::write_u64(addr.as_u64(), 0x1234_5678);
        assert_eq!(trigger::read_u64(addr.as_u64()), 0x1234_5678);
    }
    assert!(matches!(paging::map_fresh(page, KERNEL_DATA), Err(paging::MapError::AlreadyMapped(_))));
    // SAFETY: nothing uses the page any more.
    let back = unsafe { paging::unmap(page) }.expect("unmap");
    assert_eq!(back, frame);
    assert_eq!(paging::translate(addr), None);
    // SAFETY: as above.
    assert_eq!(unsafe { paging::unmap(page) }, Err(paging::MapError::NotMapped));
    frames::free(frame).expect("free");
    let end = frames::counters();
    assert_eq!((end.free, end.allocated), (start.free, start.allocated));
}

fn guard_page_touch_is_reported() {
    let handle = thread::spawn("guard-toucher", FaultPolicy::Kill, || {
        let stack = thread::current_stack().expect("a spawned thread has a stack");
        let guard = stack.start - 8;
        // SAFETY: faults on purpose; this thread is killed by it.
        unsafe { trigger::read_u64(guard) };
        guard
    })
    .expect("spawn");
    let report = handle.join().expect_err("touching the guard page must fault");
    assert_eq!(report.vector, 14);
    let cr2 = report.cr2.expect("page faults report cr2");
    assert!(matches!(report.hint, Some(AddressHint::ThreadStack(StackHit::Guard(_)))), "{report}");
    assert!(report.is_stack_guard_hit());
    assert!(!PageFaultCode(report.frame.error_code).present());
    assert_eq!(cr2 % 8, 0);
}

fn no_execute_page_faults_on_fetch() {
    const RET: u64 = 0xC3;
    let nx = scratch_page(1);
    let exec = scratch_page(2);
    let f1 = paging::map_fresh(nx, KERNEL_DATA).expect("map");
    let f2 = paging::map_fresh(exec, PageTableFlags::PRESENT | PageTableFlags::WRITABLE).expect("map");
    // SAFETY: both scratch pages were just mapped for this test.
    unsafe {
        trigger::write_u64(nx.start_address().as_u64(), RET);
        trigger::write_u64(exec.start_address().as_u64(), RET);
        // An executable page with a `ret` runs and returns...
        trigger::call(exec.start_address().as_u64());
    }
    // ...the same bytes on a no-execute page fault on the fetch.
    let target = nx.start_address().as_u64();
    let handle = thread::spawn("nx-caller", FaultPolicy::Kill, move || {
        // SAFETY: faults on purpose; this thread is killed by it.
        unsafe { trigger::call(target) }
    })
    .expect("spawn");
    let report = handle.join().expect_err("executing a no-execute page must fault");
    assert_eq!(report.vector, 14);
    assert_eq!(report.cr2, Some(target));
    assert_eq!(report.frame.rip, target);
    let code = PageFaultCode(report.frame.error_code);
    assert!(code.instruction_fetch() && code.present(), "{code}");
    for (page, frame) in [(nx, f1), (exec, f2)] {
        // SAFETY: the test is done with the pages.
        assert_eq!(unsafe { paging::unmap(page) }, Ok(frame));
        frames::free(frame).expect("free");
    }
}

fn interrupt_stacks_have_guard_pages() {
    let guards: Vec<u64> = gdt::guard_pages().collect();
    assert_eq!(guards.len(), 4);
    for g in guards {
        assert_eq!(paging::translate(VirtAddr::new(g)), None, "guard {g:#x} is unmapped");
        assert!(paging::translate(VirtAddr::new(g + 4096)).is_some(), "the stack above {g:#x} is mapped");
        assert_eq!(gdt::interrupt_stack_of(g).map(|(_, guard)| guard), Some(true));
    }
}
