//! A test server for the memory and IPC checks, on its endpoint (handle
//! 0): it accepts grants and reads and writes the shared pages, answers
//! late when asked, naps between messages, and records one-way messages,
//! as its library's protocol says. It answers every message (an answer to
//! a `send`, or to a call that timed out, goes nowhere) and exits 0 on
//! `EXIT`.

#![no_std]
#![no_main]
#![forbid(unsafe_code)]

use lazarus_rt::ipc::{self, Handle, Message};
use lazarus_rt::memory::{MapFlags, Mapping, Shared};
use lazarus_rt::sys::{self, GrantId};
use lazarus_rt::{println, SyscallError};
use peer::*;

/// The endpoint it serves.
const ENDPOINT: Handle = Handle(0);
/// Bytes per page.
const PAGE: u64 = 4096;

/// What the server keeps between messages.
struct State {
    seen: u64,
    stored: [u64; 3],
    held: [Option<Shared>; HELD_MAX],
}

fn error(e: SyscallError) -> Message {
    [e as u64, 0, 0, 0]
}

impl State {
    fn held_at(&mut self, vaddr: u64) -> Option<&mut Option<Shared>> {
        self.held.iter_mut().find(|s| s.as_ref().is_some_and(|s| s.vaddr() <= vaddr && vaddr < s.vaddr() + s.len()))
    }

    fn accept(&mut self, grant: u64, vaddr: u64, pattern: u64, write: bool) -> Message {
        let Some(slot) = self.held.iter_mut().find(|s| s.is_none()) else {
            return error(SyscallError::QuotaExceeded);
        };
        let mut shared = match Shared::accept(GrantId(grant), vaddr) {
            Ok(s) => s,
            Err(e) => return error(e),
        };
        let pages = shared.len() / PAGE;
        for i in 0..pages {
            let word = shared.read_u64(i * PAGE);
            if word != pattern.wrapping_add(i) {
                return [MISMATCH, i, word, 0];
            }
            if write {
                shared.write(i * PAGE + 8, &(!pattern).to_le_bytes());
            }
        }
        let len = shared.len();
        *slot = Some(shared);
        [0, len, pages, 0]
    }

    fn read(&mut self, vaddr: u64, offset: u64) -> Message {
        match self.held_at(vaddr) {
            Some(Some(s)) => {
                let at = vaddr - s.vaddr() + offset;
                [0, s.read_u64(at), 0, 0]
            }
            _ => [NOT_HELD, 0, 0, 0],
        }
    }

    fn probe(&mut self, vaddr: u64) -> Message {
        let page = vaddr & !(PAGE - 1);
        match Mapping::new(page, PAGE, MapFlags::READ) {
            // Free (the mapping is dropped, so unmapped, at once).
            Ok(_) => {
                if let Some(slot) = self.held_at(vaddr) {
                    // The grant ended: forget it (its revoke fails quietly).
                    *slot = None;
                }
                [0, 1, 0, 0]
            }
            Err(SyscallError::AddressInUse) => [0, 0, 0, 0],
            Err(e) => error(e),
        }
    }

    fn handle(&mut self, m: Message) -> Message {
        self.seen += 1;
        match m[0] {
            ECHO => {
                if m[1] > 0 {
                    let _ = sys::sleep_ms(m[1]);
                }
                [0, self.seen, m[2].wrapping_add(1), m[3].wrapping_add(1)]
            }
            ACCEPT | ACCEPT_AND_WRITE => self.accept(m[1], m[2], m[3], m[0] == ACCEPT_AND_WRITE),
            READ => self.read(m[1], m[2]),
            PROBE => self.probe(m[1]),
            RELEASE => match self.held_at(m[1]).and_then(Option::take) {
                Some(s) => s.release().map_or_else(error, |()| [0; 4]),
                None => [NOT_HELD, 0, 0, 0],
            },
            STORE => {
                self.stored = [m[1], m[2], m[3]];
                [0; 4]
            }
            NAP => {
                let _ = sys::sleep_ms(m[1]);
                [0; 4]
            }
            STATS => [0, self.seen, self.stored[0], self.stored[1]],
            EXIT => sys::exit(0),
            _ => [UNKNOWN_OP, 0, 0, 0],
        }
    }
}

fn main() -> i32 {
    let mut state = State { seen: 0, stored: [0; 3], held: Default::default() };
    let e = ipc::serve(ENDPOINT, |m| state.handle(m));
    println!("peer: a receive failed: {e}");
    1
}

lazarus_rt::entry!(main);
