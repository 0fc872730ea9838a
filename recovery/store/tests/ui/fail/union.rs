//! Which field of a union holds the value is not known.
use resilient_store::Storable;

#[derive(Storable)]
union Bits {
    int: u32,
    float: f32,
}

fn main() {}
