//! Who a component is and what it may do, as its host imports see it:
//! built once at load from its config entry, shared by all its stores.

use std::sync::Arc;

use crate::capability::Services;
use crate::capability::outbound::AllowedHosts;
use crate::config::{ComponentSpec, Grants};
use crate::limits::Limits;

/// One loaded component's identity, grants and limits.
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
