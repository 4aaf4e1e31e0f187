//! Host bindings for the `shallot:http` WIT package.
//!
//! `bindgen!` stays in a private module; the rest of the crate sees only the
//! curated names below. WIT resources map to host types so that a request or
//! response lives in the store's `ResourceTable` and is never copied whole
//! across the boundary. What each import does is in `capability`; which
//! exports are hooks is in `hooks`.

mod generated {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "middleware",
        imports: {
            "shallot:http/outbound-http.send": async | trappable,
            "shallot:http/key-value": async | trappable,
            "shallot:http/sql": async | trappable,
            "shallot:http/types.[method]request.read-body": async | trappable,
            default: trappable,
        },
        exports: { default: async },
        with: {
            "shallot:http/types.request": crate::resources::RequestResource,
            "shallot:http/types.response": crate::resources::ResponseResource,
            "shallot:http/key-value.store": crate::resources::KvStoreHandle,
            "shallot:http/sql.connection": crate::capability::sql::SqlConnection,
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

mod generated_context_processor {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "context-processor-component",
        imports: { default: trappable },
        exports: { default: async },
        with: {
            "shallot:http": super::generated::shallot::http,
        },
    });
}

mod generated_filters {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "filter-component",
        imports: { default: trappable },
        exports: { default: async },
        with: {
            "shallot:http": super::generated::shallot::http,
        },
    });
}

/// The middleware hooks' export bindings, one module per hook interface.
pub(crate) use generated::exports::shallot::http as middleware_exports;
/// The host interfaces, one module each.
pub(crate) use generated::shallot::http::{
    config, key_value, log, outbound_http, sql, types, urls,
};
/// A context processor's export bindings.
pub(crate) use generated_context_processor::exports::shallot::http as context_processor_exports;
/// Template filters' export bindings.
pub(crate) use generated_filters::exports::shallot::http as filter_exports;
/// The view's export bindings.
pub(crate) use generated_view::exports::shallot::http as view_exports;

/// The WIT package every hook and capability interface belongs to.
pub(crate) const PACKAGE: &str = "shallot:http";
/// Its version, as components name it in their imports and exports.
pub(crate) const VERSION: &str = "0.1.0";

/// The full name of one of the package's interfaces, as a component
/// imports or exports it: `shallot:http/key-value@0.1.0`.
pub(crate) fn interface(name: &str) -> String {
    format!("{PACKAGE}/{name}@{VERSION}")
}
