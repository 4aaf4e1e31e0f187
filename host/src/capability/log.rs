//! `shallot:http/log`: a guest's log lines go into the host's `tracing`,
//! tagged with the component so they can be filtered like any host log.
//! Like stdout and stderr, a component's log has a byte budget per request
//! (its `output_kib`), and its text is escaped so that it cannot forge
//! lines of the host's own.

use wasmtime::component::{HasData, Linker};

use crate::bindings::log::{self, Host, Level};
use crate::untrusted::Untrusted;

/// What `log` reaches: who is logging and what it may still log.
pub(crate) struct LogView<'a> {
    pub(crate) component: &'a str,
    pub(crate) budget: &'a mut LogBudget,
}

struct Log;

impl HasData for Log {
    type Data<'a> = LogView<'a>;
}

/// Links `shallot:http/log`.
pub(crate) fn add_to_linker<T: Send + 'static>(
    linker: &mut Linker<T>,
    view: fn(&mut T) -> LogView<'_>,
) -> wasmtime::Result<()> {
    log::add_to_linker::<T, Log>(linker, view)
}

impl Host for LogView<'_> {
    fn log(&mut self, level: Level, message: String) -> wasmtime::Result<()> {
        let component = self.component;
        if !self.budget.take(message.len()) {
            if self.budget.first_refusal() {
                let budget = self.budget.size;
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
    size: usize,
    left: usize,
    refused: u32,
}

impl LogBudget {
    pub(crate) fn new(bytes: usize) -> Self {
        LogBudget {
            size: bytes,
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

    /// Starts the next request's budget.
    pub(crate) fn restart(&mut self) {
        *self = LogBudget::new(self.size);
    }

    /// True only for the first message refused, so the host says so once.
    fn first_refusal(&self) -> bool {
        self.refused == 1
    }
}
