//! Filters provided by components (`[[templates.filters]]`): each name a
//! component said it provides becomes a filter calling that component.
//!
//! The template engine calls filters synchronously, in the middle of a
//! rendering, while guest calls are async: a filter call waits for its
//! guest call on the runtime, handing its worker's other tasks over
//! (`block_in_place`) so they keep running meanwhile. A rendering that
//! applies no component filter pays nothing for this. A rendering's
//! instances of each filter component live as long as the rendering (and
//! go back to their pool under `reuse`).

use std::sync::{Arc, Mutex};

use minijinja::value::{Object, Rest, Value};
use minijinja::{Environment, Error, ErrorKind, State};

use crate::component::FilterComponent;
use crate::cycle::guest_call;
use crate::hooks::Hook;
use crate::instance::Slot;

/// The context key a rendering's [`FilterCalls`] travels under.
pub(super) const CALLS: &str = "__shallot_filter_calls";

/// Registers every filter the components provide.
pub(super) fn install(env: &mut Environment<'static>, components: &[FilterComponent]) {
    for (index, component) in components.iter().enumerate() {
        for name in &component.filters {
            let filter = name.clone();
            env.add_filter(
                name.clone(),
                move |state: &State, value: Value, args: Rest<Value>| {
                    let calls = state
                        .lookup(CALLS)
                        .and_then(|v| v.downcast_object::<FilterCalls>())
                        .ok_or_else(|| {
                            Error::new(
                                ErrorKind::InvalidOperation,
                                "filter called outside a rendering",
                            )
                        })?;
                    calls.apply(index, &filter, &value, &args)
                },
            );
        }
    }
}

/// One rendering's instances of the filter components.
pub(super) struct FilterCalls {
    components: Arc<super::Templates>,
    slots: Mutex<Vec<Option<Slot>>>,
    runtime: tokio::runtime::Handle,
    /// Rendering on a runtime worker (else on a blocking thread).
    inline: bool,
}

impl std::fmt::Debug for FilterCalls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FilterCalls")
    }
}

impl Object for FilterCalls {
    fn render(self: &Arc<Self>, _f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        Ok(())
    }
}

impl FilterCalls {
    pub(super) fn new(
        templates: Arc<super::Templates>,
        runtime: tokio::runtime::Handle,
        inline: bool,
    ) -> Self {
        let slots = templates.filters.iter().map(|_| None).collect();
        FilterCalls {
            components: templates,
            slots: Mutex::new(slots),
            runtime,
            inline,
        }
    }

    /// `value|name(args)` through component `index`: value and arguments
    /// go as JSON, the result comes back as JSON (or as markup when the
    /// component marks a string safe).
    fn apply(
        &self,
        index: usize,
        name: &str,
        value: &Value,
        args: &[Value],
    ) -> Result<Value, Error> {
        let component = &self.components.filters[index];
        let json = |v: &Value| {
            serde_json::to_string(v)
                .map_err(|e| Error::new(ErrorKind::InvalidOperation, format!("filter {name}: {e}")))
        };
        let value = json(value)?;
        let args = args.iter().map(json).collect::<Result<Vec<_>, _>>()?;
        let mut slots = self.slots.lock().expect("one rendering, one thread");
        let slot = &mut slots[index];
        // Filters get no request: an empty one is lent for the call.
        let mut no_request = Default::default();
        let loaded = &component.loaded;
        let call = guest_call(slot, loaded, Hook::Filter, &mut no_request, async |g, _| {
            g.export(&component.apply)?
                .call_apply(&mut g.store, name, &value, &args)
                .await
        });
        let outcome = if self.inline {
            tokio::task::block_in_place(|| self.runtime.block_on(call))
        } else {
            self.runtime.block_on(call)
        };
        let label = format!("filter component `{}`", component.name);
        let filtered = outcome.map_err(|failure| {
            failure.log(&label, Hook::Filter, "");
            let error = failure.to_wit(&label, Hook::Filter);
            Error::new(
                ErrorKind::InvalidOperation,
                format!("filter {name} failed: {}", error.message),
            )
        })?;
        let result: serde_json::Value = serde_json::from_str(&filtered.json).map_err(|e| {
            Error::new(
                ErrorKind::InvalidOperation,
                format!("filter {name} returned invalid JSON: {e}"),
            )
        })?;
        Ok(match result {
            serde_json::Value::String(s) if filtered.safe => Value::from_safe_string(s),
            other => Value::from_serialize(&other),
        })
    }
}

impl Drop for FilterCalls {
    fn drop(&mut self) {
        let slots = std::mem::take(self.slots.get_mut().expect("not poisoned"));
        for (component, slot) in self.components.filters.iter().zip(slots) {
            if let (Some(pool), Some(slot)) = (&component.loaded.pool, slot) {
                pool.give_back(slot);
            }
        }
    }
}
