//! Where a fault lands, in its model's own terms.
//!
//! Spellings on the command line (fields separated by `.`):
//!
//! | model | location | example |
//! |---|---|---|
//! | `regflip` | register and bit | `rip.17` |
//! | `memflip` | region, byte offset, bit | `heap.40312.3` |
//! | `panic`, `hang`, `stackoverflow` | site | `site.31` |
//! | `cfi` | what is corrupted, site | `ret.31`, `fnptr.31` |
//! | `wildptr` | which pointer, site | `null.31`, `wild.31` |
//!
//! The host does not know a server's sizes or how many injection sites it
//! has, so offsets and sites are drawn from fixed spaces and the guest
//! reduces them modulo what the target really has (see [`SITE_SPACE`] and
//! [`Location::Memory`]).

use core::fmt;
use core::str::FromStr;

use crate::bit::{ByteBit, RegisterBit};
use crate::error::ParseError;

/// Site indices are drawn from `0..SITE_SPACE`; the guest takes the index
/// modulo its number of sites in the target. 2^16 keeps the spelling short
/// and the modulo bias below 0.2 % for up to 100 sites.
pub const SITE_SPACE: u32 = 1 << 16;

/// Word that starts a plain site location.
const SITE_WORD: &str = "site";

macro_rules! named_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal,)* }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)*
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];

            /// The spelling on the command line.
            pub const fn name(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)*
                }
            }

            fn from_name(text: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|value| value.name() == text)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.name())
            }
        }
    };
}

named_enum! {
    /// A register of a thread's saved context, in hardware encoding order
    /// (`rax` = 0 … `r15` = 15), then `rip` and `rflags`.
    Register {
        /// Accumulator.
        Rax = "rax",
        /// Counter.
        Rcx = "rcx",
        /// Data.
        Rdx = "rdx",
        /// Base.
        Rbx = "rbx",
        /// Stack pointer.
        Rsp = "rsp",
        /// Frame pointer.
        Rbp = "rbp",
        /// Source index.
        Rsi = "rsi",
        /// Destination index.
        Rdi = "rdi",
        /// General-purpose register 8.
        R8 = "r8",
        /// General-purpose register 9.
        R9 = "r9",
        /// General-purpose register 10.
        R10 = "r10",
        /// General-purpose register 11.
        R11 = "r11",
        /// General-purpose register 12.
        R12 = "r12",
        /// General-purpose register 13.
        R13 = "r13",
        /// General-purpose register 14.
        R14 = "r14",
        /// General-purpose register 15.
        R15 = "r15",
        /// Instruction pointer.
        Rip = "rip",
        /// Flags.
        Rflags = "rflags",
    }
}

named_enum! {
    /// A memory region of a server instance.
    Region {
        /// The server thread's stack.
        Stack = "stack",
        /// The server's private heap.
        Heap = "heap",
        /// The server's writable static data.
        Data = "data",
        /// The server's code.
        Text = "text",
        /// The server's slots in the resilient store (kept across restarts).
        Store = "store",
    }
}

named_enum! {
    /// What a `cfi` fault corrupts.
    CfiKind {
        /// A return address on the stack.
        ReturnAddress = "ret",
        /// A function pointer about to be called.
        FunctionPointer = "fnptr",
    }
}

named_enum! {
    /// What a `wildptr` fault dereferences.
    PointerKind {
        /// The null pointer.
        Null = "null",
        /// A non-canonical address, which no mapping can make valid.
        Wild = "wild",
    }
}

/// Where a fault lands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Location {
    /// `regflip`: one bit of one register.
    Register {
        /// The register.
        register: Register,
        /// The bit flipped.
        bit: RegisterBit,
    },
    /// `memflip`: one bit of one byte of a region. The guest takes `offset`
    /// modulo the region's size in bytes (bias below size / 2^32); a region
    /// the target does not have means the fault is never injected.
    Memory {
        /// The region.
        region: Region,
        /// Byte offset, before reduction modulo the region's size.
        offset: u32,
        /// The bit flipped in that byte.
        bit: ByteBit,
    },
    /// `panic`, `hang`, `stackoverflow`: the site, before reduction modulo
    /// the target's number of sites for that model.
    Site(u32),
    /// `cfi`: what is corrupted, at which site.
    Cfi {
        /// Return address or function pointer.
        kind: CfiKind,
        /// The site, before reduction.
        site: u32,
    },
    /// `wildptr`: which pointer, at which site.
    WildPtr {
        /// Null or non-canonical.
        kind: PointerKind,
        /// The site, before reduction.
        site: u32,
    },
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Register { register, bit } => write!(f, "{register}.{bit}"),
            Location::Memory { region, offset, bit } => write!(f, "{region}.{offset}.{bit}"),
            Location::Site(site) => write!(f, "{SITE_WORD}.{site}"),
            Location::Cfi { kind, site } => write!(f, "{kind}.{site}"),
            Location::WildPtr { kind, site } => write!(f, "{kind}.{site}"),
        }
    }
}

fn parse_site(text: &str) -> Result<u32, ParseError> {
    text.parse().map_err(|_| ParseError::BadNumber { what: "site" })
}

fn shape(expected: &'static str) -> ParseError {
    ParseError::WrongShape { what: "location", expected }
}

impl FromStr for Location {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut fields = s.split('.');
        let word = fields.next().unwrap_or("");
        let first = fields.next();
        let second = fields.next();
        if fields.next().is_some() {
            return Err(shape("at most three `.`-separated fields"));
        }
        if let Some(register) = Register::from_name(word) {
            return match (first, second) {
                (Some(bit), None) => Ok(Location::Register { register, bit: RegisterBit::parse(bit)? }),
                _ => Err(shape("REGISTER.BIT")),
            };
        }
        if let Some(region) = Region::from_name(word) {
            return match (first, second) {
                (Some(offset), Some(bit)) => Ok(Location::Memory {
                    region,
                    offset: offset.parse().map_err(|_| ParseError::BadNumber { what: "offset" })?,
                    bit: ByteBit::parse(bit)?,
                }),
                _ => Err(shape("REGION.OFFSET.BIT")),
            };
        }
        let (Some(site), None) = (first, second) else {
            return Err(shape("KIND.SITE"));
        };
        if word == SITE_WORD {
            return Ok(Location::Site(parse_site(site)?));
        }
        if let Some(kind) = CfiKind::from_name(word) {
            return Ok(Location::Cfi { kind, site: parse_site(site)? });
        }
        if let Some(kind) = PointerKind::from_name(word) {
            return Ok(Location::WildPtr { kind, site: parse_site(site)? });
        }
        Err(ParseError::UnknownLocation)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reg(register: Register, bit: u8) -> Location {
        Location::Register { register, bit: RegisterBit::new(bit).unwrap() }
    }

    #[test]
    fn every_kind_of_location_has_the_documented_spelling() {
        assert_eq!(reg(Register::Rip, 17).to_string(), "rip.17");
        let memory = Location::Memory { region: Region::Heap, offset: 40312, bit: ByteBit::new(3).unwrap() };
        assert_eq!(memory.to_string(), "heap.40312.3");
        assert_eq!(Location::Site(31).to_string(), "site.31");
        assert_eq!(Location::Cfi { kind: CfiKind::ReturnAddress, site: 31 }.to_string(), "ret.31");
        assert_eq!(Location::Cfi { kind: CfiKind::FunctionPointer, site: 2 }.to_string(), "fnptr.2");
        assert_eq!(Location::WildPtr { kind: PointerKind::Null, site: 31 }.to_string(), "null.31");
        assert_eq!(Location::WildPtr { kind: PointerKind::Wild, site: 0 }.to_string(), "wild.0");
    }

    #[test]
    fn all_registers_and_regions_round_trip() {
        assert_eq!(Register::ALL.len(), 18);
        for &register in Register::ALL {
            for bit in [0, 63] {
                let location = reg(register, bit);
                assert_eq!(location.to_string().parse::<Location>(), Ok(location));
            }
        }
        for &region in Region::ALL {
            let location = Location::Memory { region, offset: u32::MAX, bit: ByteBit::new(7).unwrap() };
            assert_eq!(location.to_string().parse::<Location>(), Ok(location));
        }
    }

    #[test]
    fn malformed_locations_say_what_is_wrong() {
        assert_eq!("rax.64".parse::<Location>(), Err(ParseError::OutOfRange { what: "bit", value: 64, limit: 64 }));
        assert_eq!("heap.12.8".parse::<Location>(), Err(ParseError::OutOfRange { what: "bit", value: 8, limit: 8 }));
        assert_eq!("rax".parse::<Location>(), Err(shape("REGISTER.BIT")));
        assert_eq!("rax.1.2".parse::<Location>(), Err(shape("REGISTER.BIT")));
        assert_eq!("heap.12".parse::<Location>(), Err(shape("REGION.OFFSET.BIT")));
        assert_eq!("heap.x.1".parse::<Location>(), Err(ParseError::BadNumber { what: "offset" }));
        assert_eq!("site".parse::<Location>(), Err(shape("KIND.SITE")));
        assert_eq!("site.x".parse::<Location>(), Err(ParseError::BadNumber { what: "site" }));
        assert_eq!("jump.3".parse::<Location>(), Err(ParseError::UnknownLocation));
        assert_eq!("a.b.c.d".parse::<Location>(), Err(shape("at most three `.`-separated fields")));
        assert_eq!("".parse::<Location>(), Err(shape("KIND.SITE")));
    }
}
