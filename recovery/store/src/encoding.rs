//! The byte encoding of storable values: [`Encoder`], [`Decoder`] and their errors.
//!
//! Every storable type has a fixed encoded size ([`crate::Storable::SIZE`]):
//! integers little-endian, then fields in declaration order, variants as a
//! one-byte tag followed by their fields and zero padding up to the largest
//! variant. A fixed size lets a slot be sized at compile time and makes a
//! value that decodes with bytes to spare, or too few, a detectable error.
//!
//! Encoders and decoders are made by the store (over its ECC words) and by
//! [`crate::to_bytes`] / [`crate::from_bytes`] (over byte slices); a
//! hand-written `Storable` implementation only calls their methods.

use core::fmt;

/// Where an [`Encoder`] puts bytes.
pub(crate) trait ByteSink {
    /// Appends bytes; a sink that is full drops the rest and remembers.
    fn put(&mut self, bytes: &[u8]);
}

/// Where a [`Decoder`] takes bytes from.
pub(crate) trait ByteSource {
    /// Fills `bytes` with the next bytes; `false` if the input ends first.
    fn take(&mut self, bytes: &mut [u8]) -> bool;
}

/// Zeros put at once when padding: enough for most padding in one call.
const ZEROS: [u8; 64] = [0; 64];

/// Writes the bytes of a value.
pub struct Encoder<'a> {
    sink: &'a mut dyn ByteSink,
    written: usize,
}

impl<'a> Encoder<'a> {
    pub(crate) fn new(sink: &'a mut dyn ByteSink) -> Self {
        Self { sink, written: 0 }
    }

    /// Appends bytes.
    pub fn put_bytes(&mut self, bytes: &[u8]) {
        self.sink.put(bytes);
        self.written += bytes.len();
    }

    /// Appends one byte.
    pub fn put_u8(&mut self, byte: u8) {
        self.put_bytes(&[byte]);
    }

    /// Appends `count` zero bytes: the padding after a shorter variant or
    /// the unused part of a fixed-capacity container.
    pub fn put_zeros(&mut self, mut count: usize) {
        while count > 0 {
            let chunk = count.min(ZEROS.len());
            self.put_bytes(&ZEROS[..chunk]);
            count -= chunk;
        }
    }

    /// Bytes appended so far.
    pub fn written(&self) -> usize {
        self.written
    }
}

/// Reads the bytes of a value back.
pub struct Decoder<'a> {
    source: &'a mut dyn ByteSource,
    consumed: usize,
}

impl<'a> Decoder<'a> {
    pub(crate) fn new(source: &'a mut dyn ByteSource) -> Self {
        Self { source, consumed: 0 }
    }

    /// Takes the next `N` bytes.
    ///
    /// # Errors
    /// [`DecodeError::UnexpectedEnd`] if the input has fewer.
    pub fn take_bytes<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let mut bytes = [0; N];
        if !self.source.take(&mut bytes) {
            return Err(DecodeError::UnexpectedEnd);
        }
        self.consumed += N;
        Ok(bytes)
    }

    /// Takes the `u32` length prefix of a fixed-capacity container and
    /// checks it against the capacity `capacity`.
    ///
    /// # Errors
    /// [`DecodeError::UnexpectedEnd`], or [`DecodeError::LengthOverCapacity`].
    pub fn take_length(&mut self, capacity: usize) -> Result<usize, DecodeError> {
        let length = u32::from_le_bytes(self.take_bytes()?);
        usize::try_from(length)
            .ok()
            .filter(|&len| len <= capacity)
            .ok_or(DecodeError::LengthOverCapacity { length, capacity })
    }

    /// Takes the next byte.
    ///
    /// # Errors
    /// [`DecodeError::UnexpectedEnd`] at the end of the input.
    pub fn take_u8(&mut self) -> Result<u8, DecodeError> {
        let [byte] = self.take_bytes()?;
        Ok(byte)
    }

    /// Skips `count` bytes of padding, which must be zero.
    ///
    /// # Errors
    /// [`DecodeError::NonZeroPadding`] if one is not,
    /// [`DecodeError::UnexpectedEnd`] if the input ends first.
    pub fn skip_padding(&mut self, mut count: usize) -> Result<(), DecodeError> {
        let mut chunk = ZEROS;
        while count > 0 {
            let len = count.min(chunk.len());
            if !self.source.take(&mut chunk[..len]) {
                return Err(DecodeError::UnexpectedEnd);
            }
            self.consumed += len;
            if chunk[..len].iter().any(|&byte| byte != 0) {
                return Err(DecodeError::NonZeroPadding);
            }
            count -= len;
        }
        Ok(())
    }

    /// Bytes taken so far.
    pub fn consumed(&self) -> usize {
        self.consumed
    }
}

/// Why bytes do not decode as a value of the type asked for. The ECC has
/// already vouched for the bytes, so these mean a value that was never
/// valid for the type: a hand-written encoding that disagrees with its
/// decoding, or more bit flips than the code can catch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecodeError {
    /// The input ended before the value did.
    UnexpectedEnd,
    /// A `bool` byte other than 0 or 1.
    InvalidBool {
        /// The byte found.
        byte: u8,
    },
    /// A `char` that is not a Unicode scalar value.
    InvalidChar {
        /// The value found.
        value: u32,
    },
    /// A variant tag beyond the type's variants.
    InvalidTag {
        /// The tag found.
        tag: u8,
    },
    /// A length prefix beyond the container's capacity.
    LengthOverCapacity {
        /// The length found.
        length: u32,
        /// The container's capacity.
        capacity: usize,
    },
    /// String bytes that are not UTF-8.
    InvalidUtf8,
    /// Padding bytes that are not zero.
    NonZeroPadding,
    /// The input is not exactly one encoded value long.
    WrongLength {
        /// Bytes the type's encoding takes ([`crate::Storable::SIZE`]).
        expected: usize,
        /// Bytes given or consumed.
        actual: usize,
    },
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnexpectedEnd => f.write_str("input ended inside a value"),
            Self::InvalidBool { byte } => write!(f, "invalid bool byte {byte}"),
            Self::InvalidChar { value } => write!(f, "invalid char {value:#x}"),
            Self::InvalidTag { tag } => write!(f, "invalid variant tag {tag}"),
            Self::LengthOverCapacity { length, capacity } => {
                write!(f, "length {length} over capacity {capacity}")
            }
            Self::InvalidUtf8 => f.write_str("string is not UTF-8"),
            Self::NonZeroPadding => f.write_str("padding is not zero"),
            Self::WrongLength { expected, actual } => {
                write!(f, "{actual} bytes where the encoding takes {expected}")
            }
        }
    }
}

impl core::error::Error for DecodeError {}

/// Why a value could not be encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EncodeError {
    /// The buffer is smaller than the encoding.
    BufferTooSmall {
        /// Bytes the encoding takes.
        needed: usize,
        /// Bytes the buffer has.
        available: usize,
    },
    /// The type's `encode` wrote a number of bytes other than its declared
    /// [`crate::Storable::SIZE`]: a bug in a hand-written implementation.
    SizeMismatch {
        /// The declared size.
        declared: usize,
        /// The bytes written.
        written: usize,
    },
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BufferTooSmall { needed, available } => {
                write!(f, "encoding takes {needed} bytes, buffer has {available}")
            }
            Self::SizeMismatch { declared, written } => {
                write!(f, "encode wrote {written} bytes for a type of size {declared}")
            }
        }
    }
}

impl core::error::Error for EncodeError {}
