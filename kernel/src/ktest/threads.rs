//! Thread tests: spawn, join, yield, sleep, and stacks returned on exit.

use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};

use kernel_logic::sched::State;

use super::{Case, Group};
use crate::memory::{frames, heap};
use crate::sync::IrqMutex;
use crate::thread::{self, FaultPolicy};
use crate::time;

/// The group.
pub static GROUP: Group = Group {
    name: "threads",
    cases: &[
        Case { name: "spawn_join_returns_value", run: spawn_join_returns_value },
        Case { name: "yield_alternates_threads", run: yield_alternates },
        Case { name: "sleep_lasts_at_least_its_time", run: sleep_lasts },
        Case { name: "join_waits_for_a_sleeper", run: join_waits_for_sleeper },
        Case { name: "stacks_and_heap_are_returned", run: stacks_returned },
        Case { name: "detached_thread_is_reaped", run: detached_is_reaped },
        Case { name: "fifty_threads", run: fifty_threads },
    ],
};

fn spawn_join_returns_value() {
    let h = thread::spawn("adder", FaultPolicy::Panic, || (1..=100u64).sum::<u64>()).expect("spawn");
    assert_eq!(h.join().expect("no fault"), 5050);
}

fn yield_alternates() {
    static TRACE: IrqMutex<Vec<u8>> = IrqMutex::new(Vec::new());
    TRACE.lock().clear();
    let make = |tag: u8| {
        move || {
            for _ in 0..3 {
                TRACE.lock().push(tag);
                thread::yield_now();
            }
        }
    };
    let a = thread::spawn("a", FaultPolicy::Panic, make(b'a')).expect("spawn");
    let b = thread::spawn("b", FaultPolicy::Panic, make(b'b')).expect("spawn");
    a.join().expect("a");
    b.join().expect("b");
    // Round robin: each yield hands the CPU to the other (the joining
    // thread is blocked meanwhile).
    assert_eq!(TRACE.lock().as_slice(), b"ababab");
}

fn sleep_lasts() {
    let t0 = time::ticks();
    thread::sleep_ms(50);
    assert!(time::ticks() - t0 >= time::ms_to_ticks(50));
}

fn join_waits_for_sleeper() {
    static DONE: AtomicU64 = AtomicU64::new(0);
    let h = thread::spawn("sleeper", FaultPolicy::Panic, || {
        thread::sleep_ms(30);
        DONE.store(time::ticks(), Ordering::SeqCst);
        7
    })
    .expect("spawn");
    let states: Vec<_> = thread::snapshot().into_iter().filter(|t| t.name == "sleeper").collect();
    assert_eq!(states.len(), 1);
    assert_eq!(h.join().expect("no fault"), 7);
    assert!(DONE.load(Ordering::SeqCst) > 0, "join returned after the sleeper finished");
    assert!(thread::snapshot().iter().all(|t| t.name != "sleeper"), "joined threads are gone");
}

fn stacks_returned() {
    // Warm up: page tables for the stack area, queue capacity.
    thread::spawn("warm", FaultPolicy::Panic, || ()).expect("spawn").join().expect("join");
    let frames0 = frames::counters();
    let heap0 = heap::stats();
    for i in 0..10u64 {
        let h = thread::spawn("short", FaultPolicy::Panic, move || i * 2).expect("spawn");
        assert_eq!(h.join().expect("join"), i * 2);
    }
    let frames1 = frames::counters();
    let heap1 = heap::stats();
    assert_eq!(frames1.allocated, frames0.allocated, "stack frames returned");
    assert_eq!(heap1.live_allocations, heap0.live_allocations, "thread records freed");
    assert_eq!(heap1.used, heap0.used);
}

fn detached_is_reaped() {
    thread::spawn("warm", FaultPolicy::Panic, || ()).expect("spawn").join().expect("join");
    let frames0 = frames::counters();
    drop(thread::spawn("detached", FaultPolicy::Panic, || thread::sleep_ms(10)).expect("spawn"));
    // Let it finish, then let another thread run so the zombie is reaped.
    thread::sleep_ms(50);
    thread::spawn("reaper", FaultPolicy::Panic, || ()).expect("spawn").join().expect("join");
    assert!(thread::snapshot().iter().all(|t| t.name != "detached" || t.state != State::Finished));
    assert!(thread::snapshot().iter().all(|t| t.name != "detached"));
    assert_eq!(frames::counters().allocated, frames0.allocated);
}

fn fifty_threads() {
    static SUM: AtomicU64 = AtomicU64::new(0);
    SUM.store(0, Ordering::SeqCst);
    let handles: Vec<_> = (0..50u64)
        .map(|i| {
            thread::spawn("worker", FaultPolicy::Panic, move || {
                thread::sleep_ticks(i % 3);
                SUM.fetch_add(i, Ordering::SeqCst);
            })
            .expect("spawn")
        })
        .collect();
    for h in handles {
        h.join().expect("worker");
    }
    assert_eq!(SUM.load(Ordering::SeqCst), (0..50).sum::<u64>());
}
