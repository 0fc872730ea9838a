//! A bit position inside a value of known width.

use core::fmt;

use crate::error::ParseError;

/// Bit position `0..WIDTH` (0 is the least significant bit).
///
/// # Invariants
/// The position is below `WIDTH`, so flipping it always changes the value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Bit<const WIDTH: u8>(u8);

/// A bit of a 64-bit register.
pub type RegisterBit = Bit<64>;

/// A bit of one byte of memory.
pub type ByteBit = Bit<8>;

impl<const WIDTH: u8> Bit<WIDTH> {
    /// How many positions there are.
    pub const WIDTH: u8 = WIDTH;

    /// The position, if it is below `WIDTH`.
    pub const fn new(position: u8) -> Option<Self> {
        if position < WIDTH {
            Some(Bit(position))
        } else {
            None
        }
    }

    /// The position, reduced modulo `WIDTH`: how the plan turns a random
    /// draw into a bit.
    pub(crate) const fn wrapping(position: u64) -> Self {
        // The remainder is below WIDTH, which fits in a u8.
        Bit((position % WIDTH as u64) as u8)
    }

    /// The position.
    pub const fn get(self) -> u8 {
        self.0
    }

    /// The mask with only this bit set.
    pub const fn mask(self) -> u64 {
        1 << self.0
    }

    pub(crate) fn parse(text: &str) -> Result<Self, ParseError> {
        let position: u8 = text.parse().map_err(|_| ParseError::BadNumber { what: "bit" })?;
        Self::new(position).ok_or(ParseError::OutOfRange {
            what: "bit",
            value: u64::from(position),
            limit: u64::from(WIDTH),
        })
    }
}

impl<const WIDTH: u8> fmt::Display for Bit<WIDTH> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_stay_below_the_width() {
        assert_eq!(RegisterBit::new(63).map(Bit::get), Some(63));
        assert_eq!(RegisterBit::new(64), None);
        assert_eq!(ByteBit::new(7).map(Bit::mask), Some(0x80));
        assert_eq!(ByteBit::new(8), None);
        assert_eq!(ByteBit::wrapping(13).get(), 5);
    }

    #[test]
    fn parsing_checks_the_range() {
        assert_eq!(ByteBit::parse("3"), Ok(Bit(3)));
        assert_eq!(
            ByteBit::parse("8"),
            Err(ParseError::OutOfRange { what: "bit", value: 8, limit: 8 })
        );
        assert_eq!(ByteBit::parse("x"), Err(ParseError::BadNumber { what: "bit" }));
    }
}
