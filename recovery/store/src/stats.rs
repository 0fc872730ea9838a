//! [`Stats`]: what a store has done and found since it was opened.

use ecc::Counters;

/// Counts since the store was opened. They saturate rather than wrap.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Reads asked for.
    pub reads: u64,
    /// Writes committed.
    pub writes: u64,
    /// Reads that returned the older copy because the newer one was
    /// damaged beyond correction: the value of the write before last.
    pub fallbacks: u64,
    /// ECC outcomes of the words reads checked. Corrections here were made
    /// in the value returned, not in memory: [`crate::Store::scrub`] does that.
    pub read_words: Counters,
    /// ECC outcomes of the words scrubs checked; the corrected ones were
    /// rewritten.
    pub scrubbed_words: Counters,
}
