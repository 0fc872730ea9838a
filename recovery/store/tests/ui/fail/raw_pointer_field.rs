//! A raw pointer is an address.
use resilient_store::Storable;

#[derive(Storable)]
struct Buffer {
    start: *const u8,
    end: *mut u8,
}

fn main() {}
