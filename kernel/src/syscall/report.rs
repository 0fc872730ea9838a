//! The text the `thread_list` and `mem_info` system calls return: what the
//! shell's `ps` and `mem` print.

use alloc::format;
use alloc::string::String;
use core::fmt::Write;

use crate::accounting;
use crate::memory::{frames, heap, process_memory};
use crate::thread;

/// One line per thread: id, process (the id of its main thread; `-` for
/// a kernel thread), state, name.
pub fn threads() -> String {
    let mut out = String::from("  ID  PROC  STATE                 NAME\n");
    for t in thread::snapshot() {
        let process = t.process.map_or_else(|| String::from("-"), |p| format!("{}", p.0));
        let _ = writeln!(out, "{:>4}  {process:>4}  {:<20}  {}", t.id.0, format!("{:?}", t.state), t.name);
    }
    out
}

/// Frames, heap, processes' mapped memory and grants, and locks held.
pub fn memory() -> String {
    let f = frames::counters();
    let h = heap::stats();
    let a = accounting::snapshot();
    let (grants, accepted) = thread::memory_calls::grant_counts();
    format!(
        "frames: {} free ({} MiB), {} allocated, peak {}\n\
         kernel heap: {} of {} KiB used, {} live allocations, {} in all, peak {} KiB\n\
         user memory: {} pages mapped with map, {} grants ({} accepted)\n\
         locks held: {}\n",
        f.free,
        (f.free * 4096) >> 20,
        f.allocated,
        f.peak_allocated,
        h.used >> 10,
        h.size >> 10,
        h.live_allocations,
        h.total_allocations,
        h.peak_used >> 10,
        process_memory::anonymous_pages(),
        grants,
        accepted,
        a.held_locks,
    )
}
