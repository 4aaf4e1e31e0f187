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

/// One request's route and, with `server_timing`, its layers' times.
pub(crate) struct Trace<'p> {
    /// The route the URL resolved to, once it has.
    pub(crate) route: Option<&'p Route>,
    /// Each layer that ran and how long it took, in the order they ran;
    /// `None` unless the header is on, so nothing is timed for it then.
    layers: Option<Vec<(Layer<'p>, Duration)>>,
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
    pub(crate) fn new(server_timing: bool) -> Self {
        Trace {
            route: None,
            layers: server_timing.then(|| Vec::with_capacity(16)),
        }
    }

    /// The start of a layer, when layers are timed.
    pub(crate) fn start(&self) -> Option<Instant> {
        self.layers.as_ref().map(|_| Instant::now())
    }

    /// Records `layer`, started at `started` (from [`Trace::start`]).
    pub(crate) fn layer(&mut self, started: Option<Instant>, layer: Layer<'p>) {
        if let (Some(layers), Some(started)) = (&mut self.layers, started) {
            layers.push((layer, started.elapsed()));
        }
    }

    /// The `Server-Timing` value: every layer, then `total`. `None` when
    /// the header is off.
    pub(crate) fn server_timing(&self, total: Duration) -> Option<http::HeaderValue> {
        let layers = self.layers.as_ref()?;
        let mut value = String::with_capacity(48 * (layers.len() + 1));
        for (layer, took) in layers {
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
        trace.layer(started, Layer::Middleware("auth", Hook::ProcessRequest));
        trace.layer(started, Layer::View("items"));
        trace.layer(started, Layer::ContextProcessor("site"));
        trace.layer(started, Layer::Render);
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
        trace.layer(Some(Instant::now()), Layer::Render);
        assert!(trace.server_timing(Duration::ZERO).is_none());
    }
}
