//! Loading components: compile, link against the host's imports, and find
//! which hooks a middleware exports.
//!
//! Everything that can be checked before serving is checked here, so a
//! broken component is refused at load with the reason instead of failing
//! its first request: missing imports, a middleware that exports no hook, a
//! hook whose signature does not match this host's WIT.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use wasmtime::component::{Component, InstancePre, Linker};
use wasmtime::{Engine, Store};

use crate::bindings::{
    self, process_exception, process_request, process_response, process_view, view,
};
use crate::capability::{ComponentContext, Services};
use crate::config::{ComponentSpec, InstancePolicy};
use crate::error::Hook;
use crate::instance::InstancePool;
use crate::state::RequestState;

/// Why a component was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// The file is not a valid component, or does not compile.
    #[error("{location}: {label}: cannot compile {path}: {reason}")]
    Compile {
        /// `file:line` of the config entry.
        location: String,
        /// `middleware `x`` or `view `x``.
        label: String,
        /// The component file.
        path: String,
        /// wasmtime's explanation.
        reason: String,
    },
    /// The component imports something this host does not provide.
    #[error("{location}: {label}: cannot link {path}: {reason}")]
    Link {
        /// `file:line` of the config entry.
        location: String,
        /// `middleware `x`` or `view `x``.
        label: String,
        /// The component file.
        path: String,
        /// The missing or mismatched import.
        reason: String,
    },
    /// The component's exports do not fit its role.
    #[error("{location}: {label}: {path}: {reason}")]
    Exports {
        /// `file:line` of the config entry.
        location: String,
        /// `middleware `x`` or `view `x``.
        label: String,
        /// The component file.
        path: String,
        /// What is missing or wrong.
        reason: String,
    },
    /// A route names a view the config does not define.
    #[error("route '{route}' names view `{view}`, which is not defined")]
    UnknownView {
        /// The route's full pattern.
        route: String,
        /// The missing view.
        view: String,
    },
    /// The engine could not be set up.
    #[error("cannot set up the Wasm engine: {0}")]
    Engine(String),
}

/// Engine-wide settings: what cannot differ between components.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineOptions {
    /// Count instructions (needed for any `fuel` limit, and for reporting
    /// what each component spent). Costs some speed, so off unless asked.
    pub fuel: bool,
    /// The Wasm stack limit.
    pub max_stack_bytes: usize,
    /// Component instances alive at once, server-wide: the size of the
    /// pooling allocator. `0` allocates each instance on demand instead.
    pub concurrent_instances: u32,
    /// The largest table any component may grow (the pool's table slots).
    pub max_table_elements: usize,
}

impl Default for EngineOptions {
    fn default() -> Self {
        let global = crate::limits::GlobalLimits::default();
        EngineOptions {
            fuel: false,
            max_stack_bytes: global.max_stack_bytes,
            concurrent_instances: global.concurrent_instances,
            max_table_elements: crate::limits::Limits::default().table_elements,
        }
    }
}

impl EngineOptions {
    /// What `config` needs: fuel when any component has a fuel budget.
    pub fn for_config(config: &crate::Config) -> Self {
        let fuel = config
            .middleware
            .iter()
            .chain(config.views.values())
            .any(|c| c.limits.fuel.is_some());
        let max_table_elements = config
            .middleware
            .iter()
            .chain(config.views.values())
            .map(|c| c.limits.table_elements)
            .max()
            .unwrap_or_default();
        EngineOptions {
            fuel,
            max_stack_bytes: config.limits.max_stack_bytes,
            concurrent_instances: config.limits.concurrent_instances,
            max_table_elements,
        }
    }
}

/// The engine and the linker every component is linked with.
#[derive(Clone)]
pub struct Runtime {
    engine: Engine,
    linker: Arc<Linker<RequestState>>,
    /// Compiled components by content, so loading the same file twice (a
    /// reload, a test suite) compiles it once.
    compiled: Arc<Mutex<HashMap<Vec<u8>, Component>>>,
    /// Compiled components on disk, shared with later runs.
    disk: Option<crate::cache::DiskCache>,
    options: EngineOptions,
}

impl Runtime {
    /// An engine for async calls with the `shallot:http` and WASI imports,
    /// epoch interruption (CPU deadlines) and, if asked, fuel.
    pub fn new(options: EngineOptions) -> Result<Runtime, LoadError> {
        let engine_err = |e: wasmtime::Error| LoadError::Engine(e.to_string());
        let mut config = wasmtime::Config::new();
        config
            .epoch_interruption(true)
            .consume_fuel(options.fuel)
            .max_wasm_stack(options.max_stack_bytes);
        if options.concurrent_instances > 0 {
            config.allocation_strategy(crate::limits::pool(&options));
        }
        let engine = Engine::new(&config).map_err(engine_err)?;
        crate::limits::start_ticker(&engine);
        let mut linker = Linker::new(&engine);
        bindings::add_to_linker(&mut linker).map_err(engine_err)?;
        wasmtime_wasi::p2::add_to_linker_async(&mut linker).map_err(engine_err)?;
        Ok(Runtime {
            engine,
            linker: Arc::new(linker),
            compiled: Arc::default(),
            disk: None,
            options,
        })
    }

    /// Keeps compiled components in `dir` too (see `shallot precompile`).
    pub fn with_disk_cache(mut self, dir: &Path) -> Runtime {
        self.disk = Some(crate::cache::DiskCache::new(dir));
        self
    }

    /// Compiles (or loads from the caches) one component file, without
    /// linking it; `true` when it came from the disk cache.
    pub fn precompile(&self, path: &Path) -> Result<bool, LoadError> {
        self.compile(path)
            .map(|(_, cached)| cached)
            .map_err(|e| LoadError::Compile {
                location: path.display().to_string(),
                label: "component".into(),
                path: path.display().to_string(),
                reason: format!("{e:#}"),
            })
    }

    /// The engine-wide settings this runtime was built with.
    pub fn options(&self) -> &EngineOptions {
        &self.options
    }

    /// Compiles and links one component file.
    async fn prepare(
        &self,
        spec: &ComponentSpec,
        label: &str,
        services: &Services,
    ) -> Result<Prepared, LoadError> {
        let path = spec.component.display().to_string();
        if spec.limits.fuel.is_some() && !self.options.fuel {
            return Err(LoadError::Engine(format!(
                "{label} has a fuel limit but this runtime counts no fuel (EngineOptions::fuel)"
            )));
        }
        let (component, _) = self
            .compile(&spec.component)
            .map_err(|e| LoadError::Compile {
                location: spec.location.clone(),
                label: label.to_owned(),
                path: path.clone(),
                reason: format!("{e:#}"),
            })?;
        let pre = self
            .linker
            .instantiate_pre(&component)
            .map_err(|e| LoadError::Link {
                location: spec.location.clone(),
                label: label.to_owned(),
                path: path.clone(),
                reason: format!("{e:#}"),
            })?;
        deny_ungranted(&component, &self.engine, spec).map_err(|reason| LoadError::Link {
            location: spec.location.clone(),
            label: label.to_owned(),
            path: path.clone(),
            reason,
        })?;
        let context = Arc::new(ComponentContext::new(
            label.to_owned(),
            spec,
            services.clone(),
        ));
        Ok(Prepared { pre, context, path })
    }

    /// Loads a middleware and finds its hooks.
    pub(crate) async fn load_middleware(
        &self,
        spec: &ComponentSpec,
        services: &Services,
    ) -> Result<MiddlewareComponent, LoadError> {
        let label = format!("middleware `{}`", spec.name);
        let p = self.prepare(spec, &label, services).await?;
        let exports_err = |reason: String| p.refuse(spec, &label, reason);
        let hooks = Hooks {
            request: find_hook(
                &p.pre,
                Hook::ProcessRequest,
                process_request::GuestIndices::new,
            )
            .map_err(&exports_err)?,
            view: find_hook(&p.pre, Hook::ProcessView, process_view::GuestIndices::new)
                .map_err(&exports_err)?,
            exception: find_hook(
                &p.pre,
                Hook::ProcessException,
                process_exception::GuestIndices::new,
            )
            .map_err(&exports_err)?,
            response: find_hook(
                &p.pre,
                Hook::ProcessResponse,
                process_response::GuestIndices::new,
            )
            .map_err(&exports_err)?,
        };
        let component = MiddlewareComponent {
            name: spec.name.clone(),
            context: p.context.clone(),
            pre: p.pre.clone(),
            hooks,
            pool: pool_for(spec),
        };
        if component.hooks.names().is_empty() {
            return Err(exports_err(format!(
                "exports none of the middleware hooks (process-request, process-view, \
                 process-exception, process-response of {}@{}); a middleware must implement at least one",
                bindings::PACKAGE,
                bindings::VERSION
            )));
        }
        self.only_known_exports(&component.pre, &Hook::MIDDLEWARE)
            .map_err(&exports_err)?;
        self.check_signatures(&component.pre, &component.context, |store, instance| {
            component.hooks.load_all(store, instance).map(|_| ())
        })
        .await
        .map_err(exports_err)?;
        Ok(component)
    }

    /// Loads a view component.
    pub(crate) async fn load_view(
        &self,
        spec: &ComponentSpec,
        services: &Services,
    ) -> Result<ViewComponent, LoadError> {
        let label = format!("view `{}`", spec.name);
        let p = self.prepare(spec, &label, services).await?;
        let exports_err = |reason: String| p.refuse(spec, &label, reason);
        let indices = find_hook(&p.pre, Hook::View, view::GuestIndices::new)
            .map_err(&exports_err)?
            .ok_or_else(|| {
                exports_err(format!(
                    "does not export {}/view@{}: a view component must export `handle`",
                    bindings::PACKAGE,
                    bindings::VERSION
                ))
            })?;
        self.only_known_exports(&p.pre, &[Hook::View])
            .map_err(&exports_err)?;
        self.check_signatures(&p.pre, &p.context, |store, instance| {
            indices.load(store, instance).map(|_| ())
        })
        .await
        .map_err(exports_err)?;
        Ok(ViewComponent {
            name: spec.name.clone(),
            context: p.context.clone(),
            pre: p.pre.clone(),
            indices,
            pool: pool_for(spec),
        })
    }

    /// A `shallot:http` export this host does not know (another version, a
    /// hook of the other role) would otherwise be silently ignored.
    fn only_known_exports(
        &self,
        pre: &InstancePre<RequestState>,
        allowed: &[Hook],
    ) -> Result<(), String> {
        let allowed: Vec<String> = allowed.iter().map(|h| interface_name(*h)).collect();
        let ty = pre.component().component_type();
        for (name, _) in ty.exports(&self.engine) {
            if name.starts_with(&format!("{}/", bindings::PACKAGE))
                && !allowed.iter().any(|a| a == name)
            {
                return Err(format!(
                    "exports `{name}`, which this host does not serve here (it serves {})",
                    allowed.join(", ")
                ));
            }
        }
        Ok(())
    }

    /// Instantiates once in a throwaway store and resolves every export with
    /// its full type check, so a signature mismatch is a load error, not a
    /// failed request.
    async fn check_signatures(
        &self,
        pre: &InstancePre<RequestState>,
        context: &Arc<ComponentContext>,
        load: impl FnOnce(
            &mut Store<RequestState>,
            &wasmtime::component::Instance,
        ) -> wasmtime::Result<()>,
    ) -> Result<(), String> {
        let mut store = crate::instance::new_store(pre.engine(), context.clone());
        let instance = pre
            .instantiate_async(&mut store)
            .await
            .map_err(|e| format!("instantiation failed: {e:#}"))?;
        load(&mut store, &instance).map_err(|e| format!("export signature mismatch: {e:#}"))
    }
}

struct Prepared {
    pre: InstancePre<RequestState>,
    context: Arc<ComponentContext>,
    path: String,
}

impl Prepared {
    /// The component's exports do not fit its role.
    fn refuse(&self, spec: &ComponentSpec, label: &str, reason: String) -> LoadError {
        LoadError::Exports {
            location: spec.location.clone(),
            label: label.to_owned(),
            path: self.path.clone(),
            reason,
        }
    }
}

impl Runtime {
    fn compile(&self, path: &Path) -> wasmtime::Result<(Component, bool)> {
        let bytes = std::fs::read(path)?;
        if let Some(component) = self.compiled.lock().expect("cache lock").get(&bytes) {
            return Ok((component.clone(), true));
        }
        let (component, cached) = match &self.disk {
            Some(disk) => {
                let (component, source) = disk.load_or_compile(&self.engine, &bytes)?;
                (component, source == crate::cache::Source::Cache)
            }
            None => (Component::new(&self.engine, &bytes)?, false),
        };
        self.compiled
            .lock()
            .expect("cache lock")
            .insert(bytes, component.clone());
        Ok((component, cached))
    }
}

/// Link-time denial: a component importing a capability its config does
/// not grant is refused, naming the import and the missing grant.
fn deny_ungranted(
    component: &Component,
    engine: &Engine,
    spec: &ComponentSpec,
) -> Result<(), String> {
    let ty = component.component_type();
    for (name, _) in ty.imports(engine) {
        for (iface, field, granted) in bindings::GRANTED_INTERFACES {
            let full = format!("{}/{iface}@{}", bindings::PACKAGE, bindings::VERSION);
            if name == full && !granted(&spec.grants) {
                return Err(format!(
                    "imports `{name}`, but its config grants no {field} (add `{field} = [...]` to grant it)"
                ));
            }
        }
    }
    Ok(())
}

/// The pool of warm instances a `reuse` component needs.
fn pool_for(spec: &ComponentSpec) -> Option<Arc<InstancePool>> {
    match spec.policy {
        InstancePolicy::PerRequest => None,
        InstancePolicy::Reuse(policy) => Some(InstancePool::new(policy)),
    }
}

/// `Ok(None)` when the component does not export the hook's interface at
/// all; an error when it exports it with the wrong shape.
fn find_hook<I>(
    pre: &InstancePre<RequestState>,
    hook: Hook,
    indices: impl FnOnce(&InstancePre<RequestState>) -> wasmtime::Result<I>,
) -> Result<Option<I>, String> {
    let interface = interface_name(hook);
    if pre.component().get_export_index(None, &interface).is_none() {
        return Ok(None);
    }
    indices(pre)
        .map(Some)
        .map_err(|e| format!("export `{interface}` does not match this host's WIT: {e:#}"))
}

/// The export name of a hook's interface, e.g. `shallot:http/process-view@0.1.0`.
pub(crate) fn interface_name(hook: Hook) -> String {
    let iface = match hook {
        Hook::View => "view",
        other => other.name(),
    };
    format!("{}/{iface}@{}", bindings::PACKAGE, bindings::VERSION)
}

/// A loaded middleware: its pre-linked component and the hooks it exports.
pub struct MiddlewareComponent {
    pub(crate) name: String,
    pub(crate) context: Arc<ComponentContext>,
    pub(crate) pre: InstancePre<RequestState>,
    pub(crate) hooks: Hooks,
    /// Warm instances, under the `reuse` policy.
    pub(crate) pool: Option<Arc<InstancePool>>,
}

impl MiddlewareComponent {
    /// The middleware's configured name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The hooks this component exports, in Django's order.
    pub fn hooks(&self) -> Vec<Hook> {
        self.hooks.names()
    }

    /// Warm instances waiting in its pool; `None` under `per-request`.
    pub fn idle_instances(&self) -> Option<usize> {
        self.pool.as_ref().map(|p| p.idle())
    }
}

/// Export indices of the hooks a middleware implements.
pub(crate) struct Hooks {
    pub(crate) request: Option<process_request::GuestIndices>,
    pub(crate) view: Option<process_view::GuestIndices>,
    pub(crate) exception: Option<process_exception::GuestIndices>,
    pub(crate) response: Option<process_response::GuestIndices>,
}

impl Hooks {
    fn names(&self) -> Vec<Hook> {
        let mut names = Vec::new();
        if self.request.is_some() {
            names.push(Hook::ProcessRequest);
        }
        if self.view.is_some() {
            names.push(Hook::ProcessView);
        }
        if self.exception.is_some() {
            names.push(Hook::ProcessException);
        }
        if self.response.is_some() {
            names.push(Hook::ProcessResponse);
        }
        names
    }

    fn load_all(
        &self,
        store: &mut Store<RequestState>,
        instance: &wasmtime::component::Instance,
    ) -> wasmtime::Result<()> {
        if let Some(i) = &self.request {
            i.load(&mut *store, instance)?;
        }
        if let Some(i) = &self.view {
            i.load(&mut *store, instance)?;
        }
        if let Some(i) = &self.exception {
            i.load(&mut *store, instance)?;
        }
        if let Some(i) = &self.response {
            i.load(&mut *store, instance)?;
        }
        Ok(())
    }
}

/// A loaded view component.
pub struct ViewComponent {
    pub(crate) name: String,
    pub(crate) context: Arc<ComponentContext>,
    pub(crate) pre: InstancePre<RequestState>,
    pub(crate) indices: view::GuestIndices,
    /// Warm instances, under the `reuse` policy.
    pub(crate) pool: Option<Arc<InstancePool>>,
}

impl ViewComponent {
    /// The view's configured name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Warm instances waiting in its pool; `None` under `per-request`.
    pub fn idle_instances(&self) -> Option<usize> {
        self.pool.as_ref().map(|p| p.idle())
    }
}
