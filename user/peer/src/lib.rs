//! The protocol of the `peer` test server: what each message asks and what
//! the reply holds. `memprobe` (its client) and the kernel's tests speak
//! it.
//!
//! A message is four words: the operation, then its arguments. A reply's
//! first word is 0 or, when the operation failed, the `SyscallError`
//! number of the call that failed.

#![no_std]
#![forbid(unsafe_code)]

/// `[ECHO, delay_ms, a, b]`: sleeps `delay_ms`, then answers
/// `[0, messages_seen, a + 1, b + 1]`.
pub const ECHO: u64 = 1;
/// `[ACCEPT, grant, vaddr, pattern]`: accepts the grant at `vaddr`, checks
/// that the first word of each page `i` holds `pattern + i`, and keeps it.
/// Answers `[0, bytes, pages_checked, 0]`, or `[error, 0, 0, 0]` if the
/// accept failed, or `[MISMATCH, page, word, 0]`.
pub const ACCEPT: u64 = 2;
/// As [`ACCEPT`], then writes `!pattern` into the second word of each page.
pub const ACCEPT_AND_WRITE: u64 = 3;
/// `[READ, vaddr, offset, 0]`: answers `[0, word, 0, 0]`, the word at
/// `vaddr + offset` of a grant it holds (`[NOT_HELD, ..]` if it holds none
/// there).
pub const READ: u64 = 4;
/// `[PROBE, vaddr, 0, 0]`: answers `[0, 1, 0, 0]` if nothing is mapped at
/// the page `vaddr` (it maps and unmaps a page there to find out; a grant
/// it held there is forgotten), `[0, 0, 0, 0]` if something is, or
/// `[error, ..]`.
pub const PROBE: u64 = 5;
/// `[RELEASE, vaddr, 0, 0]`: revokes the grant it holds at `vaddr` (as its
/// receiver); answers `[0, ..]` or `[error, ..]`.
pub const RELEASE: u64 = 6;
/// `[STORE, a, b, c]`: keeps the three words (meant for `send`).
pub const STORE: u64 = 7;
/// `[NAP, ms, 0, 0]`: sleeps `ms` before it takes the next message (meant
/// for `send`: a server that does not wait for messages meanwhile).
pub const NAP: u64 = 8;
/// `[STATS, ..]`: answers `[0, messages_seen, stored_a, stored_b]`
/// (`messages_seen` counts this one too).
pub const STATS: u64 = 9;
/// `[EXIT, ..]`: exits with code 0 without answering (the caller gets
/// `PeerGone`).
pub const EXIT: u64 = 10;

/// First reply word: the first words of a page were not what was granted.
pub const MISMATCH: u64 = 1000;
/// First reply word: no grant held at that address.
pub const NOT_HELD: u64 = 1001;
/// First reply word: an operation it does not know.
pub const UNKNOWN_OP: u64 = 1002;

/// Grants it holds at once, at most.
pub const HELD_MAX: usize = 8;
