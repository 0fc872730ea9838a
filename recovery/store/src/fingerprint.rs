//! Type fingerprints: a compile-time hash of a storable type's shape.
//!
//! A slot records the fingerprint of the type written to it, so that after a
//! restart, or a server upgrade, a value is never decoded as another type.
//! The hash covers type names, field and variant names, field types
//! (through their own fingerprints) and array lengths: any change to the
//! declaration makes older values read as a type mismatch, never as a
//! misinterpreted value. Module paths are left out, so moving a type
//! between modules keeps its stored values readable.
//!
//! The hash is FNV-1a (64-bit): simple enough to run in `const fn`, and
//! well spread. It detects accidental mismatches; it is no defence against
//! a crafted collision, which no server has reason to build.

/// FNV-1a 64-bit offset basis, from the FNV specification.
const FNV_OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;

/// FNV-1a 64-bit prime, from the FNV specification.
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// A fingerprint being computed, one part at a time.
///
/// Built in `const` context by [`crate::Storable`] implementations:
/// `Fingerprint::new("MyType").with_name("field").with_type(<u32 as Storable>::FINGERPRINT).value()`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fingerprint(u64);

impl Fingerprint {
    /// Starts a fingerprint with a type's name.
    pub const fn new(type_name: &str) -> Self {
        Self(FNV_OFFSET_BASIS).with_name(type_name)
    }

    /// Mixes in a name (of a field, a variant or a type). Its length is
    /// mixed first, so `("ab", "c")` and `("a", "bc")` differ.
    pub const fn with_name(self, name: &str) -> Self {
        let mut hash = self.with_count(name.len()).0;
        let bytes = name.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            hash = (hash ^ bytes[i] as u64).wrapping_mul(FNV_PRIME);
            i += 1;
        }
        Self(hash)
    }

    /// Mixes in the fingerprint of a component type.
    pub const fn with_type(self, fingerprint: u64) -> Self {
        self.with_u64(fingerprint)
    }

    /// Mixes in a count: an array length, a capacity, a number of fields.
    pub const fn with_count(self, count: usize) -> Self {
        self.with_u64(count as u64)
    }

    const fn with_u64(self, value: u64) -> Self {
        let bytes = value.to_le_bytes();
        let mut hash = self.0;
        let mut i = 0;
        while i < bytes.len() {
            hash = (hash ^ bytes[i] as u64).wrapping_mul(FNV_PRIME);
            i += 1;
        }
        Self(hash)
    }

    /// The finished fingerprint.
    pub const fn value(self) -> u64 {
        self.0
    }
}
