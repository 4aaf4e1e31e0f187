//! Testing a capability's host side without a guest (Spin's
//! `factors-test`): a [`Kit`] owns what a store's data would (the table,
//! the meter, the component's grants and config, the pipeline's services)
//! and hands out the same views `state` carves out of a store, so a test
//! calls the generated host traits directly:
//!
//! ```ignore
//! let mut kit = Kit::new().with_stores(&["sessions"], &dir);
//! let store = HostStore::open(&mut kit.kv(), "sessions".into()).await?;
//! ```

use std::path::Path;

use wasmtime::component::ResourceTable;

use super::config::ConfigView;
use super::kv::{KvQuota, KvStores, KvView};
use super::outbound::{AllowedHosts, OutboundClient, OutboundView};
use super::types::TypesView;
use super::urls::UrlsView;
use crate::limits::{Limits, Meter};
use crate::router::Router;

/// One component's host-side state, without a store.
pub(crate) struct Kit {
    pub(crate) table: ResourceTable,
    pub(crate) meter: Meter,
    pub(crate) label: String,
    pub(crate) config: Vec<(String, String)>,
    pub(crate) stores: Vec<String>,
    pub(crate) kv: Option<KvStores>,
    pub(crate) allowed: AllowedHosts,
    pub(crate) outbound: OutboundClient,
    pub(crate) router: Router,
}

impl Kit {
    /// A component with the default limits and no grants.
    pub(crate) fn new() -> Self {
        Kit::with_limits(Limits::default())
    }

    /// A component with `limits` and no grants.
    pub(crate) fn with_limits(limits: Limits) -> Self {
        Kit {
            table: ResourceTable::new(),
            meter: Meter::new(&limits),
            label: "middleware `kit`".to_owned(),
            config: Vec::new(),
            stores: Vec::new(),
            kv: None,
            allowed: AllowedHosts::default(),
            outbound: OutboundClient::new(),
            router: Router::new(Vec::new()).expect("an empty table compiles"),
        }
    }

    /// Grants `stores`, over a database in `dir` with `quota`.
    pub(crate) fn with_stores(mut self, stores: &[&str], dir: &Path, quota: KvQuota) -> Self {
        self.stores = stores.iter().map(|s| (*s).to_owned()).collect();
        let path = dir.join("kv.redb");
        self.kv = KvStores::configure(stores.iter().copied(), &path, quota, &Default::default())
            .expect("opens");
        self
    }

    /// Grants outbound requests to `patterns`.
    pub(crate) fn with_hosts(mut self, patterns: &[&str]) -> Self {
        let patterns: Vec<String> = patterns.iter().map(|p| (*p).to_owned()).collect();
        self.allowed = AllowedHosts::parse(&patterns).expect("valid patterns");
        self
    }

    /// The component's `config` table.
    pub(crate) fn with_config(mut self, pairs: &[(&str, &str)]) -> Self {
        self.config = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        self
    }

    /// The pipeline's route table.
    pub(crate) fn with_routes(mut self, router: Router) -> Self {
        self.router = router;
        self
    }

    /// Starts a hook call: what the cycle does before each one.
    pub(crate) fn begin_call(&mut self) {
        self.meter.begin_call();
    }

    pub(crate) fn types(&mut self) -> TypesView<'_> {
        TypesView {
            table: &mut self.table,
            meter: &mut self.meter,
        }
    }

    pub(crate) fn config(&mut self) -> ConfigView<'_> {
        ConfigView(&self.config)
    }

    pub(crate) fn kv(&mut self) -> KvView<'_> {
        KvView {
            table: &mut self.table,
            meter: &mut self.meter,
            component: &self.label,
            stores: &self.stores,
            db: self.kv.as_ref(),
        }
    }

    pub(crate) fn urls(&mut self) -> UrlsView<'_> {
        UrlsView {
            router: &self.router,
            meter: &mut self.meter,
        }
    }

    pub(crate) fn outbound(&mut self) -> OutboundView<'_> {
        OutboundView {
            component: &self.label,
            allowed: &self.allowed,
            client: &self.outbound,
            trace_headers: &[],
        }
    }
}
