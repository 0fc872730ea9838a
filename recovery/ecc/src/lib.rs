//! SECDED error-correcting code: extended Hamming (72,64) over 64-bit words, and its shortened (64,56) form packed in one word.
//!
//! A server's resilient store keeps state across restarts in memory that a
//! stray write or a flipped bit can damage. This crate is the code that
//! protects it: every single-bit error in a word is corrected, every
//! double-bit error is detected, the same guarantee as ECC DRAM.
//!
//! Two forms of one code:
//! - [`Codeword`]: 64 data bits and 8 check bits, the classic (72,64) layout
//!   of ECC memory, for callers that keep check bits apart from data;
//! - [`PackedWord`]: 56 data bits (7 bytes) and their 8 check bits in a single
//!   `u64`, for memory where a codeword must be written with one store, so
//!   that an interrupted write leaves every word either old or new.
//!
//! Design principles:
//! - pure and `no_std`, no `unsafe`, no allocation: it runs in the kernel, in
//!   servers and on the host alike, and `cargo test` checks it in seconds;
//! - the construction is computed, not tabulated by hand: bit positions and
//!   parity masks come from `const fn`s that follow the textbook definition;
//! - outcomes are typed: a read is [`Correction::Clean`], a
//!   [`Correction::Corrected`] naming the bit, or [`EccError::Uncorrectable`];
//!   never a silently wrong word for one or two flipped bits.

#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

mod bit_index;
mod counters;
mod hamming;
mod outcome;
mod packed;

pub use bit_index::{BitIndex, BitIndexOutOfRange};
pub use counters::Counters;
pub use hamming::{Codeword, CHECK_BITS, CODEWORD_BITS, DATA_BITS};
pub use outcome::{Correction, Decoded, EccError};
pub use packed::{PackedWord, PACKED_DATA_BITS, PACKED_DATA_BYTES};
