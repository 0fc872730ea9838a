//! Checks a server's listing (the file server's directory, the name
//! server's registrations) against what the workload made.
//!
//! The workload is the servers' only client during a trial, so a listing
//! must hold exactly its entries: each once, with its number (a file's
//! size, a name's value), nothing else. The order is the servers' slot
//! order, which the workload does not check.

use lazarus_rt::client::ClientError;
use server_api::Name;

use crate::failure::{called, Check, Failure};

/// Most entries a check takes: a `u64` of flags says which were seen.
const EXPECTED_MAX: usize = 64;

/// Checks that `entry(0)`, `entry(1)`, … list exactly `expected` (name,
/// number), in any order, then end (`None`). `what` names the listing in
/// errors.
pub fn check(
    what: &'static str,
    expected: &[(&str, u64)],
    mut entry: impl FnMut(u16) -> Result<Option<(Name, u64)>, ClientError>,
) -> Check {
    if expected.len() > EXPECTED_MAX {
        return Err(Failure::Wrong("the workload expects more entries than it can check"));
    }
    let mut seen = 0u64;
    // One index past the expected entries must answer "no more".
    for index in 0..=expected.len() {
        let Some((name, number)) = called(what, entry(index as u16))? else { break };
        let Some(at) = expected.iter().position(|(want, _)| *want == name.as_str()) else {
            return Err(Failure::Wrong("a listing holds an entry the workload never made"));
        };
        if seen & 1 << at != 0 {
            return Err(Failure::Wrong("a listing holds an entry twice"));
        }
        seen |= 1 << at;
        let (_, want) = expected[at];
        if number != want {
            return Err(Failure::Mismatch("the number of a listed entry", want, number));
        }
    }
    if seen.count_ones() as usize != expected.len() {
        return Err(Failure::Wrong("a listing lacks an entry the workload made"));
    }
    Ok(())
}
