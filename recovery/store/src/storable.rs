//! The [`Storable`] trait: plain data that can be kept across a restart, and its implementations for core types.
//!
//! A value is stored by *encoding* it (field by field, into bytes) and
//! restored by *decoding* it into a fresh value. Nothing is copied bit for
//! bit, so nothing in a restored value can point into memory that a restart
//! did not restore. What may be stored is decided by which types implement
//! the trait:
//! - integers, `bool`, `char`, floats, `()`, arrays, tuples, `Option`,
//!   `Result`, and this crate's fixed-capacity [`crate::StoreVec`] and
//!   [`crate::StoreString`];
//! - structs and enums whose fields all are storable, through
//!   `#[derive(Storable)]`;
//! - **not** references, `Box`, raw pointers, `Vec`, `String`, or anything
//!   holding them: their values are addresses, meaningless after a restart.
//!   A derive on a type with such a field does not compile, and the orphan
//!   rule stops a server from implementing the trait for them;
//! - **not** `usize` and `isize` either: their width is the platform's,
//!   and they are the natural carrier of an address. Use `u64` / `i64`.

use crate::encoding::{DecodeError, Decoder, Encoder};
use crate::fingerprint::Fingerprint;

/// Plain data that a resilient store can keep across a restart.
///
/// Implement it with `#[derive(Storable)]`. A hand-written implementation
/// must write exactly [`Storable::SIZE`] bytes in `encode` and read exactly
/// as many in `decode`; the store checks both and refuses a value otherwise.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be kept in a resilient store",
    label = "not plain data",
    note = "a resilient store keeps plain data only: references, `Box`, raw pointers, `Vec` and `String` hold addresses that do not survive a restart",
    note = "use `StoreVec` and `StoreString` (fixed capacity) instead of `Vec` and `String`, and `u64` instead of `usize`"
)]
pub trait Storable: Sized {
    /// Bytes in the encoding of every value of the type.
    const SIZE: usize;

    /// A hash of the type's shape (see [`Fingerprint`]): a slot refuses to
    /// decode a value written as a type with another fingerprint.
    const FINGERPRINT: u64;

    /// Writes the value's [`Storable::SIZE`] bytes.
    fn encode(&self, out: &mut Encoder<'_>);

    /// Reads a value back from [`Storable::SIZE`] bytes.
    ///
    /// # Errors
    /// A [`DecodeError`] if the bytes are no valid value of the type.
    fn decode(input: &mut Decoder<'_>) -> Result<Self, DecodeError>;
}

/// Bytes in the tag of an `Option`, a `Result` or a derived enum: one
/// byte, enough for the 256 variants the derive allows.
pub const TAG_SIZE: usize = 1;

/// The larger of two sizes, for the size of a sum type in `const` context.
pub(crate) const fn max_size(a: usize, b: usize) -> usize {
    if a > b {
        a
    } else {
        b
    }
}

macro_rules! storable_integers {
    ($($ty:ty),*) => {$(
        impl Storable for $ty {
            const SIZE: usize = size_of::<$ty>();
            const FINGERPRINT: u64 = Fingerprint::new(stringify!($ty)).value();

            fn encode(&self, out: &mut Encoder<'_>) {
                out.put_bytes(&self.to_le_bytes());
            }

            fn decode(input: &mut Decoder<'_>) -> Result<Self, DecodeError> {
                Ok(<$ty>::from_le_bytes(input.take_bytes()?))
            }
        }
    )*};
}

storable_integers!(u8, u16, u32, u64, u128, i8, i16, i32, i64, i128);

macro_rules! storable_floats {
    ($($ty:ty),*) => {$(
        /// Stored as its IEEE 754 bits: every value, NaN payloads included,
        /// comes back bit for bit.
        impl Storable for $ty {
            const SIZE: usize = size_of::<$ty>();
            const FINGERPRINT: u64 = Fingerprint::new(stringify!($ty)).value();

            fn encode(&self, out: &mut Encoder<'_>) {
                out.put_bytes(&self.to_bits().to_le_bytes());
            }

            fn decode(input: &mut Decoder<'_>) -> Result<Self, DecodeError> {
                Ok(<$ty>::from_le_bytes(input.take_bytes()?))
            }
        }
    )*};
}

storable_floats!(f32, f64);

/// One byte, 0 or 1; any other byte is an error, not `true`.
impl Storable for bool {
    const SIZE: usize = 1;
    const FINGERPRINT: u64 = Fingerprint::new("bool").value();

    fn encode(&self, out: &mut Encoder<'_>) {
        out.put_u8(u8::from(*self));
    }

    fn decode(input: &mut Decoder<'_>) -> Result<Self, DecodeError> {
        match input.take_u8()? {
            0 => Ok(false),
            1 => Ok(true),
            byte => Err(DecodeError::InvalidBool { byte }),
        }
    }
}

/// Its scalar value as a `u32`; a surrogate or out-of-range value is an error.
impl Storable for char {
    const SIZE: usize = size_of::<u32>();
    const FINGERPRINT: u64 = Fingerprint::new("char").value();

    fn encode(&self, out: &mut Encoder<'_>) {
        out.put_bytes(&u32::from(*self).to_le_bytes());
    }

    fn decode(input: &mut Decoder<'_>) -> Result<Self, DecodeError> {
        let value = u32::from_le_bytes(input.take_bytes()?);
        char::from_u32(value).ok_or(DecodeError::InvalidChar { value })
    }
}

impl Storable for () {
    const SIZE: usize = 0;
    const FINGERPRINT: u64 = Fingerprint::new("()").value();

    fn encode(&self, _out: &mut Encoder<'_>) {}

    fn decode(_input: &mut Decoder<'_>) -> Result<Self, DecodeError> {
        Ok(())
    }
}

/// The elements in order.
impl<T: Storable, const N: usize> Storable for [T; N] {
    const SIZE: usize = T::SIZE * N;
    const FINGERPRINT: u64 = Fingerprint::new("[T; N]").with_type(T::FINGERPRINT).with_count(N).value();

    fn encode(&self, out: &mut Encoder<'_>) {
        for element in self {
            element.encode(out);
        }
    }

    fn decode(input: &mut Decoder<'_>) -> Result<Self, DecodeError> {
        let mut error = None;
        // Decoding stops at the first error; later elements stay `None`.
        let elements: [Option<T>; N] = core::array::from_fn(|_| match error {
            Some(_) => None,
            None => T::decode(input).map_err(|e| error = Some(e)).ok(),
        });
        if let Some(error) = error {
            return Err(error);
        }
        // With no error, every element decoded: none of these is `None`.
        Ok(elements.map(|element| element.expect("every element decoded")))
    }
}

/// A tag (0 `None`, 1 `Some`), then the value or as many zero bytes.
impl<T: Storable> Storable for Option<T> {
    const SIZE: usize = TAG_SIZE + T::SIZE;
    const FINGERPRINT: u64 = Fingerprint::new("Option").with_type(T::FINGERPRINT).value();

    fn encode(&self, out: &mut Encoder<'_>) {
        match self {
            None => {
                out.put_u8(0);
                out.put_zeros(T::SIZE);
            }
            Some(value) => {
                out.put_u8(1);
                value.encode(out);
            }
        }
    }

    fn decode(input: &mut Decoder<'_>) -> Result<Self, DecodeError> {
        match input.take_u8()? {
            0 => input.skip_padding(T::SIZE).map(|()| None),
            1 => T::decode(input).map(Some),
            tag => Err(DecodeError::InvalidTag { tag }),
        }
    }
}

/// A tag (0 `Ok`, 1 `Err`), then the value, padded to the larger of the two.
impl<T: Storable, E: Storable> Storable for Result<T, E> {
    const SIZE: usize = TAG_SIZE + max_size(T::SIZE, E::SIZE);
    const FINGERPRINT: u64 =
        Fingerprint::new("Result").with_type(T::FINGERPRINT).with_type(E::FINGERPRINT).value();

    fn encode(&self, out: &mut Encoder<'_>) {
        match self {
            Ok(value) => {
                out.put_u8(0);
                value.encode(out);
                out.put_zeros(Self::SIZE - TAG_SIZE - T::SIZE);
            }
            Err(error) => {
                out.put_u8(1);
                error.encode(out);
                out.put_zeros(Self::SIZE - TAG_SIZE - E::SIZE);
            }
        }
    }

    fn decode(input: &mut Decoder<'_>) -> Result<Self, DecodeError> {
        match input.take_u8()? {
            0 => {
                let value = T::decode(input)?;
                input.skip_padding(Self::SIZE - TAG_SIZE - T::SIZE)?;
                Ok(Ok(value))
            }
            1 => {
                let error = E::decode(input)?;
                input.skip_padding(Self::SIZE - TAG_SIZE - E::SIZE)?;
                Ok(Err(error))
            }
            tag => Err(DecodeError::InvalidTag { tag }),
        }
    }
}

macro_rules! storable_tuples {
    ($(($($name:ident),+)),*) => {$(
        /// The elements in order.
        impl<$($name: Storable),+> Storable for ($($name,)+) {
            const SIZE: usize = 0 $(+ $name::SIZE)+;
            const FINGERPRINT: u64 = Fingerprint::new("tuple")$(.with_type($name::FINGERPRINT))+.value();

            #[allow(non_snake_case, reason = "the bindings are named after the type parameters")]
            fn encode(&self, out: &mut Encoder<'_>) {
                let ($($name,)+) = self;
                $($name.encode(out);)+
            }

            fn decode(input: &mut Decoder<'_>) -> Result<Self, DecodeError> {
                Ok(($($name::decode(input)?,)+))
            }
        }
    )*};
}

storable_tuples!((A), (A, B), (A, B, C), (A, B, C, D), (A, B, C, D, E), (A, B, C, D, E, F));
