//! The compile-time rule: a type holding a pointer cannot derive `Storable`.
//!
//! Each file in `tests/ui/` is compiled on its own; those expected to fail
//! are compared with the `.stderr` beside them (regenerate with
//! `TRYBUILD=overwrite cargo test -p resilient-store --test compile_fail`
//! after a toolchain update changes the wording).

#[test]
fn unstorable_types_do_not_compile() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/fail/*.rs");
}

#[test]
fn the_derive_compiles_where_unsafe_is_forbidden() {
    let cases = trybuild::TestCases::new();
    cases.pass("tests/ui/pass/*.rs");
}
