//! A reference holds an address, even a `'static` one.
use resilient_store::Storable;

#[derive(Storable)]
struct Config {
    name: &'static str,
    limit: &'static u32,
}

fn main() {}
