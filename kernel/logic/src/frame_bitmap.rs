//! Physical frame bookkeeping: a bitmap with one bit per 4 KiB frame.
//!
//! The bitmap only keeps the books; the kernel decides where the bitmap lives
//! and which frames start free. A set bit means "not available" (handed out,
//! reserved, or not RAM); a clear bit means free.
//!
//! # Invariants
//! - `free` equals the number of clear bits below `limit`;
//! - `allocated` counts frames handed out by [`FrameBitmap::alloc`] and not
//!   yet returned; frames that were never free (reserved) are not counted;
//! - a frame is returned at most once: a second [`FrameBitmap::free`] is an
//!   error, never a silent corruption of the counters.

use core::ops::Range;

/// Why a frame could not be returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FreeError {
    /// The frame number lies beyond the frames this bitmap covers.
    OutOfRange {
        /// The frame number given.
        frame: u64,
    },
    /// The frame is already free: a double free.
    AlreadyFree {
        /// The frame number given.
        frame: u64,
    },
}

/// Counters for accounting and the boot banner.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FrameCounters {
    /// Frames free now.
    pub free: u64,
    /// Frames handed out and not yet returned.
    pub allocated: u64,
    /// Most frames ever handed out at once.
    pub peak_allocated: u64,
}

/// One bit per frame, for frames `0..limit`.
#[derive(Debug)]
pub struct FrameBitmap<'a> {
    words: &'a mut [u64],
    limit: u64,
    free: u64,
    allocated: u64,
    peak_allocated: u64,
    /// Where the next search starts: frees and allocations cluster, so a
    /// rotating hint keeps allocation O(1) on average.
    hint: usize,
}

const BITS: u64 = u64::BITS as u64;

impl<'a> FrameBitmap<'a> {
    /// Words of storage needed for `limit` frames.
    pub const fn words_for(limit: u64) -> usize {
        limit.div_ceil(BITS) as usize
    }

    /// A bitmap over `storage` covering frames `0..limit`, all unavailable.
    /// Returns `None` if `storage` is too small.
    pub fn new(storage: &'a mut [u64], limit: u64) -> Option<Self> {
        if storage.len() < Self::words_for(limit) {
            return None;
        }
        storage.fill(u64::MAX);
        Some(Self { words: storage, limit, free: 0, allocated: 0, peak_allocated: 0, hint: 0 })
    }

    /// Marks frames free (RAM the kernel may use). Frames beyond the limit
    /// are ignored; frames already free stay free.
    pub fn add_free_range(&mut self, frames: Range<u64>) {
        for f in frames.start..frames.end.min(self.limit) {
            if self.test(f) {
                self.clear(f);
                self.free += 1;
            }
        }
    }

    /// Marks frames unavailable without counting them as allocated (the
    /// bitmap's own storage, for instance).
    pub fn reserve_range(&mut self, frames: Range<u64>) {
        for f in frames.start..frames.end.min(self.limit) {
            if !self.test(f) {
                self.set(f);
                self.free -= 1;
            }
        }
    }

    /// Hands out one free frame, or `None` when none is left.
    pub fn alloc(&mut self) -> Option<u64> {
        let n = self.words.len();
        for i in 0..n {
            let w = (self.hint + i) % n;
            let word = self.words[w];
            if word != u64::MAX {
                let bit = u64::from((!word).trailing_zeros());
                let frame = w as u64 * BITS + bit;
                if frame >= self.limit {
                    continue;
                }
                self.set(frame);
                self.hint = w;
                self.free -= 1;
                self.allocated += 1;
                self.peak_allocated = self.peak_allocated.max(self.allocated);
                return Some(frame);
            }
        }
        None
    }

    /// Hands out `count` free frames in a row, all below frame `below`
    /// (device memory: a device addresses it physically, in one piece);
    /// returns the first. Counted as `count` allocations, each returned
    /// with [`FrameBitmap::free`]. `None` if `count` is 0 or no such run is
    /// free. A linear scan: for the rare DMA allocation, not the hot path.
    pub fn alloc_contiguous(&mut self, count: u64, below: u64) -> Option<u64> {
        let end = below.min(self.limit);
        if count == 0 || count > end {
            return None;
        }
        let mut run_start = 0;
        let mut run = 0;
        // Frame 0 is never handed out (the kernel reserves it), but start
        // at 0 anyway: the bitmap decides.
        for f in 0..end {
            if self.test(f) {
                run = 0;
                run_start = f + 1;
                continue;
            }
            run += 1;
            if run == count {
                for g in run_start..run_start + count {
                    self.set(g);
                }
                self.free -= count;
                self.allocated += count;
                self.peak_allocated = self.peak_allocated.max(self.allocated);
                return Some(run_start);
            }
        }
        None
    }

    /// Returns a frame handed out by [`FrameBitmap::alloc`].
    pub fn free(&mut self, frame: u64) -> Result<(), FreeError> {
        if frame >= self.limit {
            return Err(FreeError::OutOfRange { frame });
        }
        if !self.test(frame) {
            return Err(FreeError::AlreadyFree { frame });
        }
        self.clear(frame);
        self.free += 1;
        self.allocated = self.allocated.saturating_sub(1);
        Ok(())
    }

    /// True if the frame is free.
    pub fn is_free(&self, frame: u64) -> bool {
        frame < self.limit && !self.test(frame)
    }

    /// The counters.
    pub fn counters(&self) -> FrameCounters {
        FrameCounters { free: self.free, allocated: self.allocated, peak_allocated: self.peak_allocated }
    }

    fn test(&self, f: u64) -> bool {
        self.words[(f / BITS) as usize] & (1 << (f % BITS)) != 0
    }
    fn set(&mut self, f: u64) {
        self.words[(f / BITS) as usize] |= 1 << (f % BITS);
    }
    fn clear(&mut self, f: u64) {
        self.words[(f / BITS) as usize] &= !(1 << (f % BITS));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn bitmap(storage: &mut Vec<u64>, limit: u64) -> FrameBitmap<'_> {
        storage.resize(FrameBitmap::words_for(limit), 0);
        FrameBitmap::new(storage, limit).expect("storage sized for limit")
    }

    #[test]
    fn starts_all_unavailable() {
        let mut s = Vec::new();
        let mut b = bitmap(&mut s, 100);
        assert_eq!(b.counters(), FrameCounters::default());
        assert_eq!(b.alloc(), None);
    }

    #[test]
    fn too_small_storage_is_refused() {
        let mut s = vec![0u64; 1];
        assert!(FrameBitmap::new(&mut s, 65).is_none());
        assert!(FrameBitmap::new(&mut s, 64).is_some());
    }

    #[test]
    fn alloc_and_free_return_counters_to_start() {
        let mut s = Vec::new();
        let mut b = bitmap(&mut s, 1000);
        b.add_free_range(10..500);
        let start = b.counters();
        assert_eq!(start.free, 490);
        let frames: Vec<u64> = (0..200).map(|_| b.alloc().expect("frames left")).collect();
        let unique: HashSet<_> = frames.iter().copied().collect();
        assert_eq!(unique.len(), 200, "no frame handed out twice");
        assert!(frames.iter().all(|f| (10..500).contains(f)));
        assert_eq!(b.counters().allocated, 200);
        assert_eq!(b.counters().free, 290);
        for f in frames {
            b.free(f).expect("frame was allocated");
        }
        let end = b.counters();
        assert_eq!((end.free, end.allocated), (start.free, start.allocated));
        assert_eq!(end.peak_allocated, 200);
    }

    #[test]
    fn exhaustion_then_reuse() {
        let mut s = Vec::new();
        let mut b = bitmap(&mut s, 130);
        b.add_free_range(60..130);
        let all: Vec<u64> = std::iter::from_fn(|| b.alloc()).collect();
        assert_eq!(all.len(), 70);
        assert_eq!(b.alloc(), None);
        b.free(77).unwrap();
        assert_eq!(b.alloc(), Some(77));
    }

    #[test]
    fn never_hands_out_frames_beyond_limit() {
        let mut s = Vec::new();
        let mut b = bitmap(&mut s, 70);
        b.add_free_range(0..200);
        assert_eq!(b.counters().free, 70);
        let all: Vec<u64> = std::iter::from_fn(|| b.alloc()).collect();
        assert!(all.iter().all(|&f| f < 70));
    }

    #[test]
    fn double_free_and_out_of_range_are_errors() {
        let mut s = Vec::new();
        let mut b = bitmap(&mut s, 64);
        b.add_free_range(0..64);
        let f = b.alloc().unwrap();
        b.free(f).unwrap();
        let before = b.counters();
        assert_eq!(b.free(f), Err(FreeError::AlreadyFree { frame: f }));
        assert_eq!(b.free(64), Err(FreeError::OutOfRange { frame: 64 }));
        assert_eq!(b.counters(), before, "errors leave the books unchanged");
    }

    #[test]
    fn reserve_removes_from_free_without_counting_allocated() {
        let mut s = Vec::new();
        let mut b = bitmap(&mut s, 64);
        b.add_free_range(0..64);
        b.reserve_range(0..4);
        b.reserve_range(2..6);
        assert_eq!(b.counters().free, 58);
        assert_eq!(b.counters().allocated, 0);
        assert!(!b.is_free(5));
        assert!(b.is_free(6));
    }

    #[test]
    fn contiguous_runs() {
        let mut storage = Vec::new();
        let mut b = bitmap(&mut storage, 256);
        b.add_free_range(1..200);
        b.reserve_range(10..11);
        let before = b.counters();
        // 1..10 is nine frames: a run of ten must skip past frame 10.
        assert_eq!(b.alloc_contiguous(10, 256), Some(11));
        assert_eq!(b.counters().allocated, before.allocated + 10);
        assert_eq!(b.counters().free, before.free - 10);
        assert_eq!(b.alloc_contiguous(9, 256), Some(1));
        assert_eq!(b.alloc_contiguous(5, 23), None, "nothing free below 23");
        assert_eq!(b.alloc_contiguous(5, 26), Some(21));
        assert_eq!(b.alloc_contiguous(0, 256), None);
        assert_eq!(b.alloc_contiguous(1000, 256), None);
        for f in (11..21).chain(1..10).chain(21..26) {
            b.free(f).unwrap();
        }
        assert_eq!(b.counters().free, before.free);
        assert_eq!(b.counters().allocated, before.allocated);
        assert_eq!(b.free(11), Err(FreeError::AlreadyFree { frame: 11 }));
    }
}
