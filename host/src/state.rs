//! The data of a component's `Store` for one request: the `ResourceTable`
//! its capabilities share, WASI with only the granted authority, its
//! resource limiter and CPU deadline, and who it is.

use std::sync::Arc;

use wasmtime::component::ResourceTable;
use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxView, WasiView};

use crate::capability::config::ConfigView;
use crate::capability::kv::KvView;
use crate::capability::log::{LogBudget, LogView};
use crate::capability::outbound::OutboundView;
use crate::capability::sql::SqlView;
use crate::capability::stdio::LogPipe;
use crate::capability::types::TypesView;
use crate::capability::urls::UrlsView;
use crate::context::ComponentContext;
use crate::limits::Meter;

/// Live resources (the request, responses, stores) one component may hold
/// at once: every entry is host memory the guest does not pay for.
const MAX_RESOURCES: usize = 10_000;

/// Store data for one component in one request.
pub(crate) struct RequestState {
    pub(crate) table: ResourceTable,
    /// Built on the guest's first WASI call: many requests make none, and
    /// building one (environment, directories, clocks, a seeded RNG) is a
    /// noticeable share of a fresh instance's cost.
    wasi: Option<WasiCtx>,
    /// The component this store runs; host imports answer on its behalf.
    pub(crate) current: Arc<ComponentContext>,
    /// Its limiter, CPU clock and host memory, charged by host functions.
    pub(crate) meter: Meter,
    /// The URLconf the request's URL was resolved with (`None`: the root
    /// one), for `reverse()`; set with each call's request.
    pub(crate) urlconf: Option<String>,
    /// The request's trace headers for outbound requests; set with each
    /// call's request, for components that may make them.
    pub(crate) trace_headers: Option<std::sync::Arc<[(String, String)]>>,
    stdout: LogPipe,
    stderr: LogPipe,
    /// What `shallot:http/log` may still write in this request.
    log_budget: LogBudget,
    /// Whether the running call opened an SQL connection, to close at its end.
    sql_opened: bool,
}

impl RequestState {
    pub(crate) fn new(component: Arc<ComponentContext>) -> Self {
        let mut table = ResourceTable::new();
        table.set_max_capacity(MAX_RESOURCES);
        // stdout and stderr share one budget split in half, so neither can
        // crowd the other out entirely.
        let budget = component.limits.output_bytes / 2;
        let stdout = LogPipe::new(component.label.clone(), "stdout", budget);
        let stderr = LogPipe::new(component.label.clone(), "stderr", budget);
        RequestState {
            table,
            wasi: None,
            meter: Meter::new(&component.limits),
            log_budget: LogBudget::new(component.limits.output_bytes),
            current: component,
            urlconf: None,
            trace_headers: None,
            stdout,
            stderr,
            sql_opened: false,
        }
    }

    /// The end of a hook call: SQL connections it opened go back to their
    /// pools, a transaction left open rolled back.
    pub(crate) fn end_call(&mut self) {
        if std::mem::take(&mut self.sql_opened) {
            crate::capability::sql::close_all(&mut self.table);
        }
    }

    /// Readies a kept instance's state for its next request: what it wrote
    /// and spent is forgotten (see [`Meter::restart`] for what it holds).
    pub(crate) fn recycle(&mut self) {
        let holds_responses = self
            .table
            .iter_mut()
            .any(|entry| entry.is::<crate::resources::ResponseResource>());
        self.meter.restart(holds_responses);
        self.stdout.restart();
        self.stderr.restart();
        self.log_budget.restart();
    }

    // ===== one view per capability, carved out of the store's data =====

    pub(crate) fn types(&mut self) -> TypesView<'_> {
        TypesView {
            table: &mut self.table,
            meter: &mut self.meter,
        }
    }

    pub(crate) fn log(&mut self) -> LogView<'_> {
        LogView {
            component: &self.current.label,
            budget: &mut self.log_budget,
        }
    }

    pub(crate) fn config(&mut self) -> ConfigView<'_> {
        ConfigView(&self.current.config)
    }

    pub(crate) fn urls(&mut self) -> UrlsView<'_> {
        UrlsView {
            router: self
                .current
                .services
                .urlconfs
                .router(self.urlconf.as_deref()),
            meter: &mut self.meter,
        }
    }

    pub(crate) fn kv(&mut self) -> KvView<'_> {
        KvView {
            table: &mut self.table,
            meter: &mut self.meter,
            component: &self.current.label,
            stores: &self.current.grants.key_value_stores,
            db: self.current.services.kv.as_ref(),
        }
    }

    pub(crate) fn sql(&mut self) -> SqlView<'_> {
        SqlView {
            table: &mut self.table,
            meter: &mut self.meter,
            component: &self.current.label,
            grants: &self.current.grants.sql_databases,
            databases: &self.current.services.sql,
            opened: &mut self.sql_opened,
        }
    }

    pub(crate) fn outbound(&mut self) -> OutboundView<'_> {
        OutboundView {
            component: &self.current.label,
            allowed: &self.current.allowed_hosts,
            client: &self.current.services.outbound,
            trace_headers: self.trace_headers.as_deref().unwrap_or_default(),
        }
    }
}

impl Drop for RequestState {
    fn drop(&mut self) {
        self.stdout.finish();
        self.stderr.finish();
    }
}

/// WASI with only what the config grants: the named environment
/// variables and read-only directories. No arguments, no stdin, no sockets
/// (TCP, UDP and name lookup are off); stdout and stderr go to the log.
/// Clocks and randomness stay available because they grant nothing.
fn wasi_for(component: &ComponentContext, stdout: &LogPipe, stderr: &LogPipe) -> WasiCtx {
    let mut wasi = WasiCtx::builder();
    wasi.allow_tcp(false)
        .allow_udp(false)
        .allow_ip_name_lookup(false)
        .stdout(stdout.clone())
        .stderr(stderr.clone());
    for (name, value) in &component.env {
        wasi.env(name, value);
    }
    for (guest, host) in &component.grants.dirs {
        if let Err(e) = wasi.preopened_dir(host, guest, FsPerms::ReadOnly) {
            // Checked at load; a directory removed since is simply absent.
            tracing::warn!(
                component = &*component.label,
                "cannot open {}: {e}",
                host.display()
            );
        }
    }
    wasi.build()
}

impl WasiView for RequestState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: self
                .wasi
                .get_or_insert_with(|| wasi_for(&self.current, &self.stdout, &self.stderr)),
            table: &mut self.table,
        }
    }
}
