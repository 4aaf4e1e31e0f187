//! The data of one request's `Store`: one `ResourceTable` shared by every
//! component and capability, and which component is running right now.
//!
//! All instances of one request live in this single store (cheaper than a
//! store per component), so host functions learn who called them from
//! `current`, which the cycle sets before every call into a guest.

use std::sync::Arc;

use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use crate::capability::ComponentContext;

/// Store data for one request.
pub(crate) struct RequestState {
    pub(crate) table: ResourceTable,
    wasi: WasiCtx,
    /// The component whose hook is executing; host imports are answered on
    /// its behalf (log tag, config values).
    pub(crate) current: Arc<ComponentContext>,
}

impl RequestState {
    pub(crate) fn new(first: Arc<ComponentContext>) -> Self {
        RequestState {
            table: ResourceTable::new(),
            wasi: deny_all_wasi(),
            current: first,
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
