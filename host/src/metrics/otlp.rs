//! Traces over OTLP (`[server] otlp_endpoint`): a request's server span
//! starts as it arrives; after its chain has run, its [`Trace`] names and
//! ends it and adds a child span per layer that ran (a middleware's hook,
//! the view, a context processor, the rendering), timed as they ran; the
//! spans go to the
//! OpenTelemetry SDK's batch processor, whose own thread sends batches to
//! the collector over OTLP/HTTP (protobuf). Nothing waits for the
//! collector on the request path; a collector that is away loses spans,
//! never requests.
//!
//! The request span: `http.request.method`, `url.path`, `http.route` (the
//! route's metric label), `http.response.status_code`, and
//! `shallot.short_circuit` when a middleware hook answered instead of the
//! rest of the chain, or `shallot.outcome = cancelled` when the request was
//! dropped before its response. Each layer's span: `shallot.component`,
//! `shallot.hook`, `shallot.outcome` (`ok` or the failure's kind, as the
//! metrics name it).
//!
//! A request that carries a W3C `traceparent` (and `tracestate`) header
//! continues its caller's trace: its span is the caller's span's child, and
//! the caller's sampling decision holds. Other requests start a trace, kept
//! by trace id at `otlp_sample_ratio` (the SDK's `ParentBased` ratio
//! sampler, set here so that `OTEL_TRACES_SAMPLER` cannot change it). The
//! request's span starts as the request arrives ([`Exporter::arrive`]), so
//! a request not kept is not timed layer by layer, and a guest's outbound
//! requests carry a `traceparent` (and the `tracestate`) naming it, sampled
//! or not, so the services it calls decide as it did.
//!
//! One exporter per endpoint, service name and ratio for the whole
//! process, so a reload keeps it (and its batch thread) rather than making
//! another.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime};

use opentelemetry::propagation::{Extractor, TextMapPropagator as _};
use opentelemetry::trace::{
    Span as _, SpanKind, TraceContextExt as _, Tracer as _, TracerProvider as _,
};
use opentelemetry::{Context, KeyValue};
use opentelemetry_http::HeaderExtractor;
use opentelemetry_otlp::{Protocol, WithExportConfig as _};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{Sampler, SdkTracer, SdkTracerProvider};

use super::{Layer, Trace};

/// Sends a process's spans to one collector.
pub(crate) struct Exporter {
    provider: SdkTracerProvider,
    tracer: SdkTracer,
}

/// The exporters this process has made, by (endpoint, service name, the
/// sample ratio's bits).
type Exporters = HashMap<(String, String, u64), Arc<Exporter>>;
static EXPORTERS: OnceLock<Mutex<Exporters>> = OnceLock::new();

/// Why the exporter could not be made.
#[derive(Debug, thiserror::Error)]
#[error("OTLP exporter for {endpoint}: {reason}")]
pub struct OtlpError {
    endpoint: String,
    reason: String,
}

/// A request in a trace, from its arrival ([`Exporter::arrive`]) to
/// [`Exporter::record`].
pub(crate) struct Arrival {
    /// The caller's context with the request's span (recording or not).
    cx: Context,
    /// When the request arrived, on both clocks: every span time is placed
    /// from this one wall-clock reading, so a clock step cannot end a span
    /// before it starts.
    started: (Instant, SystemTime),
    /// The method, for the span's name (`GET <route>`); empty when not
    /// recorded.
    method: String,
    /// Whether the span was ended by `record`; one dropped before that
    /// belongs to a request that was cancelled (client gone, the server
    /// stopping).
    ended: bool,
}

impl Arrival {
    /// Whether the request's spans are kept, so its layers are timed.
    pub(crate) fn recorded(&self) -> bool {
        self.cx.span().span_context().is_sampled()
    }

    /// The W3C headers for requests this one makes: `traceparent` naming
    /// the request's span (with its sampled flag), and `tracestate` when
    /// the caller sent one (the SDK writes it empty otherwise; W3C says
    /// not to send an empty one).
    pub(crate) fn headers(&self) -> Vec<(String, String)> {
        let mut headers = HashMap::new();
        TraceContextPropagator::new().inject_context(&self.cx, &mut headers);
        let mut headers: Vec<(String, String)> = headers
            .into_iter()
            .filter(|(_, value)| !value.is_empty())
            .collect();
        // traceparent first, as W3C writes them.
        headers.sort();
        headers
    }
}

impl Drop for Arrival {
    fn drop(&mut self) {
        if !self.ended {
            // Ended here rather than by the SDK's drop, so it says why it
            // has no route or status.
            let span = self.cx.span();
            span.set_attribute(KeyValue::new("shallot.outcome", "cancelled"));
            span.end();
        }
    }
}

/// What a finished request adds to its trace's spans.
pub(crate) struct Request {
    pub(crate) status: u16,
    pub(crate) took: Duration,
}

impl Exporter {
    /// The exporter for `endpoint`, `service` and a sample `ratio` (0.0 to
    /// 1.0), made on first use.
    pub(crate) fn shared(
        endpoint: &str,
        service: &str,
        ratio: f64,
    ) -> Result<Arc<Exporter>, OtlpError> {
        let all = EXPORTERS.get_or_init(Mutex::default);
        let mut all = all.lock().unwrap_or_else(|e| e.into_inner());
        let key = (endpoint.to_owned(), service.to_owned(), ratio.to_bits());
        if let Some(exporter) = all.get(&key) {
            return Ok(exporter.clone());
        }
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_protocol(Protocol::HttpBinary)
            .with_endpoint(endpoint)
            .with_timeout(Duration::from_secs(5))
            .build()
            .map_err(|e| OtlpError {
                endpoint: endpoint.to_owned(),
                reason: e.to_string(),
            })?;
        // A caller's decision first (its sampled flag), then the ratio by
        // trace id. Set explicitly: the builder's default reads
        // OTEL_TRACES_SAMPLER, which would then overrule the config.
        let provider = SdkTracerProvider::builder()
            .with_sampler(Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(
                ratio,
            ))))
            .with_batch_exporter(exporter)
            .with_resource(
                Resource::builder()
                    .with_service_name(service.to_owned())
                    .build(),
            )
            .build();
        let tracer = provider.tracer("shallot");
        let exporter = Arc::new(Exporter { provider, tracer });
        all.insert(key, exporter.clone());
        Ok(exporter)
    }

    /// Sends what the batch processor holds now, waiting for the collector
    /// (blocking: call it off the async workers).
    pub(crate) fn flush(&self) {
        if let Err(e) = self.provider.force_flush() {
            tracing::warn!("OTLP: flushing spans failed: {e}");
        }
    }

    /// The request's span, started as the request arrives (at `started`)
    /// in its caller's trace when it has a valid `traceparent` (an invalid
    /// one is ignored, as W3C asks), else in a new trace. The sampler
    /// decides whether it records: a request not kept costs this span's
    /// ids and the decision, nothing more.
    pub(crate) fn arrive(&self, request: &http::Request<impl Sized>, started: Instant) -> Arrival {
        let caller = TraceContextPropagator::new().extract(&Carrier::of(request.headers()));
        let wall = SystemTime::now() - started.elapsed();
        // Named by its route once the router has run (`record`).
        let method = request.method().as_str();
        let mut span = self
            .tracer
            .span_builder(method.to_owned())
            .with_kind(SpanKind::Server)
            .with_start_time(wall)
            .start_with_context(&self.tracer, &caller);
        let recording = span.is_recording();
        if recording {
            span.set_attributes([
                KeyValue::new("http.request.method", method.to_owned()),
                KeyValue::new("url.path", request.uri().path().to_owned()),
            ]);
        }
        Arrival {
            cx: caller.with_span(span),
            started: (started, wall),
            method: if recording {
                method.to_owned()
            } else {
                String::new()
            },
            ended: false,
        }
    }

    /// A request's end: when its span is recorded, names and ends it and
    /// adds a child per layer.
    pub(crate) fn record(
        &self,
        mut arrival: Arrival,
        request: &Request,
        route: &str,
        trace: &Trace<'_>,
    ) {
        arrival.ended = true;
        if !arrival.recorded() {
            return;
        }
        // Spans need wall-clock times; the layers were timed on the
        // monotonic clock, so each is placed from the arrival's reading.
        let (arrived, start) = arrival.started;
        let wall = |at: Instant| start + at.saturating_duration_since(arrived);
        let mut attributes = vec![
            KeyValue::new("http.route", route.to_owned()),
            KeyValue::new("http.response.status_code", i64::from(request.status)),
        ];
        if let Some(layer) = &trace.short_circuit {
            attributes.push(KeyValue::new("shallot.short_circuit", name(layer)));
        }
        let cx = &arrival.cx;
        let root = cx.span();
        root.update_name(format!("{} {route}", arrival.method));
        root.set_attributes(attributes);
        for timed in trace.layers() {
            let (component, hook) = match timed.layer {
                Layer::Middleware(component, hook) => (component, hook.name()),
                Layer::View(component) => (component, "handle"),
                Layer::ContextProcessor(component) => (component, "context"),
                Layer::Render => ("templates", "render"),
            };
            let began = wall(timed.started);
            let mut span = self
                .tracer
                .span_builder(name(&timed.layer))
                .with_start_time(began)
                .with_attributes([
                    KeyValue::new("shallot.component", component.to_owned()),
                    KeyValue::new("shallot.hook", hook),
                    KeyValue::new("shallot.outcome", timed.failed.unwrap_or("ok")),
                ])
                .start_with_context(&self.tracer, cx);
            span.end_with_timestamp(began + timed.took);
        }
        root.end_with_timestamp(start + request.took);
    }
}

/// A layer's span name, as `Server-Timing` names it.
fn name(layer: &Layer<'_>) -> String {
    match layer {
        Layer::Middleware(component, hook) => format!("mw-{component}-{hook}"),
        Layer::View(component) => format!("view-{component}"),
        Layer::ContextProcessor(component) => format!("cp-{component}"),
        Layer::Render => "render".to_owned(),
    }
}

/// A request's headers as the propagator reads them. A `tracestate` sent
/// on several lines is one list (W3C Trace Context, "tracestate Header
/// Field Values"), joined here: `HeaderExtractor` gives only the first
/// line. One line that is not text spoils the list, as it does when the
/// list comes on one line: no tracestate, rather than part of it.
struct Carrier<'a> {
    headers: HeaderExtractor<'a>,
    /// Set only when there is more than one line (empty if one is not text).
    tracestate: Option<String>,
}

impl<'a> Carrier<'a> {
    fn of(headers: &'a http::HeaderMap) -> Carrier<'a> {
        let lines = headers.get_all("tracestate");
        let tracestate = lines.iter().nth(1).is_some().then(|| {
            let texts: Option<Vec<&str>> = lines.iter().map(|v| v.to_str().ok()).collect();
            texts.map(|t| t.join(",")).unwrap_or_default()
        });
        Carrier {
            headers: HeaderExtractor(headers),
            tracestate,
        }
    }
}

impl Extractor for Carrier<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        match &self.tracestate {
            Some(joined) if key.eq_ignore_ascii_case("tracestate") => Some(joined),
            _ => self.headers.get(key),
        }
    }

    fn keys(&self) -> Vec<&str> {
        self.headers.keys()
    }
}

#[cfg(test)]
mod tests {
    use opentelemetry::propagation::Extractor as _;

    use super::Carrier;

    fn tracestate(lines: &[&[u8]]) -> Option<String> {
        let mut headers = http::HeaderMap::new();
        for line in lines {
            let value = http::HeaderValue::from_bytes(line).unwrap();
            headers.append("tracestate", value);
        }
        Carrier::of(&headers).get("tracestate").map(str::to_owned)
    }

    #[test]
    fn a_tracestate_on_several_lines_is_one_list() {
        assert_eq!(tracestate(&[]), None);
        assert_eq!(tracestate(&[b"a=1,b=2"]).as_deref(), Some("a=1,b=2"));
        assert_eq!(tracestate(&[b"a=1", b"b=2"]).as_deref(), Some("a=1,b=2"));
        // An empty line adds an empty member, which the parser skips.
        assert_eq!(tracestate(&[b"", b"b=2"]).as_deref(), Some(",b=2"));
        // A line that is not text spoils the list, wherever it is, as it
        // does when the list comes on one line (no part of it is read).
        assert_eq!(
            tracestate(&[b"a=1", "b=\u{e9}".as_bytes()]).as_deref(),
            Some("")
        );
        assert_eq!(tracestate(&["a=\u{e9}".as_bytes()]), None);
    }
}
