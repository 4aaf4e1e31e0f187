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
//! request arrives ([`Exporter::arrive`]), so a request not kept is not
//! timed layer by layer and builds no span. The request's span starts then
//! too, so that a guest's outbound HTTP requests can carry a `traceparent`
//! naming it (a caller's trace that is not kept is passed on as it came).
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

/// A request in a trace, from its arrival ([`Exporter::arrive`]).
pub(crate) struct Arrival {
    /// The caller's context, with the request's own span when recorded.
    cx: Context,
    /// Whether this request's spans are recorded (else it only passes a
    /// caller's trace on).
    recorded: bool,
}

impl Arrival {
    /// Whether the request's layers are to be timed for its spans.
    pub(crate) fn recorded(&self) -> bool {
        self.recorded
    }

    /// The `traceparent` for requests this one makes (W3C): the request's
    /// span as their parent, or the caller's as it came.
    pub(crate) fn traceparent(&self) -> Option<String> {
        let mut headers = HashMap::new();
        TraceContextPropagator::new().inject_context(&self.cx, &mut headers);
        headers.remove("traceparent")
    }
}

/// What a finished request adds to its trace's spans.
pub(crate) struct Request<'a> {
    pub(crate) method: &'a str,
    pub(crate) path: &'a str,
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

    /// Whether and how a request takes part in a trace, decided as it
    /// arrives (at `started`). With a valid `traceparent` (and
    /// `tracestate`) the caller decides: sampled, the request's span starts
    /// as the caller's span's child; not sampled, nothing is recorded and
    /// the caller's trace is only passed on. Without one (or with an
    /// invalid one: W3C says to start a new trace), the ratio draws; `None`
    /// when it does not keep the request.
    pub(crate) fn arrive(
        &self,
        headers: &http::HeaderMap,
        method: &str,
        started: Instant,
    ) -> Option<Arrival> {
        let caller = TraceContextPropagator::new().extract(&HeaderExtractor(headers));
        let parent = caller.span().span_context().clone();
        let keep = if parent.is_valid() {
            parent.is_sampled()
        } else {
            // The SDK's own ratio sampler on a fresh random id: a draw
            // with probability `ratio`.
            let draw = self.ratio.should_sample(
                None,
                RandomIdGenerator::default().new_trace_id(),
                "",
                &SpanKind::Server,
                &[],
                &[],
            );
            draw.decision == SamplingDecision::RecordAndSample
        };
        if !keep {
            return parent.is_valid().then_some(Arrival {
                cx: caller,
                recorded: false,
            });
        }
        // Named by its route once the router has run (`record`).
        let root = self
            .tracer
            .span_builder(method.to_owned())
            .with_kind(SpanKind::Server)
            .with_start_time(SystemTime::now() - started.elapsed())
            .start_with_context(&self.tracer, &caller);
        Some(Arrival {
            cx: caller.with_span(root),
            recorded: true,
        })
    }

    /// Turns one recorded request's trace into spans: names and ends the
    /// request's span and adds a child per layer.
    pub(crate) fn record(
        &self,
        arrival: &Arrival,
        request: &Request<'_>,
        route: &str,
        trace: &Trace<'_>,
    ) {
        if !arrival.recorded {
            return;
        }
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
        let cx = &arrival.cx;
        let root = cx.span();
        root.update_name(format!("{} {route}", request.method));
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
