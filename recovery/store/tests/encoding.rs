//! The byte encoding of storable values: round trips, fixed sizes, and refusal of invalid bytes.

use proptest::prelude::*;
use resilient_store::{
    from_bytes, to_bytes, CapacityError, DecodeError, EncodeError, Storable, StoreString, StoreVec,
};

/// Encodes `value` and decodes it back, checking the length is `T::SIZE`.
fn round_trip<T: Storable>(value: &T) -> T {
    let mut buffer = vec![0xEE; T::SIZE + 3];
    assert_eq!(to_bytes(value, &mut buffer), Ok(T::SIZE));
    from_bytes(&buffer[..T::SIZE]).expect("a value encoded by its type decodes")
}

fn bytes_of<T: Storable>(value: &T) -> Vec<u8> {
    let mut buffer = vec![0; T::SIZE];
    to_bytes(value, &mut buffer).unwrap();
    buffer
}

proptest! {
    #[test]
    fn integers_round_trip(a: u8, b: u16, c: u32, d: u64, e: u128, f: i8, g: i16, h: i32, i: i64, j: i128) {
        prop_assert_eq!(round_trip(&(a, b, c, d, e, f)), (a, b, c, d, e, f));
        prop_assert_eq!(round_trip(&(g, h, i, j)), (g, h, i, j));
    }

    #[test]
    fn floats_round_trip_bit_for_bit(x: f32, y: f64) {
        let (x2, y2) = round_trip(&(x, y));
        prop_assert_eq!((x2.to_bits(), y2.to_bits()), (x.to_bits(), y.to_bits()));
    }

    #[test]
    fn bool_char_option_result_round_trip(b: bool, c: char, o: Option<u16>, r: Result<u8, u64>) {
        prop_assert_eq!(round_trip(&(b, c, o, r)), (b, c, o, r));
    }

    #[test]
    fn arrays_round_trip(a: [u32; 5], nested: [[i8; 3]; 2]) {
        prop_assert_eq!(round_trip(&(a, nested)), (a, nested));
    }

    #[test]
    fn store_string_round_trips(text in "\\PC{0,12}") {
        // At most 12 chars of up to 4 bytes: fits 48 bytes.
        let string = StoreString::<48>::try_from(text.as_str()).unwrap();
        let back = round_trip(&string);
        prop_assert_eq!(back.as_str(), text.as_str());
    }

    #[test]
    fn store_vec_round_trips(elements in proptest::collection::vec(any::<(u16, bool)>(), 0..=8)) {
        let vec = StoreVec::<(u16, bool), 8>::try_from_slice(&elements).unwrap();
        let back = round_trip(&vec);
        prop_assert_eq!(back.iter().copied().collect::<Vec<_>>(), elements);
    }
}

#[test]
fn sizes_are_fixed_and_documented() {
    assert_eq!(u8::SIZE, 1);
    assert_eq!(u128::SIZE, 16);
    assert_eq!(bool::SIZE, 1);
    assert_eq!(char::SIZE, 4);
    assert_eq!(<()>::SIZE, 0);
    assert_eq!(<[u16; 3]>::SIZE, 6);
    assert_eq!(<Option<u32>>::SIZE, 1 + 4, "a tag, then the value");
    assert_eq!(<Result<u8, u64>>::SIZE, 1 + 8, "a tag, then the larger side");
    assert_eq!(<StoreString<10>>::SIZE, 4 + 10, "a u32 length, then the capacity");
    assert_eq!(<StoreVec<u16, 3>>::SIZE, 4 + 3 * 2, "a u32 length, then every element");
}

#[test]
fn equal_values_encode_equally_whatever_their_history() {
    // Unused capacity is zeroed, so a popped element leaves no trace.
    let mut a = StoreVec::<u32, 4>::new();
    a.push(1).unwrap();
    a.push(2).unwrap();
    a.pop();
    let b = StoreVec::<u32, 4>::try_from_slice(&[1]).unwrap();
    assert_eq!(bytes_of(&a), bytes_of(&b));
    assert_eq!(bytes_of(&None::<u64>), vec![0; 9]);
}

#[test]
fn invalid_bytes_are_refused() {
    assert_eq!(from_bytes::<bool>(&[2]), Err(DecodeError::InvalidBool { byte: 2 }));
    assert_eq!(from_bytes::<char>(&0xD800_u32.to_le_bytes()), Err(DecodeError::InvalidChar { value: 0xD800 }));
    assert_eq!(from_bytes::<Option<u8>>(&[2, 0]), Err(DecodeError::InvalidTag { tag: 2 }));
    assert_eq!(from_bytes::<Option<u8>>(&[0, 7]), Err(DecodeError::NonZeroPadding));
    assert_eq!(
        from_bytes::<StoreVec<u8, 2>>(&[3, 0, 0, 0, 1, 2]),
        Err(DecodeError::LengthOverCapacity { length: 3, capacity: 2 })
    );
    assert_eq!(from_bytes::<StoreString<2>>(&[2, 0, 0, 0, 0xFF, 0xFE]), Err(DecodeError::InvalidUtf8));
    assert_eq!(from_bytes::<StoreString<2>>(&[1, 0, 0, 0, b'a', b'b']), Err(DecodeError::NonZeroPadding));
    assert_eq!(from_bytes::<u32>(&[1, 2, 3]), Err(DecodeError::WrongLength { expected: 4, actual: 3 }));
}

#[test]
fn short_buffer_is_refused() {
    assert_eq!(to_bytes(&7u64, &mut [0; 4]), Err(EncodeError::BufferTooSmall { needed: 8, available: 4 }));
}

#[test]
fn containers_keep_to_their_capacity() {
    let mut vec = StoreVec::<u8, 2>::new();
    assert_eq!((vec.push(1), vec.push(2), vec.push(3)), (Ok(()), Ok(()), Err(3)));
    assert_eq!(vec.len(), 2);
    assert_eq!(StoreVec::<u8, 2>::try_from_slice(&[1, 2, 3]).unwrap_err(), CapacityError { capacity: 2, needed: 3 });

    let mut string = StoreString::<5>::try_from("abc").unwrap();
    assert_eq!(string.push_str("def"), Err(CapacityError { capacity: 5, needed: 6 }));
    assert_eq!(string, "abc", "a failed push leaves the string unchanged");
    string.push_str("de").unwrap();
    assert_eq!(string.as_str(), "abcde");
}

/// A hand-written implementation whose `encode` writes one byte less than
/// it declares.
struct Liar;

impl Storable for Liar {
    const SIZE: usize = 2;
    const FINGERPRINT: u64 = 0;

    fn encode(&self, out: &mut resilient_store::Encoder<'_>) {
        out.put_u8(0);
    }

    fn decode(input: &mut resilient_store::Decoder<'_>) -> Result<Self, DecodeError> {
        input.take_u8().map(|_| Liar)
    }
}

#[test]
fn an_implementation_that_disagrees_with_its_size_is_caught() {
    assert_eq!(to_bytes(&Liar, &mut [0; 2]), Err(EncodeError::SizeMismatch { declared: 2, written: 1 }));
    assert!(matches!(from_bytes::<Liar>(&[0, 0]), Err(DecodeError::WrongLength { expected: 2, actual: 1 })));
}
