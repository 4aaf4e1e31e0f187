//! A streaming response's body (Django's `StreamingHttpResponse`): after
//! the whole chain has run, the view's instance is kept and asked for one
//! piece of the body at a time (`body-source.next-chunk`) as the client
//! takes them, so the host holds one piece, never the body.
//!
//! Each call has the view's limits, like any hook call, and the request's
//! deadline. Once the status has been sent there is no response left to
//! change, so a failure ends the body with an error (the server then drops
//! the connection), as a WSGI server does when a generator raises.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::Stream;

use super::{Invocation, Resp};
use crate::bindings::view_exports::body_source;
use crate::error::Failure;
use crate::hooks::Hook;
use crate::instance::{InstancePool, Slot, classify};
use crate::metrics::{ComponentMetrics, failure_kind};
use crate::resources::StreamSource;

/// The rest of a streaming response: the view's instance and what to call.
pub(crate) struct GuestBody {
    /// `None` once the body has ended (or failed).
    slot: Option<Slot>,
    pool: Option<Arc<InstancePool>>,
    next_chunk: body_source::Guest,
    source: u32,
    label: String,
    path: String,
    deadline: Duration,
    /// The view's metrics: each chunk is a `next-chunk` call.
    metrics: Option<Arc<ComponentMetrics>>,
}

impl Invocation<'_> {
    /// The body of the final response when it streams: only a view's own
    /// response does, from the instance that made it.
    pub(super) fn guest_body(&mut self, source: StreamSource) -> Result<GuestBody, String> {
        let (Some(view), true) = (self.view, source.from_view) else {
            return Err("a streaming response can only come from a view: \
                        this one was made by a middleware or an error view"
                .into());
        };
        let Some(indices) = &view.body_source else {
            return Err(format!(
                "view `{}` returned a streaming response but does not export body-source",
                view.name
            ));
        };
        let mut slot = self
            .view_slot
            .take()
            .ok_or_else(|| format!("view `{}` has no instance left to stream from", view.name))?;
        let next_chunk = slot.export(indices).map_err(|e| e.to_string())?;
        Ok(GuestBody {
            slot: Some(slot),
            pool: self.view_pool.take(),
            next_chunk,
            source: source.id,
            label: format!("view `{}`", view.name),
            path: self.request.path.clone(),
            deadline: self.pipeline.request_timeout,
            metrics: view.loaded.metrics.clone(),
        })
    }
}

impl GuestBody {
    /// The chunks, ending with `None` (or after one error).
    pub(crate) fn into_stream(self) -> impl Stream<Item = std::io::Result<Bytes>> + Send {
        futures_util::stream::unfold(self, |mut body| async move {
            let chunk = body.next().await?;
            Some((chunk, body))
        })
    }

    async fn next(&mut self) -> Option<std::io::Result<Bytes>> {
        let slot = self.slot.as_mut()?;
        let timed = self.metrics.as_deref().map(|m| m.start(Hook::BodySource));
        let end = |failure: Option<&'static str>| {
            if let Some(timed) = timed {
                timed.end(failure);
            }
        };
        let fuel_before = slot.fuel_used;
        slot.start_call();
        let call = self
            .next_chunk
            .call_next_chunk(&mut slot.store, self.source);
        let result = tokio::time::timeout(self.deadline, call).await;
        slot.finish_call();
        if let Some(metrics) = &self.metrics {
            metrics.fuel(slot.fuel_used - fuel_before);
        }
        let failure = match result {
            Ok(Ok(Ok(chunk))) if !chunk.is_empty() => {
                end(None);
                return Some(Ok(Bytes::from(chunk)));
            }
            Ok(Ok(Ok(_))) => {
                end(None);
                // The end: the instance ran its request to completion.
                if let (Some(pool), Some(slot)) = (&self.pool, self.slot.take()) {
                    pool.give_back(slot);
                }
                return None;
            }
            Ok(Ok(Err(raised))) => Failure::Raised(raised),
            Ok(Err(trap)) => classify(&slot.store, trap),
            Err(_) => {
                end(Some("timeout"));
                self.slot = None;
                tracing::error!(
                    component = self.label,
                    path = self.path,
                    "next-chunk ran past the request's {:?} deadline",
                    self.deadline
                );
                return Some(Err(ended("the body's source ran past its deadline")));
            }
        };
        end(Some(failure_kind(&failure)));
        // Half-sent: nothing to answer with but a cut connection, and the
        // instance's state may be half-updated.
        self.slot = None;
        failure.log(&self.label, Hook::BodySource, &self.path);
        Some(Err(ended("the body's source failed")))
    }
}

fn ended(why: &str) -> std::io::Error {
    std::io::Error::other(why.to_owned())
}

/// The final response and, when it streams, its body still to come.
pub(crate) type Finished = (Resp, Option<GuestBody>);
