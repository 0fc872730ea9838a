//! A process's memory from `map` and `accept`: the checked page range of
//! the memory system calls, and the book of the regions a process mapped
//! through them, so that `unmap` touches only pages `map` made, `grant`
//! offers only those, and the quota counts them.
//!
//! The page tables say what is mapped; this book says *why*: the image,
//! the stack and device memory are never in it, so no memory call can
//! reach them.

use alloc::vec::Vec;

use lazarus_abi::layout::is_user_range;
use lazarus_abi::memory::PAGE_SIZE;

/// A range of whole user pages.
///
/// # Invariants
/// `start` is page-aligned, `pages >= 1`, and `[start, start + pages *
/// PAGE_SIZE)` lies in user space (so it does not wrap).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageRange {
    start: u64,
    pages: u64,
}

/// Why a range argument was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RangeError {
    /// The length is 0.
    Empty,
    /// The length is above the call's limit.
    TooLong,
    /// The address is not page-aligned.
    Unaligned,
    /// The range is not inside user space (null, kernel half, past the
    /// end, or wrapping).
    OutsideUserSpace,
}

impl PageRange {
    /// The pages of `[vaddr, vaddr + len)`, `len` rounded up to whole
    /// pages, at most `max_bytes` long. Checked in this order: length 0,
    /// above `max_bytes`, `vaddr` unaligned, outside user space.
    pub fn try_new(vaddr: u64, len: u64, max_bytes: u64) -> Result<Self, RangeError> {
        if len == 0 {
            return Err(RangeError::Empty);
        }
        if len > max_bytes {
            return Err(RangeError::TooLong);
        }
        if !vaddr.is_multiple_of(PAGE_SIZE) {
            return Err(RangeError::Unaligned);
        }
        let pages = len.div_ceil(PAGE_SIZE);
        match pages.checked_mul(PAGE_SIZE) {
            Some(bytes) if is_user_range(vaddr, bytes) => Ok(Self { start: vaddr, pages }),
            _ => Err(RangeError::OutsideUserSpace),
        }
    }

    /// The first byte.
    pub fn start(&self) -> u64 {
        self.start
    }

    /// The number of pages.
    pub fn pages(&self) -> u64 {
        self.pages
    }

    /// The length in bytes.
    pub fn bytes(&self) -> u64 {
        self.pages * PAGE_SIZE
    }

    /// One past the last byte.
    pub fn end(&self) -> u64 {
        self.start + self.bytes()
    }

    /// The address of each page, in order.
    pub fn page_addrs(&self) -> impl Iterator<Item = u64> {
        let start = self.start;
        (0..self.pages).map(move |i| start + i * PAGE_SIZE)
    }

    /// True if the two share a page.
    pub fn overlaps(&self, other: &PageRange) -> bool {
        self.start < other.end() && other.start < self.end()
    }

    /// The pages from `start` to `end` (a part of a valid range, so valid).
    fn between(start: u64, end: u64) -> Self {
        debug_assert!(start < end && start.is_multiple_of(PAGE_SIZE) && end.is_multiple_of(PAGE_SIZE));
        Self { start, pages: (end - start) / PAGE_SIZE }
    }
}

/// What a region of a process's book holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Memory of its own from `map`, with its rights.
    Anonymous {
        /// Writable (then never executable).
        writable: bool,
    },
    /// Another process's pages, from `accept` of the grant with this id.
    Accepted {
        /// The grant's id word.
        grant: u64,
    },
}

/// One region of the book.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Region {
    /// Its pages.
    pub range: PageRange,
    /// What they hold.
    pub kind: Kind,
}

/// Why the book refused a change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BookError {
    /// A page of the range is in the book already.
    Overlap,
    /// A page of the range is not anonymous memory of the process.
    NotAnonymous,
}

/// The regions a process mapped with `map` and `accept`.
///
/// # Invariants
/// Regions do not overlap and are sorted by address; `anonymous_pages` is
/// the sum of the pages of the anonymous ones.
#[derive(Debug, Default)]
pub struct Book {
    regions: Vec<Region>,
    anonymous_pages: u64,
}

impl Book {
    /// An empty book.
    pub fn new() -> Self {
        Self::default()
    }

    /// Pages of anonymous memory in the book (what the quota counts).
    pub fn anonymous_pages(&self) -> u64 {
        self.anonymous_pages
    }

    /// Every region, in address order.
    pub fn regions(&self) -> &[Region] {
        &self.regions
    }

    /// True if a page of `range` is in the book.
    pub fn overlaps(&self, range: &PageRange) -> bool {
        self.regions.iter().any(|r| r.range.overlaps(range))
    }

    /// Records `range` as holding `kind`.
    pub fn insert(&mut self, range: PageRange, kind: Kind) -> Result<(), BookError> {
        if self.overlaps(&range) {
            return Err(BookError::Overlap);
        }
        let at = self.regions.partition_point(|r| r.range.start < range.start);
        self.regions.insert(at, Region { range, kind });
        if let Kind::Anonymous { .. } = kind {
            self.anonymous_pages += range.pages;
        }
        Ok(())
    }

    /// `Some(writable)` if every page of `range` is anonymous memory of the
    /// process (`writable`: every one of them is); `None` otherwise.
    pub fn anonymous(&self, range: &PageRange) -> Option<bool> {
        let mut next = range.start;
        let mut writable = true;
        for r in self.regions.iter().filter(|r| r.range.overlaps(range)) {
            match r.kind {
                Kind::Anonymous { writable: w } if r.range.start <= next => writable &= w,
                _ => return None,
            }
            next = r.range.end();
        }
        (next >= range.end()).then_some(writable)
    }

    /// Takes `range`, all of it anonymous memory, out of the book (a part
    /// of a region splits it). Nothing changes on error.
    pub fn remove_anonymous(&mut self, range: &PageRange) -> Result<(), BookError> {
        self.anonymous(range).ok_or(BookError::NotAnonymous)?;
        let mut kept = Vec::with_capacity(self.regions.len() + 1);
        for r in self.regions.drain(..) {
            if !r.range.overlaps(range) {
                kept.push(r);
                continue;
            }
            if r.range.start < range.start {
                kept.push(Region { range: PageRange::between(r.range.start, range.start), kind: r.kind });
            }
            if range.end() < r.range.end() {
                kept.push(Region { range: PageRange::between(range.end(), r.range.end()), kind: r.kind });
            }
        }
        self.regions = kept;
        self.anonymous_pages -= range.pages;
        Ok(())
    }

    /// Takes the region of the accepted grant `grant` out of the book;
    /// returns its pages, if it was there.
    pub fn remove_accepted(&mut self, grant: u64) -> Option<PageRange> {
        let at = self.regions.iter().position(|r| r.kind == Kind::Accepted { grant })?;
        Some(self.regions.remove(at).range)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lazarus_abi::layout::{USER_END, USER_START};

    const MAX: u64 = 16 << 20;
    const BASE: u64 = 0x1000_0000;

    fn range(start: u64, pages: u64) -> PageRange {
        PageRange::try_new(start, pages * PAGE_SIZE, MAX).expect("valid")
    }

    #[test]
    fn ranges_are_checked_in_order() {
        assert_eq!(PageRange::try_new(0, 0, MAX), Err(RangeError::Empty));
        assert_eq!(PageRange::try_new(BASE, MAX + 1, MAX), Err(RangeError::TooLong));
        assert_eq!(PageRange::try_new(BASE + 1, 4096, MAX), Err(RangeError::Unaligned));
        assert_eq!(PageRange::try_new(0, 4096, MAX), Err(RangeError::OutsideUserSpace), "null");
        assert_eq!(PageRange::try_new(USER_START - PAGE_SIZE, 4096, MAX), Err(RangeError::OutsideUserSpace));
        assert_eq!(PageRange::try_new(0xFFFF_8000_0000_0000, 4096, MAX), Err(RangeError::OutsideUserSpace));
        assert_eq!(PageRange::try_new(USER_END - PAGE_SIZE, 8192, MAX), Err(RangeError::OutsideUserSpace));
        assert_eq!(PageRange::try_new(!0xFFF, 8192, MAX), Err(RangeError::OutsideUserSpace), "wraps");
        assert_eq!(PageRange::try_new(BASE, u64::MAX, u64::MAX), Err(RangeError::OutsideUserSpace), "huge");
        let r = PageRange::try_new(BASE, 4097, MAX).expect("rounded up");
        assert_eq!((r.start(), r.pages(), r.bytes(), r.end()), (BASE, 2, 8192, BASE + 8192));
        assert_eq!(r.page_addrs().collect::<Vec<_>>(), [BASE, BASE + 4096]);
        assert!(PageRange::try_new(USER_END - PAGE_SIZE, 1, MAX).is_ok(), "the last page");
    }

    #[test]
    fn overlap() {
        assert!(range(BASE, 2).overlaps(&range(BASE + 4096, 1)));
        assert!(!range(BASE, 1).overlaps(&range(BASE + 4096, 1)), "adjacent");
    }

    #[test]
    fn book_counts_anonymous_pages_and_refuses_overlaps() {
        let mut book = Book::new();
        book.insert(range(BASE, 4), Kind::Anonymous { writable: true }).expect("free");
        book.insert(range(BASE + 8 * 4096, 2), Kind::Accepted { grant: 7 }).expect("free");
        assert_eq!(book.anonymous_pages(), 4, "accepted pages are not the process's own");
        assert_eq!(book.insert(range(BASE + 3 * 4096, 1), Kind::Anonymous { writable: false }), Err(BookError::Overlap));
        assert_eq!(book.insert(range(BASE + 9 * 4096, 4), Kind::Anonymous { writable: false }), Err(BookError::Overlap));
        book.insert(range(BASE + 4 * 4096, 1), Kind::Anonymous { writable: false }).expect("adjacent");
        assert_eq!(book.regions().iter().map(|r| r.range.start()).collect::<Vec<_>>(), [BASE, BASE + 4 * 4096, BASE + 8 * 4096]);
        assert_eq!(book.anonymous_pages(), 5);
    }

    #[test]
    fn anonymous_coverage_spans_adjacent_regions_only() {
        let mut book = Book::new();
        book.insert(range(BASE, 2), Kind::Anonymous { writable: true }).expect("free");
        book.insert(range(BASE + 2 * 4096, 2), Kind::Anonymous { writable: false }).expect("free");
        book.insert(range(BASE + 5 * 4096, 1), Kind::Anonymous { writable: true }).expect("free");
        book.insert(range(BASE + 6 * 4096, 1), Kind::Accepted { grant: 1 }).expect("free");
        assert_eq!(book.anonymous(&range(BASE, 2)), Some(true));
        assert_eq!(book.anonymous(&range(BASE + 4096, 2)), Some(false), "one page read-only");
        assert_eq!(book.anonymous(&range(BASE, 4)), Some(false));
        assert_eq!(book.anonymous(&range(BASE, 5)), None, "a hole");
        assert_eq!(book.anonymous(&range(BASE + 4 * 4096, 2)), None, "starts in the hole");
        assert_eq!(book.anonymous(&range(BASE + 5 * 4096, 2)), None, "an accepted page");
        assert_eq!(book.anonymous(&range(BASE - 4096, 2)), None, "starts before");
        assert_eq!(Book::new().anonymous(&range(BASE, 1)), None);
    }

    #[test]
    fn removing_a_part_splits_the_region() {
        let mut book = Book::new();
        book.insert(range(BASE, 8), Kind::Anonymous { writable: true }).expect("free");
        book.remove_anonymous(&range(BASE + 2 * 4096, 3)).expect("anonymous");
        let left: Vec<_> = book.regions().iter().map(|r| (r.range.start(), r.range.pages())).collect();
        assert_eq!(left, [(BASE, 2), (BASE + 5 * 4096, 3)]);
        assert_eq!(book.anonymous_pages(), 5);
        assert_eq!(book.remove_anonymous(&range(BASE, 3)), Err(BookError::NotAnonymous), "crosses the hole");
        assert_eq!(book.anonymous_pages(), 5, "nothing changed");
        book.remove_anonymous(&range(BASE, 2)).expect("the whole left part");
        book.remove_anonymous(&range(BASE + 5 * 4096, 3)).expect("the whole right part");
        assert!(book.regions().is_empty());
        assert_eq!(book.anonymous_pages(), 0);
    }

    #[test]
    fn accepted_regions_come_out_by_grant() {
        let mut book = Book::new();
        book.insert(range(BASE, 1), Kind::Anonymous { writable: true }).expect("free");
        book.insert(range(BASE + 4096, 3), Kind::Accepted { grant: 9 }).expect("free");
        assert_eq!(book.remove_anonymous(&range(BASE + 4096, 1)), Err(BookError::NotAnonymous));
        assert_eq!(book.remove_accepted(8), None);
        assert_eq!(book.remove_accepted(9), Some(range(BASE + 4096, 3)));
        assert_eq!(book.remove_accepted(9), None);
        assert_eq!(book.regions().len(), 1);
    }
}
