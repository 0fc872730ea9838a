//! The boot ramdisk: a POSIX ustar archive of the user programs.
//!
//! `cargo xtask build` packs the programs with the `tar` crate; the kernel
//! only reads. A tar archive is a sequence of 512-byte headers, each followed
//! by the file's bytes rounded up to 512, ended by zero blocks (POSIX.1-2001,
//! `pax` "ustar Interchange Format"). Anything malformed ends the listing
//! with an error; it never makes the reader go out of bounds.

/// Size of a tar block.
const BLOCK: usize = 512;

/// A file in the archive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct File<'a> {
    /// Its name (path inside the archive).
    pub name: &'a str,
    /// Its contents.
    pub data: &'a [u8],
}

/// What is wrong with an archive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RamdiskError {
    /// A header's checksum does not match.
    BadChecksum {
        /// Byte offset of the header.
        at: usize,
    },
    /// A header field is not a valid number or name.
    BadHeader {
        /// Byte offset of the header.
        at: usize,
    },
    /// A file's data runs past the end of the archive.
    Truncated {
        /// Byte offset of the header.
        at: usize,
    },
}

/// The files of `archive`, in order (regular files only).
pub fn files(archive: &[u8]) -> impl Iterator<Item = Result<File<'_>, RamdiskError>> {
    let mut at = 0;
    let mut done = false;
    core::iter::from_fn(move || loop {
        if done {
            return None;
        }
        let Some(header) = archive.get(at..at + BLOCK) else {
            done = true;
            return None;
        };
        if header.iter().all(|&b| b == 0) {
            done = true;
            return None;
        }
        match entry(archive, header, at) {
            Err(e) => {
                done = true;
                return Some(Err(e));
            }
            Ok((file, next)) => {
                at = next;
                if let Some(f) = file {
                    return Some(Ok(f));
                }
            }
        }
    })
}

/// Finds the file called `name`.
pub fn find<'a>(archive: &'a [u8], name: &str) -> Result<Option<&'a [u8]>, RamdiskError> {
    for f in files(archive) {
        let f = f?;
        if f.name == name {
            return Ok(Some(f.data));
        }
    }
    Ok(None)
}

fn octal(field: &[u8]) -> Option<usize> {
    let digits = field.iter().take_while(|&&b| b != 0 && b != b' ');
    let mut value: usize = 0;
    for &d in digits {
        if !(b'0'..=b'7').contains(&d) {
            return None;
        }
        value = value.checked_mul(8)?.checked_add(usize::from(d - b'0'))?;
    }
    Some(value)
}

fn text(field: &[u8]) -> Option<&str> {
    let len = field.iter().position(|&b| b == 0).unwrap_or(field.len());
    core::str::from_utf8(&field[..len]).ok()
}

/// One header at `at`: the file if it is a regular file, and the next offset.
fn entry<'a>(archive: &'a [u8], h: &'a [u8], at: usize) -> Result<(Option<File<'a>>, usize), RamdiskError> {
    let stored = octal(&h[148..156]).ok_or(RamdiskError::BadHeader { at })?;
    // The checksum counts its own field as eight spaces.
    let sum: usize = h.iter().enumerate().map(|(i, &b)| if (148..156).contains(&i) { 32 } else { usize::from(b) }).sum();
    if sum != stored {
        return Err(RamdiskError::BadChecksum { at });
    }
    let size = octal(&h[124..136]).ok_or(RamdiskError::BadHeader { at })?;
    let start = at + BLOCK;
    let end = start.checked_add(size).ok_or(RamdiskError::Truncated { at })?;
    let data = archive.get(start..end).ok_or(RamdiskError::Truncated { at })?;
    let next = start + size.next_multiple_of(BLOCK);
    let name = text(&h[0..100]).ok_or(RamdiskError::BadHeader { at })?;
    let prefix = text(&h[345..500]).unwrap_or("");
    let regular = matches!(h[156], b'0' | 0);
    if !regular || !prefix.is_empty() {
        // Directories, links and long paths are skipped: programs have
        // short flat names.
        return Ok((None, next));
    }
    Ok((Some(File { name, data }), next))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A ustar header for a regular file.
    fn header(name: &str, size: usize) -> [u8; BLOCK] {
        let mut h = [0u8; BLOCK];
        h[..name.len()].copy_from_slice(name.as_bytes());
        h[100..107].copy_from_slice(b"0000644");
        h[124..135].copy_from_slice(format!("{size:011o}").as_bytes());
        h[156] = b'0';
        h[257..263].copy_from_slice(b"ustar\0");
        h[263..265].copy_from_slice(b"00");
        h[148..156].fill(b' ');
        let sum: usize = h.iter().map(|&b| usize::from(b)).sum();
        h[148..155].copy_from_slice(format!("{sum:06o}\0").as_bytes());
        h
    }

    fn archive(files: &[(&str, &[u8])]) -> Vec<u8> {
        let mut out = Vec::new();
        for (name, data) in files {
            out.extend(header(name, data.len()));
            out.extend(*data);
            out.resize(out.len().next_multiple_of(BLOCK), 0);
        }
        out.extend([0u8; 2 * BLOCK]);
        out
    }

    #[test]
    fn lists_and_finds_files() {
        let a = archive(&[("hello", b"ELF..."), ("empty", b""), ("big", &[7u8; 1000])]);
        let names: Vec<_> = files(&a).map(|f| f.unwrap().name).collect();
        assert_eq!(names, ["hello", "empty", "big"]);
        assert_eq!(find(&a, "big").unwrap(), Some(&[7u8; 1000][..]));
        assert_eq!(find(&a, "empty").unwrap(), Some(&b""[..]));
        assert_eq!(find(&a, "missing").unwrap(), None);
    }

    #[test]
    fn bad_checksum_and_truncation_are_errors() {
        let mut a = archive(&[("hello", b"data")]);
        a[0] = b'j';
        assert_eq!(files(&a).next(), Some(Err(RamdiskError::BadChecksum { at: 0 })));
        let a = archive(&[("big", &[1u8; 1000])]);
        assert_eq!(files(&a[..700]).next(), Some(Err(RamdiskError::Truncated { at: 0 })));
        assert_eq!(files(&[]).next(), None);
        assert_eq!(files(&a[..100]).next(), None, "shorter than a header: no files");
    }

    #[test]
    fn garbage_never_panics() {
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..200 {
            let mut a = archive(&[("a", b"12345"), ("b", &[9u8; 600])]);
            for _ in 0..8 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let i = (x as usize) % a.len();
                a[i] = (x >> 32) as u8;
            }
            let _ = files(&a).count();
        }
    }
}
