//! Checks of what a server that keeps state promises: faults at every site, single and double bit flips in its region.
//!
//! Instances are compared by their `Debug` form ([`Harness::state`]): the
//! server's whole state value.

use std::fmt::Debug;

use server_api::{InitNote, Request, Server, Status};

use crate::harness::Harness;

/// Runs `script` once for each site and each of its first `hits` hits,
/// with a fault armed there, beside a run without faults. Where the fault
/// fires, the restarted instance must hold the state the fault-free run
/// had before the faulting request or after it; at a site listed in
/// `between_writes` (between two slot writes of one operation) any state
/// the restore accepts will do. Replies before the fault must match.
/// Returns the number of runs in which the fault fired.
///
/// # Panics
/// When a check fails (this is a test helper).
pub fn check_faults_at_every_site<S: Server + Debug>(script: &[Request], hits: u64, between_writes: &[u32]) -> usize {
    let mut fired = 0;
    for site in 0..S::SITES {
        for skip in 0..hits {
            let mut reference = Harness::<S>::start();
            let mut faulty = Harness::<S>::start();
            faulty.env.arm(site, skip);
            for request in script {
                let before = reference.state();
                let expected = reference.call(request);
                let after = reference.state();
                let reply = faulty.call(request);
                if reply.status != Status::ServerFault {
                    assert_eq!(reply, expected, "site {site} skip {skip}: {request:?}");
                    continue;
                }
                fired += 1;
                assert!(matches!(faulty.note(), InitNote::Restored { corrected: 0 }), "site {site} skip {skip}");
                let restored = faulty.state();
                assert!(
                    restored == before || restored == after || between_writes.contains(&site),
                    "site {site} skip {skip}: {request:?} left\n{restored}\nnot\n{before}\nor\n{after}"
                );
                break;
            }
        }
    }
    fired
}

/// Flips one bit in each word of `region` in turn (a kept region a server
/// of `S` left): every restart must correct it, count it once, restore
/// the state exactly and scrub the word back.
///
/// # Panics
/// When a check fails (this is a test helper).
pub fn check_single_flips<S: Server + Debug>(region: &[u64]) {
    let expected = Harness::<S>::start_over(region).state();
    for word in 0..region.len() {
        let bit = (word * 7) % 64;
        let restarted = Harness::<S>::start_flipped(region, word, 1 << bit);
        assert_eq!(restarted.note(), InitNote::Restored { corrected: 1 }, "word {word} bit {bit}");
        assert_eq!(restarted.state(), expected, "word {word} bit {bit}");
        assert_eq!(restarted.env.kept, region, "word {word}: the scrub rewrote it");
    }
}

/// Flips two bits in each word of `region` in turn: every restart must
/// either detect it (`DamagedFormatted`, and the state of a first start)
/// or, for a word no restore reads (an older copy, the unused end of a
/// payload), restore the state whole. Returns how many words were
/// detected.
///
/// # Panics
/// When a check fails (this is a test helper).
pub fn check_double_flips<S: Server + Debug>(region: &[u64]) -> usize {
    let expected = Harness::<S>::start_over(region).state();
    let empty = Harness::<S>::start().state();
    let mut detected = 0;
    for word in 0..region.len() {
        let bit = (word * 5) % 63;
        let restarted = Harness::<S>::start_flipped(region, word, 0b11 << bit);
        match restarted.note() {
            InitNote::DamagedFormatted => {
                detected += 1;
                assert_eq!(restarted.state(), empty, "word {word}");
            }
            note => {
                assert!(matches!(note, InitNote::Restored { .. }), "word {word}: {note:?}");
                assert_eq!(restarted.state(), expected, "word {word}");
            }
        }
    }
    detected
}
