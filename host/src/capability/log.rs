//! `shallot:http/log`: a guest's log lines go into the host's `tracing`,
//! tagged with the component so they can be filtered like any host log.
//! Like stdout and stderr, a component's log has a byte budget per request
//! (its `output_kib`), and its text is escaped so that it cannot forge
//! lines of the host's own.

use crate::bindings::log::{Host, Level};
use crate::state::RequestState;
use crate::untrusted::Untrusted;

impl Host for RequestState {
    fn log(&mut self, level: Level, message: String) -> wasmtime::Result<()> {
        let component = &*self.current.label;
        if !self.log_budget.take(message.len()) {
            if self.log_budget.first_refusal() {
                let budget = self.current.limits.output_bytes;
                tracing::warn!(target: "shallot::guest", component, "log output over {budget} bytes in this request; the rest is dropped");
            }
            return Ok(());
        }
        let message = Untrusted(&message);
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

/// Bytes a component may still log in this request.
#[derive(Debug)]
pub(crate) struct LogBudget {
    left: usize,
    refused: u32,
}

impl LogBudget {
    pub(crate) fn new(bytes: usize) -> Self {
        LogBudget {
            left: bytes,
            refused: 0,
        }
    }

    /// Whether `bytes` more fit; they are taken if so.
    fn take(&mut self, bytes: usize) -> bool {
        if bytes <= self.left {
            self.left -= bytes;
            true
        } else {
            self.left = 0;
            self.refused = self.refused.saturating_add(1);
            false
        }
    }

    /// True only for the first message refused, so the host says so once.
    fn first_refusal(&self) -> bool {
        self.refused == 1
    }
}
