//! `#[derive(Storable)]` on structs and enums: sizes, round trips and fingerprints.

use resilient_store::{from_bytes, to_bytes, DecodeError, Storable, StoreString, StoreVec};

#[derive(Storable, Debug, Clone, PartialEq)]
struct Named {
    id: u32,
    name: StoreString<8>,
    flags: [bool; 3],
}

#[derive(Storable, Debug, Clone, PartialEq)]
struct Tuple(u8, i64);

#[derive(Storable, Debug, Clone, PartialEq)]
struct Unit;

#[derive(Storable, Debug, Clone, PartialEq)]
enum Handle {
    Closed,
    File(u32, u64),
    Pipe { peer: u16 },
}

#[derive(Storable, Debug)]
enum Never {}

#[derive(Storable, Debug, Clone, PartialEq)]
struct Generic<T, const N: usize> {
    items: StoreVec<T, N>,
    last: Option<T>,
}

#[derive(Storable, Debug, Clone, PartialEq)]
struct Table {
    handles: StoreVec<Handle, 4>,
    owner: Named,
}

fn round_trip<T: Storable>(value: &T) -> T {
    let mut buffer = vec![0; T::SIZE];
    assert_eq!(to_bytes(value, &mut buffer), Ok(T::SIZE));
    from_bytes(&buffer).unwrap()
}

#[test]
fn struct_size_is_the_sum_of_its_fields() {
    assert_eq!(Named::SIZE, 4 + (4 + 8) + 3);
    assert_eq!(Tuple::SIZE, 1 + 8);
    assert_eq!(Unit::SIZE, 0);
}

#[test]
fn enum_size_is_a_tag_and_the_largest_variant() {
    assert_eq!(Handle::SIZE, 1 + (4 + 8));
}

#[test]
fn an_enum_without_variants_has_only_a_tag_and_no_valid_value() {
    assert_eq!(Never::SIZE, 1);
    assert!(matches!(from_bytes::<Never>(&[0]), Err(DecodeError::InvalidTag { tag: 0 })));
}

#[test]
fn structs_and_enums_round_trip() {
    let named = Named { id: 7, name: "log".try_into().unwrap(), flags: [true, false, true] };
    assert_eq!(round_trip(&named), named);
    assert_eq!(round_trip(&Tuple(1, -2)), Tuple(1, -2));
    assert_eq!(round_trip(&Unit), Unit);
    for handle in [Handle::Closed, Handle::File(3, u64::MAX), Handle::Pipe { peer: 9 }] {
        assert_eq!(round_trip(&handle), handle);
    }
    let mut table = Table { handles: StoreVec::new(), owner: named };
    table.handles.push(Handle::Pipe { peer: 1 }).unwrap();
    table.handles.push(Handle::File(2, 3)).unwrap();
    assert_eq!(round_trip(&table), table);
}

#[test]
fn generic_types_get_storable_bounds() {
    let value = Generic::<u16, 3> { items: StoreVec::try_from_slice(&[4, 5]).unwrap(), last: Some(5) };
    assert_eq!(round_trip(&value), value);
    assert_eq!(Generic::<u16, 3>::SIZE, (4 + 3 * 2) + (1 + 2));
}

#[test]
fn enum_tags_and_padding_are_checked() {
    let mut bytes = vec![0; Handle::SIZE];
    bytes[0] = 3;
    assert_eq!(from_bytes::<Handle>(&bytes), Err(DecodeError::InvalidTag { tag: 3 }));
    bytes[0] = 2; // Pipe: 2 bytes of field, then 10 of padding.
    bytes[Handle::SIZE - 1] = 1;
    assert_eq!(from_bytes::<Handle>(&bytes), Err(DecodeError::NonZeroPadding));
}

mod v1 {
    use resilient_store::Storable;
    #[derive(Storable)]
    pub struct State {
        pub count: u32,
        pub limit: u32,
    }
}

mod v2_renamed_field {
    use resilient_store::Storable;
    #[derive(Storable)]
    pub struct State {
        pub count: u32,
        pub maximum: u32,
    }
}

mod v2_wider_field {
    use resilient_store::Storable;
    #[derive(Storable)]
    pub struct State {
        pub count: u32,
        pub limit: u64,
    }
}

mod v2_swapped_fields {
    use resilient_store::Storable;
    #[derive(Storable)]
    pub struct State {
        pub limit: u32,
        pub count: u32,
    }
}

mod moved {
    // The same declaration as `v1`, in another module.
    use resilient_store::Storable;
    #[derive(Storable)]
    pub struct State {
        pub count: u32,
        pub limit: u32,
    }
}

#[test]
fn any_change_to_a_declaration_changes_its_fingerprint() {
    let original = v1::State::FINGERPRINT;
    assert_ne!(original, v2_renamed_field::State::FINGERPRINT);
    assert_ne!(original, v2_wider_field::State::FINGERPRINT);
    assert_ne!(original, v2_swapped_fields::State::FINGERPRINT);
    assert_eq!(original, moved::State::FINGERPRINT, "the module path is not part of it");
    assert_ne!(<[u8; 4]>::FINGERPRINT, <[u8; 5]>::FINGERPRINT);
    assert_ne!(<StoreString<4>>::FINGERPRINT, <StoreVec<u8, 4>>::FINGERPRINT);
    assert_ne!(<(u8, u16)>::FINGERPRINT, <(u16, u8)>::FINGERPRINT);
}
