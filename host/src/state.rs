//! The data of a component's `Store` for one request: the `ResourceTable`
//! its capabilities share, WASI without ambient authority, and who it is.

use std::sync::Arc;

use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use crate::capability::ComponentContext;

/// Live resources (the request, responses) one component may hold at once.
const MAX_RESOURCES: usize = 10_000;

/// Store data for one component in one request.
pub(crate) struct RequestState {
    pub(crate) table: ResourceTable,
    wasi: WasiCtx,
    /// The component this store runs; host imports answer on its behalf
    /// (log tag, config values).
    pub(crate) current: Arc<ComponentContext>,
}

impl RequestState {
    pub(crate) fn new(component: Arc<ComponentContext>) -> Self {
        let mut table = ResourceTable::new();
        // Every entry is host memory a guest does not pay for: a guest that
        // creates responses in a loop gets an error, not the host's RAM.
        table.set_max_capacity(MAX_RESOURCES);
        RequestState {
            table,
            wasi: deny_all_wasi(),
            current: component,
        }
    }
}

/// WASI with no ambient authority: no files, no environment, no sockets, no
/// stdin; stdout/stderr are discarded. Clocks and randomness stay available
/// because they grant nothing.
fn deny_all_wasi() -> WasiCtx {
    WasiCtx::builder()
        .allow_tcp(false)
        .allow_udp(false)
        .allow_ip_name_lookup(false)
        .build()
}

impl WasiView for RequestState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}
