//! Timer calibration arithmetic: from a count measured against the PIT to a
//! timer frequency and a reload value.

/// Frequency of the PC's programmable interval timer (PIT) input clock, in Hz
/// (the classic 14.31818 MHz / 12).
pub const PIT_HZ: u64 = 1_193_182;

/// PIT reload value for a one-shot of `ms` milliseconds, if it fits the PIT's
/// 16-bit counter (at most about 54 ms).
pub fn pit_count_for_ms(ms: u64) -> Option<u16> {
    u16::try_from(PIT_HZ * ms / 1000).ok().filter(|&c| c > 0)
}

/// Frequency of a timer that advanced by `elapsed` counts during a PIT
/// one-shot of `pit_count` PIT ticks. Returns `None` for a zero interval.
pub fn timer_hz(elapsed: u64, pit_count: u16) -> Option<u64> {
    if pit_count == 0 {
        return None;
    }
    Some(elapsed * PIT_HZ / u64::from(pit_count))
}

/// Periodic reload value for a timer of `timer_hz` to fire `tick_hz` times a
/// second; at least 1, and clamped to the 32-bit counter.
pub fn reload_for(timer_hz: u64, tick_hz: u64) -> u32 {
    let ticks = timer_hz / tick_hz.max(1);
    u32::try_from(ticks.max(1)).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ten_ms_pit_count() {
        assert_eq!(pit_count_for_ms(10), Some(11_931));
        assert_eq!(pit_count_for_ms(0), None);
        assert_eq!(pit_count_for_ms(60), None, "does not fit 16 bits");
    }

    #[test]
    fn frequency_round_trip() {
        let count = pit_count_for_ms(10).unwrap();
        // A 62.5 MHz timer (1 GHz bus / 16) advances 625_000 counts in 10 ms.
        let hz = timer_hz(625_000, count).unwrap();
        assert!((62_400_000..62_600_000).contains(&hz), "{hz}");
        assert_eq!(reload_for(hz, 100), (hz / 100) as u32);
        assert_eq!(timer_hz(1, 0), None);
    }

    #[test]
    fn reload_is_clamped() {
        assert_eq!(reload_for(50, 100), 1);
        assert_eq!(reload_for(u64::MAX, 1), u32::MAX);
        assert_eq!(reload_for(1000, 0), 1000);
    }
}
