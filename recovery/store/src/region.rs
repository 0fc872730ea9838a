//! [`Region`]: the memory a store lives in, as words that are loaded and stored one at a time.
//!
//! The store reaches its memory only through this trait, one aligned
//! 64-bit word at a time, so that:
//! - the kernel can hand a server pages that survive its restart, as a
//!   plain `&mut [u64]` or as `&[AtomicU64]`;
//! - tests can wrap a region to stop a write part-way
//!   ([`crate::TornRegion`]) and check what a restart then finds.
//!
//! Atomicity: the store's crash safety rests on one assumption, that a
//! single word store is all-or-nothing. On x86_64 an aligned 8-byte store
//! is (Intel SDM vol. 3A, "Guaranteed Atomic Operations"); `[AtomicU64]` makes it a language-level
//! guarantee as well.

use core::sync::atomic::{compiler_fence, fence, AtomicU64, Ordering};

/// Memory of 64-bit words that a store reads and writes.
pub trait Region {
    /// Number of words.
    fn words(&self) -> usize;

    /// The word at `index`, which is below [`Region::words`].
    fn load(&self, index: usize) -> u64;

    /// Writes the word at `index`, which is below [`Region::words`], in
    /// one store.
    fn store(&mut self, index: usize, word: u64);

    /// Orders stores: every store before the barrier takes effect before
    /// any store after it. The store puts one before each commit.
    ///
    /// The default is a compiler fence: enough when the writer that may die
    /// and the reader that restarts see memory through the same CPU's
    /// coherent caches, as a restarted server does (x86 does not reorder
    /// stores with other stores).
    fn barrier(&mut self) {
        compiler_fence(Ordering::SeqCst);
    }
}

impl Region for [u64] {
    fn words(&self) -> usize {
        self.len()
    }

    fn load(&self, index: usize) -> u64 {
        self[index]
    }

    fn store(&mut self, index: usize, word: u64) {
        self[index] = word;
    }
}

/// Words that other threads may read while the store writes: every store
/// is atomic by the language's rules, and barriers are release fences.
impl Region for [AtomicU64] {
    fn words(&self) -> usize {
        self.len()
    }

    fn load(&self, index: usize) -> u64 {
        self[index].load(Ordering::Acquire)
    }

    fn store(&mut self, index: usize, word: u64) {
        atomic_store(self, index, word);
    }

    fn barrier(&mut self) {
        atomic_barrier();
    }
}

/// Atomic words need no exclusive borrow: a shared slice is a region, with
/// the same loads, stores and barriers as the slice itself.
impl Region for &[AtomicU64] {
    fn words(&self) -> usize {
        self.len()
    }

    fn load(&self, index: usize) -> u64 {
        <[AtomicU64] as Region>::load(self, index)
    }

    fn store(&mut self, index: usize, word: u64) {
        atomic_store(self, index, word);
    }

    fn barrier(&mut self) {
        atomic_barrier();
    }
}

fn atomic_store(words: &[AtomicU64], index: usize, word: u64) {
    words[index].store(word, Ordering::Relaxed);
}

fn atomic_barrier() {
    fence(Ordering::Release);
}

impl<R: Region + ?Sized> Region for &mut R {
    fn words(&self) -> usize {
        (**self).words()
    }

    fn load(&self, index: usize) -> u64 {
        (**self).load(index)
    }

    fn store(&mut self, index: usize, word: u64) {
        (**self).store(index, word);
    }

    fn barrier(&mut self) {
        (**self).barrier();
    }
}
