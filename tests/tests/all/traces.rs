//! OTLP traces (`[server] otlp_endpoint`): a pipeline sends its spans over
//! OTLP/HTTP (protobuf) to a collector on a loopback port, which here is
//! the test itself decoding each batch with OpenTelemetry's own protobuf
//! types (`opentelemetry-proto`); the OpenTelemetry Collector is not in
//! Debian. A request is a server span with a child per layer that ran,
//! each naming its component, hook and outcome; a short-circuit and a
//! failure show.

use std::collections::HashMap;

use http_body_util::BodyExt as _;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as Any;
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message as _;
use shallot_tests::{get, pipeline, request, run};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

/// A collector's OTLP/HTTP traces endpoint: every span it receives, with
/// the batch's `service.name`.
async fn collector() -> (String, mpsc::UnboundedReceiver<(String, Span)>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/v1/traces", listener.local_addr().unwrap());
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let tx = tx.clone();
            tokio::spawn(async move {
                let service =
                    hyper::service::service_fn(move |req: http::Request<hyper::body::Incoming>| {
                        let tx = tx.clone();
                        async move {
                            assert_eq!(req.uri().path(), "/v1/traces");
                            assert_eq!(req.headers()["content-type"], "application/x-protobuf");
                            let body = req.into_body().collect().await.unwrap().to_bytes();
                            let batch = ExportTraceServiceRequest::decode(body).unwrap();
                            for resource in batch.resource_spans {
                                let service = resource
                                    .resource
                                    .iter()
                                    .flat_map(|r| &r.attributes)
                                    .find(|a| a.key == "service.name")
                                    .and_then(|a| a.value.as_ref()?.value.clone());
                                let service = match service {
                                    Some(Any::StringValue(s)) => s,
                                    _ => String::new(),
                                };
                                for scope in resource.scope_spans {
                                    for span in scope.spans {
                                        tx.send((service.clone(), span)).ok();
                                    }
                                }
                            }
                            Ok::<_, std::convert::Infallible>(http::Response::new(
                                http_body_util::Full::new(bytes::Bytes::new()),
                            ))
                        }
                    });
                hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                    .await
                    .ok();
            });
        }
    });
    (url, rx)
}

fn attributes(span: &Span) -> HashMap<&str, String> {
    span.attributes
        .iter()
        .map(|a| {
            let value = match a.value.as_ref().and_then(|v| v.value.as_ref()) {
                Some(Any::StringValue(s)) => s.clone(),
                Some(Any::IntValue(i)) => i.to_string(),
                other => format!("{other:?}"),
            };
            (a.key.as_str(), value)
        })
        .collect()
}

/// What the pipeline has sent, after a flush: every span with its batch's
/// `service.name`.
async fn flushed(
    p: shallot::Pipeline,
    spans: &mut mpsc::UnboundedReceiver<(String, Span)>,
) -> Vec<(String, Span)> {
    tokio::task::spawn_blocking(move || p.flush_traces())
        .await
        .unwrap();
    let mut received = Vec::new();
    while let Ok(Some(span)) =
        tokio::time::timeout(std::time::Duration::from_millis(500), spans.recv()).await
    {
        received.push(span);
    }
    received
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_request_is_a_span_with_a_child_per_layer() {
    let (endpoint, mut spans) = collector().await;
    let p = pipeline(&format!(
        r#"
[server]
otlp_endpoint = "{endpoint}"
otlp_service_name = "shop"

[[middleware]]
name = "request-id"
component = "{{request-id}}"

[[middleware]]
name = "auth"
component = "{{auth}}"
config = {{ protected_views = "items" }}

[views.hello]
component = "{{hello}}"

[views.items]
component = "{{items}}"

[views.boom]
component = "{{boom}}"

[[routes]]
path = "hello"
view = "hello"
name = "greeting"

[[routes]]
path = "items/<int:id>/"
view = "items"

[[routes]]
path = "boom"
view = "boom"
"#
    ))
    .await;
    let hello = run(&p, get("/hello")).await.response;
    assert_eq!(hello.status(), 200);
    // Timing layers for spans does not tell the client their times.
    assert!(hello.headers().get("server-timing").is_none());
    let denied = run(&p, request("GET", "/items/1/", &[])).await;
    assert_eq!(denied.response.status(), 401);
    assert_eq!(run(&p, get("/boom")).await.response.status(), 500);
    let received = flushed(p, &mut spans).await;
    assert!(received.iter().all(|(service, _)| service == "shop"));
    let spans: Vec<&Span> = received.iter().map(|(_, s)| s).collect();
    let roots: Vec<&&Span> = spans
        .iter()
        .filter(|s| s.parent_span_id.is_empty())
        .collect();
    let root = |name: &str| {
        *roots.iter().find(|s| s.name == name).unwrap_or_else(|| {
            panic!(
                "no span {name}: {:?}",
                roots.iter().map(|s| &s.name).collect::<Vec<_>>()
            )
        })
    };
    let children = |parent: &Span| -> Vec<(String, HashMap<&str, String>)> {
        let mut mine: Vec<&&Span> = spans
            .iter()
            .filter(|s| s.parent_span_id == parent.span_id)
            .collect();
        mine.sort_by_key(|s| s.start_time_unix_nano);
        mine.iter()
            .map(|s| {
                assert_eq!(s.trace_id, parent.trace_id);
                assert!(s.start_time_unix_nano >= parent.start_time_unix_nano);
                assert!(s.end_time_unix_nano <= parent.end_time_unix_nano);
                (s.name.clone(), attributes(s))
            })
            .collect()
    };

    let hello = root("GET greeting");
    let attrs = attributes(hello);
    assert_eq!(attrs["http.response.status_code"], "200");
    assert_eq!(attrs["url.path"], "/hello");
    assert_eq!(attrs["http.route"], "greeting");
    let names: Vec<String> = children(hello).into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        names,
        [
            "mw-request-id-process-request",
            "mw-auth-process-view",
            "view-hello",
            "mw-request-id-process-response"
        ]
    );
    let layers = children(hello);
    assert_eq!(layers[2].1["shallot.component"], "hello");
    assert_eq!(layers[2].1["shallot.hook"], "handle");
    assert_eq!(layers[2].1["shallot.outcome"], "ok");

    // auth answered 401 from process_view: no view span, the short-circuit named.
    let items = root("GET items");
    assert_eq!(
        attributes(items)["shallot.short_circuit"],
        "mw-auth-process-view"
    );
    assert!(children(items).iter().all(|(n, _)| n != "view-items"));

    // The view raised: its span says so.
    let boom = root("GET boom");
    assert_eq!(attributes(boom)["http.response.status_code"], "500");
    let view = children(boom)
        .into_iter()
        .find(|(n, _)| n == "view-boom")
        .expect("the view's span");
    assert_eq!(view.1["shallot.outcome"], "raised");
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_traceparent_continues_the_callers_trace_and_the_ratio_keeps_the_rest() {
    let (endpoint, mut spans) = collector().await;
    // Ratio 0: only a caller's sampled trace is kept.
    let p = pipeline(&format!(
        r#"
[server]
otlp_endpoint = "{endpoint}"
otlp_sample_ratio = 0.0

[[middleware]]
name = "request-id"
component = "{{request-id}}"

[views.items]
component = "{{items}}"

[[routes]]
path = "items/<int:item_id>/"
view = "items"
"#
    ))
    .await;
    let trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    let caller = "00f067aa0ba902b7";
    let parent = |flags: &str| format!("00-{trace}-{caller}-{flags}");
    let sends: [(&str, Option<String>); 4] = [
        ("/items/1/", None),                       // starts a trace: not kept
        ("/items/2/", Some(parent("01"))),         // the caller sampled it: kept
        ("/items/3/", Some(parent("00"))),         // the caller did not: not kept
        ("/items/4/", Some("00-zz-00-01".into())), // invalid: a new trace, not kept
    ];
    for (path, traceparent) in &sends {
        let headers: Vec<(&str, &str)> = traceparent
            .iter()
            .map(|t| ("traceparent", t.as_str()))
            .collect();
        let resp = run(&p, request("GET", path, &headers)).await;
        assert_eq!(resp.response.status(), 200, "{path}");
    }
    let received: Vec<Span> = flushed(p, &mut spans)
        .await
        .into_iter()
        .map(|(_, s)| s)
        .collect();

    let paths: Vec<String> = received
        .iter()
        .filter_map(|s| attributes(s).get("url.path").cloned())
        .collect();
    assert_eq!(paths, ["/items/2/"], "only the caller's sampled request");
    let server = received
        .iter()
        .find(|s| attributes(s).contains_key("url.path"))
        .unwrap();
    assert_eq!(hex(&server.trace_id), trace);
    assert_eq!(hex(&server.parent_span_id), caller);
    assert_ne!(hex(&server.span_id), caller);
    // Its layers are in the caller's trace too, under the request's span.
    let layers: Vec<&str> = received
        .iter()
        .filter(|s| s.parent_span_id == server.span_id)
        .map(|s| {
            assert_eq!(hex(&s.trace_id), trace);
            s.name.as_str()
        })
        .collect();
    assert_eq!(layers.len(), 3, "{layers:?}");
    assert_eq!(
        received.len(),
        4,
        "the request's span and its 3 layers, nothing else"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_traceparent_every_request_starts_its_own_trace() {
    let (endpoint, mut spans) = collector().await;
    let p = pipeline(&format!(
        r#"
[server]
otlp_endpoint = "{endpoint}"

[views.hello]
component = "{{hello}}"

[[routes]]
path = "hello"
view = "hello"
"#
    ))
    .await;
    for _ in 0..2 {
        assert_eq!(run(&p, get("/hello")).await.response.status(), 200);
    }
    // An invalid traceparent is ignored, as W3C asks: a new trace.
    let bad = request("GET", "/hello", &[("traceparent", "00-zz-00-01")]);
    assert_eq!(run(&p, bad).await.response.status(), 200);
    let received: Vec<Span> = flushed(p, &mut spans)
        .await
        .into_iter()
        .map(|(_, s)| s)
        .collect();
    let roots: Vec<&Span> = received.iter().filter(|s| s.name == "GET hello").collect();
    assert_eq!(roots.len(), 3);
    let mut traces: Vec<&Vec<u8>> = roots.iter().map(|s| &s.trace_id).collect();
    traces.sort();
    traces.dedup();
    assert_eq!(traces.len(), 3, "each request its own trace");
    assert!(roots.iter().all(|s| s.parent_span_id.is_empty()));
}

/// What the upstream saw: each request's `traceparent` and `tracestate`.
type Seen = std::sync::Arc<std::sync::Mutex<Vec<(Option<String>, Option<String>)>>>;

/// An HTTP server that answers 204 and keeps each request's trace headers.
async fn upstream() -> (String, Seen) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let keep = seen.clone();
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let keep = keep.clone();
            let service = hyper::service::service_fn(move |req: http::Request<_>| {
                let header = |name| {
                    let value = req.headers().get(name);
                    value.map(|v: &http::HeaderValue| v.to_str().unwrap().to_owned())
                };
                keep.lock()
                    .unwrap()
                    .push((header("traceparent"), header("tracestate")));
                let mut resp = http::Response::new(http_body_util::Empty::<bytes::Bytes>::new());
                *resp.status_mut() = http::StatusCode::NO_CONTENT;
                async { Ok::<_, std::convert::Infallible>(resp) }
            });
            let io = hyper_util::rt::TokioIo::new(stream);
            tokio::spawn(hyper::server::conn::http1::Builder::new().serve_connection(io, service));
        }
    });
    (url, seen)
}

/// A view that GETs `url` through the outbound capability, with OTLP on
/// (`endpoint`) or off.
fn calling(url: &str, endpoint: Option<&str>) -> String {
    let server = endpoint.map_or(String::new(), |e| {
        format!("[server]\notlp_endpoint = \"{e}\"\n")
    });
    let config = format!("action = \"outbound\", url = \"{url}/\"");
    server + &shallot_tests::hostile_app_calling(url, &config, "", "")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outbound_requests_carry_the_requests_trace() {
    let (endpoint, mut spans) = collector().await;
    let (url, upstream_log) = upstream().await;
    let p = pipeline(&calling(&url, Some(&endpoint))).await;
    let trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    let caller = "00f067aa0ba902b7";
    let parent = |flags: &str| format!("00-{trace}-{caller}-{flags}");
    for traceparent in [Some(parent("01")), Some(parent("00")), None] {
        let mut headers: Vec<(&str, &str)> = traceparent
            .iter()
            .map(|t| ("traceparent", t.as_str()))
            .collect();
        if traceparent.is_some() {
            headers.push(("tracestate", "vendor=abc"));
        }
        // A list may come on several lines: one list all the same.
        if traceparent == Some(parent("00")) {
            headers.push(("tracestate", "other=xyz"));
        }
        let out = run(&p, request("GET", "/h", &headers)).await;
        assert_eq!(out.body(), "ALLOWED: outbound: 204", "{:?}", out.log);
    }
    let received: Vec<Span> = flushed(p, &mut spans)
        .await
        .into_iter()
        .map(|(_, s)| s)
        .collect();
    let servers: Vec<&Span> = received.iter().filter(|s| s.name == "GET h").collect();
    assert_eq!(
        servers.len(),
        2,
        "the sampled caller's request and the new trace"
    );
    let (seen, states): (Vec<_>, Vec<_>) = upstream_log.lock().unwrap().iter().cloned().unzip();
    assert_eq!(seen.len(), 3);
    // The caller's tracestate goes on with its trace; none is invented.
    assert_eq!(states[0].as_deref(), Some("vendor=abc"));
    assert_eq!(states[1].as_deref(), Some("vendor=abc,other=xyz"));
    assert_eq!(states[2], None);

    // The caller sampled it: the request's span is the outbound request's parent.
    let continued = servers
        .iter()
        .find(|s| hex(&s.parent_span_id) == caller)
        .expect("the continued trace's span");
    assert_eq!(
        seen[0].as_deref(),
        Some(format!("00-{trace}-{}-01", hex(&continued.span_id)).as_str())
    );
    // Not sampled: nothing recorded, and the services called are told so
    // (the request's own span id, which nothing exports, as the parent).
    let unsampled = seen[1].as_deref().unwrap();
    assert!(
        unsampled.starts_with(&format!("00-{trace}-")) && unsampled.ends_with("-00"),
        "{unsampled}"
    );
    assert_ne!(unsampled, parent("00"));
    // No caller: the new trace's span.
    let started = servers
        .iter()
        .find(|s| s.parent_span_id.is_empty())
        .expect("the new trace's span");
    assert_eq!(
        seen[2].as_deref(),
        Some(format!("00-{}-{}-01", hex(&started.trace_id), hex(&started.span_id)).as_str())
    );

    // A new trace the ratio does not keep is passed on as not sampled, so
    // the services called do not start traces of their own.
    let (endpoint, _spans) = collector().await;
    let none_kept = calling(&url, Some(&endpoint)).replacen(
        "[server]\n",
        "[server]\notlp_sample_ratio = 0\n",
        1,
    );
    let p = pipeline(&none_kept).await;
    assert_eq!(run(&p, get("/h")).await.body(), "ALLOWED: outbound: 204");
    let dropped = upstream_log.lock().unwrap()[3].0.clone().unwrap();
    let parts: Vec<&str> = dropped.split('-').collect();
    assert_eq!(parts.len(), 4, "{dropped}");
    assert_eq!(
        (parts[0], parts[1].len(), parts[2].len(), parts[3]),
        ("00", 32, 16, "00")
    );

    // Without OTLP nothing is passed on, not even a caller's traceparent.
    let untraced = pipeline(&calling(&url, None)).await;
    let out = run(
        &untraced,
        request("GET", "/h", &[("traceparent", &parent("01"))]),
    )
    .await;
    assert_eq!(out.body(), "ALLOWED: outbound: 204", "{:?}", out.log);
    let seen = upstream_log.lock().unwrap().clone();
    assert_eq!(seen.len(), 5);
    assert_eq!(seen[4], (None, None));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_request_s_span_says_so() {
    let (endpoint, mut spans) = collector().await;
    // An upstream that accepts and never answers: the view waits on it.
    let silent = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", silent.local_addr().unwrap());
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = silent.accept().await {
            held.push(stream);
        }
    });
    let p = pipeline(&calling(&url, Some(&endpoint))).await;
    // The client goes away: the request's future is dropped mid-call (a
    // `request_timeout` would instead answer 504 and name the span).
    let gone = tokio::time::timeout(std::time::Duration::from_millis(500), p.handle(get("/h")));
    assert!(gone.await.is_err(), "the view was still waiting");
    let received = flushed(p, &mut spans).await;
    let span = received
        .iter()
        .map(|(_, s)| s)
        .find(|s| s.parent_span_id.is_empty())
        .expect("the request's span");
    // No route yet: named by its method, and marked.
    assert_eq!(span.name, "GET");
    let attrs = attributes(span);
    assert_eq!(attrs["shallot.outcome"], "cancelled");
    assert_eq!(attrs["url.path"], "/h");
}
