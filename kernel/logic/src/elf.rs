//! The program loader's plan: which pages of a user ELF image go where, with
//! which rights — or why the image is refused.
//!
//! The kernel maps exactly what the plan says; everything a malformed image
//! could get wrong is checked here, on the host, first: the file's class,
//! byte order, machine and type; every loadable segment's range (inside user
//! space, inside the file, no overlap with another, sizes that add up); and
//! the entry point (inside an executable segment).

use core::ops::Range;

use object::elf::{FileHeader64, ELFCLASS64, ELFDATA2LSB, EM_X86_64, ET_EXEC, PF_W, PF_X, PT_LOAD};
use object::read::elf::{FileHeader, ProgramHeader};
use object::LittleEndian;

/// Page size of the mappings the plan describes.
pub const PAGE: u64 = 4096;
/// Most loadable segments an image may have: real programs have four or
/// five; a bound keeps a hostile image from making the kernel loop long.
pub const MAX_SEGMENTS: usize = 16;

/// Why an image was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ElfError {
    /// Not an ELF file, or its headers are cut short or malformed.
    Malformed,
    /// Not a 64-bit little-endian image.
    WrongClass,
    /// Not built for x86_64.
    WrongMachine(u16),
    /// Not a static executable (`ET_EXEC`): shared objects and PIE images
    /// would need relocation, which the loader does not do.
    NotExecutable(u16),
    /// A segment reaches outside user space.
    OutsideUserSpace {
        /// The segment's index.
        segment: usize,
    },
    /// A segment's file bytes lie outside the file, or it has more file
    /// bytes than memory bytes.
    BadFileRange {
        /// The segment's index.
        segment: usize,
    },
    /// Two segments share a page.
    Overlap {
        /// The later segment's index.
        segment: usize,
    },
    /// More loadable segments than [`MAX_SEGMENTS`], or none.
    SegmentCount(usize),
    /// The entry point is not in an executable segment.
    BadEntry(u64),
}

/// One loadable segment, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Segment {
    /// The pages it occupies: page-aligned start and end.
    pub pages: Range<u64>,
    /// Where its file bytes go.
    pub vaddr: u64,
    /// Its bytes in the file (the rest of its memory is zero).
    pub file: Range<usize>,
    /// Writable.
    pub write: bool,
    /// Executable.
    pub execute: bool,
}

/// A checked image: its segments (at most [`MAX_SEGMENTS`]) and entry point.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    segments: [Option<Segment>; MAX_SEGMENTS],
    /// Where execution starts.
    pub entry: u64,
}

impl Plan {
    /// The segments, in file order.
    pub fn segments(&self) -> impl Iterator<Item = &Segment> {
        self.segments.iter().flatten()
    }
}

/// Checks `image` and plans its loading into the user range `user`.
pub fn plan(image: &[u8], user: Range<u64>) -> Result<Plan, ElfError> {
    let ident = image.get(..16).ok_or(ElfError::Malformed)?;
    if ident[..4] != *b"\x7fELF" {
        return Err(ElfError::Malformed);
    }
    if ident[4] != ELFCLASS64 || ident[5] != ELFDATA2LSB {
        return Err(ElfError::WrongClass);
    }
    let header = FileHeader64::<LittleEndian>::parse(image).map_err(|_| ElfError::Malformed)?;
    let e = LittleEndian;
    let machine = header.e_machine(e);
    if machine != EM_X86_64 {
        return Err(ElfError::WrongMachine(machine));
    }
    let kind = header.e_type(e);
    if kind != ET_EXEC {
        return Err(ElfError::NotExecutable(kind));
    }
    let phdrs = header.program_headers(e, image).map_err(|_| ElfError::Malformed)?;
    let mut segments: [Option<Segment>; MAX_SEGMENTS] = Default::default();
    let mut count = 0;
    for ph in phdrs.iter().filter(|p| p.p_type(e) == PT_LOAD) {
        let index = count;
        if count == MAX_SEGMENTS {
            return Err(ElfError::SegmentCount(phdrs.iter().filter(|p| p.p_type(e) == PT_LOAD).count()));
        }
        let (vaddr, memsz) = (ph.p_vaddr(e), ph.p_memsz(e));
        let (offset, filesz) = (ph.p_offset(e), ph.p_filesz(e));
        let end = vaddr.checked_add(memsz).ok_or(ElfError::OutsideUserSpace { segment: index })?;
        if vaddr < user.start || end > user.end {
            return Err(ElfError::OutsideUserSpace { segment: index });
        }
        let file_end = offset.checked_add(filesz).ok_or(ElfError::BadFileRange { segment: index })?;
        if filesz > memsz || file_end > image.len() as u64 {
            return Err(ElfError::BadFileRange { segment: index });
        }
        let pages = vaddr & !(PAGE - 1)..end.next_multiple_of(PAGE);
        if segments.iter().flatten().any(|s| s.pages.start < pages.end && pages.start < s.pages.end) {
            return Err(ElfError::Overlap { segment: index });
        }
        let flags = ph.p_flags(e);
        segments[index] = Some(Segment {
            pages,
            vaddr,
            file: offset as usize..file_end as usize,
            write: flags & PF_W != 0,
            execute: flags & PF_X != 0,
        });
        count += 1;
    }
    if count == 0 {
        return Err(ElfError::SegmentCount(0));
    }
    let entry = header.e_entry(e);
    let in_code = segments.iter().flatten().any(|s| s.execute && (s.vaddr..s.pages.end).contains(&entry));
    if !in_code {
        return Err(ElfError::BadEntry(entry));
    }
    Ok(Plan { segments, entry })
}

#[cfg(test)]
mod tests {
    use super::*;

    const USER: Range<u64> = 0x20_0000..0x0000_8000_0000_0000;

    /// A minimal image: ELF header, program headers, then the segments'
    /// bytes. Each segment is (vaddr, file bytes, memsz, flags).
    fn image(entry: u64, segs: &[(u64, usize, u64, u32)]) -> Vec<u8> {
        let phoff = 64u64;
        let data_start = phoff + 56 * segs.len() as u64;
        let mut out = vec![0u8; data_start as usize];
        out[..4].copy_from_slice(b"\x7fELF");
        out[4] = ELFCLASS64;
        out[5] = ELFDATA2LSB;
        out[6] = 1; // EV_CURRENT
        out[16..18].copy_from_slice(&ET_EXEC.to_le_bytes());
        out[18..20].copy_from_slice(&EM_X86_64.to_le_bytes());
        out[20..24].copy_from_slice(&1u32.to_le_bytes());
        out[24..32].copy_from_slice(&entry.to_le_bytes());
        out[32..40].copy_from_slice(&phoff.to_le_bytes());
        out[52..54].copy_from_slice(&64u16.to_le_bytes()); // e_ehsize
        out[54..56].copy_from_slice(&56u16.to_le_bytes()); // e_phentsize
        out[56..58].copy_from_slice(&(segs.len() as u16).to_le_bytes());
        let mut offset = data_start;
        for (i, &(vaddr, filesz, memsz, flags)) in segs.iter().enumerate() {
            let ph = &mut out[64 + 56 * i..64 + 56 * (i + 1)];
            ph[0..4].copy_from_slice(&PT_LOAD.to_le_bytes());
            ph[4..8].copy_from_slice(&flags.to_le_bytes());
            ph[8..16].copy_from_slice(&offset.to_le_bytes());
            ph[16..24].copy_from_slice(&vaddr.to_le_bytes());
            ph[24..32].copy_from_slice(&vaddr.to_le_bytes());
            ph[32..40].copy_from_slice(&(filesz as u64).to_le_bytes());
            ph[40..48].copy_from_slice(&memsz.to_le_bytes());
            ph[48..56].copy_from_slice(&PAGE.to_le_bytes());
            offset += filesz as u64;
        }
        for &(_, filesz, _, _) in segs {
            out.extend(std::iter::repeat_n(0xAB, filesz));
        }
        out
    }

    const RX: u32 = 5; // PF_R | PF_X
    const RW: u32 = 6; // PF_R | PF_W

    #[test]
    fn plans_a_good_image() {
        let img = image(0x40_0010, &[(0x40_0000, 100, 100, RX), (0x40_1000, 8, 0x2000, RW)]);
        let p = plan(&img, USER).expect("good image");
        let segs: Vec<_> = p.segments().collect();
        assert_eq!(segs.len(), 2);
        assert_eq!(segs[0].pages, 0x40_0000..0x40_1000);
        assert!(segs[0].execute && !segs[0].write);
        assert_eq!(segs[1].pages, 0x40_1000..0x40_3000, "bss rounds up");
        assert!(segs[1].write && !segs[1].execute);
        assert_eq!(&img[segs[0].file.clone()], &[0xAB; 100][..]);
        assert_eq!(p.entry, 0x40_0010);
    }

    #[test]
    fn refuses_truncated_images() {
        let img = image(0x40_0000, &[(0x40_0000, 100, 100, RX)]);
        for cut in [0, 3, 10, 63, 100, img.len() - 1] {
            assert!(plan(&img[..cut], USER).is_err(), "cut at {cut}");
        }
    }

    #[test]
    fn refuses_wrong_class_machine_and_type() {
        let good = image(0x40_0000, &[(0x40_0000, 16, 16, RX)]);
        let mut img = good.clone();
        img[4] = 1; // ELFCLASS32
        assert_eq!(plan(&img, USER), Err(ElfError::WrongClass));
        let mut img = good.clone();
        img[18] = 0x28; // EM_ARM
        assert_eq!(plan(&img, USER), Err(ElfError::WrongMachine(0x28)));
        let mut img = good.clone();
        img[16] = 3; // ET_DYN
        assert_eq!(plan(&img, USER), Err(ElfError::NotExecutable(3)));
        let mut img = good;
        img[0] = b'X';
        assert_eq!(plan(&img, USER), Err(ElfError::Malformed));
    }

    #[test]
    fn refuses_bad_segments() {
        let kernel = image(0xFFFF_8000_0000_0000, &[(0xFFFF_8000_0000_0000, 16, 16, RX)]);
        assert_eq!(plan(&kernel, USER), Err(ElfError::OutsideUserSpace { segment: 0 }));
        let null = image(0x1000, &[(0x1000, 16, 16, RX)]);
        assert_eq!(plan(&null, USER), Err(ElfError::OutsideUserSpace { segment: 0 }));
        let wraps = image(0x40_0000, &[(0x40_0000, 16, u64::MAX - 0x1000, RX)]);
        assert_eq!(plan(&wraps, USER), Err(ElfError::OutsideUserSpace { segment: 0 }));
        let overlap = image(0x40_0000, &[(0x40_0000, 16, 16, RX), (0x40_0800, 16, 16, RW)]);
        assert_eq!(plan(&overlap, USER), Err(ElfError::Overlap { segment: 1 }));
        let more_file_than_memory = image(0x40_0000, &[(0x40_0000, 32, 16, RX)]);
        assert_eq!(plan(&more_file_than_memory, USER), Err(ElfError::BadFileRange { segment: 0 }));
        let mut beyond_file = image(0x40_0000, &[(0x40_0000, 16, 16, RX)]);
        beyond_file[64 + 8..64 + 16].copy_from_slice(&(1u64 << 40).to_le_bytes()); // p_offset
        assert_eq!(plan(&beyond_file, USER), Err(ElfError::BadFileRange { segment: 0 }));
    }

    #[test]
    fn refuses_bad_entry_and_segment_counts() {
        let data_entry = image(0x40_1000, &[(0x40_0000, 16, 16, RX), (0x40_1000, 16, 16, RW)]);
        assert_eq!(plan(&data_entry, USER), Err(ElfError::BadEntry(0x40_1000)));
        let none = image(0x40_0000, &[]);
        assert_eq!(plan(&none, USER), Err(ElfError::SegmentCount(0)));
        let many: Vec<_> = (0..17u64).map(|i| (0x40_0000 + i * PAGE, 8usize, 8u64, RX)).collect();
        assert_eq!(plan(&image(0x40_0000, &many), USER), Err(ElfError::SegmentCount(17)));
    }
}
