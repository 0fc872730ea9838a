//! SplitMix64: the small generator behind the fault plan.
//!
//! SplitMix64 (Steele, Lea and Flood, "Fast splittable pseudorandom number
//! generators", OOPSLA 2014; the 64-bit finaliser is Stafford's "Mix13")
//! keeps one 64-bit counter, adds a fixed odd constant per draw and hashes
//! the counter with a bijective mixer. It was chosen because it is tiny,
//! has no bad seeds (every state, including 0, gives a full-period stream),
//! passes BigCrush, and its mixer doubles as the hash that gives every trial
//! its own stream ([`SplitMix64::for_trial`]).
//!
//! It is not cryptographic, and need not be: the plan only has to spread
//! faults evenly and be reproducible from two numbers.

use crate::seed::Seed;
use crate::trial_id::TrialId;

/// The per-draw increment: 2^64 divided by the golden ratio, rounded to odd
/// (the published SplitMix64 constant; odd, so the counter's period is 2^64).
const GOLDEN_GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

/// First multiplier of the Mix13 finaliser (published constant).
const MIX_MULTIPLIER_1: u64 = 0xBF58_476D_1CE4_E5B9;

/// Second multiplier of the Mix13 finaliser (published constant).
const MIX_MULTIPLIER_2: u64 = 0x94D0_49BB_1331_11EB;

/// The finaliser's three shifts (published constants).
const MIX_SHIFT_1: u32 = 30;
const MIX_SHIFT_2: u32 = 27;
const MIX_SHIFT_3: u32 = 31;

/// Bits in a draw, for the multiply-shift range reduction.
const DRAW_BITS: u32 = 64;

/// A SplitMix64 stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// A stream starting from `state`.
    pub const fn new(state: u64) -> Self {
        SplitMix64 { state }
    }

    /// The stream of one trial: started from
    /// `mix(seed ^ mix(id))`. `mix` is a bijection on 64-bit values, so for
    /// one seed every trial id gets a different starting state, and trial
    /// `id`'s draws never depend on any other trial's.
    pub const fn for_trial(seed: Seed, id: TrialId) -> Self {
        SplitMix64::new(mix(seed.0 ^ mix(id.0 as u64)))
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(GOLDEN_GAMMA);
        mix(self.state)
    }

    /// A value in `0..bound`, by Lemire's multiply-shift (the high half of
    /// `draw * bound`): no division, and the bias is below `bound / 2^64`,
    /// which is nothing for the small bounds of a plan. A `bound` of 0
    /// gives 0.
    pub fn below(&mut self, bound: u64) -> u64 {
        let wide = u128::from(self.next_u64()) * u128::from(bound);
        // The high half of a product of two 64-bit values fits in 64 bits.
        (wide >> DRAW_BITS) as u64
    }

    /// An index into a slice of `len` items (`len` > 0).
    pub fn index(&mut self, len: usize) -> usize {
        // usize is at most 64 bits on every target this runs on, and the
        // result is below `len`, so both conversions are exact.
        self.below(len as u64) as usize
    }
}

/// The Mix13 finaliser: a bijection on 64-bit values that spreads every
/// input bit over every output bit.
const fn mix(value: u64) -> u64 {
    let mut z = value;
    z = (z ^ (z >> MIX_SHIFT_1)).wrapping_mul(MIX_MULTIPLIER_1);
    z = (z ^ (z >> MIX_SHIFT_2)).wrapping_mul(MIX_MULTIPLIER_2);
    z ^ (z >> MIX_SHIFT_3)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_reference_output_for_seed_zero() {
        // The first outputs of the reference implementation (Vigna's
        // splitmix64.c) started from state 0.
        let mut rng = SplitMix64::new(0);
        assert_eq!(rng.next_u64(), 0xE220_A839_7B1D_CDAF);
        assert_eq!(rng.next_u64(), 0x6E78_9E6A_A1B9_65F4);
        assert_eq!(rng.next_u64(), 0x06C4_5D18_8009_454F);
    }

    #[test]
    fn below_stays_in_range_and_reaches_every_value() {
        let mut rng = SplitMix64::new(1);
        let mut seen = [0u32; 7];
        for _ in 0..7_000 {
            let v = rng.below(7);
            assert!(v < 7);
            seen[v as usize] += 1;
        }
        // 1000 expected per value; 800 is more than 6 standard deviations off.
        assert!(seen.iter().all(|&n| n > 800), "{seen:?}");
        assert_eq!(SplitMix64::new(1).below(0), 0);
    }

    #[test]
    fn trials_of_one_seed_start_from_different_states() {
        let seed = Seed(42);
        let mut firsts: Vec<u64> =
            (0..10_000).map(|i| SplitMix64::for_trial(seed, TrialId(i)).next_u64()).collect();
        firsts.sort_unstable();
        firsts.dedup();
        assert_eq!(firsts.len(), 10_000);
        assert_ne!(
            SplitMix64::for_trial(Seed(1), TrialId(0)),
            SplitMix64::for_trial(Seed(2), TrialId(0))
        );
    }
}
