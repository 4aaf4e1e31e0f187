//! Every hook of the cycle, described once.
//!
//! A hook is an export a component may implement: the five middleware
//! hooks of Django's `MiddlewareMixin` and a view's `handle`. The table at
//! the bottom is the only list of them; load-time detection
//! ([`HookIndices::find`]), the hook table of `shallot check`, the
//! per-instance export cache ([`Exports`]) and the labels in logs and
//! errors all derive from it. Adding a hook is its WIT interface (which
//! `bindings` picks up), one entry in the table, and its step in
//! `cycle.rs`; `direction` describes that step (and is tested against
//! Django's order) but does not drive it.

use std::fmt;

use wasmtime::Store;
use wasmtime::component::{Instance, InstancePre};

use crate::bindings::{
    self, context_processor_exports, filter_exports, middleware_exports, view_exports,
};
use crate::state::RequestState;

/// Which kind of component exports a hook.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// A `[[middleware]]` entry.
    Middleware,
    /// A `[views.NAME]` entry.
    View,
    /// A `[[templates.context_processors]]` entry.
    ContextProcessor,
    /// A `[[templates.filters]]` entry.
    Filter,
}

/// Where a hook runs in the onion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Middleware in configured order, top to bottom, on the way in.
    Inward,
    /// Middleware in reverse order, bottom to top, on the way out.
    Outward,
    /// Once, at the centre: the view, and what rendering its template
    /// response calls.
    Centre,
    /// After the onion, as the server sends the body: a streaming
    /// response's chunks.
    Beyond,
}

/// A resolved export's indices, as found at load, and how one instance's
/// copy is cached in its [`Exports`].
pub(crate) trait Export {
    /// The callable export of one instance.
    type Guest: Clone;
    /// Its place in an instance's cache.
    fn cached(exports: &mut Exports) -> &mut Option<Self::Guest>;
    /// Resolves it in `instance` (type-checked; adds a function to the store).
    fn load(
        &self,
        store: &mut Store<RequestState>,
        instance: &Instance,
    ) -> wasmtime::Result<Self::Guest>;
}

macro_rules! hooks {
    ($(
        $(#[$doc:meta])*
        $hook:ident: $field:ident = $($bindings:ident)::+ {
            function: $function:literal,
            interface: $interface:literal,
            role: $role:ident,
            direction: $direction:ident $(,)?
        }
    )*) => {
        /// Which hook of which component ran or failed, for logs and messages.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Hook {
            $($(#[$doc])* $hook,)*
        }

        impl Hook {
            /// Every hook, middleware in Django's order, then the view.
            pub const ALL: [Hook; [$(Hook::$hook),*].len()] = [$(Hook::$hook),*];

            /// The WIT function of the hook (`process-request`, `handle`).
            pub fn name(self) -> &'static str {
                match self { $(Hook::$hook => $function,)* }
            }

            /// Its interface in the `shallot:http` package (`view` for `handle`).
            pub fn interface_name(self) -> &'static str {
                match self { $(Hook::$hook => $interface,)* }
            }

            /// Which kind of component exports it.
            pub const fn role(self) -> Role {
                match self { $(Hook::$hook => Role::$role,)* }
            }

            /// Where in the onion it runs.
            pub fn direction(self) -> Direction {
                match self { $(Hook::$hook => Direction::$direction,)* }
            }
        }

        /// The export indices of the hooks one component implements, found
        /// once at load.
        #[derive(Default)]
        pub(crate) struct HookIndices {
            $(pub(crate) $field: Option<$($bindings)::+::GuestIndices>,)*
        }

        impl HookIndices {
            /// The hooks of `role` that `pre` exports. `Ok` with none set
            /// when it exports none; an error when one is exported with the
            /// wrong shape.
            pub(crate) fn find(pre: &InstancePre<RequestState>, role: Role) -> Result<Self, String> {
                let mut found = HookIndices::default();
                $(
                    if Hook::$hook.role() == role {
                        found.$field = find(pre, Hook::$hook, $($bindings)::+::GuestIndices::new)?;
                    }
                )*
                Ok(found)
            }

            /// The hooks found, in [`Hook::ALL`]'s order.
            pub(crate) fn hooks(&self) -> Vec<Hook> {
                let mut hooks = Vec::new();
                $(if self.$field.is_some() { hooks.push(Hook::$hook); })*
                hooks
            }

            /// Resolves every hook found in `instance`, with its full type
            /// check: a signature mismatch is then a load error.
            pub(crate) fn load_all(
                &self,
                store: &mut Store<RequestState>,
                instance: &Instance,
            ) -> wasmtime::Result<()> {
                $(if let Some(i) = &self.$field { i.load(&mut *store, instance)?; })*
                Ok(())
            }
        }

        /// One instance's hook exports, each resolved at most once:
        /// resolving type-checks and adds a function to the store each
        /// time, which a reused instance would otherwise pay (and
        /// accumulate) on every call.
        #[derive(Default)]
        pub(crate) struct Exports {
            $($field: Option<$($bindings)::+::Guest>,)*
        }

        $(
            impl Export for $($bindings)::+::GuestIndices {
                type Guest = $($bindings)::+::Guest;

                fn cached(exports: &mut Exports) -> &mut Option<Self::Guest> {
                    &mut exports.$field
                }

                fn load(
                    &self,
                    store: &mut Store<RequestState>,
                    instance: &Instance,
                ) -> wasmtime::Result<Self::Guest> {
                    $($bindings)::+::GuestIndices::load(self, store, instance)
                }
            }
        )*
    };
}

hooks! {
    /// `process-request`
    ProcessRequest: process_request = middleware_exports::process_request {
        function: "process-request",
        interface: "process-request",
        role: Middleware,
        direction: Inward,
    }
    /// `process-view`
    ProcessView: process_view = middleware_exports::process_view {
        function: "process-view",
        interface: "process-view",
        role: Middleware,
        direction: Inward,
    }
    /// `process-exception`
    ProcessException: process_exception = middleware_exports::process_exception {
        function: "process-exception",
        interface: "process-exception",
        role: Middleware,
        direction: Outward,
    }
    /// `process-template-response`
    ProcessTemplateResponse: process_template_response = middleware_exports::process_template_response {
        function: "process-template-response",
        interface: "process-template-response",
        role: Middleware,
        direction: Outward,
    }
    /// `process-response`
    ProcessResponse: process_response = middleware_exports::process_response {
        function: "process-response",
        interface: "process-response",
        role: Middleware,
        direction: Outward,
    }
    /// a view's `handle`
    View: handle = view_exports::view {
        function: "handle",
        interface: "view",
        role: View,
        direction: Centre,
    }
    /// a streaming view's `next-chunk`
    BodySource: body_source = view_exports::body_source {
        function: "next-chunk",
        interface: "body-source",
        role: View,
        direction: Beyond,
    }
    /// a context processor's `context`
    ContextProcessor: context_processor = context_processor_exports::context_processor {
        function: "context",
        interface: "context-processor",
        role: ContextProcessor,
        direction: Centre,
    }
    /// a filter component's `apply`
    Filter: filters = filter_exports::template_filters {
        function: "apply",
        interface: "template-filters",
        role: Filter,
        direction: Centre,
    }
}

impl Hook {
    /// The middleware hooks, in Django's order.
    pub const MIDDLEWARE: [Hook; count(Role::Middleware)] = of_role(Role::Middleware);

    /// The hooks a component of `role` may export.
    pub fn of_role(role: Role) -> impl Iterator<Item = Hook> {
        Hook::ALL.into_iter().filter(move |h| h.role() == role)
    }

    /// The export name of the hook's interface, e.g.
    /// `shallot:http/process-view@0.1.0`.
    pub fn interface(self) -> String {
        bindings::interface(self.interface_name())
    }
}

impl fmt::Display for Hook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How many hooks `role` has (for the length of [`Hook::MIDDLEWARE`]).
const fn count(role: Role) -> usize {
    let mut n = 0;
    let mut i = 0;
    while i < Hook::ALL.len() {
        if same_role(Hook::ALL[i].role(), role) {
            n += 1;
        }
        i += 1;
    }
    n
}

/// The hooks of `role`, in order, as a constant.
const fn of_role<const N: usize>(role: Role) -> [Hook; N] {
    let mut out = [Hook::View; N];
    let (mut i, mut j) = (0, 0);
    while i < Hook::ALL.len() {
        if same_role(Hook::ALL[i].role(), role) {
            out[j] = Hook::ALL[i];
            j += 1;
        }
        i += 1;
    }
    out
}

const fn same_role(a: Role, b: Role) -> bool {
    // `==` is not const for enums; their discriminants are.
    a as u8 == b as u8
}

/// `Ok(None)` when the component does not export the hook's interface at
/// all; an error when it exports it with the wrong shape.
fn find<I>(
    pre: &InstancePre<RequestState>,
    hook: Hook,
    indices: impl FnOnce(&InstancePre<RequestState>) -> wasmtime::Result<I>,
) -> Result<Option<I>, String> {
    let interface = hook.interface();
    if pre.component().get_export_index(None, &interface).is_none() {
        return Ok(None);
    }
    indices(pre)
        .map(Some)
        .map_err(|e| format!("export `{interface}` does not match this host's WIT: {e:#}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_middleware_hooks_are_those_of_the_middleware_role() {
        assert_eq!(
            Hook::MIDDLEWARE.to_vec(),
            Hook::of_role(Role::Middleware).collect::<Vec<_>>()
        );
    }

    #[test]
    fn hooks_run_in_djangos_directions() {
        use Direction::*;
        let directions: Vec<_> = Hook::ALL.iter().map(|h| h.direction()).collect();
        assert_eq!(
            directions,
            [
                Inward, Inward, Outward, Outward, Outward, Centre, Beyond, Centre, Centre
            ]
        );
    }
}
