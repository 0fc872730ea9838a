//! A deterministic share of a campaign's trials: shard `K/N`.
//!
//! Shard `K` of `N` holds the trials whose id is `K-1` modulo `N`: the
//! shards are disjoint, together they hold every trial, and a shard never
//! needs to know the campaign's size. Round-robin rather than contiguous
//! blocks, so every shard gets the same mix of early and late ids. `K`
//! counts from 1, as in `1/4 … 4/4`.

use core::fmt;
use core::str::FromStr;

use crate::trial_id::TrialId;

/// Why a shard was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ShardError {
    /// Not of the form `K/N`.
    #[error("a shard is written K/N, e.g. 2/8")]
    Malformed,
    /// `N` is zero.
    #[error("a campaign cannot be split into 0 shards")]
    NoShards,
    /// `K` is not in `1..=N`.
    #[error("shard {k} of {n} does not exist: K must be between 1 and {n}")]
    OutOfRange {
        /// The shard number given.
        k: u32,
        /// The shard count given.
        n: u32,
    },
}

/// Shard `k` of `n`.
///
/// # Invariants
/// `1 <= k <= n`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Shard {
    k: u32,
    n: u32,
}

impl Shard {
    /// The whole campaign: shard 1 of 1.
    pub const WHOLE: Shard = Shard { k: 1, n: 1 };

    /// Shard `k` of `n`.
    pub fn try_new(k: u32, n: u32) -> Result<Self, ShardError> {
        if n == 0 {
            return Err(ShardError::NoShards);
        }
        if k == 0 || k > n {
            return Err(ShardError::OutOfRange { k, n });
        }
        Ok(Shard { k, n })
    }

    /// The shard number, from 1.
    pub fn k(self) -> u32 {
        self.k
    }

    /// The number of shards.
    pub fn n(self) -> u32 {
        self.n
    }

    /// Whether trial `id` belongs to this shard.
    pub fn contains(self, id: TrialId) -> bool {
        id.0 % self.n == self.k - 1
    }

    /// This shard's ids among `0..trials`, in increasing order.
    pub fn ids(self, trials: u32) -> impl Iterator<Item = TrialId> {
        // Start at K-1 and step by N: exactly the ids `contains` accepts.
        (self.k - 1..trials).step_by(self.n as usize).map(TrialId)
    }
}

impl Default for Shard {
    fn default() -> Self {
        Shard::WHOLE
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.k, self.n)
    }
}

impl FromStr for Shard {
    type Err = ShardError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (k, n) = s.split_once('/').ok_or(ShardError::Malformed)?;
        let k = k.trim().parse().map_err(|_| ShardError::Malformed)?;
        let n = n.trim().parse().map_err(|_| ShardError::Malformed)?;
        Shard::try_new(k, n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_k_of_n() {
        let shard: Shard = "3/8".parse().unwrap();
        assert_eq!((shard.k(), shard.n()), (3, 8));
        assert_eq!(shard.to_string(), "3/8");
        assert_eq!("1/1".parse::<Shard>(), Ok(Shard::WHOLE));
    }

    #[test]
    fn refuses_shards_that_do_not_exist() {
        assert_eq!("0/4".parse::<Shard>(), Err(ShardError::OutOfRange { k: 0, n: 4 }));
        assert_eq!("5/4".parse::<Shard>(), Err(ShardError::OutOfRange { k: 5, n: 4 }));
        assert_eq!("1/0".parse::<Shard>(), Err(ShardError::NoShards));
        for bad in ["", "3", "3/", "/4", "a/b", "1/2/3", "-1/4"] {
            assert_eq!(bad.parse::<Shard>(), Err(ShardError::Malformed), "{bad:?}");
        }
    }

    #[test]
    fn shards_are_disjoint_and_together_complete() {
        let trials = 1_003;
        for n in [1, 2, 3, 7, 16] {
            let mut owners = vec![0u32; trials as usize];
            for k in 1..=n {
                let shard = Shard::try_new(k, n).unwrap();
                for id in shard.ids(trials) {
                    assert!(shard.contains(id));
                    owners[id.0 as usize] += 1;
                }
                let contained = (0..trials).filter(|&i| shard.contains(TrialId(i))).count();
                assert_eq!(contained, shard.ids(trials).count());
            }
            assert!(owners.iter().all(|&owners| owners == 1), "n = {n}");
        }
    }

    #[test]
    fn shard_sizes_differ_by_at_most_one() {
        let sizes: Vec<usize> = (1..=4).map(|k| Shard::try_new(k, 4).unwrap().ids(10).count()).collect();
        assert_eq!(sizes, [3, 3, 2, 2]);
    }

    #[test]
    fn a_shard_past_the_last_trial_is_empty() {
        assert_eq!(Shard::try_new(5, 8).unwrap().ids(3).count(), 0);
    }
}
