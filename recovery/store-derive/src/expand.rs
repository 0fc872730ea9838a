//! The expansion of `#[derive(Storable)]`: size, fingerprint, encode and decode, field by field.
//!
//! For a struct:
//! - `SIZE` is the sum of the fields' sizes;
//! - `FINGERPRINT` mixes the type's name with each field's name and
//!   fingerprint;
//! - `encode` / `decode` handle the fields in declaration order.
//!
//! For an enum, a one-byte tag (the variant's index in declaration order)
//! comes first, and every variant is padded with zeros to the largest, so
//! the size stays fixed.

use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Fields, GenericParam, Member, Type};

/// Variants an enum may have: the tag is one byte.
const MAX_VARIANTS: usize = 1 << u8::BITS;

/// One field: how to name it in an expression, its name for the
/// fingerprint, its type.
struct Field<'a> {
    member: Member,
    name: String,
    ty: &'a Type,
}

fn fields(fields: &Fields) -> Vec<Field<'_>> {
    fields
        .iter()
        .enumerate()
        .map(|(index, field)| match &field.ident {
            Some(ident) => Field { member: Member::Named(ident.clone()), name: ident.to_string(), ty: &field.ty },
            None => Field { member: Member::Unnamed(index.into()), name: index.to_string(), ty: &field.ty },
        })
        .collect()
}

/// `<Ty as Storable>`, spanned at the field's type: every use of a field's
/// implementation goes through this, so an unstorable field is reported
/// once, at the field.
fn as_storable(ty: &Type) -> TokenStream {
    quote_spanned!(ty.span()=> <#ty as ::resilient_store::Storable>)
}

/// The encoded size of a list of fields.
fn size(fields: &[Field<'_>]) -> TokenStream {
    let terms = fields.iter().map(|field| {
        let storable = as_storable(field.ty);
        quote!(+ #storable::SIZE)
    });
    quote!((0usize #(#terms)*))
}

/// Mixes the fields' names and fingerprints into the fingerprint `start`.
fn fingerprint(start: TokenStream, fields: &[Field<'_>]) -> TokenStream {
    let count = fields.len();
    let parts = fields.iter().map(|field| {
        let name = &field.name;
        let storable = as_storable(field.ty);
        quote!(.with_name(#name).with_type(#storable::FINGERPRINT))
    });
    quote!(#start.with_count(#count) #(#parts)*)
}

/// Expands the derive, or explains why the type cannot be storable.
pub fn storable(mut input: DeriveInput) -> syn::Result<TokenStream> {
    if let Some(lifetime) = input.generics.lifetimes().next() {
        return Err(syn::Error::new(
            lifetime.span(),
            "a Storable type cannot borrow: a reference would dangle after a restart",
        ));
    }
    for param in &mut input.generics.params {
        if let GenericParam::Type(param) = param {
            param.bounds.push(syn::parse_quote!(::resilient_store::Storable));
        }
    }
    let name = &input.ident;
    let type_name = name.to_string();
    let (size, fingerprint, encode, decode) = match &input.data {
        Data::Struct(data) => struct_body(&type_name, &fields(&data.fields)),
        Data::Enum(data) => enum_body(&input, &type_name, data)?,
        Data::Union(data) => {
            return Err(syn::Error::new(
                data.union_token.span(),
                "a union cannot be Storable: which field holds the value is not known",
            ));
        }
    };
    let (impl_generics, type_generics, where_clause) = input.generics.split_for_impl();
    Ok(quote! {
        impl #impl_generics ::resilient_store::Storable for #name #type_generics #where_clause {
            const SIZE: usize = #size;
            const FINGERPRINT: u64 = #fingerprint.value();

            fn encode(&self, out: &mut ::resilient_store::Encoder<'_>) {
                #encode
            }

            fn decode(
                input: &mut ::resilient_store::Decoder<'_>,
            ) -> ::core::result::Result<Self, ::resilient_store::DecodeError> {
                #decode
            }
        }
    })
}

fn struct_body(type_name: &str, fields: &[Field<'_>]) -> (TokenStream, TokenStream, TokenStream, TokenStream) {
    let size = size(fields);
    let fingerprint = fingerprint(quote!(::resilient_store::Fingerprint::new("struct").with_name(#type_name)), fields);
    let members: Vec<_> = fields.iter().map(|field| &field.member).collect();
    let impls: Vec<_> = fields.iter().map(|field| as_storable(field.ty)).collect();
    let encode = quote! {
        #(#impls::encode(&self.#members, out);)*
    };
    let decode = quote! {
        ::core::result::Result::Ok(Self { #(#members: #impls::decode(input)?,)* })
    };
    (size, fingerprint, encode, decode)
}

fn enum_body(
    input: &DeriveInput,
    type_name: &str,
    data: &syn::DataEnum,
) -> syn::Result<(TokenStream, TokenStream, TokenStream, TokenStream)> {
    if data.variants.len() > MAX_VARIANTS {
        let message = format!("a Storable enum has at most {MAX_VARIANTS} variants (a one-byte tag)");
        return Err(syn::Error::new(input.ident.span(), message));
    }
    let variant_count = data.variants.len();
    let mut fingerprint =
        quote!(::resilient_store::Fingerprint::new("enum").with_name(#type_name).with_count(#variant_count));
    let mut sizes = Vec::new();
    let mut encode_arms = Vec::new();
    let mut decode_arms = Vec::new();
    for (index, variant) in data.variants.iter().enumerate() {
        let ident = &variant.ident;
        let variant_name = ident.to_string();
        let fields = fields(&variant.fields);
        let size = size(&fields);
        fingerprint = self::fingerprint(quote!(#fingerprint.with_name(#variant_name)), &fields);
        // Lossless: at most MAX_VARIANTS variants, so index < 256.
        let tag = Literal::u8_suffixed(index as u8);
        let members: Vec<_> = fields.iter().map(|field| &field.member).collect();
        let bindings: Vec<_> = (0..fields.len()).map(|i| format_ident!("field_{}", i)).collect();
        let impls: Vec<_> = fields.iter().map(|field| as_storable(field.ty)).collect();
        let padding = quote!(<Self as ::resilient_store::Storable>::SIZE - ::resilient_store::TAG_SIZE - #size);
        encode_arms.push(quote! {
            Self::#ident { #(#members: #bindings,)* } => {
                out.put_u8(#tag);
                #(#impls::encode(#bindings, out);)*
                out.put_zeros(#padding);
            }
        });
        decode_arms.push(quote! {
            #tag => {
                #(let #bindings = #impls::decode(input)?;)*
                input.skip_padding(#padding)?;
                ::core::result::Result::Ok(Self::#ident { #(#members: #bindings,)* })
            }
        });
        sizes.push(size);
    }
    let size = quote! {
        ::resilient_store::TAG_SIZE + {
            let mut largest = 0usize;
            #(if #sizes > largest { largest = #sizes; })*
            largest
        }
    };
    // `*self` for an enum without variants: a reference to it is inhabited.
    let encode = if encode_arms.is_empty() {
        quote!(match *self {})
    } else {
        quote! {
            match self {
                #(#encode_arms)*
            }
        }
    };
    let decode = quote! {
        match input.take_u8()? {
            #(#decode_arms)*
            tag => ::core::result::Result::Err(::resilient_store::DecodeError::InvalidTag { tag }),
        }
    };
    Ok((size, fingerprint, encode, decode))
}
