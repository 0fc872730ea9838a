//! The boot memory map: which physical ranges are RAM we may use.
//!
//! The bootloader hands the kernel a list of regions with a kind each. This
//! module turns that list into what the kernel needs: totals for the boot
//! banner and the whole 4 KiB frames inside usable RAM.

use core::ops::Range;

/// Size of a physical frame and of a page, in bytes.
pub const FRAME_SIZE: u64 = 4096;

/// What a physical range holds, as far as the kernel cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RegionKind {
    /// Free RAM the kernel may hand out.
    Usable,
    /// RAM the bootloader used (page tables, the kernel image, boot info).
    Bootloader,
    /// Anything else the firmware reported (reserved, ACPI, MMIO holes).
    Reserved,
}

/// One physical range `[start, end)` of one kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Region {
    /// First byte.
    pub start: u64,
    /// One past the last byte.
    pub end: u64,
    /// What the range holds.
    pub kind: RegionKind,
}

impl Region {
    /// Length in bytes (zero for an inverted range).
    pub fn len(&self) -> u64 {
        self.end.saturating_sub(self.start)
    }

    /// True if the range holds no bytes.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The whole frames inside the range: start rounded up, end rounded down.
    pub fn whole_frames(&self) -> Range<u64> {
        let first = self.start.div_ceil(FRAME_SIZE);
        let last = self.end / FRAME_SIZE;
        first..last.max(first)
    }
}

/// Totals for the boot banner.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MemorySummary {
    /// Bytes in usable regions.
    pub usable_bytes: u64,
    /// Bytes of RAM in all regions the bootloader reported as RAM
    /// (usable plus bootloader-used).
    pub ram_bytes: u64,
    /// Number of whole usable frames.
    pub usable_frames: u64,
    /// One past the highest usable frame number: the size a frame bitmap
    /// covering all usable RAM needs.
    pub frame_limit: u64,
}

/// Sums up a memory map.
pub fn summarize(regions: &[Region]) -> MemorySummary {
    let mut s = MemorySummary::default();
    for r in regions {
        match r.kind {
            RegionKind::Usable => {
                let frames = r.whole_frames();
                s.usable_bytes += r.len();
                s.ram_bytes += r.len();
                s.usable_frames += frames.end - frames.start;
                if frames.end > frames.start {
                    s.frame_limit = s.frame_limit.max(frames.end);
                }
            }
            RegionKind::Bootloader => s.ram_bytes += r.len(),
            RegionKind::Reserved => {}
        }
    }
    s
}

/// Finds `count` whole frames at the start of the first usable region that
/// has them, never frame 0 (a null physical address is never handed out).
pub fn find_frames(regions: &[Region], count: u64) -> Option<Range<u64>> {
    regions
        .iter()
        .filter(|r| r.kind == RegionKind::Usable)
        .map(|r| {
            let f = r.whole_frames();
            f.start.max(1)..f.end
        })
        .find(|f| f.end.saturating_sub(f.start) >= count)
        .map(|f| f.start..f.start + count)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(start: u64, end: u64, kind: RegionKind) -> Region {
        Region { start, end, kind }
    }

    #[test]
    fn whole_frames_round_inward() {
        assert_eq!(r(0, 4096, RegionKind::Usable).whole_frames(), 0..1);
        assert_eq!(r(1, 8192, RegionKind::Usable).whole_frames(), 1..2);
        assert_eq!(r(4096, 8191, RegionKind::Usable).whole_frames(), 1..1);
        assert_eq!(r(100, 200, RegionKind::Usable).whole_frames(), 1..1);
        assert_eq!(r(200, 100, RegionKind::Usable).whole_frames(), 1..1);
    }

    #[test]
    fn summary_counts_usable_and_ram() {
        let map = [
            r(0, 0x9_f000, RegionKind::Usable),
            r(0x9_f000, 0x10_0000, RegionKind::Reserved),
            r(0x10_0000, 0x20_0000, RegionKind::Bootloader),
            r(0x20_0000, 0x1000_0000, RegionKind::Usable),
            r(0xfee0_0000, 0xfee0_1000, RegionKind::Reserved),
        ];
        let s = summarize(&map);
        assert_eq!(s.usable_bytes, 0x9_f000 + 0x1000_0000 - 0x20_0000);
        assert_eq!(s.ram_bytes, s.usable_bytes + 0x10_0000);
        assert_eq!(s.usable_frames, 0x9f + (0x1000_0000 - 0x20_0000) / 4096);
        assert_eq!(s.frame_limit, 0x1000_0000 / 4096);
    }

    #[test]
    fn empty_map_is_all_zero() {
        assert_eq!(summarize(&[]), MemorySummary::default());
    }

    #[test]
    fn find_frames_skips_frame_zero_and_small_regions() {
        let map = [
            r(0, 0x2000, RegionKind::Usable),
            r(0x2000, 0x10_0000, RegionKind::Reserved),
            r(0x10_0000, 0x10_3000, RegionKind::Usable),
        ];
        assert_eq!(find_frames(&map, 1), Some(1..2));
        assert_eq!(find_frames(&map, 2), Some(0x100..0x102));
        assert_eq!(find_frames(&map, 3), Some(0x100..0x103));
        assert_eq!(find_frames(&map, 4), None);
    }
}
