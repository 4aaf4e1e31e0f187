//! Host capabilities, one module each: `log` (into `tracing`), `config`
//! (the component's own table), `stdio` (stdout/stderr into the log),
//! `kv` (named key-value stores) and `http` (outbound HTTP to allowed
//! hosts). Only `log`, `config` and `stdio` are unconditional; the others
//! need a grant, checked when a component is loaded (link-time denial) and
//! again on every call (a store or host not on the list).

mod config;
mod http;
pub(crate) mod kv;
mod kv_store;
pub(crate) mod log;
mod outbound;
mod stdio;

use std::sync::Arc;

use crate::config::{ComponentSpec, Grants};
use crate::limits::Limits;

pub(crate) use kv_store::KvDatabase;
pub(crate) use outbound::{AllowedHosts, OutboundClient};
pub(crate) use stdio::LogPipe;

/// Checks one `allowed_outbound_hosts` entry, for the config parser.
pub(crate) fn check_host_pattern(pattern: &str) -> Result<(), String> {
    AllowedHosts::parse(&[pattern.to_owned()])
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// Services shared by every component of a pipeline.
#[derive(Clone)]
pub(crate) struct Services {
    /// Opened only when some component is granted a store.
    pub(crate) kv: Option<KvDatabase>,
    pub(crate) outbound: OutboundClient,
}

/// Who a component is and what it may do, as its host imports see it.
pub(crate) struct ComponentContext {
    /// `middleware `name`` or `view `name``, for logs and errors.
    pub(crate) label: Arc<str>,
    /// The component's `config` table, flattened to strings.
    pub(crate) config: Vec<(String, String)>,
    pub(crate) limits: Limits,
    pub(crate) grants: Grants,
    /// `grants.env` with the host's values, read once at load.
    pub(crate) env: Vec<(String, String)>,
    pub(crate) allowed_hosts: AllowedHosts,
    pub(crate) services: Services,
    /// Permits for its instances alive at once (`limits.concurrency`).
    pub(crate) concurrency: Option<Arc<tokio::sync::Semaphore>>,
}

impl ComponentContext {
    pub(crate) fn new(label: String, spec: &ComponentSpec, services: Services) -> Self {
        let env = spec
            .grants
            .env
            .iter()
            .filter_map(|name| std::env::var(name).ok().map(|v| (name.clone(), v)))
            .collect();
        let allowed_hosts = AllowedHosts::parse(&spec.grants.allowed_outbound_hosts)
            .expect("patterns were checked when the config was parsed");
        ComponentContext {
            label: label.into(),
            config: spec.config.clone(),
            limits: spec.limits.clone(),
            grants: spec.grants.clone(),
            env,
            allowed_hosts,
            services,
            concurrency: spec
                .limits
                .concurrency
                .map(|n| Arc::new(tokio::sync::Semaphore::new(n))),
        }
    }
}

impl std::fmt::Debug for ComponentContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ComponentContext")
            .field("label", &self.label)
            .finish_non_exhaustive()
    }
}
