//! Symbol names for code addresses, from the image's own ELF symbol table.
//!
//! The kernel finds its ELF file in memory (the bootloader leaves it there)
//! and [`install`]s its table. A ring-3 image has no copy of its own file:
//! it sets a [`Resolver`] instead (the trusted address space's asks the
//! kernel, which has the image, through the `symbolize` system call), used
//! when no table is installed. Names are kept as the table has them and
//! demangled when printed.

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

impl Resolved<'_> {
    /// Writes the text `Display` gives (`name+0xoffset`, demangled) into
    /// `buf`, cut at a character boundary if it does not fit; returns the
    /// bytes written. Allocates nothing.
    pub fn write_into(&self, buf: &mut [u8]) -> usize {
        write_truncated(buf, format_args!("{self}"))
    }
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
        self.holding(addr).map(|s| Resolved { name: s.name, offset: addr - s.start })
    }

    /// The start and size in bytes of the function holding `addr`, for a
    /// symbol whose size the table gives (`None` for one of unknown size).
    pub fn extent(&self, addr: u64) -> Option<(u64, u64)> {
        self.holding(addr).filter(|s| s.size != 0).map(|s| (s.start, s.size))
    }

    /// The closest symbol at or below `addr` whose size covers it, or
    /// which has no size.
    fn holding(&self, addr: u64) -> Option<Sym<'a>> {
        let i = self.funcs.partition_point(|s| s.start <= addr).checked_sub(1)?;
        let s = self.funcs[i];
        (s.size == 0 || addr - s.start < s.size).then_some(s)
    }

    /// The address of the first function whose demangled name contains
    /// `needle`.
    pub fn find(&self, needle: &str) -> Option<u64> {
        use alloc::string::ToString;
        self.funcs.iter().find(|s| rustc_demangle::demangle(s.name).to_string().contains(needle)).map(|s| s.start)
    }
}

/// Formats `args` into `buf`, keeping the longest prefix that fits and
/// ends at a character boundary (so the bytes are valid UTF-8); returns its
/// length. Allocates nothing.
pub fn write_truncated(buf: &mut [u8], args: fmt::Arguments<'_>) -> usize {
    struct Cut<'b> {
        buf: &'b mut [u8],
        len: usize,
    }
    impl fmt::Write for Cut<'_> {
        fn write_str(&mut self, s: &str) -> fmt::Result {
            let room = self.buf.len() - self.len;
            let fits = if s.len() <= room { s.len() } else { (0..=room).rev().find(|&i| s.is_char_boundary(i)).unwrap_or(0) };
            self.buf[self.len..self.len + fits].copy_from_slice(&s.as_bytes()[..fits]);
            self.len += fits;
            // Stop the formatting once full: nothing more would fit.
            if fits < s.len() { Err(fmt::Error) } else { Ok(()) }
        }
    }
    let mut cut = Cut { buf, len: 0 };
    // An error only means the text was cut.
    let _ = fmt::write(&mut cut, args);
    cut.len
}

/// Resolves a code address for a ring-3 image: writes its `name+0xoffset`
/// text into the buffer and returns the bytes written, or `None` if the
/// address has no symbol. It runs while a fault is printed: it must not
/// allocate (the heap may be the corrupted thing) nor panic.
pub type Resolver = fn(u64, &mut [u8]) -> Option<usize>;

/// Bytes of the stack buffer a resolver writes into: the longest symbol
/// text a backtrace line shows (demangled Rust paths of trait methods are
/// about a hundred bytes; longer ones are cut).
const RESOLVED_TEXT_MAX: usize = 256;

static INSTALLED: spin::Once<Symbols<'static>> = spin::Once::new();
static RESOLVER: spin::Once<Resolver> = spin::Once::new();

/// Makes `symbols` the table used to print addresses (first call wins).
pub fn install(symbols: Symbols<'static>) {
    INSTALLED.call_once(|| symbols);
}

/// The installed table.
pub fn installed() -> Option<&'static Symbols<'static>> {
    INSTALLED.get()
}

/// Makes `resolver` the way to name addresses when no table is installed
/// (first call wins).
pub fn set_resolver(resolver: Resolver) {
    RESOLVER.call_once(|| resolver);
}

/// Writes `addr` in hex, followed by its function and offset if known: from
/// the installed table if there is one, else from the resolver if one is
/// set.
pub fn write_address(f: &mut fmt::Formatter<'_>, addr: u64) -> fmt::Result {
    write_address_with(f, addr, installed(), RESOLVER.get().copied())
}

fn write_address_with(
    f: &mut fmt::Formatter<'_>,
    addr: u64,
    table: Option<&Symbols<'_>>,
    resolver: Option<Resolver>,
) -> fmt::Result {
    write!(f, "{addr:#018x}")?;
    if let Some(table) = table {
        return match table.lookup(addr) {
            Some(r) => write!(f, " {r}"),
            None => Ok(()),
        };
    }
    let Some(resolve) = resolver else { return Ok(()) };
    let mut buf = [0u8; RESOLVED_TEXT_MAX];
    let Some(n) = resolve(addr, &mut buf) else { return Ok(()) };
    // The resolver's text is trusted no further than this: its valid UTF-8
    // prefix, within the buffer.
    let text = match core::str::from_utf8(&buf[..n.min(buf.len())]) {
        Ok(t) => t,
        Err(e) => core::str::from_utf8(&buf[..e.valid_up_to()]).unwrap_or_default(),
    };
    if text.is_empty() {
        return Ok(());
    }
    write!(f, " {text}")
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
        let (start, size) = syms.extent(runtime + 2).expect("sized symbol");
        assert_eq!(start, runtime);
        assert!(size > 2, "the function is longer than 2 bytes: {size}");
        assert_eq!(syms.extent(start + size - 1), Some((start, size)), "last byte");
        assert_ne!(syms.extent(start + size), Some((start, size)), "one past the end is another function or none");
        assert_eq!(syms.extent(0), None);
    }

    /// `write_address_with` as a string.
    struct Line<'s>(u64, Option<&'s Symbols<'s>>, Option<Resolver>);

    impl fmt::Display for Line<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write_address_with(f, self.0, self.1, self.2)
        }
    }

    fn resolve_known(addr: u64, buf: &mut [u8]) -> Option<usize> {
        (addr == 0x1234).then(|| write_truncated(buf, format_args!("server::handle+0x4")))
    }

    fn resolve_bad_utf8(_: u64, buf: &mut [u8]) -> Option<usize> {
        buf[..4].copy_from_slice(b"ab\xffc");
        Some(4)
    }

    fn resolve_overlong(_: u64, buf: &mut [u8]) -> Option<usize> {
        buf.fill(b'x');
        Some(usize::MAX)
    }

    #[test]
    fn the_resolver_names_addresses_when_no_table_is_installed() {
        assert_eq!(Line(0x1234, None, Some(resolve_known)).to_string(), "0x0000000000001234 server::handle+0x4");
        assert_eq!(Line(0x9999, None, Some(resolve_known)).to_string(), "0x0000000000009999", "no symbol");
        assert_eq!(Line(0x1234, None, None).to_string(), "0x0000000000001234", "neither");
        assert_eq!(Line(1, None, Some(resolve_bad_utf8)).to_string(), "0x0000000000000001 ab", "valid prefix");
        let long = Line(1, None, Some(resolve_overlong)).to_string();
        assert_eq!(long.len(), 18 + 1 + RESOLVED_TEXT_MAX, "a length past the buffer is cut to it");
    }

    #[test]
    fn an_installed_table_wins_over_the_resolver() {
        let data = std::fs::read("/proc/self/exe").expect("own executable");
        let syms = Symbols::from_elf(&data, 0).expect("symbols");
        let addr = syms.find("a_function_to_find").expect("symbol present");
        let text = Line(addr + 1, Some(&syms), Some(resolve_overlong)).to_string();
        assert!(text.contains("a_function_to_find+0x1"), "{text}");
        assert!(!text.contains("xx"), "resolver not asked: {text}");
        assert_eq!(Line(0, Some(&syms), Some(resolve_overlong)).to_string(), "0x0000000000000000", "table says no");
    }

    #[test]
    fn truncated_writes_stop_at_character_boundaries() {
        let mut buf = [0u8; 8];
        assert_eq!(write_truncated(&mut buf, format_args!("{}+{:#x}", "ab", 0x1f)), 7);
        assert_eq!(&buf[..7], b"ab+0x1f");
        assert_eq!(write_truncated(&mut buf, format_args!("{}", "0123456789")), 8);
        assert_eq!(&buf, b"01234567");
        // "é" is two bytes: with one byte of room left, it does not go in half.
        assert_eq!(write_truncated(&mut buf, format_args!("abcdefg{}", "é")), 7);
        assert_eq!(write_truncated(&mut buf, format_args!("abcdef{}", "éz")), 8, "é fits, z does not");
        assert_eq!(write_truncated(&mut [], format_args!("abc")), 0);
    }

    #[test]
    fn resolved_text_is_written_into_a_buffer() {
        let data = std::fs::read("/proc/self/exe").expect("own executable");
        let syms = Symbols::from_elf(&data, 0).expect("symbols");
        let addr = syms.find("a_function_to_find").expect("symbol present");
        let r = syms.lookup(addr + 2).expect("resolved");
        let mut buf = [0u8; 256];
        let n = r.write_into(&mut buf);
        assert_eq!(core::str::from_utf8(&buf[..n]).expect("utf-8"), r.to_string());
        let mut small = [0u8; 5];
        assert_eq!(r.write_into(&mut small), 5);
        assert_eq!(&small, &r.to_string().as_bytes()[..5]);
    }

    #[test]
    fn garbage_is_not_an_elf_file() {
        assert_eq!(Symbols::from_elf(b"not an elf file at all", 0).unwrap_err(), SymbolError::NotElf);
        assert_eq!(Symbols::from_elf(&[], 0).unwrap_err(), SymbolError::NotElf);
    }
}
