//! Derive for Storable: implements the resilient store's plain-data trait field by field, so a type holding a pointer does not compile.
//!
//! `#[derive(Storable)]` on a struct or enum expands to an implementation
//! of `::resilient_store::Storable` that encodes every field with its own
//! `Storable` implementation, in declaration order. That is the whole
//! compile-time rule: a field whose type is not storable (`Box`, `&T`,
//! `*const T`, `Vec`, `String`, `usize`, …) has no implementation to call,
//! and the derive fails with "`Box<u32>` cannot be kept in a resilient
//! store" pointing at the field.
//!
//! Design principles:
//! - the expansion is plain safe code, so it compiles in servers that
//!   `#![forbid(unsafe_code)]`;
//! - nothing is checked here that the type checker can check: the macro
//!   only lists fields, rustc decides whether each one is storable;
//! - generic parameters get a `Storable` bound; lifetime parameters and
//!   unions are refused with an explanation, since neither can be plain
//!   data.

mod expand;

use proc_macro::TokenStream;

/// Derives `resilient_store::Storable` (see the crate documentation).
#[proc_macro_derive(Storable)]
pub fn derive_storable(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    expand::storable(input).unwrap_or_else(syn::Error::into_compile_error).into()
}
