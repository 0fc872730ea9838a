//! [`TornRegion`]: fault injection that stops a writer part-way, as if it had died.
//!
//! A server can fault in the middle of a write; what the store promises is
//! that a restart then finds the old value or the new one, never a mix.
//! `TornRegion` lets a test check that for every point of interruption: it
//! lets the first `k` word stores through and silently drops the rest, so
//! the memory ends up exactly as if the writer had died after `k` stores.
//! Reopening a store on the inner region is the restart.

use crate::region::Region;

/// A region that performs only the first `allowed` stores.
#[derive(Debug)]
pub struct TornRegion<R> {
    inner: R,
    allowed: usize,
    attempted: usize,
}

impl<R: Region> TornRegion<R> {
    /// Wraps `inner`, letting through its first `allowed` stores.
    pub fn new(inner: R, allowed: usize) -> Self {
        Self { inner, allowed, attempted: 0 }
    }

    /// Wraps `inner` letting every store through: counts the stores an
    /// operation makes, the range of interruption points to try.
    pub fn counting(inner: R) -> Self {
        Self::new(inner, usize::MAX)
    }

    /// Stores asked for so far, whether performed or dropped.
    pub fn attempted(&self) -> usize {
        self.attempted
    }

    /// Whether any store was dropped: the writer "died".
    pub fn tore(&self) -> bool {
        self.attempted > self.allowed
    }

    /// The inner region, as the interrupted writer left it.
    pub fn into_inner(self) -> R {
        self.inner
    }
}

impl<R: Region> Region for TornRegion<R> {
    fn words(&self) -> usize {
        self.inner.words()
    }

    fn load(&self, index: usize) -> u64 {
        self.inner.load(index)
    }

    fn store(&mut self, index: usize, word: u64) {
        if self.attempted < self.allowed {
            self.inner.store(index, word);
        }
        self.attempted = self.attempted.saturating_add(1);
    }

    fn barrier(&mut self) {
        self.inner.barrier();
    }
}
