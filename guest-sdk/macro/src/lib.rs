//! `#[middleware]`, `#[view]`, `#[context_processor]` and `#[filters]`
//! for `shallot-guest`.
//!
//! Both expand to a private module holding the wit-bindgen preamble for a
//! world made of exactly what the author wrote: a middleware exports only the
//! hooks its impl block defines, so the host sees precisely those.

use proc_macro::TokenStream;
use proc_macro2::Span;
use quote::{format_ident, quote};
use syn::{ImplItem, ItemFn, ItemImpl, parse_macro_input};

/// The five hooks, as (Rust method, WIT interface) pairs.
const HOOKS: [(&str, &str); 5] = [
    ("process_request", "process-request"),
    ("process_view", "process-view"),
    ("process_exception", "process-exception"),
    ("process_template_response", "process-template-response"),
    ("process_response", "process-response"),
];

/// Marks an `impl Middleware for T` block; the component exports the hooks
/// defined in it and no others. `T` must implement `Default`.
#[proc_macro_attribute]
pub fn middleware(attr: TokenStream, item: TokenStream) -> TokenStream {
    if !attr.is_empty() {
        return syn::Error::new(Span::call_site(), "#[middleware] takes no arguments")
            .to_compile_error()
            .into();
    }
    let imp = parse_macro_input!(item as ItemImpl);
    match expand_middleware(&imp) {
        Ok(tokens) => quote!(#imp #tokens).into(),
        Err(e) => {
            let e = e.to_compile_error();
            quote!(#imp #e).into()
        }
    }
}

fn expand_middleware(imp: &ItemImpl) -> syn::Result<proc_macro2::TokenStream> {
    if imp.trait_.is_none() {
        return Err(syn::Error::new_spanned(
            &imp.self_ty,
            "#[middleware] goes on `impl Middleware for YourType { ... }`",
        ));
    }
    let mut hooks = Vec::new();
    for item in &imp.items {
        let ImplItem::Fn(f) = item else { continue };
        let name = f.sig.ident.to_string();
        match HOOKS.iter().find(|(rust, _)| *rust == name) {
            Some(hook) => hooks.push(*hook),
            None => {
                return Err(syn::Error::new_spanned(
                    &f.sig.ident,
                    format!(
                        "`{name}` is not a middleware hook; expected one of \
                         process_request, process_view, process_exception, \
                         process_template_response, process_response"
                    ),
                ));
            }
        }
    }
    if hooks.is_empty() {
        return Err(syn::Error::new_spanned(
            &imp.self_ty,
            "a middleware must implement at least one hook",
        ));
    }
    let ty = &imp.self_ty;
    let exports: Vec<String> = hooks
        .iter()
        .map(|(_, wit)| format!("export shallot:http/{wit}@0.1.0;"))
        .collect();
    let bindings = bindings(&exports.join("\n"));
    let impls = hooks.iter().map(|(rust, wit)| {
        let module = format_ident!("{}", wit.replace('-', "_"));
        let method = format_ident!("{}", rust);
        let (params, args, ret) = match *rust {
            "process_request" => (
                quote!(req: &::shallot_guest::Request),
                quote!(req),
                quote!(
                    ::core::result::Result<
                        ::core::option::Option<::shallot_guest::Response>,
                        ::shallot_guest::Error,
                    >
                ),
            ),
            "process_view" => (
                quote!(req: &::shallot_guest::Request, view: ::shallot_guest::ViewInfo),
                quote!(req, &view),
                quote!(
                    ::core::result::Result<
                        ::core::option::Option<::shallot_guest::Response>,
                        ::shallot_guest::Error,
                    >
                ),
            ),
            "process_exception" => (
                quote!(req: &::shallot_guest::Request, err: ::shallot_guest::Error),
                quote!(req, &err),
                quote!(
                    ::core::result::Result<
                        ::core::option::Option<::shallot_guest::Response>,
                        ::shallot_guest::Error,
                    >
                ),
            ),
            // process_template_response and process_response
            _ => (
                quote!(req: &::shallot_guest::Request, resp: ::shallot_guest::Response),
                quote!(req, resp),
                quote!(::core::result::Result<::shallot_guest::Response, ::shallot_guest::Error>),
            ),
        };
        quote! {
            impl exports::shallot::http::#module::Guest for Export {
                fn #method(#params) -> #ret {
                    with_instance(|mw| <#ty as ::shallot_guest::Middleware>::#method(mw, #args))
                }
            }
        }
    });
    Ok(quote! {
        #[doc(hidden)]
        #[allow(unsafe_code, clippy::all, reason = "wit-bindgen generated exports")]
        mod __shallot_middleware {
            use super::*;
            #bindings

            struct Export;

            ::std::thread_local! {
                // One value per instance, made on its first hook call. An
                // instance serves one request under `per-request` and a
                // series of them, one at a time, under `reuse`: the value
                // lives as long as the instance.
                static INSTANCE: ::core::cell::RefCell<::core::option::Option<#ty>> =
                    const { ::core::cell::RefCell::new(::core::option::Option::None) };
            }

            fn with_instance<R>(f: impl FnOnce(&mut #ty) -> R) -> R {
                INSTANCE.with(|cell| {
                    let mut slot = cell.borrow_mut();
                    f(slot.get_or_insert_with(::core::default::Default::default))
                })
            }

            #(#impls)*

            export!(Export with_types_in self);
        }
    })
}

/// Marks the view function: `fn NAME(req: &Request, view: ViewInfo) ->
/// Result<Response, Error>`. The component exports `shallot:http/view`, and
/// `shallot:http/body-source` for the streaming responses it may return.
#[proc_macro_attribute]
pub fn view(attr: TokenStream, item: TokenStream) -> TokenStream {
    if !attr.is_empty() {
        return syn::Error::new(Span::call_site(), "#[view] takes no arguments")
            .to_compile_error()
            .into();
    }
    let func = parse_macro_input!(item as ItemFn);
    if func.sig.inputs.len() != 2 {
        let e = syn::Error::new_spanned(
            &func.sig,
            "a view takes (req: &Request, view: ViewInfo) and returns Result<Response, Error>",
        )
        .to_compile_error();
        return quote!(#func #e).into();
    }
    let name = &func.sig.ident;
    // Every Rust view can stream (`Response::streaming`): the SDK keeps
    // the bodies and answers `next-chunk`.
    let bindings =
        bindings("export shallot:http/view@0.1.0;\nexport shallot:http/body-source@0.1.0;");
    quote! {
        #func

        #[doc(hidden)]
        #[allow(unsafe_code, clippy::all, reason = "wit-bindgen generated exports")]
        mod __shallot_view {
            #bindings

            struct Export;

            impl exports::shallot::http::view::Guest for Export {
                fn handle(
                    req: &::shallot_guest::Request,
                    view: ::shallot_guest::ViewInfo,
                ) -> ::core::result::Result<::shallot_guest::Response, ::shallot_guest::Error> {
                    super::#name(req, view)
                }
            }

            impl exports::shallot::http::body_source::Guest for Export {
                fn next_chunk(
                    source: u32,
                ) -> ::core::result::Result<::std::vec::Vec<u8>, ::shallot_guest::Error> {
                    ::shallot_guest::__private::next_chunk(source)
                }
            }

            export!(Export with_types_in self);
        }
    }
    .into()
}

/// Marks a context processor: `fn NAME(req: &Request) -> Result<Map<String,
/// Value>, Error>`. The component exports `shallot:http/context-processor`.
#[proc_macro_attribute]
pub fn context_processor(attr: TokenStream, item: TokenStream) -> TokenStream {
    if !attr.is_empty() {
        return syn::Error::new(Span::call_site(), "#[context_processor] takes no arguments")
            .to_compile_error()
            .into();
    }
    let func = parse_macro_input!(item as ItemFn);
    let name = &func.sig.ident;
    let bindings = bindings("export shallot:http/context-processor@0.1.0;");
    quote! {
        #func

        #[doc(hidden)]
        #[allow(unsafe_code, clippy::all, reason = "wit-bindgen generated exports")]
        mod __shallot_context_processor {
            #bindings

            struct Export;

            impl exports::shallot::http::context_processor::Guest for Export {
                fn context(
                    req: &::shallot_guest::Request,
                ) -> ::core::result::Result<::std::string::String, ::shallot_guest::Error> {
                    let values: ::shallot_guest::Map<::std::string::String, ::shallot_guest::Value> =
                        super::#name(req)?;
                    ::core::result::Result::Ok(::shallot_guest::Value::Object(values).to_string())
                }
            }

            export!(Export with_types_in self);
        }
    }
    .into()
}

/// Marks the function applying a component's template filters:
/// `#[filters("shout", "emphasize")] fn apply(name: &str, value: Value,
/// args: Vec<Value>) -> Result<Filtered, Error>`. The names are what
/// templates may write after `|`.
#[proc_macro_attribute]
pub fn filters(attr: TokenStream, item: TokenStream) -> TokenStream {
    let names = parse_macro_input!(
        attr with syn::punctuated::Punctuated::<syn::LitStr, syn::Token![,]>::parse_terminated
    );
    let func = parse_macro_input!(item as ItemFn);
    if names.is_empty() {
        let e = syn::Error::new_spanned(
            &func.sig,
            "#[filters(\"name\", ...)] needs the filter names",
        )
        .to_compile_error();
        return quote!(#func #e).into();
    }
    let name = &func.sig.ident;
    let names = names.iter();
    let bindings = bindings("export shallot:http/template-filters@0.1.0;");
    quote! {
        #func

        #[doc(hidden)]
        #[allow(unsafe_code, clippy::all, reason = "wit-bindgen generated exports")]
        mod __shallot_filters {
            #bindings

            use exports::shallot::http::template_filters::{Filtered, Guest};

            struct Export;

            impl Guest for Export {
                fn names() -> ::std::vec::Vec<::std::string::String> {
                    ::std::vec![#(::std::string::String::from(#names)),*]
                }

                fn apply(
                    name: ::std::string::String,
                    value: ::std::string::String,
                    args: ::std::vec::Vec<::std::string::String>,
                ) -> ::core::result::Result<Filtered, ::shallot_guest::Error> {
                    let parse = |json: &str| {
                        ::shallot_guest::__private::serde_json::from_str(json)
                            .map_err(|e| ::shallot_guest::Error::internal(e.to_string()))
                    };
                    let value = parse(&value)?;
                    let args = args.iter().map(|a| parse(a)).collect::<::core::result::Result<_, _>>()?;
                    let filtered = super::#name(&name, value, args)?;
                    ::core::result::Result::Ok(match filtered {
                        ::shallot_guest::Filtered::Value(v) => Filtered { json: v.to_string(), safe: false },
                        ::shallot_guest::Filtered::Safe(s) => Filtered {
                            json: ::shallot_guest::Value::String(s).to_string(),
                            safe: true,
                        },
                    })
                }
            }

            export!(Export with_types_in self);
        }
    }
    .into()
}

/// wit-bindgen for a world of the host imports plus `exports`, reusing the
/// SDK's generated types so `Request` is one type everywhere.
fn bindings(exports: &str) -> proc_macro2::TokenStream {
    let wit_dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../wit");
    let inline = format!(
        "package shallot:guest;\nworld guest {{\n include shallot:http/imports@0.1.0;\n{exports}\n}}\n"
    );
    quote! {
        ::shallot_guest::__private::wit_bindgen::generate!({
            inline: #inline,
            path: #wit_dir,
            world: "shallot:guest/guest",
            runtime_path: "::shallot_guest::__private::wit_bindgen::rt",
            with: {
                "shallot:http/types@0.1.0": ::shallot_guest::__private::types,
                "shallot:http/log@0.1.0": ::shallot_guest::__private::log,
                "shallot:http/urls@0.1.0": ::shallot_guest::__private::urls,
                "shallot:http/config@0.1.0": ::shallot_guest::__private::config,
            },
        });
    }
}
