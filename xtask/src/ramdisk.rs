//! Packing the user programs into the boot ramdisk: a POSIX ustar archive,
//! which the kernel reads (`kernel_logic::ramdisk`).
//!
//! Headers are deterministic (fixed mode, owner and time), so the same
//! programs give the same archive, byte for byte.

use std::fs::File;
use std::path::{Path, PathBuf};

use crate::error::XtaskError;

/// File mode recorded for every program.
const MODE: u32 = 0o755;

/// Writes `programs` (name, ELF path) into the archive at `out`.
pub fn pack(programs: &[(String, PathBuf)], out: &Path) -> Result<(), XtaskError> {
    let io = |what: String| move |source| XtaskError::Io { what, source };
    if let Some(dir) = out.parent() {
        std::fs::create_dir_all(dir).map_err(io(format!("creating {}", dir.display())))?;
    }
    let file = File::create(out).map_err(io(format!("creating {}", out.display())))?;
    let mut archive = tar::Builder::new(file);
    for (name, path) in programs {
        let data = std::fs::read(path).map_err(io(format!("reading {}", path.display())))?;
        let mut header = tar::Header::new_ustar();
        header.set_size(data.len() as u64);
        header.set_mode(MODE);
        header.set_mtime(0);
        header.set_uid(0);
        header.set_gid(0);
        header.set_entry_type(tar::EntryType::Regular);
        archive
            .append_data(&mut header, name, data.as_slice())
            .map_err(io(format!("adding {name} to {}", out.display())))?;
    }
    archive.finish().map_err(io(format!("finishing {}", out.display())))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packs_files_deterministically_and_readably() {
        let dir = std::env::temp_dir().join(format!("lazarus-ramdisk-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let prog = dir.join("prog");
        std::fs::write(&prog, b"\x7fELF not really").unwrap();
        let programs = vec![("prog".to_string(), prog)];
        let (a, b) = (dir.join("a.tar"), dir.join("b.tar"));
        pack(&programs, &a).unwrap();
        pack(&programs, &b).unwrap();
        let bytes = std::fs::read(&a).unwrap();
        assert_eq!(bytes, std::fs::read(&b).unwrap(), "deterministic");
        let mut archive = tar::Archive::new(bytes.as_slice());
        let names: Vec<String> = archive
            .entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().display().to_string())
            .collect();
        assert_eq!(names, ["prog"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
