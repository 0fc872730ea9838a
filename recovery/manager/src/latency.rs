//! Recovery latency statistics: from the fault to the first request the new instance served.
//!
//! Exact count, minimum, maximum, last and sum; quantiles (median, p99)
//! from a fixed histogram of power-of-two buckets, so the statistics take
//! the same small space after ten recoveries or ten million.

use crate::time::Ticks;

/// Buckets in the histogram: bucket 0 holds latency 0, bucket `i` holds
/// latencies of bit length `i` (from `2^(i-1)` to `2^i - 1` ticks), so 64
/// more buckets cover every `u64`.
const BUCKETS: usize = u64::BITS as usize + 1;

/// Parts per thousand in a quantile: 500 is the median, 990 the 99th
/// percentile. Per mille keeps the arithmetic integral (no floats in the
/// TAS).
pub const PER_MILLE: u16 = 1000;

/// Latencies of one server's recoveries.
///
/// # Invariants
/// `count` is the number of samples recorded and equals the sum of the
/// histogram's buckets (both saturate at `u64::MAX`); `min <= last <= max`
/// hold whenever `count > 0`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LatencyStats {
    count: u64,
    last: Ticks,
    min: Ticks,
    max: Ticks,
    sum: u64,
    buckets: [u64; BUCKETS],
}

impl Default for LatencyStats {
    fn default() -> Self {
        LatencyStats { count: 0, last: Ticks::ZERO, min: Ticks::ZERO, max: Ticks::ZERO, sum: 0, buckets: [0; BUCKETS] }
    }
}

impl LatencyStats {
    /// Records one recovery's latency.
    pub fn record(&mut self, latency: Ticks) {
        self.min = if self.count == 0 { latency } else { self.min.min(latency) };
        self.max = self.max.max(latency);
        self.last = latency;
        self.count = self.count.saturating_add(1);
        self.sum = self.sum.saturating_add(latency.get());
        let bucket = &mut self.buckets[bucket_of(latency)];
        *bucket = bucket.saturating_add(1);
    }

    /// Recoveries measured.
    pub const fn count(&self) -> u64 {
        self.count
    }

    /// The latest latency; `None` before any.
    pub const fn last(&self) -> Option<Ticks> {
        if self.count == 0 {
            None
        } else {
            Some(self.last)
        }
    }

    /// The shortest latency; `None` before any.
    pub const fn min(&self) -> Option<Ticks> {
        if self.count == 0 {
            None
        } else {
            Some(self.min)
        }
    }

    /// The longest latency; `None` before any.
    pub const fn max(&self) -> Option<Ticks> {
        if self.count == 0 {
            None
        } else {
            Some(self.max)
        }
    }

    /// The mean latency, rounded down; `None` before any.
    pub const fn mean(&self) -> Option<Ticks> {
        match self.sum.checked_div(self.count) {
            Some(mean) => Some(Ticks::new(mean)),
            None => None,
        }
    }

    /// An upper bound on the `per_mille`-th quantile: the latency that at
    /// least `per_mille` thousandths of the recoveries did not exceed, to
    /// within a factor of two (the bucket's upper edge, clamped to the
    /// exact minimum and maximum). `None` before any recovery; `per_mille`
    /// above [`PER_MILLE`] reads as the maximum.
    pub fn quantile(&self, per_mille: u16) -> Option<Ticks> {
        if self.count == 0 {
            return None;
        }
        let per_mille = u128::from(per_mille.min(PER_MILLE));
        // The rank of the sample sought, 1-based, rounded up: ⌈count × q⌉,
        // at least 1. u128 so the product cannot overflow.
        let wanted = (u128::from(self.count) * per_mille).div_ceil(u128::from(PER_MILLE)).max(1);
        let mut seen: u128 = 0;
        for (bucket, &n) in self.buckets.iter().enumerate() {
            seen += u128::from(n);
            if seen >= wanted {
                let upper = Ticks::new(bucket_upper_edge(bucket));
                return Some(upper.clamp(self.min, self.max));
            }
        }
        Some(self.max)
    }

    /// An upper bound on the median (see [`LatencyStats::quantile`]).
    pub fn median(&self) -> Option<Ticks> {
        self.quantile(PER_MILLE / 2)
    }

    /// An upper bound on the 99th percentile (see [`LatencyStats::quantile`]).
    pub fn p99(&self) -> Option<Ticks> {
        const P99: u16 = PER_MILLE - PER_MILLE / 100;
        self.quantile(P99)
    }
}

/// The bucket of a latency: its bit length.
fn bucket_of(latency: Ticks) -> usize {
    (u64::BITS - latency.get().leading_zeros()) as usize
}

/// The largest latency bucket `bucket` holds.
fn bucket_upper_edge(bucket: usize) -> u64 {
    match bucket {
        0 => 0,
        b if b >= u64::BITS as usize => u64::MAX,
        b => (1u64 << b) - 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_stats_say_none() {
        let stats = LatencyStats::default();
        assert_eq!(
            (stats.count(), stats.last(), stats.max(), stats.median(), stats.mean()),
            (0, None, None, None, None)
        );
    }

    #[test]
    fn buckets_are_bit_lengths() {
        assert_eq!(bucket_of(Ticks::ZERO), 0);
        assert_eq!(bucket_of(Ticks::new(1)), 1);
        assert_eq!(bucket_of(Ticks::new(3)), 2);
        assert_eq!(bucket_of(Ticks::new(4)), 3);
        assert_eq!(bucket_of(Ticks::new(u64::MAX)), 64);
        assert_eq!(bucket_upper_edge(3), 7);
        assert_eq!(bucket_upper_edge(64), u64::MAX);
    }

    #[test]
    fn a_single_sample_is_every_quantile() {
        let mut stats = LatencyStats::default();
        stats.record(Ticks::new(100));
        for q in [0, 1, 500, 990, 1000, u16::MAX] {
            assert_eq!(stats.quantile(q), Some(Ticks::new(100)));
        }
    }
}
