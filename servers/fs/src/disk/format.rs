//! The file server's disk format: a header sector, then the image of its kept store, and the sector arithmetic of both.
//!
//! ```text
//! sector 0        header
//! sectors 1 ..    the image: words 0 .. image_words of the kept store,
//!                 64 words a sector, each little-endian; the last
//!                 sector zero-padded
//!
//! header bytes    0-7    magic "LZFSDISK"
//!                 8-11   format version (u32, little-endian)
//!                 12-15  image words (u32)
//!                 16-19  store slots (u32)
//!                 20-23  slot capacity in bytes (u32)
//!                 24-31  zero
//!                 32-39  FNV-1a checksum of bytes 0-31 (u64)
//!                 40-    zero
//! ```
//!
//! The image is the store's own words, error-correcting code included, so
//! an image read back goes through the same restore (and correction) as
//! the kept region after a restart. The header says which store it is: a
//! reader refuses another version or geometry rather than misread it.

use core::ops::Range;

use resilient_store::{Geometry, Storable};
use server_api::ops::blk::SECTOR_BYTES;

/// The header's first bytes.
pub(crate) const MAGIC: [u8; 8] = *b"LZFSDISK";
/// The layout version this code writes and reads; a change to the layout
/// (of the header or the store) bumps it.
pub(crate) const FORMAT_VERSION: u32 = 1;
/// The header's sector.
pub(crate) const HEADER_SECTOR: u64 = 0;
/// The image's first sector.
pub(crate) const IMAGE_FIRST_SECTOR: u64 = 1;
/// Store words in a sector.
pub(crate) const WORDS_PER_SECTOR: usize = SECTOR_BYTES / WORD_BYTES;

/// Bytes of a store word.
const WORD_BYTES: usize = 8;
/// Header bytes the checksum covers, and where it lies.
const CHECKED_BYTES: usize = 32;
const CHECKSUM_AT: Range<usize> = 32..40;
/// FNV-1a, 64-bit: offset basis and prime.
const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// What a header says: which store the image holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct DiskHeader {
    /// Words of the image.
    pub(crate) image_words: u32,
    /// Slots of the store.
    pub(crate) slots: u32,
    /// Capacity of each slot, in bytes.
    pub(crate) capacity: u32,
}

/// Why a header sector is not a header this code reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum HeaderError {
    /// No magic: a blank disk, or one that was never the file server's.
    NoMagic,
    /// The magic, but the checksum does not match: a damaged header.
    Checksum,
    /// Another format version.
    Version(u32),
}

impl core::fmt::Display for HeaderError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            HeaderError::NoMagic => f.write_str("no file-server header"),
            HeaderError::Checksum => f.write_str("a damaged header (its checksum does not match)"),
            HeaderError::Version(found) => write!(f, "format version {found}, this file server reads {FORMAT_VERSION}"),
        }
    }
}

impl DiskHeader {
    /// The header of an image of `image_words` words of a store of
    /// `geometry`.
    pub(crate) fn new(geometry: Geometry, image_words: usize) -> Self {
        // A store's counts fit u32 (the geometry's own types); the image is
        // part of its region.
        DiskHeader { image_words: image_words as u32, slots: geometry.slots(), capacity: geometry.capacity() as u32 }
    }

    /// Sectors of the disk the header and its image take.
    pub(crate) fn disk_sectors(&self) -> u64 {
        IMAGE_FIRST_SECTOR + image_sectors(self.image_words as usize)
    }

    /// The header sector.
    pub(crate) fn encode(&self) -> [u8; SECTOR_BYTES] {
        let mut sector = [0u8; SECTOR_BYTES];
        sector[0..8].copy_from_slice(&MAGIC);
        sector[8..12].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
        sector[12..16].copy_from_slice(&self.image_words.to_le_bytes());
        sector[16..20].copy_from_slice(&self.slots.to_le_bytes());
        sector[20..24].copy_from_slice(&self.capacity.to_le_bytes());
        let checksum = fnv1a(&sector[..CHECKED_BYTES]);
        sector[CHECKSUM_AT].copy_from_slice(&checksum.to_le_bytes());
        sector
    }

    /// The header in a header sector.
    ///
    /// # Errors
    /// [`HeaderError`]: no magic, a bad checksum, another version.
    pub(crate) fn decode(sector: &[u8; SECTOR_BYTES]) -> Result<Self, HeaderError> {
        let word = |at: usize| u32::from_le_bytes([sector[at], sector[at + 1], sector[at + 2], sector[at + 3]]);
        if sector[0..8] != MAGIC {
            return Err(HeaderError::NoMagic);
        }
        let mut stored = [0u8; 8];
        stored.copy_from_slice(&sector[CHECKSUM_AT]);
        if u64::from_le_bytes(stored) != fnv1a(&sector[..CHECKED_BYTES]) {
            return Err(HeaderError::Checksum);
        }
        match word(8) {
            FORMAT_VERSION => Ok(DiskHeader { image_words: word(12), slots: word(16), capacity: word(20) }),
            other => Err(HeaderError::Version(other)),
        }
    }
}

/// FNV-1a (64-bit) of `bytes`: a checksum that sees any changed byte.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(FNV_OFFSET, |hash, &byte| (hash ^ u64::from(byte)).wrapping_mul(FNV_PRIME))
}

/// Sectors an image of `words` words takes.
pub(crate) const fn image_sectors(words: usize) -> u64 {
    words.div_ceil(WORDS_PER_SECTOR) as u64
}

/// Disk sectors `from .. end`: a range that grows to cover others.
///
/// # Invariants
/// Empty exactly when `from >= end`; every empty span is [`SectorSpan::EMPTY`].
#[derive(Storable, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct SectorSpan {
    from: u32,
    end: u32,
}

impl SectorSpan {
    /// No sector.
    pub(crate) const EMPTY: SectorSpan = SectorSpan { from: 0, end: 0 };

    /// Sectors `from .. end` (empty if `end <= from`).
    pub(crate) fn new(from: u64, end: u64) -> Self {
        match (u32::try_from(from), u32::try_from(end)) {
            (Ok(from), Ok(end)) if from < end => SectorSpan { from, end },
            _ => SectorSpan::EMPTY,
        }
    }

    /// The disk sectors holding image words `words`.
    pub(crate) fn of_words(words: Range<usize>) -> Self {
        if words.is_empty() {
            return SectorSpan::EMPTY;
        }
        let first = IMAGE_FIRST_SECTOR + (words.start / WORDS_PER_SECTOR) as u64;
        let last = IMAGE_FIRST_SECTOR + ((words.end - 1) / WORDS_PER_SECTOR) as u64;
        SectorSpan::new(first, last + 1)
    }

    /// Every sector of an image of `words` words.
    pub(crate) fn image(words: usize) -> Self {
        SectorSpan::of_words(0..words)
    }

    /// Whether it has no sector.
    pub(crate) fn is_empty(self) -> bool {
        self.from >= self.end
    }

    /// The smallest span covering both.
    pub(crate) fn union(self, other: SectorSpan) -> Self {
        match (self.is_empty(), other.is_empty()) {
            (true, _) => other,
            (_, true) => self,
            _ => SectorSpan { from: self.from.min(other.from), end: self.end.max(other.end) },
        }
    }

    /// The part inside `within`.
    pub(crate) fn clip(self, within: SectorSpan) -> Self {
        SectorSpan::new(u64::from(self.from.max(within.from)), u64::from(self.end.min(within.end)))
    }

    /// The sectors.
    pub(crate) fn sectors(self) -> Range<u64> {
        u64::from(self.from)..u64::from(self.end).max(u64::from(self.from))
    }
}

/// The words that differ between `before` and `after` (which have the
/// same length), as a range of indexes; `None` if none do.
pub(crate) fn changed(before: &[u64], after: &[u64]) -> Option<Range<usize>> {
    let differs = |(b, a): (&u64, &u64)| b != a;
    let first = before.iter().zip(after).position(differs)?;
    let last = before.iter().zip(after).rposition(differs)?;
    Some(first..last + 1)
}

/// Disk sector `sector` of `image` into `out` (a sector's bytes): its
/// words, zeros past the image's end.
pub(crate) fn image_to_sector(image: &[u64], sector: u64, out: &mut [u8]) {
    out.fill(0);
    let words = sector_words(sector);
    for (index, bytes) in words.zip(out.chunks_exact_mut(WORD_BYTES)) {
        bytes.copy_from_slice(&image.get(index).copied().unwrap_or(0).to_le_bytes());
    }
}

/// Disk sector `sector`'s bytes `bytes` into `image`: the words the image
/// has room for (the rest of the last sector is padding).
pub(crate) fn sector_to_image(bytes: &[u8], sector: u64, image: &mut [u64]) {
    for (index, word) in sector_words(sector).zip(bytes.chunks_exact(WORD_BYTES)) {
        if let Some(slot) = image.get_mut(index) {
            let mut le = [0u8; WORD_BYTES];
            le.copy_from_slice(word);
            *slot = u64::from_le_bytes(le);
        }
    }
}

/// The image words disk sector `sector` holds (none for the header).
fn sector_words(sector: u64) -> Range<usize> {
    let Some(index) = sector.checked_sub(IMAGE_FIRST_SECTOR) else { return 0..0 };
    let start = usize::try_from(index).unwrap_or(usize::MAX / 2).saturating_mul(WORDS_PER_SECTOR);
    start..start.saturating_add(WORDS_PER_SECTOR)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header() -> DiskHeader {
        DiskHeader { image_words: 1466, slots: 18, capacity: 278 }
    }

    #[test]
    fn headers_round_trip() {
        let sector = header().encode();
        assert_eq!(&sector[..8], b"LZFSDISK");
        assert_eq!(DiskHeader::decode(&sector), Ok(header()));
        assert_eq!(header().disk_sectors(), 1 + 23, "1466 words are 23 sectors");
        assert!(sector[40..].iter().all(|&b| b == 0));
    }

    #[test]
    fn a_blank_or_foreign_disk_has_no_magic() {
        assert_eq!(DiskHeader::decode(&[0; SECTOR_BYTES]), Err(HeaderError::NoMagic));
        let mut foreign = [0xEB; SECTOR_BYTES];
        foreign[..8].copy_from_slice(b"LZFSDIS!");
        assert_eq!(DiskHeader::decode(&foreign), Err(HeaderError::NoMagic));
    }

    #[test]
    fn damaged_and_newer_headers_are_refused() {
        for byte in [8, 12, 17, 23, 31, 35] {
            let mut sector = header().encode();
            sector[byte] ^= 0x10;
            assert_eq!(DiskHeader::decode(&sector), Err(HeaderError::Checksum), "byte {byte}");
        }
        let mut newer = header().encode();
        newer[8..12].copy_from_slice(&2u32.to_le_bytes());
        let checksum = fnv1a(&newer[..CHECKED_BYTES]);
        newer[CHECKSUM_AT].copy_from_slice(&checksum.to_le_bytes());
        assert_eq!(DiskHeader::decode(&newer), Err(HeaderError::Version(2)));
        assert!(HeaderError::Version(2).to_string().contains("version 2"));
    }

    #[test]
    fn words_map_to_sectors_after_the_header() {
        assert_eq!(SectorSpan::of_words(0..1), SectorSpan::new(1, 2));
        assert_eq!(SectorSpan::of_words(63..65), SectorSpan::new(1, 3), "straddles two sectors");
        assert_eq!(SectorSpan::of_words(64..128), SectorSpan::new(2, 3));
        assert_eq!(SectorSpan::of_words(5..5), SectorSpan::EMPTY);
        assert_eq!(SectorSpan::image(1466).sectors(), 1..24);
    }

    #[test]
    fn spans_grow_to_cover_and_clip() {
        let a = SectorSpan::new(3, 5);
        let b = SectorSpan::new(9, 10);
        assert_eq!(a.union(b), SectorSpan::new(3, 10));
        assert_eq!(a.union(SectorSpan::EMPTY), a);
        assert_eq!(SectorSpan::EMPTY.union(b), b);
        assert!(SectorSpan::new(4, 4).is_empty() && SectorSpan::new(5, 4) == SectorSpan::EMPTY);
        assert_eq!(SectorSpan::new(1, 30).clip(SectorSpan::image(1466)), SectorSpan::new(1, 24));
        assert_eq!(a.clip(b), SectorSpan::EMPTY);
        assert_eq!(SectorSpan::EMPTY.sectors().count(), 0);
    }

    #[test]
    fn the_changed_words_are_found() {
        let before = [1, 2, 3, 4, 5];
        assert_eq!(changed(&before, &before), None);
        assert_eq!(changed(&before, &[1, 9, 3, 9, 5]), Some(1..4));
        assert_eq!(changed(&before, &[0, 2, 3, 4, 5]), Some(0..1));
        assert_eq!(changed(&before, &[1, 2, 3, 4, 6]), Some(4..5));
    }

    #[test]
    fn sectors_carry_the_image_words_and_pad_the_last() {
        let image: Vec<u64> = (0..100).map(|i| i * 0x0101_0101_0101).collect();
        let mut sector = [0xFFu8; SECTOR_BYTES];
        image_to_sector(&image, 2, &mut sector);
        assert_eq!(sector[..8], (64u64 * 0x0101_0101_0101).to_le_bytes());
        assert!(sector[36 * 8..].iter().all(|&b| b == 0), "words 100.. are padding");
        let mut back = vec![0u64; 100];
        for disk_sector in SectorSpan::image(100).sectors() {
            image_to_sector(&image, disk_sector, &mut sector);
            sector_to_image(&sector, disk_sector, &mut back);
        }
        assert_eq!(back, image);
        image_to_sector(&image, HEADER_SECTOR, &mut sector);
        assert!(sector.iter().all(|&b| b == 0), "the header sector holds no image word");
    }
}
