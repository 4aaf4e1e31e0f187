//! Host capabilities: what a component can reach beyond computing.
//!
//! Each capability is one module holding all of its phases, by convention:
//!
//! - **grant**: `GRANT`, the config field that enables it (none for the
//!   ones every component gets: `types`, `log`, `config`, `urls`, `stdio`);
//! - **configure**: `configure(...)`, once per pipeline, opens what all
//!   components share (the key-value and SQL databases, the outbound client) into
//!   [`Services`];
//! - **link**: `add_to_linker(linker, view)`, called by `crate::linker`
//!   only for components granted the capability, so an ungranted import
//!   fails to link (and is refused at load, naming the grant);
//! - **per request**: a `…View<'a>`, the borrows of the store's data the
//!   host functions need (wasmtime-wasi's `WasiCtxView`), carved out of
//!   `RequestState` by `crate::state`. Host functions check the grant again
//!   on every call (a store or host not on the list).
//!
//! No capability module knows the store's data type or the config file:
//! `state` and `linker` import capabilities, never the reverse.

pub(crate) mod config;
pub(crate) mod error;
pub(crate) mod kv;
pub(crate) mod log;
pub(crate) mod outbound;
pub(crate) mod sql;
pub(crate) mod stdio;
#[cfg(test)]
pub(crate) mod testkit;
#[cfg(test)]
mod tests;
pub(crate) mod types;
pub(crate) mod urls;

use std::path::PathBuf;

pub use kv::{KvQuota, RedisSpec};
pub(crate) use outbound::check_host_pattern;

/// Capabilities granted to one component. Everything is denied unless
/// listed here.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Grants {
    /// `env = ["API_KEY"]`: host environment variables the component sees.
    pub env: Vec<String>,
    /// `dirs = { "/static" = "assets" }`: read-only directories, guest path
    /// to host directory (resolved against the config file).
    pub dirs: Vec<(String, PathBuf)>,
    /// `allowed_outbound_hosts = ["https://api.example.com"]`.
    pub allowed_outbound_hosts: Vec<String>,
    /// `key_value_stores = ["sessions"]`: the named stores it may open.
    pub key_value_stores: Vec<String>,
    /// `sql_databases = ["default"]` or `{ default = "read" }`: the
    /// databases it may open, and how.
    pub sql_databases: Vec<sql::SqlGrant>,
}

/// Runs `op`, which blocks (a file write, an fsync, an SQL statement), on
/// tokio's blocking pool, so the serving thread it was called from keeps
/// serving; without a runtime (a synchronous embedder) it runs here.
pub(crate) async fn blocking<T: Send + 'static>(
    op: impl FnOnce() -> T + Send + 'static,
) -> wasmtime::Result<T> {
    match tokio::runtime::Handle::try_current() {
        Ok(runtime) => Ok(runtime.spawn_blocking(op).await?),
        Err(_) => Ok(op()),
    }
}

/// [`blocking`] without waiting for it: for work whose result nobody needs.
pub(crate) fn blocking_detached(op: impl FnOnce() + Send + 'static) {
    match tokio::runtime::Handle::try_current() {
        Ok(runtime) => drop(runtime.spawn_blocking(op)),
        Err(_) => op(),
    }
}

/// A capability that needs a grant.
pub(crate) struct Grant {
    /// Its interface in the `shallot:http` package, e.g. `key-value`.
    pub(crate) interface: &'static str,
    /// The config field that grants it, e.g. `key_value_stores`.
    pub(crate) field: &'static str,
    /// Whether a component's grants include it.
    pub(crate) granted: fn(&Grants) -> bool,
}

/// What the configure phase opened, shared by every component of a
/// pipeline.
#[derive(Clone)]
pub(crate) struct Services {
    /// Opened only when some component is granted a store.
    pub(crate) kv: Option<kv::KvStores>,
    pub(crate) outbound: outbound::OutboundClient,
    /// The databases some component is granted.
    pub(crate) sql: sql::SqlDatabases,
    /// The URLconfs, for `reverse()`.
    pub(crate) urlconfs: crate::urlconfs::UrlConfs,
    /// Serving threads (`[server] workers`): a `reuse` pool keeps a share
    /// of idle instances for each.
    pub(crate) pool_shares: usize,
}
