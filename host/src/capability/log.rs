//! `shallot:http/log`: a guest's log lines go into the host's `tracing`,
//! tagged with the component so they can be filtered like any host log.

use crate::bindings::log::{Host, Level};
use crate::state::RequestState;

impl Host for RequestState {
    fn log(&mut self, level: Level, message: String) -> wasmtime::Result<()> {
        let component = &*self.current.label;
        match level {
            Level::Trace => tracing::trace!(target: "shallot::guest", component, "{message}"),
            Level::Debug => tracing::debug!(target: "shallot::guest", component, "{message}"),
            Level::Info => tracing::info!(target: "shallot::guest", component, "{message}"),
            Level::Warn => tracing::warn!(target: "shallot::guest", component, "{message}"),
            Level::Error => tracing::error!(target: "shallot::guest", component, "{message}"),
        }
        Ok(())
    }
}
