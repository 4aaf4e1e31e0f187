//! A component's stdout and stderr go to the host's log, line by line and
//! tagged with the component, up to a byte budget per request: a guest can
//! neither write to the host's terminal nor flood its log.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::Bytes;
use tokio::io::AsyncWrite;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamResult};

/// One of a component's output streams, for one request.
#[derive(Clone)]
pub(crate) struct LogPipe(Arc<Mutex<Inner>>);

struct Inner {
    label: Arc<str>,
    stream: &'static str,
    /// The last, unfinished line.
    pending: Vec<u8>,
    /// Bytes accepted so far, against `budget`.
    accepted: usize,
    budget: usize,
    truncated: bool,
}

impl LogPipe {
    pub(crate) fn new(label: Arc<str>, stream: &'static str, budget: usize) -> Self {
        LogPipe(Arc::new(Mutex::new(Inner {
            label,
            stream,
            pending: Vec::new(),
            accepted: 0,
            budget,
            truncated: false,
        })))
    }

    /// Takes everything; what is over the budget is counted, not kept, so
    /// the guest never sees an error (Rust's `eprintln!` would panic on one).
    fn accept(&self, bytes: &[u8]) {
        let mut inner = self.0.lock().expect("log pipe lock");
        let room = inner.budget.saturating_sub(inner.accepted);
        let kept = &bytes[..bytes.len().min(room)];
        inner.accepted += kept.len();
        inner.pending.extend_from_slice(kept);
        while let Some(end) = inner.pending.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = inner.pending.drain(..=end).collect();
            inner.emit(&line[..line.len() - 1]);
        }
        if kept.len() < bytes.len() && !inner.truncated {
            inner.truncated = true;
            let (label, stream, budget) = (inner.label.clone(), inner.stream, inner.budget);
            tracing::warn!(target: "shallot::guest", component = &*label, stream, "output over {budget} bytes in this request; the rest is dropped");
        }
    }

    /// Logs a last line that had no newline.
    pub(crate) fn finish(&self) {
        self.0.lock().expect("log pipe lock").flush_pending();
    }

    /// Ends a request on a kept instance: its last line is logged and the
    /// next request gets a whole budget again.
    pub(crate) fn restart(&self) {
        let mut inner = self.0.lock().expect("log pipe lock");
        inner.flush_pending();
        inner.accepted = 0;
        inner.truncated = false;
    }
}

impl Inner {
    fn flush_pending(&mut self) {
        if !self.pending.is_empty() {
            let line = std::mem::take(&mut self.pending);
            self.emit(&line);
        }
    }

    fn emit(&self, line: &[u8]) {
        let text = String::from_utf8_lossy(line);
        let text = crate::untrusted::Untrusted(text.trim_end_matches('\r'));
        let component = &*self.label;
        let stream = self.stream;
        if stream == "stderr" {
            tracing::warn!(target: "shallot::guest", component, stream, "{text}");
        } else {
            tracing::info!(target: "shallot::guest", component, stream, "{text}");
        }
    }
}

impl IsTerminal for LogPipe {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for LogPipe {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }

    fn async_stream(&self) -> Box<dyn AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

#[wasmtime_wasi::async_trait]
impl OutputStream for LogPipe {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        self.accept(&bytes);
        Ok(())
    }

    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        Ok(64 * 1024)
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for LogPipe {
    async fn ready(&mut self) {}
}

impl AsyncWrite for LogPipe {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.accept(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}
