//! The one Rust entry for every vector: routes a trap frame to its handler.

use kernel_logic::trap_frame::TrapFrame;

use super::{apic, exceptions, irq, vectors};
use crate::{thread, time};

/// Called by the common entry stub with interrupts masked (all gates are
/// interrupt gates). Handlers may rewrite the frame; the stub restores it.
pub extern "C" fn trap_dispatch(frame: &mut TrapFrame) {
    // User code may have left RFLAGS.AC set, which would lift SMAP here.
    crate::cpu::close_user_access();
    // While in here the thread must not raise faults: they cannot unwind
    // through this frame. (A fault of the interrupted code is redirected to
    // unwind after the handler has returned.)
    let state = unwind::thread_state::current();
    if let Some(s) = state {
        s.enter_handler();
    }
    route(frame);
    if let Some(s) = state {
        s.leave_handler();
    }
}

fn route(frame: &mut TrapFrame) {
    match frame.vector as u8 {
        v @ 0..=31 => exceptions::handle(v, frame),
        vectors::TIMER => {
            // Acknowledge first: the handler may switch threads and only
            // come back here much later.
            apic::end_of_interrupt();
            let now = time::count_tick();
            crate::usermode::supervise::on_tick(frame, now);
            thread::on_timer_tick(now);
            // A thread preempted in ring 3 whose process ended meanwhile
            // (a sibling's `exit` or fault) does not go back there.
            if frame.cs & 3 == 3 {
                if let Some(saved) = thread::pending_stop() {
                    crate::usermode::stop_from_trap(frame, saved);
                }
            }
        }
        // Spurious interrupts are not acknowledged (Intel SDM Vol. 3A, 11.9;
        // a spurious PIC IRQ 7/15 sets no in-service bit).
        vectors::APIC_SPURIOUS | vectors::PIC_SPURIOUS_MASTER | vectors::PIC_SPURIOUS_SLAVE => {}
        // A legacy line a ring-3 driver owns (7 and 15 are never given out).
        v @ vectors::PIC_MASTER_BASE..=vectors::PIC_LAST_VECTOR => irq::handle(v - vectors::PIC_MASTER_BASE),
        v => log::warn!("unexpected interrupt vector {v:#x}"),
    }
}
