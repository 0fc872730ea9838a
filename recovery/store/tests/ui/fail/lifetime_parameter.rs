//! A type with a lifetime parameter borrows something.
use resilient_store::Storable;

#[derive(Storable)]
struct View<'a> {
    bytes: &'a [u8],
}

fn main() {}
