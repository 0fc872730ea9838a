//! Benchmarks of the memory calls: mapping and unmapping a page, and a
//! grant's round (grant, accept, revoke) of one page. The grant goes to
//! this program itself, as the server of its own endpoint (handle 1), so
//! the figure is the three calls' kernel work alone, with no IPC.

use lazarus_rt::ipc::{self, Handle};
use lazarus_rt::memory::{MapFlags, Mapping, PAGE_SIZE};
use lazarus_rt::sys::{self, GrantId};
use lazarus_rt::{println, SyscallError};

use crate::measure;

/// An endpoint of this program's own (the kernel's `bench=all` gives it).
const OWN: Handle = Handle(1);
/// Where the page is mapped, and where its grant is accepted.
const PAGE_AT: u64 = 0x0000_2000_0000_0000;
const ACCEPTED_AT: u64 = 0x0000_2000_0010_0000;

/// One page mapped, touched and unmapped.
fn map_unmap() {
    if let Ok(mut m) = Mapping::new(PAGE_AT + PAGE_SIZE, PAGE_SIZE, MapFlags::WRITE) {
        m.write(0, &[1]);
    }
}

/// Grant, accept and revoke of the page at [`PAGE_AT`].
fn grant_round() -> Result<u64, SyscallError> {
    let id: GrantId = sys::grant(PAGE_AT, PAGE_SIZE, OWN, true)?;
    let len = sys::accept(id, ACCEPTED_AT);
    sys::revoke(id)?;
    len
}

fn grant_accept_revoke() {
    let _ = grant_round();
}

/// Runs the memory benchmarks; false if one failed.
pub fn run() -> bool {
    measure("map_touch_unmap_page", map_unmap);
    // Serve the own endpoint (the first wait makes this program its server).
    if ipc::recv_timeout(OWN, 0) != Err(SyscallError::TimedOut) {
        println!("bench: no endpoint of its own on handle 1");
        return false;
    }
    let Ok(mut page) = Mapping::new(PAGE_AT, PAGE_SIZE, MapFlags::WRITE) else {
        println!("bench: map failed");
        return false;
    };
    page.write(0, &[7]);
    match grant_round() {
        Ok(len) if len == PAGE_SIZE => {}
        other => {
            println!("bench: a grant round failed: {other:?}");
            return false;
        }
    }
    measure("grant_accept_revoke_page", grant_accept_revoke);
    true
}
