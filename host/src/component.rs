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
use crate::state::RequestState;

/// What every loaded component has, whatever its role.
pub(crate) struct Loaded {
    pub(crate) pre: InstancePre<RequestState>,
    pub(crate) context: Arc<ComponentContext>,
    /// Warm instances, under the `reuse` policy.
    pub(crate) pool: Option<Arc<InstancePool>>,
}

impl Loaded {
    pub(crate) fn new(
        pre: InstancePre<RequestState>,
        context: Arc<ComponentContext>,
        spec: &ComponentSpec,
    ) -> Self {
        let pool = match spec.policy {
            InstancePolicy::PerRequest => None,
            InstancePolicy::Reuse(policy) => Some(InstancePool::new(policy)),
        };
        Loaded { pre, context, pool }
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
