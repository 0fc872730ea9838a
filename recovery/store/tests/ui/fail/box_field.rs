//! A `Box` holds a heap address, which a restart does not restore.
use resilient_store::Storable;

#[derive(Storable)]
struct Session {
    id: u32,
    buffer: Box<u32>,
}

fn main() {}
