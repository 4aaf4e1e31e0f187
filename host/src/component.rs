//! A loaded component: compiled, linked, its hooks found, ready to
//! instantiate for a request (see `load` for how it got here and
//! `instance` for where its instances come from).

use std::sync::Arc;

use wasmtime::component::InstancePre;

use crate::bindings::context_processor_exports::context_processor;
use crate::bindings::filter_exports::template_filters;
use crate::bindings::view_exports::{body_source, view};
use crate::config::{ComponentSpec, InstancePolicy};
use crate::context::ComponentContext;
use crate::hooks::{Hook, HookIndices};
use crate::instance::InstancePool;
use crate::metrics::{ComponentMetrics, Metrics};
use crate::state::RequestState;

/// What every loaded component has, whatever its role.
pub(crate) struct Loaded {
    pub(crate) pre: InstancePre<RequestState>,
    pub(crate) context: Arc<ComponentContext>,
    /// Warm instances, under the `reuse` policy.
    pub(crate) pool: Option<Arc<InstancePool>>,
    /// Its metric handles, set once its pipeline has loaded (calls made
    /// while loading are not traffic, and are not counted).
    pub(crate) metrics: Option<Arc<ComponentMetrics>>,
}

impl Loaded {
    pub(crate) fn new(
        pre: InstancePre<RequestState>,
        context: Arc<ComponentContext>,
        spec: &ComponentSpec,
    ) -> Self {
        let pool = match spec.policy {
            InstancePolicy::PerRequest => None,
            InstancePolicy::Reuse(policy) => {
                Some(InstancePool::new(policy, context.services.pool_shares))
            }
        };
        Loaded {
            pre,
            context,
            pool,
            metrics: None,
        }
    }

    /// Counts its calls in `metrics`, as component `name` exporting
    /// `hooks` (and the fuel it spends, when the engine `counts_fuel`).
    pub(crate) fn observe(
        &mut self,
        metrics: &Metrics,
        name: &str,
        hooks: &[Hook],
        counts_fuel: bool,
    ) {
        let handles = ComponentMetrics::new(metrics, name, hooks, counts_fuel);
        self.metrics = Some(Arc::new(handles));
    }

    /// Its name and idle instances, for the pool gauge: `None` without a
    /// pool.
    pub(crate) fn idle_sample(&self) -> Option<(&Arc<str>, usize)> {
        Some((self.metrics.as_ref()?.name(), self.pool.as_ref()?.idle()))
    }

    fn idle_instances(&self) -> Option<usize> {
        self.pool.as_ref().map(|p| p.idle())
    }
}

/// A loaded middleware: its pre-linked component and the hooks it exports.
pub struct MiddlewareComponent {
    pub(crate) name: String,
    pub(crate) loaded: Loaded,
    pub(crate) hooks: HookIndices,
}

impl MiddlewareComponent {
    /// The middleware's configured name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The hooks this component exports, in Django's order.
    pub fn hooks(&self) -> Vec<Hook> {
        self.hooks.hooks()
    }

    /// Warm instances waiting in its pool; `None` under `per-request`.
    pub fn idle_instances(&self) -> Option<usize> {
        self.loaded.idle_instances()
    }
}

/// A loaded view component.
pub struct ViewComponent {
    pub(crate) name: String,
    pub(crate) loaded: Loaded,
    pub(crate) handle: view::GuestIndices,
    /// `next-chunk`, when it streams responses.
    pub(crate) body_source: Option<body_source::GuestIndices>,
}

impl ViewComponent {
    /// The view's configured name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Warm instances waiting in its pool; `None` under `per-request`.
    pub fn idle_instances(&self) -> Option<usize> {
        self.loaded.idle_instances()
    }
}

/// A loaded context processor (`[[templates.context_processors]]`).
pub struct ContextProcessorComponent {
    pub(crate) name: String,
    pub(crate) loaded: Loaded,
    pub(crate) context: context_processor::GuestIndices,
}

impl ContextProcessorComponent {
    /// Its configured name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// A loaded filter component (`[[templates.filters]]`) and the filters it
/// said it provides.
pub struct FilterComponent {
    pub(crate) name: String,
    pub(crate) loaded: Loaded,
    pub(crate) apply: template_filters::GuestIndices,
    pub(crate) filters: Vec<String>,
}

impl FilterComponent {
    /// Its configured name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The filter names it provides.
    pub fn filters(&self) -> &[String] {
        &self.filters
    }
}
