//! `usize` has the platform's width and is how addresses travel as integers.
use resilient_store::Storable;

#[derive(Storable)]
struct Cursor {
    offset: usize,
}

fn main() {}
