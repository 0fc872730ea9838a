//! [`Store`]: typed slots of state over a caller-provided region, read and written atomically.
//!
//! The region outlives the server instance that uses it: the kernel maps
//! the same pages into the restarted instance, which opens the store again
//! and reads back what the previous instance committed. `geometry.rs` has
//! the layout, `copies.rs` the write protocol that makes a slot write atomic.

use ecc::{Correction, Counters, Decoded, PackedWord};

use crate::copies::Copies;
use crate::encoding::{DecodeError, Decoder, Encoder};
use crate::error::{OpenError, ReadError, RegionTooSmall, WriteError};
use crate::geometry::{
    header, pack, superblock, unpack, Geometry, BYTES_PER_WORD, FORMAT_VERSION, MAGIC, WORD_VALUE_MAX,
};
use crate::payload::{PayloadReader, PayloadWriter};
use crate::region::Region;
use crate::slot::{self, Slot, SlotError};
use crate::stats::Stats;
use crate::storable::Storable;

/// Whether [`Store::open_or_format`] found a store or made one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Opened {
    /// The region held a store of this geometry: its slots are as the
    /// previous instance left them.
    Existing,
    /// The region held no store and was formatted: every slot is empty.
    Formatted,
}

/// A resilient store over the region `R`.
///
/// # Invariants
/// - the region has at least `geometry.region_words()` words and holds a
///   formatted store of that geometry (checked by [`Store::open`], made so
///   by [`Store::format`]).
#[derive(Debug)]
pub struct Store<R: Region> {
    region: R,
    geometry: Geometry,
    stats: Stats,
}

impl<R: Region> Store<R> {
    /// Formats `region` as an empty store of `geometry`, discarding what it
    /// held. Interrupted, it leaves a region that [`Store::open`] reports
    /// as [`OpenError::NotFormatted`].
    ///
    /// # Errors
    /// [`RegionTooSmall`] if the region has fewer words than the geometry needs.
    pub fn format(mut region: R, geometry: Geometry) -> Result<Self, RegionTooSmall> {
        check_size(&region, geometry)?;
        // Unformatted first, so an interrupted format is seen as one.
        region.store(superblock::MAGIC, pack(0).raw());
        region.barrier();
        // Zero is the codeword of zero: every copy empty, every word clean.
        for index in superblock::VERSION..geometry.region_words() {
            region.store(index, 0);
        }
        region.store(superblock::VERSION, pack(FORMAT_VERSION).raw());
        region.store(superblock::SLOTS, pack(u64::from(geometry.slots())).raw());
        region.store(superblock::CAPACITY, pack(geometry.capacity() as u64).raw());
        region.barrier();
        region.store(superblock::MAGIC, PackedWord::encode(MAGIC).raw());
        region.barrier();
        Ok(Self { region, geometry, stats: Stats::default() })
    }

    /// Opens the store that `region` holds, as a previous instance left it.
    ///
    /// # Errors
    /// [`OpenError`] if the region is too small, holds no store, or holds
    /// one of another version or geometry, or with a damaged superblock.
    pub fn open(region: R, geometry: Geometry) -> Result<Self, OpenError> {
        check_superblock(&region, geometry)?;
        Ok(Self { region, geometry, stats: Stats::default() })
    }

    /// Opens the store that `region` holds, or formats it if it holds none
    /// (fresh memory: the first start of a server).
    ///
    /// # Errors
    /// [`OpenError`] as [`Store::open`], except `NotFormatted`. A store of
    /// another geometry or version, or with a damaged superblock, is not
    /// formatted over: whether to discard it is the caller's decision.
    pub fn open_or_format(region: R, geometry: Geometry) -> Result<(Self, Opened), OpenError> {
        match check_superblock(&region, geometry) {
            Ok(()) => Ok((Self { region, geometry, stats: Stats::default() }, Opened::Existing)),
            Err(OpenError::NotFormatted) => {
                let store = Self::format(region, geometry).map_err(OpenError::RegionTooSmall)?;
                Ok((store, Opened::Formatted))
            }
            Err(error) => Err(error),
        }
    }

    /// The store's geometry.
    pub fn geometry(&self) -> Geometry {
        self.geometry
    }

    /// What the store has done and found since it was opened.
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// The region, to hand on or reopen.
    pub fn into_region(self) -> R {
        self.region
    }

    /// Reads the value last committed to `slot`. Single-bit errors in any
    /// word are corrected on the way. If the newer copy is damaged beyond
    /// correction, the older one is returned and [`Stats::fallbacks`]
    /// counts it.
    ///
    /// # Errors
    /// [`ReadError`]: the slot does not fit, is empty, holds another type,
    /// or both copies are damaged.
    pub fn read<T: Storable>(&mut self, slot: Slot<T>) -> Result<T, ReadError> {
        slot::check::<T>(self.geometry, slot.index()).map_err(ReadError::Slot)?;
        self.stats.reads = self.stats.reads.saturating_add(1);
        let copies = Copies::inspect(&self.region, self.geometry, slot.index(), &mut self.stats.read_words);
        let Some(current) = copies.current else {
            return Err(if copies.all_empty { ReadError::Empty } else { ReadError::Damaged });
        };
        if copies.newer_lost {
            self.stats.fallbacks = self.stats.fallbacks.saturating_add(1);
        }
        if current.fingerprint != T::FINGERPRINT & WORD_VALUE_MAX || current.length != T::SIZE {
            return Err(ReadError::TypeMismatch);
        }
        let start = self.geometry.copy_start(slot.index(), current.copy) + header::PAYLOAD;
        let mut reader = PayloadReader::new(&self.region, start, start + T::SIZE.div_ceil(BYTES_PER_WORD));
        let mut decoder = Decoder::new(&mut reader);
        let decoded = T::decode(&mut decoder);
        let consumed = decoder.consumed();
        if reader.damaged() {
            // Unreachable while `&mut self` keeps the region still: every
            // word decoded a moment ago.
            return Err(ReadError::Damaged);
        }
        let value = decoded.map_err(ReadError::Decode)?;
        if consumed != T::SIZE {
            return Err(ReadError::Decode(DecodeError::WrongLength { expected: T::SIZE, actual: consumed }));
        }
        Ok(value)
    }

    /// Writes `value` to `slot`, atomically: if the writer dies part-way, a
    /// later read returns the previous value, and once this returns, the new
    /// one (see the crate's "Write protocol").
    ///
    /// # Errors
    /// [`WriteError`]: the slot does not fit, the type's encoding disagrees
    /// with its size, or the sequence number is exhausted. The previous
    /// value is then intact.
    pub fn write<T: Storable>(&mut self, slot: Slot<T>, value: &T) -> Result<(), WriteError> {
        slot::check::<T>(self.geometry, slot.index()).map_err(WriteError::Slot)?;
        let copies = Copies::inspect(&self.region, self.geometry, slot.index(), &mut self.stats.read_words);
        // Rewrite the copy a read would not pick: the older, or a damaged one.
        let target = copies.current.map_or(0, |current| 1 - current.copy);
        let sequence = copies.highest_sequence + 1;
        if sequence > WORD_VALUE_MAX {
            return Err(WriteError::SequenceExhausted);
        }
        let start = self.geometry.copy_start(slot.index(), target);

        // 1. Empty the target copy.
        self.region.store(start + header::SEQUENCE, pack(0).raw());
        self.region.barrier();

        // 2. Its header fields and payload.
        self.region.store(start + header::FINGERPRINT, pack(T::FINGERPRINT & WORD_VALUE_MAX).raw());
        self.region.store(start + header::LENGTH, pack(T::SIZE as u64).raw());
        let payload = start + header::PAYLOAD;
        let mut writer = PayloadWriter::new(&mut self.region, payload, payload + T::SIZE.div_ceil(BYTES_PER_WORD));
        let mut encoder = Encoder::new(&mut writer);
        value.encode(&mut encoder);
        let written = encoder.written();
        if !writer.finish() || written != T::SIZE {
            // The target stays empty; the other copy holds the previous value.
            return Err(WriteError::SizeMismatch { declared: T::SIZE, written });
        }
        self.region.barrier();

        // 3. Commit.
        self.region.store(start + header::SEQUENCE, pack(sequence).raw());
        self.region.barrier();
        self.stats.writes = self.stats.writes.saturating_add(1);
        Ok(())
    }

    /// Empties `slot`, atomically: if the writer dies part-way, a later read
    /// returns the value it held.
    ///
    /// # Errors
    /// [`SlotError`] if the slot does not fit this store.
    pub fn erase<T: Storable>(&mut self, slot: Slot<T>) -> Result<(), SlotError> {
        slot::check::<T>(self.geometry, slot.index())?;
        let copies = Copies::inspect(&self.region, self.geometry, slot.index(), &mut self.stats.read_words);
        let current = copies.current.map_or(0, |current| current.copy);
        // The copy a read would not pick first: emptying the current one
        // first would briefly expose the older value.
        for copy in [1 - current, current] {
            let start = self.geometry.copy_start(slot.index(), copy);
            self.region.store(start + header::SEQUENCE, pack(0).raw());
            self.region.barrier();
        }
        Ok(())
    }

    /// Checks every word of the store and rewrites those with a corrected
    /// error, so that single-bit errors do not accumulate into
    /// uncorrectable ones. Each rewrite is one store of the same value, so
    /// an interrupted scrub harms nothing.
    ///
    /// Returns this pass's outcomes; words counted as uncorrectable stay as
    /// they are, and the next write to their slot replaces them.
    pub fn scrub(&mut self) -> Counters {
        let mut report = Counters::default();
        for index in 0..self.geometry.region_words() {
            let outcome = PackedWord::from_raw(self.region.load(index)).decode();
            report.record(&outcome);
            if let Ok(Decoded { value, correction: Correction::Corrected { .. } }) = outcome {
                self.region.store(index, PackedWord::encode(value).raw());
            }
        }
        self.stats.scrubbed_words.add(&report);
        report
    }
}

fn check_size<R: Region>(region: &R, geometry: Geometry) -> Result<(), RegionTooSmall> {
    let needed = geometry.region_words();
    match region.words() {
        available if available < needed => Err(RegionTooSmall { needed, available }),
        _ => Ok(()),
    }
}

/// Whether `region` holds a store of `geometry`.
fn check_superblock<R: Region>(region: &R, geometry: Geometry) -> Result<(), OpenError> {
    check_size(region, geometry).map_err(OpenError::RegionTooSmall)?;
    let word = |index| {
        PackedWord::from_raw(region.load(index)).decode().map(|decoded| decoded.value).map_err(|_| OpenError::SuperblockDamaged)
    };
    // Fresh memory is zeroed, and zero decodes cleanly to something other
    // than the magic: "not formatted". An undecodable magic is damage.
    if word(superblock::MAGIC)? != MAGIC {
        return Err(OpenError::NotFormatted);
    }
    let version = unpack(word(superblock::VERSION)?);
    if version != FORMAT_VERSION {
        return Err(OpenError::UnsupportedVersion { found: version });
    }
    let slots = unpack(word(superblock::SLOTS)?);
    let capacity = unpack(word(superblock::CAPACITY)?);
    if slots != u64::from(geometry.slots()) || capacity != geometry.capacity() as u64 {
        return Err(OpenError::GeometryMismatch { slots, capacity });
    }
    Ok(())
}
