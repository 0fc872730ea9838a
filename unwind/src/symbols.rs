//! Symbol names for code addresses, from the image's own ELF symbol table.
//!
//! The kernel finds its ELF file in memory (the bootloader leaves it there);
//! the trusted address space will get its image the same way. Names are kept
//! as the table has them and demangled when printed.

use alloc::vec::Vec;
use core::fmt;

use object::read::elf::ElfFile64;
use object::{Endianness, Object, ObjectSymbol, SymbolKind};

/// A function symbol, relocated.
#[derive(Clone, Copy, Debug)]
struct Sym<'a> {
    start: u64,
    size: u64,
    name: &'a str,
}

/// The function symbols of one image, sorted by address.
#[derive(Debug)]
pub struct Symbols<'a> {
    funcs: Vec<Sym<'a>>,
}

/// Why an image's symbols could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SymbolError {
    /// Not a 64-bit ELF file, or a malformed one.
    NotElf,
    /// The file has no function symbols (stripped).
    NoSymbols,
}

/// An address resolved to a function.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Resolved<'a> {
    /// Mangled name, as in the symbol table.
    pub name: &'a str,
    /// Bytes from the function's start.
    pub offset: u64,
}

impl fmt::Display for Resolved<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `{:#}` leaves out the hash suffix of Rust symbol names.
        write!(f, "{:#}+{:#x}", rustc_demangle::demangle(self.name), self.offset)
    }
}

impl<'a> Symbols<'a> {
    /// Reads the function symbols of the ELF file `data`, whose code is
    /// loaded `bias` bytes above the addresses in its symbol table.
    pub fn from_elf(data: &'a [u8], bias: u64) -> Result<Self, SymbolError> {
        let file = ElfFile64::<Endianness>::parse(data).map_err(|_| SymbolError::NotElf)?;
        let mut funcs: Vec<Sym<'a>> = file
            .symbols()
            .filter(|s| s.kind() == SymbolKind::Text && s.address() != 0)
            .filter_map(|s| Some(Sym { start: s.address().wrapping_add(bias), size: s.size(), name: s.name().ok()? }))
            .filter(|s| !s.name.is_empty())
            .collect();
        if funcs.is_empty() {
            return Err(SymbolError::NoSymbols);
        }
        funcs.sort_unstable_by_key(|s| s.start);
        Ok(Self { funcs })
    }

    /// Number of function symbols.
    pub fn len(&self) -> usize {
        self.funcs.len()
    }

    /// True if there are none (never, for a value made by `from_elf`).
    pub fn is_empty(&self) -> bool {
        self.funcs.is_empty()
    }

    /// The function holding `addr`: the closest symbol at or below it whose
    /// size covers it (or, for symbols of unknown size, the closest one).
    pub fn lookup(&self, addr: u64) -> Option<Resolved<'a>> {
        let i = self.funcs.partition_point(|s| s.start <= addr).checked_sub(1)?;
        let s = self.funcs[i];
        let offset = addr - s.start;
        (s.size == 0 || offset < s.size).then_some(Resolved { name: s.name, offset })
    }

    /// The address of the first function whose demangled name contains
    /// `needle`.
    pub fn find(&self, needle: &str) -> Option<u64> {
        use alloc::string::ToString;
        self.funcs.iter().find(|s| rustc_demangle::demangle(s.name).to_string().contains(needle)).map(|s| s.start)
    }
}

static INSTALLED: spin::Once<Symbols<'static>> = spin::Once::new();

/// Makes `symbols` the table used to print addresses (first call wins).
pub fn install(symbols: Symbols<'static>) {
    INSTALLED.call_once(|| symbols);
}

/// The installed table.
pub fn installed() -> Option<&'static Symbols<'static>> {
    INSTALLED.get()
}

/// Writes `addr` in hex, followed by its function and offset if known.
pub fn write_address(f: &mut fmt::Formatter<'_>, addr: u64) -> fmt::Result {
    write!(f, "{addr:#018x}")?;
    match installed().and_then(|s| s.lookup(addr)) {
        Some(r) => write!(f, " {r}"),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[inline(never)]
    fn a_function_to_find(x: u64) -> u64 {
        std::hint::black_box(x).wrapping_mul(3)
    }

    #[test]
    fn resolves_its_own_functions() {
        let data = std::fs::read("/proc/self/exe").expect("own executable");
        let unbiased = Symbols::from_elf(&data, 0).expect("test binaries have symbols");
        let link_addr = unbiased.find("a_function_to_find").expect("symbol present");
        let runtime = a_function_to_find as *const () as u64;
        let syms = Symbols::from_elf(&data, runtime - link_addr).expect("symbols");
        assert!(a_function_to_find(1) == 3);
        let r = syms.lookup(runtime + 2).expect("resolved");
        assert_eq!(r.offset, 2);
        let text = r.to_string();
        assert!(text.contains("a_function_to_find+0x2"), "{text}");
        assert!(!text.contains("::h"), "hash suffix left out: {text}");
        assert_eq!(syms.lookup(0), None);
    }

    #[test]
    fn garbage_is_not_an_elf_file() {
        assert_eq!(Symbols::from_elf(b"not an elf file at all", 0).unwrap_err(), SymbolError::NotElf);
        assert_eq!(Symbols::from_elf(&[], 0).unwrap_err(), SymbolError::NotElf);
    }
}
