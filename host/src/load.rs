//! Loading a component: compile, refuse ungranted imports, link, find its
//! hooks and check their signatures.
//!
//! Everything that can be checked before serving is checked here, so a
//! broken component is refused at load with the reason instead of failing
//! its first request: missing imports, an import of a capability the config
//! does not grant, a middleware that exports no hook, an export of the other
//! role, a hook whose signature does not match this host's WIT.

use std::sync::Arc;

use wasmtime::Store;
use wasmtime::component::{Component, Instance, InstancePre};

use crate::bindings;
use crate::capability::Services;
use crate::component::{
    ContextProcessorComponent, FilterComponent, Loaded, MiddlewareComponent, ViewComponent,
};
use crate::config::ComponentSpec;
use crate::context::ComponentContext;
use crate::engine::Runtime;
use crate::hooks::{Hook, HookIndices, Role};
use crate::load_error::{At, LoadError, cause};
use crate::state::RequestState;

impl Runtime {
    /// Loads a middleware and finds its hooks.
    pub(crate) async fn load_middleware(
        &self,
        spec: &ComponentSpec,
        services: &Services,
    ) -> Result<MiddlewareComponent, LoadError> {
        let at = at(spec, format!("middleware `{}`", spec.name));
        let (pre, context) = self.prepare(spec, &at, services)?;
        let refuse = |reason: String| LoadError::Exports {
            at: at.clone(),
            reason,
        };
        let hooks = HookIndices::find(&pre, Role::Middleware).map_err(refuse)?;
        if hooks.hooks().is_empty() {
            let names: Vec<_> = Hook::of_role(Role::Middleware).map(Hook::name).collect();
            return Err(refuse(format!(
                "exports none of the middleware hooks ({} of {}@{}); a middleware must implement at least one",
                names.join(", "),
                bindings::PACKAGE,
                bindings::VERSION
            )));
        }
        self.only_known_exports(&pre, Role::Middleware)
            .map_err(refuse)?;
        check_signatures(&pre, &context, &at, |store, instance| {
            hooks.load_all(store, instance)
        })
        .await?;
        Ok(MiddlewareComponent {
            name: spec.name.clone(),
            loaded: Loaded::new(pre, context, spec),
            hooks,
        })
    }

    /// Loads a view component.
    pub(crate) async fn load_view(
        &self,
        spec: &ComponentSpec,
        services: &Services,
    ) -> Result<ViewComponent, LoadError> {
        let label = format!("view `{}`", spec.name);
        let (loaded, hooks) = self.load_one(spec, services, label, Hook::View).await?;
        Ok(ViewComponent {
            name: spec.name.clone(),
            loaded,
            handle: hooks.handle.expect("load_one checked the export"),
            body_source: hooks.body_source,
        })
    }

    /// Loads a context processor.
    pub(crate) async fn load_context_processor(
        &self,
        spec: &ComponentSpec,
        services: &Services,
    ) -> Result<ContextProcessorComponent, LoadError> {
        let label = format!("context processor `{}`", spec.name);
        let hook = Hook::ContextProcessor;
        let (loaded, hooks) = self.load_one(spec, services, label, hook).await?;
        Ok(ContextProcessorComponent {
            name: spec.name.clone(),
            loaded,
            context: hooks
                .context_processor
                .expect("load_one checked the export"),
        })
    }

    /// Loads a filter component and asks it which filters it provides.
    pub(crate) async fn load_filters(
        &self,
        spec: &ComponentSpec,
        services: &Services,
    ) -> Result<FilterComponent, LoadError> {
        let label = format!("filter component `{}`", spec.name);
        let (loaded, hooks) = self.load_one(spec, services, label, Hook::Filter).await?;
        let apply = hooks.filters.expect("load_one checked the export");
        let at = at(spec, format!("filter component `{}`", spec.name));
        let mut slot = None;
        // `names` is part of the filter interface; `loaded` counts no
        // calls yet (its pipeline has not loaded).
        let names = crate::cycle::guest_call(
            &mut slot,
            &loaded,
            Hook::Filter,
            &mut Default::default(),
            async |g, _| Ok(Ok(g.export(&apply)?.call_names(&mut g.store).await?)),
        )
        .await
        .map_err(|failure| LoadError::Instantiate {
            source: failure.to_wit(&at.label, Hook::Filter).message.into(),
            at: at.clone(),
        })?;
        for name in &names {
            if !is_identifier(name) {
                return Err(LoadError::Exports {
                    at,
                    reason: format!(
                        "names() gave {name:?}, which is not a filter name (letters, digits and '_', not starting with a digit)"
                    ),
                });
            }
        }
        Ok(FilterComponent {
            name: spec.name.clone(),
            loaded,
            apply,
            filters: names,
        })
    }

    /// Loads a component with one export, `hook`, checking its signature.
    async fn load_one(
        &self,
        spec: &ComponentSpec,
        services: &Services,
        label: String,
        hook: Hook,
    ) -> Result<(Loaded, HookIndices), LoadError> {
        let at = at(spec, label);
        let (pre, context) = self.prepare(spec, &at, services)?;
        let refuse = |reason: String| LoadError::Exports {
            at: at.clone(),
            reason,
        };
        let hooks = HookIndices::find(&pre, hook.role()).map_err(refuse)?;
        if !hooks.hooks().contains(&hook) {
            return Err(refuse(format!(
                "does not export {}: a {} component must export `{}`",
                hook.interface(),
                hook.interface_name(),
                hook.name()
            )));
        }
        self.only_known_exports(&pre, hook.role()).map_err(refuse)?;
        check_signatures(&pre, &context, &at, |store, instance| {
            hooks.load_all(store, instance)
        })
        .await?;
        Ok((Loaded::new(pre, context, spec), hooks))
    }

    /// Compiles, refuses ungranted imports and links one component file.
    fn prepare(
        &self,
        spec: &ComponentSpec,
        at: &At,
        services: &Services,
    ) -> Result<(InstancePre<RequestState>, Arc<ComponentContext>), LoadError> {
        if spec.limits.fuel.is_some() && !self.options().fuel {
            return Err(LoadError::FuelNotCounted {
                label: at.label.clone(),
            });
        }
        let (component, _) = self
            .compile(&spec.component)
            .map_err(|e| LoadError::Compile {
                at: at.clone(),
                source: cause(e),
            })?;
        // Before linking: an ungranted capability is not in the linker at
        // all, and the refusal should name the grant, not a missing import.
        deny_ungranted(&component, &self.engine, spec, at)?;
        let link_err = |e: wasmtime::Error| LoadError::Link {
            at: at.clone(),
            source: cause(e),
        };
        let pre = self
            .linkers
            .for_grants(&spec.grants)
            .map_err(|e| LoadError::Engine { source: cause(e) })?
            .instantiate_pre(&component)
            .map_err(link_err)?;
        let context = Arc::new(ComponentContext::new(
            at.label.clone(),
            spec,
            services.clone(),
        ));
        Ok((pre, context))
    }

    /// A `shallot:http` export this host does not know (another version, a
    /// hook of the other role) would otherwise be silently ignored.
    fn only_known_exports(
        &self,
        pre: &InstancePre<RequestState>,
        role: Role,
    ) -> Result<(), String> {
        let allowed: Vec<String> = Hook::of_role(role).map(Hook::interface).collect();
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
}

fn at(spec: &ComponentSpec, label: String) -> At {
    At {
        location: spec.location.clone(),
        label,
        path: spec.component.clone(),
    }
}

/// Link-time denial: a component importing a capability its config does
/// not grant is refused, naming the import and the missing grant.
fn deny_ungranted(
    component: &Component,
    engine: &wasmtime::Engine,
    spec: &ComponentSpec,
    at: &At,
) -> Result<(), LoadError> {
    let ty = component.component_type();
    for (name, _) in ty.imports(engine) {
        for (grant, _) in &crate::linker::GRANTED {
            if name == bindings::interface(grant.interface) && !(grant.granted)(&spec.grants) {
                return Err(LoadError::Ungranted {
                    at: at.clone(),
                    import: name.to_owned(),
                    field: grant.field,
                });
            }
        }
    }
    Ok(())
}

/// Instantiates once in a throwaway store and resolves every export with
/// its full type check, so a signature mismatch is a load error, not a
/// failed request.
async fn check_signatures(
    pre: &InstancePre<RequestState>,
    context: &Arc<ComponentContext>,
    at: &At,
    load: impl FnOnce(&mut Store<RequestState>, &Instance) -> wasmtime::Result<()>,
) -> Result<(), LoadError> {
    let mut store = crate::instance::new_store(pre.engine(), context.clone());
    let instance = pre
        .instantiate_async(&mut store)
        .await
        .map_err(|e| LoadError::Instantiate {
            at: at.clone(),
            source: cause(e),
        })?;
    load(&mut store, &instance).map_err(|e| LoadError::Signature {
        at: at.clone(),
        source: cause(e),
    })
}

/// A name a template can write after `|`.
fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}
