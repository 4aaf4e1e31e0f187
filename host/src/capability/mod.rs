//! Host capabilities offered to every component, one module each: `log`
//! (into the host's `tracing`) and `config` (the component's own table from
//! `shallot.toml`).

mod config;
mod log;

/// Who a component is, as its host imports see it.
#[derive(Debug)]
pub(crate) struct ComponentContext {
    /// `middleware `name`` or `view `name``, for logs and errors.
    pub(crate) label: String,
    /// The component's `config` table, flattened to strings.
    pub(crate) config: Vec<(String, String)>,
}

impl ComponentContext {
    pub(crate) fn new(label: String, config: Vec<(String, String)>) -> Self {
        ComponentContext { label, config }
    }
}
