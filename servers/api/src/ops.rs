//! The operations of each server: their numbers, and the layout of their payloads.
//!
//! A request names its operation in its `op` byte and carries a 16-bit
//! `arg` and a payload of three words ([`crate::Request`]); the reply
//! carries a status and a payload ([`crate::Reply`]). Each server's module
//! below has its operations as a `#[repr(u8)]` enum and one table of what
//! goes where. Conventions in the tables:
//!
//! - *name*: a [`crate::Name`] as bytes, the payload's byte length being
//!   the name's length ([`crate::Name::to_payload`]);
//! - *name + word*: words 0-1 the name, word 2 a number, the byte length
//!   the name's ([`crate::Name::with_word`]);
//! - *words*: the three words as numbers, byte length 0;
//! - an operation number the server does not have, a payload that does
//!   not fit its row, or an `arg` outside its range is
//!   [`crate::Status::BadRequest`]; an `arg` or payload words an
//!   operation does not use ("—") are ignored.
//!
//! Reply payloads are those of a successful reply (`Ok`); an error reply
//! carries no payload.

/// Declares a server's operations: a `#[repr(u8)]` enum with `ALL` and
/// `from_number`.
macro_rules! operations {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $number:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[repr(u8)]
        pub enum $name {
            $($(#[$vmeta])* $variant = $number,)+
        }

        impl $name {
            /// Every operation, in number order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The operation with this number.
            pub const fn from_number(number: u8) -> Option<Self> {
                match number {
                    $($number => Some($name::$variant),)+
                    _ => None,
                }
            }
        }
    };
}

pub mod blk;

pub mod fs {
    //! The file server ([`crate::ServerId::Fs`]): a flat directory of small
    //! files, kept across its restarts together with the open handles.
    //!
    //! | op | operation | arg | request payload | reply payload |
    //! |---|---|---|---|---|
    //! | 0 | `Open` | flags: bit 0 [`OPEN_CREATE`], bit 1 [`OPEN_EXCLUSIVE`] | name | word 0: the handle |
    //! | 1 | `Write` | handle | word 0: offset; bytes 8..8+n: data, n ≤ [`WRITE_BYTES_MAX`]; byte length 8 + n | word 0: the file's size after the write |
    //! | 2 | `Read` | handle | word 0: offset | bytes: up to [`READ_BYTES_MAX`] from the offset, fewer at the end of the file, none past it |
    //! | 3 | `Size` | handle | — | word 0: the file's size |
    //! | 4 | `Close` | handle | — | — |
    //! | 5 | `Remove` | — | name | — |
    //! | 6 | `List` | index | — | name + word: the index-th file (in directory order) and its size |
    //! | 7 | `Stat` | — | name | word 0: the file's size |
    //!
    //! Errors: `NotFound` (no such file, `Open` without create, `List` past
    //! the last file), `Exists` (`Open` with [`OPEN_EXCLUSIVE`] of an
    //! existing file), `NoSpace` ([`FILES_MAX`] files, [`HANDLES_MAX`] open
    //! handles, or a write past [`FILE_BYTES_MAX`]), `BadHandle` (a handle
    //! that is not open, or was closed, also by `Remove`), `BadRequest`
    //! (a bad name, unknown flags or [`OPEN_EXCLUSIVE`] without
    //! [`OPEN_CREATE`], an offset past [`FILE_BYTES_MAX`], a `Write`
    //! payload shorter than its offset word), `DiskError` (with a disk: a
    //! change the disk did not take, which is made and kept all the same
    //! and written to the disk with the next change; or, at the first
    //! request of a boot, a disk that cannot be read yet, and then nothing
    //! was done).
    //!
    //! A write past the end of the file fills the gap with zeros. A handle
    //! is opaque to clients ([`FileHandle`]); it survives restarts of the
    //! server, and stays valid until closed or its file removed.
    //!
    //! With a disk (`docs/storage.md`), every change is on the disk before
    //! its reply; the first request of a boot loads the files from it.
    //!
    //! What a fault leaves: each operation changes at most two slots of
    //! the kept store, each atomically. A fault in `Open` with create
    //! between the two may leave the new file without a handle; in
    //! `Remove`, the file with its handles closed. Nothing else is ever
    //! half done.

    use crate::message::PAYLOAD_BYTES;

    operations! {
        /// An operation of the file server.
        FsOp {
            /// Opens a file by name, creating it if asked.
            Open = 0,
            /// Writes bytes at an offset.
            Write = 1,
            /// Reads bytes from an offset.
            Read = 2,
            /// The size of an open file.
            Size = 3,
            /// Closes a handle.
            Close = 4,
            /// Removes a file by name; its open handles are closed.
            Remove = 5,
            /// The index-th file of the directory.
            List = 6,
            /// The size of a file, by name.
            Stat = 7,
        }
    }

    /// Files in the directory: enough for the workloads and campaigns,
    /// small enough that each file is one slot of the kept store.
    pub const FILES_MAX: usize = 16;
    /// Data bytes in one file: 16 write requests' worth.
    pub const FILE_BYTES_MAX: usize = 256;
    /// Handles open at once, over all clients: two per file.
    pub const HANDLES_MAX: usize = 32;
    /// Bytes in the header of a `Write` payload: the offset word.
    pub const WRITE_HEADER_BYTES: usize = 8;
    /// Data bytes in one `Write` request: the payload after the offset.
    pub const WRITE_BYTES_MAX: usize = PAYLOAD_BYTES - WRITE_HEADER_BYTES;
    /// Data bytes in one `Read` reply: the whole payload.
    pub const READ_BYTES_MAX: usize = PAYLOAD_BYTES;

    /// `Open` flag: create the file if it does not exist.
    pub const OPEN_CREATE: u16 = 1 << 0;
    /// `Open` flag, with [`OPEN_CREATE`]: fail with `Exists` if the file
    /// exists (create a new file or nothing).
    pub const OPEN_EXCLUSIVE: u16 = 1 << 1;
    /// Every `Open` flag; other bits set are a bad request.
    pub const OPEN_FLAGS: u16 = OPEN_CREATE | OPEN_EXCLUSIVE;

    /// An open file, as the file server hands it out. Clients pass it back
    /// as it is; what its bits mean is the server's business.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    pub struct FileHandle(pub u16);
}

pub mod name {
    //! The name server ([`crate::ServerId::Name`]): names registered to
    //! numbers, kept across its restarts.
    //!
    //! | op | operation | arg | request payload | reply payload |
    //! |---|---|---|---|---|
    //! | 0 | `Register` | — | name + word: the name and its value | — |
    //! | 1 | `Lookup` | — | name | word 0: the value |
    //! | 2 | `Unregister` | — | name | — |
    //! | 3 | `List` | index | — | name + word: the index-th registration and its value |
    //!
    //! Errors: `Exists` (`Register` of a registered name), `NoSpace`
    //! ([`REGISTRATIONS_MAX`] registrations), `NotFound` (no such name,
    //! `List` past the last one), `BadRequest` (a bad name, a malformed
    //! payload).

    operations! {
        /// An operation of the name server.
        NameOp {
            /// Registers a name to a value.
            Register = 0,
            /// The value of a name.
            Lookup = 1,
            /// Removes a registration.
            Unregister = 2,
            /// The index-th registration.
            List = 3,
        }
    }

    /// Registrations at once: a handful per server and program.
    pub const REGISTRATIONS_MAX: usize = 32;
}

pub mod crashtest {
    //! The crash-test server ([`crate::ServerId::Crashtest`]): answers
    //! simple requests, and misbehaves on demand. It keeps nothing.
    //!
    //! | op | operation | arg | request payload | reply payload |
    //! |---|---|---|---|---|
    //! | 0 | `Echo` | — | words | words: each request word plus one (wrapping) |
    //! | 1 | `Compute` | n ≤ [`COMPUTE_WORDS_MAX`] | — | word 0: [`compute_checksum`]`(n)` |
    //! | 2 | `Panic` | — | — | none: the server panics (`ServerFault`) |
    //! | 3 | `Hang` | — | — | none: the server loops until the watchdog ends it (`ServerFault`) |
    //! | 4 | `Recurse` | depth ≤ [`RECURSE_DEPTH_MAX`]; 0: no bound | — | word 0: the depth reached; with no bound, none (stack overflow, `ServerFault`) |
    //! | 5 | `Relay` | server number | word 0: op (bits 0-7) and arg (8-23); words 1-2: the callee's payload words 0-1 | the callee's outcome, see [`RelayOutcome`] |
    //! | 6 | `HoldLock` | 0: return; 1: panic while holding | — | none; the shared console lock held meanwhile |
    //! | 7 | `TimeCalls` | n: calls timed, 1 ≤ n ≤ [`TIME_CALLS_MAX`] | — | their [`Timings`], in time-stamp counter ticks |
    //!
    //! `Relay` calls another server from inside the TAS, as servers call
    //! each other, and reports what the caller saw: the callee's answer or
    //! its fault, while crashtest itself goes on. `HoldLock` takes the lock
    //! the console server writes under, so a fault while holding it shows
    //! whether the lock is released for the console.
    //!
    //! `TimeCalls` measures a direct call between two servers of the TAS
    //! (`cargo xtask bench`'s `tas_direct_call`): after
    //! [`TIME_WARMUP_CALLS`] calls of warm-up it times `n` more, each
    //! crashtest's `Env::call` of [`timed_call`] (console's `Write` of no
    //! bytes: the cheapest request of another server, and one that changes
    //! nothing) through the callee's proxy and recovery boundary, as every
    //! call between servers goes, and back. A sample is the time-stamp
    //! counter's advance (`Env::cycles`) across one call. A call that is
    //! not answered `Ok` ends the operation with its status, a fault of the
    //! callee as `Restarting` (crashtest itself did not fault: not
    //! `ServerFault`). It runs no site of its own, so a campaign never
    //! plans a fault in it.
    //!
    //! `Compute` fills a heap vector of `n` words with [`compute_word`] and
    //! folds it with [`checksum_step`], so a client can check the answer
    //! with [`compute_checksum`], which needs no heap.

    operations! {
        /// An operation of the crash-test server.
        CrashtestOp {
            /// Answers each word plus one.
            Echo = 0,
            /// Fills a heap vector and answers its checksum.
            Compute = 1,
            /// Panics.
            Panic = 2,
            /// Loops forever.
            Hang = 3,
            /// Recurses with a buffer on the stack in each frame.
            Recurse = 4,
            /// Calls another server and reports the outcome.
            Relay = 5,
            /// Takes the shared console lock (and panics holding it, on request).
            HoldLock = 6,
            /// Times calls to another server.
            TimeCalls = 7,
        }
    }

    /// Most calls one `TimeCalls` times: their samples, 32 KiB, are on
    /// the server's heap while it serves.
    pub const TIME_CALLS_MAX: u16 = 4095;
    /// Calls `TimeCalls` makes before it starts timing, so that the
    /// samples see warm caches and TLB.
    pub const TIME_WARMUP_CALLS: u16 = 100;

    /// The call `TimeCalls` times: the console server's `Write` of no
    /// bytes, which takes nothing and sends nothing.
    pub const fn timed_call() -> crate::Request {
        crate::Request::new(crate::ServerId::Console, super::console::ConsoleOp::Write as u8, 0)
    }

    /// A summary of timed samples: what `TimeCalls` answers, and what a
    /// `bench:` line shows. The p-th percentile is the sample at index
    /// `n * p / 100` of the `n` sorted ones (the median at `n / 2`).
    ///
    /// In a reply payload: word 0 the median (bits 0-31) and the 90th
    /// percentile (32-63), word 1 the 99th percentile (0-31) and the
    /// minimum (32-63), each saturated at `u32::MAX` (4.3 s of a 1 GHz
    /// counter: far beyond any call); word 2 the number of samples.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct Timings {
        /// The median.
        pub median: u64,
        /// The 90th percentile.
        pub p90: u64,
        /// The 99th percentile.
        pub p99: u64,
        /// The least sample.
        pub min: u64,
        /// How many samples.
        pub samples: u64,
    }

    impl Timings {
        /// The summary of `samples`, which it sorts; `None` if there are none.
        pub fn of(samples: &mut [u64]) -> Option<Self> {
            samples.sort_unstable();
            let n = samples.len();
            let at = |percent: usize| samples.get(n * percent / 100).copied();
            Some(Timings { median: at(50)?, p90: at(90)?, p99: at(99)?, min: at(0)?, samples: n as u64 })
        }

        /// The reply payload.
        pub fn encode(&self) -> crate::Payload {
            let low = |value: u64| value.min(u64::from(u32::MAX));
            let high = |value: u64| low(value) << 32;
            crate::Payload::words([low(self.median) | high(self.p90), low(self.p99) | high(self.min), self.samples])
        }

        /// The summary in a reply payload.
        pub fn decode(payload: &crate::Payload) -> Self {
            let [first, second, samples] = payload.words;
            let (low, high) = (|word: u64| word & u64::from(u32::MAX), |word: u64| word >> 32);
            Timings { median: low(first), p90: high(first), p99: low(second), min: high(second), samples }
        }
    }

    /// What `Relay` answers: word 0 the status the caller saw (0: the
    /// callee answered Ok), word 1 the faulted generation for a fault (else
    /// 0), word 2 the callee's reply payload word 0.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct RelayOutcome {
        /// The status: `Ok`, `ServerFault` for a fault of the callee, or its refusal.
        pub status: crate::Status,
        /// For `ServerFault`, the generation that faulted.
        pub faulted_generation: u32,
        /// The callee's reply payload word 0 (for `Ok`).
        pub word: u64,
    }

    impl RelayOutcome {
        /// The reply payload.
        pub fn encode(&self) -> crate::Payload {
            crate::Payload::words([self.status as u64, u64::from(self.faulted_generation), self.word])
        }

        /// The outcome in a reply payload; `None` for an unknown status.
        pub fn decode(payload: &crate::Payload) -> Option<Self> {
            let [status, generation, word] = payload.words;
            Some(RelayOutcome {
                status: crate::Status::from_code(u8::try_from(status).ok()?)?,
                faulted_generation: u32::try_from(generation).ok()?,
                word,
            })
        }
    }

    /// Largest `Compute` vector, in words: 32 KiB of heap, several pages.
    pub const COMPUTE_WORDS_MAX: u16 = 4096;
    /// Deepest bounded `Recurse`: with the server's 256-byte frame buffers,
    /// about 8 KiB of stack, well inside a server thread's stack.
    pub const RECURSE_DEPTH_MAX: u16 = 32;

    /// The checksum of no words, where [`checksum_step`] starts: the 64-bit
    /// FNV offset basis, an arbitrary non-zero start.
    pub const CHECKSUM_START: u64 = 0xcbf2_9ce4_8422_2325;
    /// Multiplier of the checksum step: the 64-bit FNV prime.
    const CHECKSUM_PRIME: u64 = 0x0000_0100_0000_01b3;
    /// Rotation of the checksum step, so every bit of a word spreads.
    const CHECKSUM_ROTATION: u32 = 23;

    /// The word `Compute` stores at `index`: splitmix64 of the index, so
    /// neighbouring words differ in about half their bits.
    pub const fn compute_word(index: u64) -> u64 {
        // The splitmix64 constants (Steele, Lea, Flood 2014).
        let mut z = index.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// One step of the `Compute` checksum: `checksum` so far, then `word`.
    /// Order-sensitive, so a word read from the wrong place shows.
    pub const fn checksum_step(checksum: u64, word: u64) -> u64 {
        (checksum ^ word).wrapping_mul(CHECKSUM_PRIME).rotate_left(CHECKSUM_ROTATION)
    }

    /// The checksum of the first `n` words, as `Compute(n)` answers it.
    pub const fn compute_checksum(n: u16) -> u64 {
        let mut checksum = CHECKSUM_START;
        let mut index = 0;
        while index < n as u64 {
            checksum = checksum_step(checksum, compute_word(index));
            index += 1;
        }
        checksum
    }
}

pub mod console {
    //! The console server ([`crate::ServerId::Console`]): output with a
    //! line discipline. It keeps nothing: a partial line is lost when it
    //! restarts.
    //!
    //! | op | operation | arg | request payload | reply payload |
    //! |---|---|---|---|---|
    //! | 0 | `Write` | — | bytes (byte length 0 to 24) | word 0: bytes taken (all of them) |
    //! | 1 | `Flush` | — | — | — |
    //!
    //! Bytes are collected per line; a line goes to the console whole, with
    //! its `\n`, when it ends, or in pieces of [`LINE_BYTES_MAX`] when it is
    //! longer. `Flush` sends the partial line as it is.

    operations! {
        /// An operation of the console server.
        ConsoleOp {
            /// Adds bytes to the current line.
            Write = 0,
            /// Sends the partial line.
            Flush = 1,
        }
    }

    /// Longest piece of a line sent at once: a wide terminal's line.
    pub const LINE_BYTES_MAX: usize = 160;
}

#[cfg(test)]
mod tests {
    use super::blk::BlkOp;
    use super::console::ConsoleOp;
    use super::crashtest::{checksum_step, compute_checksum, compute_word, CrashtestOp, CHECKSUM_START};
    use super::fs::FsOp;
    use super::name::NameOp;

    /// Each enum's numbers round-trip, are dense from 0, and end there.
    macro_rules! check_numbers {
        ($($op:ty),+) => {$(
            for (index, op) in <$op>::ALL.iter().enumerate() {
                assert_eq!(*op as usize, index, "{op:?}");
                assert_eq!(<$op>::from_number(*op as u8), Some(*op));
            }
            assert_eq!(<$op>::from_number(<$op>::ALL.len() as u8), None);
            assert_eq!(<$op>::from_number(u8::MAX), None);
        )+};
    }

    #[test]
    fn operation_numbers_round_trip() {
        check_numbers!(FsOp, NameOp, CrashtestOp, ConsoleOp, BlkOp);
    }

    #[test]
    fn timings_summarise_their_samples_and_round_trip_through_a_payload() {
        use super::crashtest::Timings;
        assert_eq!(Timings::of(&mut []), None);
        // 1..=101 shuffled: the median is 51, the 90th percentile the
        // sample at index 90 (91), the 99th at index 99 (100).
        let mut samples: Vec<u64> = (1..=101).map(|i| (i * 37) % 101 + 1).collect();
        let timings = Timings::of(&mut samples).unwrap();
        assert_eq!(timings, Timings { median: 51, p90: 91, p99: 100, min: 1, samples: 101 });
        assert!(samples.windows(2).all(|w| w[0] <= w[1]), "sorted in place");
        assert_eq!(Timings::of(&mut [7]).unwrap(), Timings { median: 7, p90: 7, p99: 7, min: 7, samples: 1 });
        assert_eq!(Timings::decode(&timings.encode()), timings);
        let huge = Timings { median: u64::MAX, p90: 1 << 40, p99: u64::from(u32::MAX), min: 3, samples: 1 << 40 };
        let max = u64::from(u32::MAX);
        let saturated = Timings { median: max, p90: max, p99: max, min: 3, samples: 1 << 40 };
        assert_eq!(Timings::decode(&huge.encode()), saturated);
    }

    #[test]
    fn the_compute_checksum_folds_the_words_in_order() {
        assert_eq!(compute_checksum(0), CHECKSUM_START);
        let by_hand = (0..100).fold(CHECKSUM_START, |sum, i| checksum_step(sum, compute_word(i)));
        assert_eq!(compute_checksum(100), by_hand);
        // Golden values: a change to the formula shows here, and in every
        // client that checks answers against an older build.
        assert_eq!(compute_word(0), 0xe220_a839_7b1d_cdaf);
        assert_ne!(compute_checksum(1), compute_checksum(2));
        let swapped = checksum_step(checksum_step(CHECKSUM_START, compute_word(1)), compute_word(0));
        assert_ne!(swapped, compute_checksum(2), "order matters");
    }
}
