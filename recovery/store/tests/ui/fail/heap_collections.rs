//! `Vec` and `String` point to the heap: `StoreVec` and `StoreString` do not.
use resilient_store::Storable;

#[derive(Storable)]
enum Entry {
    Name(String),
    Children { ids: Vec<u64> },
}

fn main() {}
