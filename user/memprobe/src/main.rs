//! Proof that the memory and IPC-timeout system calls work, from ring 3:
//! `map` and `unmap` with good and bad arguments, grants shared with the
//! `peer` server (seen by both sides, gone after a revoke, a receiver's
//! end, or this program's own end), calls and receives that time out and
//! leave nothing behind, and one-way sends.
//!
//! The kernel's `memory` and `ipc` test groups run it with three handles:
//! 0, a peer's endpoint; 1, an endpoint nobody serves; 2, a second peer's
//! endpoint (which a check ends). Each check prints `check: NAME ok` or
//! `check: NAME failed: WHY`; bit `i` of the exit code is set when check
//! `i` failed, so the kernel's test cases report each on its own from one
//! run. The last check leaves a grant accepted by the first peer and
//! exits: the kernel then proves the peer's mapping gone.

#![no_std]
#![no_main]
// Only to ask for unmaps the kernel must refuse (`mapping::expect_unmap`).
#![deny(unsafe_code)]

mod grants;
mod ipc_checks;
mod mapping;

pub use lazarus_rt::checks::{ensure, Check, Failure};

/// Every check, in the order of the exit code's bits (the kernel's test
/// cases name them the same).
pub const ALL: &[Check] = &[
    Check { name: "map_gives_zeroed_private_memory", run: mapping::zeroed_private_memory },
    Check { name: "map_refuses_bad_arguments", run: mapping::bad_arguments },
    Check { name: "map_has_a_quota", run: mapping::quota },
    Check { name: "unmap_takes_only_what_map_made", run: mapping::unmap_only_mapped },
    Check { name: "a_grant_is_seen_by_both_sides", run: grants::seen_by_both },
    Check { name: "grant_calls_refuse_bad_arguments", run: grants::bad_arguments },
    Check { name: "a_revoked_grant_is_gone_from_the_receiver", run: grants::revoke_unmaps },
    Check { name: "the_receiver_can_give_a_grant_back", run: grants::receiver_releases },
    Check { name: "a_receiver_that_ends_leaves_the_granter_whole", run: grants::receiver_ends },
    Check { name: "recv_timeout_times_out", run: ipc_checks::recv_times_out },
    Check { name: "a_call_nobody_takes_times_out_and_is_withdrawn", run: ipc_checks::call_withdrawn },
    Check { name: "a_late_reply_never_reaches_a_later_call", run: ipc_checks::late_reply_dropped },
    Check { name: "send_delivers_one_way_and_times_out", run: ipc_checks::send_one_way },
    Check { name: "a_grant_left_at_exit", run: grants::left_at_exit },
];

fn main() -> i32 {
    lazarus_rt::checks::run_all(ALL)
}

lazarus_rt::entry!(main);
