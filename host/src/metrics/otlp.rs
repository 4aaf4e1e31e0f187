//! Traces over OTLP (`[server] otlp_endpoint`): after a request's chain
//! has run, its [`Trace`] becomes a server span for the request with a
//! child span per layer that ran (a middleware's hook, the view, a
//! context processor, the rendering), timed as they ran, and goes to the
//! OpenTelemetry SDK's batch processor, whose own thread sends batches to
//! the collector over OTLP/HTTP (protobuf). Nothing waits for the
//! collector on the request path; a collector that is away loses spans,
//! never requests.
//!
//! The request span: `http.request.method`, `url.path`, `http.route` (the
//! route's metric label), `http.response.status_code`, and
//! `shallot.short_circuit` when a middleware hook answered instead of the
//! rest of the chain. Each layer's span: `shallot.component`,
//! `shallot.hook`, `shallot.outcome` (`ok` or the failure's kind, as the
//! metrics name it).
//!
//! A request that carries a W3C `traceparent` (and `tracestate`) header
//! continues its caller's trace: its span is the caller's span's child, and
//! the caller's sampling decision holds. Other requests start a trace, kept
//! with the probability `otlp_sample_ratio`. The decision is made when the
//! request arrives ([`Exporter::keep`]), so a request not kept is not
//! timed layer by layer and builds no span.
//!
//! One exporter per endpoint, service name and ratio for the whole
//! process, so a reload keeps it (and its batch thread) rather than making
//! another.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime};

use opentelemetry::propagation::TextMapPropagator as _;
use opentelemetry::trace::{
    Span as _, SpanKind, TraceContextExt as _, Tracer as _, TracerProvider as _,
};
use opentelemetry::{Context, KeyValue};
use opentelemetry_http::HeaderExtractor;
use opentelemetry_otlp::{Protocol, WithExportConfig as _};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{
    IdGenerator as _, RandomIdGenerator, Sampler, SamplingDecision, SdkTracer, SdkTracerProvider,
    ShouldSample as _,
};

use super::{Layer, Trace};

/// Sends a process's spans to one collector.
pub(crate) struct Exporter {
    provider: SdkTracerProvider,
    tracer: SdkTracer,
    /// The share of requests without a caller's trace that are kept.
    ratio: Sampler,
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

/// What a finished request adds to its trace's spans.
pub(crate) struct Request<'a> {
    pub(crate) method: &'a str,
    pub(crate) path: &'a str,
    /// What [`Exporter::keep`] gave for the request.
    pub(crate) caller: Context,
    pub(crate) status: u16,
    pub(crate) started: Instant,
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
        // Sampling is decided by `keep` before the request runs; what is
        // recorded was kept (the SDK's default sampler records it: a kept
        // caller's trace is sampled, and a new trace has no parent).
        let provider = SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_resource(
                Resource::builder()
                    .with_service_name(service.to_owned())
                    .build(),
            )
            .build();
        let tracer = provider.tracer("shallot");
        let exporter = Arc::new(Exporter {
            provider,
            tracer,
            ratio: Sampler::TraceIdRatioBased(ratio),
        });
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

    /// Whether to trace a request, decided as it arrives: `Some` with the
    /// caller's trace context (from its `traceparent` and `tracestate`)
    /// when the caller sampled it, or when it has no valid `traceparent`
    /// (W3C: start a new trace) and the ratio keeps it; `None` otherwise.
    pub(crate) fn keep(&self, headers: &http::HeaderMap) -> Option<Context> {
        let caller = TraceContextPropagator::new().extract(&HeaderExtractor(headers));
        let parent = caller.span().span_context().clone();
        if parent.is_valid() {
            return parent.is_sampled().then_some(caller);
        }
        // The SDK's own ratio sampler on a fresh random id: a draw with
        // probability `ratio`.
        let draw = self.ratio.should_sample(
            None,
            RandomIdGenerator::default().new_trace_id(),
            "",
            &SpanKind::Server,
            &[],
            &[],
        );
        (draw.decision == SamplingDecision::RecordAndSample).then_some(caller)
    }

    /// Turns one kept request's trace into spans.
    pub(crate) fn record(&self, request: &Request<'_>, route: &str, trace: &Trace<'_>) {
        // Spans need wall-clock times; the layers were timed on the
        // monotonic clock, so each is placed relative to now.
        let (now, now_instant) = (SystemTime::now(), Instant::now());
        let wall = |at: Instant| now - now_instant.saturating_duration_since(at);
        let start = wall(request.started);
        let mut attributes = vec![
            KeyValue::new("http.request.method", request.method.to_owned()),
            KeyValue::new("url.path", request.path.to_owned()),
            KeyValue::new("http.route", route.to_owned()),
            KeyValue::new("http.response.status_code", i64::from(request.status)),
        ];
        if let Some(layer) = &trace.short_circuit {
            attributes.push(KeyValue::new("shallot.short_circuit", name(layer)));
        }
        let root = self
            .tracer
            .span_builder(format!("{} {route}", request.method))
            .with_kind(SpanKind::Server)
            .with_start_time(start)
            .with_attributes(attributes)
            .start_with_context(&self.tracer, &request.caller);
        let cx = request.caller.with_span(root);
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
                .start_with_context(&self.tracer, &cx);
            span.end_with_timestamp(began + timed.took);
        }
        cx.span().end_with_timestamp(start + request.took);
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
