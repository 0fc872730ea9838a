//! Checks of grants between this program (the granter) and the `peer`
//! servers (the receivers).

use lazarus_rt::ipc::{self, Handle, Message};
use lazarus_rt::layout::USER_STACK_TOP;
use lazarus_rt::memory::{MapFlags, Mapping, GRANTS_MAX, PAGE_SIZE};
use lazarus_rt::sys::{self, GrantId};
use lazarus_rt::SyscallError;
use lazarus_rt::SyscallError::{AddressInUse, BadAddress, BadGrant, BadHandle, InvalidArgument, NotGranted, NotMapped, PeerGone, QuotaExceeded, Shared};
use peer::{ACCEPT, ACCEPT_AND_WRITE, EXIT, PROBE, READ, RELEASE};

use crate::mapping::{given_back, image_page};
use crate::{ensure, Failure};

/// The first peer's endpoint.
pub const PEER: Handle = Handle(0);
/// An endpoint nobody serves (until `ipc_checks` waits on it).
pub const UNSERVED: Handle = Handle(1);
/// The second peer's endpoint (`receiver_ends` ends it).
const PEER_B: Handle = Handle(2);
/// Where these checks map the pages they grant.
const BASE: u64 = 0x0000_3000_0000_0000;
/// Where the peers accept them (in their own spaces).
const PEER_BASE: u64 = 0x0000_4000_0000_0000;
/// Where the first peer accepts the grant this program leaves at its exit:
/// the kernel's test (`ktest::memory`) probes the peer there afterwards.
pub const LEFT_AT_EXIT: u64 = PEER_BASE + 0x10_0000;

fn call(to: Handle, m: Message, what: &'static str) -> Result<Message, Failure> {
    ipc::call(to, m).map_err(|e| Failure(what, e as u64))
}

/// The peer's answer to `m` is a success (first word 0).
fn ok(to: Handle, m: Message, what: &'static str) -> Result<Message, Failure> {
    let r = call(to, m, what)?;
    ensure(r[0] == 0, what, r[0])?;
    Ok(r)
}

/// The peer's answer to `m` is the error `e`.
fn refused(to: Handle, m: Message, e: SyscallError, what: &'static str) -> Result<(), Failure> {
    let r = call(to, m, what)?;
    ensure(r[0] == e as u64, what, r[0])
}

/// `result` is the error `e`.
fn fails<T>(result: Result<T, SyscallError>, e: SyscallError, what: &'static str) -> Result<(), Failure> {
    match result {
        Err(got) if got == e => Ok(()),
        Err(got) => Err(Failure(what, got as u64)),
        Ok(_) => Err(Failure(what, 0)),
    }
}

/// Whether the peer maps nothing at `vaddr` (a grant it held there is
/// forgotten).
fn free_at_peer(to: Handle, vaddr: u64) -> Result<bool, Failure> {
    Ok(ok(to, [PROBE, vaddr, 0, 0], "probe")?[1] == 1)
}

/// `pages` writable pages at `at`, the first word of page `i` holding
/// `pattern + i`.
fn patterned(at: u64, pages: u64, pattern: u64) -> Result<Mapping, Failure> {
    let mut m = Mapping::new(at, pages * PAGE_SIZE, MapFlags::WRITE).map_err(|e| Failure("map", e as u64))?;
    for i in 0..pages {
        m.write(i * PAGE_SIZE, &(pattern + i).to_le_bytes());
    }
    Ok(m)
}

fn grant(m: &Mapping, to: Handle, writable: bool) -> Result<GrantId, Failure> {
    m.grant(to, writable).map_err(|e| Failure("grant", e as u64))
}

/// The peer accepts and sees the pattern; it writes, this program sees
/// it; this program writes, the peer sees it.
pub fn seen_by_both() -> Result<(), Failure> {
    let pattern = 0x5EED_0000;
    let mut m = patterned(BASE, 2, pattern)?;
    let id = grant(&m, PEER, true)?;
    let r = ok(PEER, [ACCEPT_AND_WRITE, id.0, PEER_BASE, pattern], "the peer accepts and sees the pattern")?;
    ensure(r[1] == 2 * PAGE_SIZE && r[2] == 2, "accept maps the two pages", r[1])?;
    for i in 0..2 {
        let w = m.read_u64(i * PAGE_SIZE + 8);
        ensure(w == !pattern, "the peer's write is seen here", w)?;
    }
    m.write(PAGE_SIZE + 16, &0xFEED_u64.to_le_bytes());
    let r = ok(PEER, [READ, PEER_BASE + PAGE_SIZE, 16, 0], "read at the peer")?;
    ensure(r[1] == 0xFEED, "this program's write is seen by the peer", r[1])?;
    sys::revoke(id).map_err(|e| Failure("revoke", e as u64))?;
    ensure(free_at_peer(PEER, PEER_BASE)?, "gone from the peer after revoke", 0)
}

/// Every bad argument of `grant`, `accept` and `revoke` gets its error.
pub fn bad_arguments() -> Result<(), Failure> {
    let pattern = 0xBAD0_0000;
    let mut m = patterned(BASE + 0x10_0000, 2, pattern)?;
    let at = m.vaddr();
    fails(sys::grant(at, 0, PEER, false), InvalidArgument, "length 0")?;
    fails(sys::grant(at + 8, PAGE_SIZE, PEER, false), BadAddress, "unaligned")?;
    fails(sys::grant(0xFFFF_8000_0000_0000, PAGE_SIZE, PEER, false), BadAddress, "kernel half")?;
    fails(sys::grant(at, 3 * PAGE_SIZE, PEER, false), NotMapped, "past the mapping")?;
    fails(sys::grant(image_page(), PAGE_SIZE, PEER, false), NotMapped, "the image")?;
    fails(sys::grant(at, PAGE_SIZE, Handle(9), false), BadHandle, "no such handle")?;
    fails(sys::grant(at, PAGE_SIZE, UNSERVED, false), PeerGone, "nobody serves the endpoint")?;
    let read_only = Mapping::new(BASE + 0x20_0000, PAGE_SIZE, MapFlags::READ).map_err(|e| Failure("map", e as u64))?;
    fails(read_only.grant(PEER, true), NotGranted, "a writable grant of read-only pages")?;
    let ro = grant(&read_only, PEER, false)?;
    sys::revoke(ro).map_err(|e| Failure("revoke a read-only grant", e as u64))?;

    let id = grant(&m, PEER, true)?;
    fails(sys::accept(id, BASE + 0x30_0000), BadGrant, "the granter cannot accept")?;
    refused(PEER, [ACCEPT, id.0 ^ 1 << 40, PEER_BASE, pattern], BadGrant, "an unknown id")?;
    refused(PEER, [ACCEPT, id.0, PEER_BASE + 8, pattern], BadAddress, "accept unaligned")?;
    refused(PEER, [ACCEPT, id.0, 0xFFFF_8000_0000_0000, pattern], BadAddress, "accept in the kernel half")?;
    refused(PEER, [ACCEPT, id.0, USER_STACK_TOP - 2 * PAGE_SIZE, pattern], AddressInUse, "accept over the peer's stack")?;
    ok(PEER, [ACCEPT, id.0, PEER_BASE, pattern], "accept")?;
    refused(PEER, [ACCEPT, id.0, PEER_BASE + 0x10_0000, pattern], BadGrant, "accept twice")?;
    let other = grant(&m, PEER, false)?;
    refused(PEER, [ACCEPT, other.0, PEER_BASE, pattern], AddressInUse, "accept over an accepted grant")?;
    fails(m.unmap_pages(0, PAGE_SIZE), Shared, "unmap of granted pages")?;
    sys::revoke(other).map_err(|e| Failure("revoke", e as u64))?;
    sys::revoke(id).map_err(|e| Failure("revoke", e as u64))?;
    fails(sys::revoke(id), BadGrant, "revoke twice")?;
    fails(sys::revoke(GrantId(u64::MAX)), BadGrant, "revoke of a made-up id")?;
    ensure(free_at_peer(PEER, PEER_BASE)?, "the peer's mapping is gone", 0)?;

    let mut ids = [GrantId(0); GRANTS_MAX];
    for slot in ids.iter_mut() {
        *slot = grant(&m, PEER, false)?;
    }
    fails(m.grant(PEER, false), QuotaExceeded, "one grant past the limit")?;
    for id in ids {
        sys::revoke(id).map_err(|e| Failure("revoke", e as u64))?;
    }
    drop(read_only);
    // Every page was given back (none left granted).
    given_back(m, "unmapped at the end")
}

/// After the granter revokes, the peer's address is free again; the
/// granter keeps its pages and may unmap them.
pub fn revoke_unmaps() -> Result<(), Failure> {
    let pattern = 0x0EE0_0000;
    let m = patterned(BASE + 0x40_0000, 1, pattern)?;
    let id = grant(&m, PEER, false)?;
    let at = PEER_BASE + 0x20_0000;
    ok(PEER, [ACCEPT, id.0, at, pattern], "accept")?;
    ensure(!free_at_peer(PEER, at)?, "mapped at the peer", 0)?;
    let r = ok(PEER, [READ, at, 0, 0], "read at the peer")?;
    ensure(r[1] == pattern, "the peer reads the pattern", r[1])?;
    sys::revoke(id).map_err(|e| Failure("revoke", e as u64))?;
    ensure(free_at_peer(PEER, at)?, "gone from the peer after revoke", 0)?;
    ensure(m.read_u64(0) == pattern, "the granter keeps its pages", m.read_u64(0))?;
    fails(sys::revoke(id), BadGrant, "revoke twice")?;
    given_back(m, "unmap after revoke")
}

/// The receiver revokes (gives the pages back); the granter's id is then
/// dead and its pages are its own again.
pub fn receiver_releases() -> Result<(), Failure> {
    let pattern = 0x0AC0_0000;
    let m = patterned(BASE + 0x50_0000, 3, pattern)?;
    let id = grant(&m, PEER, true)?;
    let at = PEER_BASE + 0x30_0000;
    ok(PEER, [ACCEPT, id.0, at, pattern], "accept")?;
    ok(PEER, [RELEASE, at, 0, 0], "the peer gives it back")?;
    ensure(free_at_peer(PEER, at)?, "gone from the peer", 0)?;
    fails(sys::revoke(id), BadGrant, "the grant ended")?;
    given_back(m, "unmap after release")
}

/// The second peer accepts, writes, and ends: the grant ends with it, and
/// the granter's pages (with the peer's write) stay its own.
pub fn receiver_ends() -> Result<(), Failure> {
    let pattern = 0x0E4D_0000;
    let mut m = patterned(BASE + 0x60_0000, 2, pattern)?;
    let id = grant(&m, PEER_B, true)?;
    ok(PEER_B, [ACCEPT_AND_WRITE, id.0, PEER_BASE, pattern], "the second peer accepts")?;
    fails(ipc::call(PEER_B, [EXIT, 0, 0, 0]), PeerGone, "the second peer ends")?;
    fails(sys::revoke(id), BadGrant, "the grant ended with its receiver")?;
    fails(m.grant(PEER_B, false), PeerGone, "nobody serves its endpoint any more")?;
    ensure(m.read_u64(8) == !pattern, "the peer's write stays", m.read_u64(8))?;
    m.write(PAGE_SIZE, &7u64.to_le_bytes());
    ensure(m.read_u64(PAGE_SIZE) == 7, "the granter writes on", 0)?;
    given_back(m, "unmap after the receiver ended")
}

/// Leaves a writable grant accepted by the first peer at
/// [`LEFT_AT_EXIT`]: this program's end must take it from the peer.
pub fn left_at_exit() -> Result<(), Failure> {
    let pattern = 0x1EF7_0000;
    let m = patterned(BASE + 0x70_0000, 4, pattern)?;
    let id = grant(&m, PEER, true)?;
    ok(PEER, [ACCEPT_AND_WRITE, id.0, LEFT_AT_EXIT, pattern], "accept")?;
    ensure(m.read_u64(8) == !pattern, "the peer wrote", 0)?;
    // Still granted: dropping it cannot unmap it; the process's end will.
    core::mem::forget(m);
    Ok(())
}
