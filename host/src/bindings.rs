//! Host bindings for the `shallot:http` WIT package.
//!
//! `bindgen!` stays in a private module; the rest of the crate sees only the
//! curated names below. WIT resources map to host types so that a request or
//! response lives in the store's `ResourceTable` and is never copied whole
//! across the boundary.

mod generated {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "middleware",
        imports: {
            "shallot:http/outbound-http.send": async | trappable,
            "shallot:http/key-value": async | trappable,
            default: trappable,
        },
        exports: { default: async },
        with: {
            "shallot:http/types.request": crate::resources::RequestResource,
            "shallot:http/types.response": crate::resources::ResponseResource,
            "shallot:http/key-value.store": crate::capability::kv::KvStoreHandle,
        },
    });
}

mod generated_view {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "view-component",
        imports: { default: trappable },
        exports: { default: async },
        with: {
            "shallot:http": super::generated::shallot::http,
        },
    });
}

pub(crate) use generated::exports::shallot::http::{
    process_exception, process_request, process_response, process_view,
};
pub(crate) use generated::shallot::http::{config, key_value, log, outbound_http, types};
pub(crate) use generated_view::exports::shallot::http::view;

/// Capabilities that need a grant: (interface, the config field granting it).
/// Whether a component's grants include a capability.
pub(crate) type IsGranted = fn(&crate::config::Grants) -> bool;

/// With each: whether a component's grants include it.
pub(crate) const GRANTED_INTERFACES: [(&str, &str, IsGranted); 2] = [
    ("key-value", "key_value_stores", |g| {
        !g.key_value_stores.is_empty()
    }),
    ("outbound-http", "allowed_outbound_hosts", |g| {
        !g.allowed_outbound_hosts.is_empty()
    }),
];

/// The hook interfaces' names as components export them, for load-time
/// detection and error messages.
pub(crate) const PACKAGE: &str = "shallot:http";
pub(crate) const VERSION: &str = "0.1.0";

/// Links the `shallot:http` host interfaces (types, log, config).
pub(crate) fn add_to_linker(
    linker: &mut wasmtime::component::Linker<crate::state::RequestState>,
) -> wasmtime::Result<()> {
    type Data = wasmtime::component::HasSelf<crate::state::RequestState>;
    types::add_to_linker::<_, Data>(linker, |s| s)?;
    log::add_to_linker::<_, Data>(linker, |s| s)?;
    config::add_to_linker::<_, Data>(linker, |s| s)?;
    key_value::add_to_linker::<_, Data>(linker, |s| s)?;
    outbound_http::add_to_linker::<_, Data>(linker, |s| s)?;
    Ok(())
}
