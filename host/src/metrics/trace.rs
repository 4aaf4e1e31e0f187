//! What one request's run through the cycle leaves behind for the
//! metrics and for the `Server-Timing` header (`[server] server_timing`):
//! the route it resolved to and, when the header is on, each layer that
//! ran with its duration.
//!
//! The header is added by the host after the whole chain has run, so no
//! middleware sees it (nor can remove it):
//!
//! ```text
//! Server-Timing: mw-auth-process-request;dur=0.021, view-items;dur=0.180, mw-auth-process-response;dur=0.012, total;dur=0.254
//! ```
//!
//! Names are `mw-<middleware>-<hook>`, `view-<view>` (an error view
//! included), `cp-<context processor>`, `render` (a template, its filter
//! calls included) and `total` (the whole chain); durations are in
//! milliseconds. Component names are tokens already (lower-case letters,
//! digits, '-' and '_').

use std::fmt::Write;
use std::time::{Duration, Instant};

use super::Route;
use crate::hooks::Hook;

/// One request's route and, with `server_timing` or OTLP traces, its
/// layers' times.
pub(crate) struct Trace<'p> {
    /// The route the URL resolved to, once it has.
    pub(crate) route: Option<&'p Route>,
    /// Each layer that ran, in the order they ran: when it started, how
    /// long it took, and how it failed if it did; `None` unless something
    /// wants them, so nothing is timed then.
    layers: Option<Vec<Timed<'p>>>,
    /// The middleware hook that answered instead of the rest of the
    /// chain (`process-request` or `process-view` returning a response).
    pub(crate) short_circuit: Option<Layer<'p>>,
}

/// One layer's run.
pub(crate) struct Timed<'p> {
    pub(crate) layer: Layer<'p>,
    pub(crate) started: Instant,
    pub(crate) took: Duration,
    /// `None` if it succeeded, else the failure's kind (`failure_kind`).
    pub(crate) failed: Option<&'static str>,
}

/// A layer of the cycle, as `Server-Timing` names it.
#[derive(Clone, Copy)]
pub(crate) enum Layer<'p> {
    /// A middleware's hook.
    Middleware(&'p str, Hook),
    /// A view, or an error view.
    View(&'p str),
    /// A context processor.
    ContextProcessor(&'p str),
    /// A template's rendering.
    Render,
}

impl<'p> Trace<'p> {
    pub(crate) fn new(timed: bool) -> Self {
        Trace {
            route: None,
            layers: timed.then(|| Vec::with_capacity(16)),
            short_circuit: None,
        }
    }

    /// The layers that ran, when they were timed.
    pub(crate) fn layers(&self) -> &[Timed<'p>] {
        self.layers.as_deref().unwrap_or_default()
    }

    /// The start of a layer, when layers are timed.
    pub(crate) fn start(&self) -> Option<Instant> {
        self.layers.as_ref().map(|_| Instant::now())
    }

    /// Records `layer`, started at `started` (from [`Trace::start`]),
    /// failed with the kind `failed` or not.
    pub(crate) fn layer(
        &mut self,
        started: Option<Instant>,
        layer: Layer<'p>,
        failed: Option<&'static str>,
    ) {
        if let (Some(layers), Some(started)) = (&mut self.layers, started) {
            layers.push(Timed {
                layer,
                started,
                took: started.elapsed(),
                failed,
            });
        }
    }

    /// The `Server-Timing` value: every layer, then `total`. `None` when
    /// the header is off.
    pub(crate) fn server_timing(&self, total: Duration) -> Option<http::HeaderValue> {
        let layers = self.layers.as_ref()?;
        let mut value = String::with_capacity(48 * (layers.len() + 1));
        for Timed { layer, took, .. } in layers {
            match layer {
                Layer::Middleware(name, hook) => write!(value, "mw-{name}-{hook}"),
                Layer::View(name) => write!(value, "view-{name}"),
                Layer::ContextProcessor(name) => write!(value, "cp-{name}"),
                Layer::Render => write!(value, "render"),
            }
            .expect("writing to a String cannot fail");
            write!(value, ";dur={:.3}, ", millis(*took)).expect("writing to a String cannot fail");
        }
        write!(value, "total;dur={:.3}", millis(total)).expect("writing to a String cannot fail");
        http::HeaderValue::from_str(&value).ok()
    }
}

/// Milliseconds (written with microsecond precision).
fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layers_are_listed_in_order_then_the_total() {
        let mut trace = Trace::new(true);
        let started = Some(Instant::now());
        trace.layer(
            started,
            Layer::Middleware("auth", Hook::ProcessRequest),
            None,
        );
        trace.layer(started, Layer::View("items"), None);
        trace.layer(started, Layer::ContextProcessor("site"), None);
        trace.layer(started, Layer::Render, None);
        let value = trace
            .server_timing(Duration::from_micros(1500))
            .expect("on");
        let names: Vec<&str> = value
            .to_str()
            .unwrap()
            .split(", ")
            .map(|entry| entry.split_once(";dur=").expect("a duration").0)
            .collect();
        assert_eq!(
            names,
            [
                "mw-auth-process-request",
                "view-items",
                "cp-site",
                "render",
                "total"
            ]
        );
        assert!(value.to_str().unwrap().ends_with("total;dur=1.500"));
    }

    #[test]
    fn without_server_timing_nothing_is_timed() {
        let mut trace = Trace::new(false);
        assert!(trace.start().is_none());
        trace.layer(Some(Instant::now()), Layer::Render, None);
        assert!(trace.server_timing(Duration::ZERO).is_none());
    }
}
