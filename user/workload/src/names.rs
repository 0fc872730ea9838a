//! The name server's part: a name kept all through the run, and a name
//! registered, looked up, listed and unregistered in every round, so that
//! every operation and injection site runs once per round.
//!
//! | step | requests | sites (`name_server::sites`) |
//! |---|---|---|
//! | register the round's name | `Register` | `ENTRY`, `REGISTER` |
//! | look up it and the kept name | `Lookup` ×2 | `LOOKUP` |
//! | the registrations: exactly the two | `List` ×3 | `LIST` |
//! | unregister the round's name; it is gone | `Unregister`, `Lookup` | `UNREGISTER` |
//!
//! Register and unregister may take effect before a fault cuts their
//! reply (`REGISTER` and `UNREGISTER` fire before the change is kept, a
//! flipped register anywhere): after a transient failure, a lookup says
//! whether to redo them.

use lazarus_rt::client::name;
use lazarus_rt::client::ClientError;
use server_api::Status;

use crate::failure::{called, same, sent, Check, Failure};
use crate::listing;
use crate::redo::{redo, Effect};

/// The name kept all through the run: the server keeps it across its
/// restarts.
const KEPT: &str = "workload";
/// Its value.
const KEPT_VALUE: u64 = 0x5741_4c4b_4552_0001;
/// The name each round registers and unregisters.
const ROUND: &str = "round";

/// The value of [`ROUND`] in round `round`.
fn round_value(round: u64) -> u64 {
    round.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ 0x00ff
}

/// Registers `key` to `value`; `key` must be free. After an interrupted
/// register, `key` found with `value` is registered.
fn register(key: &str, value: u64) -> Check {
    redo("register", || name::register(key, value), || match sent(name::lookup(key)) {
        Ok(found) => same("value of a name just registered", value, found).map(|()| Effect::Done(())),
        Err(ClientError::Server(Status::NotFound)) => Ok(Effect::Missing),
        Err(error) => Err(Failure::Error("lookup after a register", error)),
    })
}

/// Unregisters `key`, which must be registered. After an interrupted
/// unregister, `key` not found is unregistered.
fn unregister(key: &str) -> Check {
    redo("unregister", || name::unregister(key), || match sent(name::lookup(key)) {
        Err(ClientError::Server(Status::NotFound)) => Ok(Effect::Done(())),
        Ok(_) => Ok(Effect::Missing),
        Err(error) => Err(Failure::Error("lookup after an unregister", error)),
    })
}

/// Checks that `key` is not registered.
fn expect_free(what: &'static str, key: &str) -> Check {
    match sent(name::lookup(key)) {
        Err(ClientError::Server(Status::NotFound)) => Ok(()),
        Ok(_) => Err(Failure::Wrong(what)),
        Err(error) => Err(Failure::Error("lookup of a free name", error)),
    }
}

/// Checks that the registrations are exactly `expected`.
fn check_registrations(expected: &[(&str, u64)]) -> Check {
    listing::check("list", expected, |index| name::list(index).map(|entry| entry.map(|r| (r.name, r.value))))
}

/// Registers the kept name (unregistering what an earlier run left).
pub fn start() -> Check {
    for key in [KEPT, ROUND] {
        match sent(name::lookup(key)) {
            Ok(_) => unregister(key)?,
            Err(ClientError::Server(Status::NotFound)) => {}
            Err(error) => return Err(Failure::Error("lookup", error)),
        }
    }
    register(KEPT, KEPT_VALUE)
}

/// Round `round` of the name server.
pub fn round(round: u64) -> Check {
    let value = round_value(round);
    register(ROUND, value)?;
    same("value of the round's name", value, called("lookup", name::lookup(ROUND))?)?;
    same("value of the kept name", KEPT_VALUE, called("lookup", name::lookup(KEPT))?)?;
    check_registrations(&[(KEPT, KEPT_VALUE), (ROUND, value)])?;
    unregister(ROUND)?;
    expect_free("an unregistered name is still registered", ROUND)
}

/// The final check: the kept name alone is registered, with its value.
pub fn finish() -> Check {
    same("value of the kept name", KEPT_VALUE, called("lookup", name::lookup(KEPT))?)?;
    check_registrations(&[(KEPT, KEPT_VALUE)])
}
