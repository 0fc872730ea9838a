//! Reading a function's language-specific data area (LSDA): which landing
//! pad, if any, serves a code address.
//!
//! The LSDA (in `.gcc_except_table`) is the table the personality routine
//! consults for each frame (Itanium C++ ABI, "Exception Handling Tables";
//! LLVM's `EHStreamer`). Its call-site table lists address ranges of a
//! function with their landing pad and action. An address in no range is in
//! a *gap*: the compiler decided nothing there can unwind. Rust's own
//! personality aborts on a gap; the recovery personality treats it as "run
//! nothing in this frame" (see `docs/unwinding.md`).

/// DWARF pointer-encoding byte meaning "no value".
const DW_EH_PE_OMIT: u8 = 0xFF;

/// A source of LSDA bytes: a slice in tests, raw memory in the kernel.
pub trait Bytes {
    /// The byte at `offset`, if readable.
    fn byte(&self, offset: usize) -> Option<u8>;
}

impl Bytes for &[u8] {
    fn byte(&self, offset: usize) -> Option<u8> {
        self.get(offset).copied()
    }
}

/// What the personality should do for a frame at some address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Covered, but nothing to run here: keep unwinding.
    None,
    /// A cleanup landing pad at this address: drops the frame's live values.
    Cleanup(u64),
    /// A catching landing pad at this address (Rust's `catch_unwind`).
    Catch(u64),
    /// The address is in no call-site range.
    Gap,
}

/// The LSDA could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LsdaError {
    /// It ended early or was unreadable.
    Truncated,
    /// A pointer encoding the parser does not know.
    BadEncoding(u8),
    /// An action record index points outside the table.
    BadAction,
}

struct Reader<'b, B: Bytes> {
    bytes: &'b B,
    /// Base address of the bytes, for pc-relative pointers.
    base: u64,
    pos: usize,
}

impl<B: Bytes> Reader<'_, B> {
    fn u8(&mut self) -> Result<u8, LsdaError> {
        let b = self.bytes.byte(self.pos).ok_or(LsdaError::Truncated)?;
        self.pos += 1;
        Ok(b)
    }

    fn fixed(&mut self, n: usize) -> Result<u64, LsdaError> {
        let mut v = 0u64;
        for i in 0..n {
            v |= u64::from(self.u8()?) << (8 * i);
        }
        Ok(v)
    }

    fn uleb(&mut self) -> Result<u64, LsdaError> {
        let (mut v, mut shift) = (0u64, 0u32);
        loop {
            let b = self.u8()?;
            if shift < 64 {
                v |= u64::from(b & 0x7F) << shift;
            }
            shift += 7;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
    }

    fn sleb(&mut self) -> Result<i64, LsdaError> {
        let (mut v, mut shift) = (0i64, 0u32);
        loop {
            let b = self.u8()?;
            if shift < 64 {
                v |= i64::from(b & 0x7F) << shift;
            }
            shift += 7;
            if b & 0x80 == 0 {
                if shift < 64 && b & 0x40 != 0 {
                    v |= -1i64 << shift;
                }
                return Ok(v);
            }
        }
    }

    /// A pointer in DWARF exception-header encoding `enc` (only the forms
    /// compilers emit in LSDAs: absolute or pc-relative, fixed or LEB128).
    fn encoded(&mut self, enc: u8) -> Result<u64, LsdaError> {
        let at = self.base.wrapping_add(self.pos as u64);
        let value = match enc & 0x0F {
            0x00 => self.fixed(8)?,
            0x01 => self.uleb()?,
            0x02 => self.fixed(2)?,
            0x03 => self.fixed(4)?,
            0x04 => self.fixed(8)?,
            0x09 => self.sleb()? as u64,
            0x0A => self.fixed(2)? as u16 as i16 as i64 as u64,
            0x0B => self.fixed(4)? as u32 as i32 as i64 as u64,
            0x0C => self.fixed(8)?,
            _ => return Err(LsdaError::BadEncoding(enc)),
        };
        match enc & 0x70 {
            0x00 => Ok(value),
            0x10 => Ok(at.wrapping_add(value)),
            _ => Err(LsdaError::BadEncoding(enc)),
        }
    }
}

/// Finds the action for code address `ip` in the function starting at
/// `func_start`, whose LSDA is `bytes` located at address `base`.
///
/// `ip` must already point into the instruction of interest (for a return
/// address, the caller subtracts one).
pub fn find_action<B: Bytes>(bytes: &B, base: u64, func_start: u64, ip: u64) -> Result<Action, LsdaError> {
    let mut r = Reader { bytes, base, pos: 0 };
    let lp_enc = r.u8()?;
    let lp_start = if lp_enc == DW_EH_PE_OMIT { func_start } else { r.encoded(lp_enc)? };
    let ttype_enc = r.u8()?;
    if ttype_enc != DW_EH_PE_OMIT {
        let _ttype_offset = r.uleb()?;
    }
    let cs_enc = r.u8()?;
    let cs_len = r.uleb()? as usize;
    let table_end = r.pos + cs_len;
    let action_table = table_end;
    while r.pos < table_end {
        let start = r.encoded(cs_enc)?;
        let len = r.encoded(cs_enc)?;
        let pad = r.encoded(cs_enc)?;
        let action = r.uleb()?;
        let from = func_start.wrapping_add(start);
        if ip < from {
            // The table is sorted: `ip` lies before this range, in a gap.
            break;
        }
        if ip < from.wrapping_add(len) {
            if pad == 0 {
                return Ok(Action::None);
            }
            let pad = lp_start.wrapping_add(pad);
            if action == 0 {
                return Ok(Action::Cleanup(pad));
            }
            // Action records are (type filter, next) pairs of SLEB128; a
            // filter of zero is a cleanup, anything else a handler (Rust
            // only emits catch-alls, for `catch_unwind`).
            let mut a = Reader { bytes, base, pos: action_table + (action as usize - 1) };
            let filter = a.sleb().map_err(|_| LsdaError::BadAction)?;
            return Ok(if filter == 0 { Action::Cleanup(pad) } else { Action::Catch(pad) });
        }
    }
    Ok(Action::Gap)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An LSDA with uleb128 call sites: [0x10, +0x10) pad 0x60 cleanup;
    /// [0x20, +0x08) no pad; [0x40, +0x10) pad 0x70 catch (action 1).
    fn sample() -> Vec<u8> {
        let mut table = Vec::new();
        for (start, len, pad, action) in [(0x10u8, 0x10u8, 0x60u8, 0u8), (0x20, 0x08, 0, 0), (0x40, 0x10, 0x70, 1)] {
            table.extend([start, len, pad, action]);
        }
        let mut lsda = vec![DW_EH_PE_OMIT, DW_EH_PE_OMIT, 0x01, table.len() as u8];
        lsda.extend(table);
        lsda.extend([0x01, 0x00]); // action 1: filter 1 (catch), no next
        lsda
    }

    #[test]
    fn finds_cleanup_none_catch_and_gaps() {
        let l = sample();
        let f = 0x1000;
        let find = |ip| find_action(&l.as_slice(), 0, f, ip).unwrap();
        assert_eq!(find(f), Action::Gap, "before the first range");
        assert_eq!(find(f + 0x10), Action::Cleanup(f + 0x60));
        assert_eq!(find(f + 0x1F), Action::Cleanup(f + 0x60));
        assert_eq!(find(f + 0x20), Action::None);
        assert_eq!(find(f + 0x28), Action::Gap, "between ranges");
        assert_eq!(find(f + 0x45), Action::Catch(f + 0x70));
        assert_eq!(find(f + 0x50), Action::Gap, "after the last range");
    }

    #[test]
    fn udata4_call_sites_and_lp_start() {
        // lpstart given as absolute udata4 (0x03), call sites as udata4.
        let mut l = vec![0x03, 0x00, 0x20, 0x00, 0x00, DW_EH_PE_OMIT, 0x03, 13];
        for v in [0x4u32, 0x8, 0x30] {
            l.extend(v.to_le_bytes());
        }
        l.push(0); // the action is always ULEB128
        assert_eq!(find_action(&l.as_slice(), 0, 0x1000, 0x1006), Ok(Action::Cleanup(0x2030)));
        assert_eq!(find_action(&l.as_slice(), 0, 0x1000, 0x100C), Ok(Action::Gap));
    }

    #[test]
    fn truncated_and_bad_encodings_are_errors() {
        let l = sample();
        assert_eq!(find_action(&&l[..5], 0, 0, 0x15), Err(LsdaError::Truncated));
        let bad = [DW_EH_PE_OMIT, DW_EH_PE_OMIT, 0x07, 4, 0, 0, 0, 0];
        assert_eq!(find_action(&bad.as_slice(), 0, 0, 0), Err(LsdaError::BadEncoding(0x07)));
        let mut bad_action = sample();
        bad_action.truncate(bad_action.len() - 2);
        assert_eq!(find_action(&bad_action.as_slice(), 0, 0x1000, 0x1045), Err(LsdaError::BadAction));
    }

    #[test]
    fn leb128_edge_cases() {
        let bytes = [0xE5, 0x8E, 0x26, 0x7F, 0x80, 0x7F];
        let mut r = Reader { bytes: &&bytes[..], base: 0, pos: 0 };
        assert_eq!(r.uleb(), Ok(624_485));
        assert_eq!(r.sleb(), Ok(-1));
        assert_eq!(r.sleb(), Ok(-128));
    }
}
