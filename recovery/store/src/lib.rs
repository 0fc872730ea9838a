//! Resilient store: typed slots of server state that survive a restart, written atomically and protected by an error-correcting code.
//!
//! A server that faults is restarted with a fresh heap; whatever it must
//! remember (counters, a table of open handles, a configuration) it keeps
//! in a resilient store: a region of memory outside its heap that the
//! kernel hands to the restarted instance unchanged.
//!
//! ```
//! use resilient_store::{Geometry, Opened, Slot, Storable, Store, StoreString};
//!
//! #[derive(Storable, Debug, PartialEq)]
//! struct Config { name: StoreString<16>, retries: u8 }
//!
//! const GEOMETRY: Geometry = match Geometry::new(2, 32) {
//!     Ok(geometry) => geometry,
//!     Err(_) => panic!("2 slots of 32 bytes is a valid geometry"),
//! };
//! const CONFIG: Slot<Config> = Slot::new(GEOMETRY, 0);
//!
//! // In the kernel, pages that survive the server's restart.
//! let mut pages = vec![0u64; GEOMETRY.region_words()];
//!
//! // First instance: fresh memory is formatted, the state written.
//! let (mut store, opened) = Store::open_or_format(&mut pages[..], GEOMETRY).unwrap();
//! assert_eq!(opened, Opened::Formatted);
//! let config = Config { name: "fs".try_into().unwrap(), retries: 3 };
//! store.write(CONFIG, &config).unwrap();
//!
//! // After a restart: the same pages, opened again.
//! let (mut store, opened) = Store::open_or_format(&mut pages[..], GEOMETRY).unwrap();
//! assert_eq!(opened, Opened::Existing);
//! assert_eq!(store.read(CONFIG).unwrap(), config);
//! ```
//!
//! Design principles:
//! - **no pointer survives**: values are encoded field by field
//!   ([`Storable`]) and decoded into fresh values, and only plain data is
//!   storable; `Box`, references, raw pointers, `Vec` and `String` do not
//!   implement the trait, so a type holding one does not compile;
//! - **atomic slot writes**: each slot has two copies with sequence
//!   numbers; a write fills the older copy and commits it with one word
//!   store, so a writer that dies part-way leaves the old value readable
//!   (see "Write protocol" below; [`TornRegion`] injects the fault);
//! - **every word is a codeword**: each 64-bit word holds 7 data bytes and
//!   their SECDED check bits ([`ecc::PackedWord`]), so a single flipped bit
//!   is corrected, a double one detected, and an interrupted write never
//!   leaves a word whose data and check bits disagree;
//! - **caller-provided memory, no allocation, no `unsafe`**: the store
//!   runs over any [`Region`] (a `&mut [u64]`, a `&[AtomicU64]`), in
//!   `no_std` servers that forbid `unsafe`; the derive expands to safe code;
//! - **typed everything**: slots carry their type ([`Slot<T>`]), stored
//!   values carry a type fingerprint, errors say who is at fault.
//!
//! # Layout
//!
//! In 64-bit words, each holding 7 data bytes and their check byte:
//!
//! ```text
//! superblock   magic, format version, slots, capacity          4 words
//! slot 0       copy 0: header (sequence, fingerprint, length)  3 words
//!                      payload                                 ⌈capacity / 7⌉ words
//!              copy 1: the same
//! slot 1 …
//! ```
//!
//! A slot of capacity `c` bytes takes `2 × (3 + ⌈c / 7⌉) × 8` bytes
//! ([`Geometry::slot_bytes`]): 208 bytes for 64, 2,400 for 1 KiB, 9,424
//! for 4 KiB. The code costs 8/56 (14.3 %) of the data, the second copy
//! 100 %, the header 24 bytes a copy.
//!
//! # Write protocol
//!
//! 1. The copy a read would not pick (the older, or a damaged one) gets
//!    sequence 0, "empty", in one store.
//! 2. Its fingerprint, length and payload are written.
//! 3. It gets a sequence one above the highest of both copies, in one
//!    store: the commit.
//!
//! Whenever the writer dies, the rewritten copy is empty (before step 3)
//! or complete (after), and the other copy holds the previous value. A
//! read takes the copy with the higher sequence whose every word decodes:
//! the old value before the commit, the new one after, never a mix.

#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

// The derive names this crate `::resilient_store`; this lets the crate's own
// tests use it.
extern crate self as resilient_store;

mod bytes;
mod capacity;
mod copies;
mod encoding;
mod error;
mod fingerprint;
mod geometry;
mod payload;
mod region;
mod slot;
mod stats;
mod storable;
mod store;
mod store_string;
mod store_vec;
mod torn;

pub use bytes::{from_bytes, to_bytes};
pub use capacity::CapacityError;
pub use ecc::Counters;
pub use encoding::{DecodeError, Decoder, EncodeError, Encoder};
pub use error::{OpenError, ReadError, RegionTooSmall, WriteError};
pub use fingerprint::Fingerprint;
pub use geometry::{Geometry, GeometryError};
pub use region::Region;
/// Derives [`Storable`] for a struct or enum whose fields are all storable.
pub use resilient_store_derive::Storable;
pub use slot::{Slot, SlotError};
pub use stats::Stats;
pub use storable::{Storable, TAG_SIZE};
pub use store::{Opened, Store};
pub use store_string::StoreString;
pub use store_vec::StoreVec;
pub use torn::TornRegion;
