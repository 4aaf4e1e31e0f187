//! The Prometheus metrics (`GET /metrics` on the admin listener) and the
//! `Server-Timing` header: each count checked against the requests that
//! made it, failures under their kind, the instance policies, reloads,
//! the admin token; `Server-Timing` only when turned on, naming every
//! layer that ran.

use std::sync::Arc;

use shallot::LivePipeline;
use shallot::admin::AdminToken;
use shallot::config::ServerConfig;
use shallot_tests::{get, hostile_app, pipeline, run, with_guests};
use tokio::net::TcpListener;

use crate::health::ask;

/// The value of the sample `name{labels}` in `text`, the labels written in
/// the order Shallot declares them; `None` when there is no such sample.
fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let labels: Vec<String> = labels.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
    let series = if labels.is_empty() {
        format!("{name} ")
    } else {
        format!("{name}{{{}}} ", labels.join(","))
    };
    text.lines()
        .find_map(|line| line.strip_prefix(&series))
        .map(|value| value.parse().unwrap())
}

#[track_caller]
fn assert_sample(text: &str, name: &str, labels: &[(&str, &str)], expected: f64) {
    assert_eq!(
        sample(text, name, labels),
        Some(expected),
        "{name}{labels:?} in:\n{text}"
    );
}

const HELLO: &str = r#"
[views.hello]
component = "{hello}"

[[routes]]
path = "hello"
view = "hello"
name = "greeting"

[[routes]]
path = "anonymous"
view = "hello"
"#;

#[tokio::test]
async fn requests_are_counted_by_route_name_and_status() {
    let p = pipeline(HELLO).await;
    for _ in 0..5 {
        assert_eq!(p.handle(get("/hello")).await.status(), 200);
    }
    for _ in 0..3 {
        assert_eq!(p.handle(get("/anonymous")).await.status(), 200);
    }
    for _ in 0..2 {
        assert_eq!(p.handle(get("/missing")).await.status(), 404);
    }
    let text = p.metrics_text();
    let requests = "shallot_http_requests_total";
    // A named route by its name, an unnamed one by its view's, like
    // Django's `resolver_match.view_name`; no route at all is `none`.
    assert_sample(
        &text,
        requests,
        &[("route", "greeting"), ("status", "200")],
        5.0,
    );
    assert_sample(
        &text,
        requests,
        &[("route", "hello"), ("status", "200")],
        3.0,
    );
    assert_sample(
        &text,
        requests,
        &[("route", "none"), ("status", "404")],
        2.0,
    );
    let durations = "shallot_http_request_duration_seconds_count";
    assert_sample(&text, durations, &[("route", "greeting")], 5.0);
    assert_sample(&text, durations, &[("route", "none")], 2.0);
    let calls = "shallot_hook_calls_total";
    assert_sample(
        &text,
        calls,
        &[("component", "hello"), ("hook", "handle")],
        8.0,
    );
    assert_sample(
        &text,
        "shallot_hook_duration_seconds_count",
        &[("component", "hello"), ("hook", "handle")],
        8.0,
    );
    // The tests' engine counts fuel.
    let fuel = sample(
        &text,
        "shallot_fuel_consumed_total",
        &[("component", "hello")],
    );
    assert!(fuel.is_some_and(|f| f > 0.0), "{text}");
    assert!(text.ends_with("# EOF\n"), "{text}");
}

/// The hostile view at `/h` doing `action`, run once: its failure's kind.
async fn failure_of(action: &str, extra: &str) -> String {
    let p = pipeline(&hostile_app(&format!("action = \"{action}\""), extra, "")).await;
    assert_eq!(p.handle(get("/h")).await.status(), 500, "{action}");
    let text = p.metrics_text();
    assert_sample(
        &text,
        "shallot_hook_calls_total",
        &[("component", "h"), ("hook", "handle")],
        1.0,
    );
    let failures: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("shallot_hook_failures_total{"))
        .collect();
    assert_eq!(failures.len(), 1, "{action}: {failures:?}");
    let line = failures[0];
    assert!(
        line.starts_with(r#"shallot_hook_failures_total{component="h",hook="handle",kind=""#)
            && line.ends_with("\"} 1"),
        "{line}"
    );
    line.split("kind=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn each_failure_is_counted_under_its_kind() {
    assert_eq!(failure_of("panic", "").await, "trap");
    assert_eq!(
        failure_of("memory", "limits = { memory_mib = 16 }").await,
        "memory"
    );
    assert_eq!(failure_of("loop", "limits = { cpu_ms = 20 }").await, "cpu");
    assert_eq!(
        failure_of("loop", "limits = { fuel = 1_000_000, cpu_ms = 10_000 }").await,
        "fuel"
    );
    assert_eq!(failure_of("recursion", "").await, "stack");
}

#[tokio::test]
async fn a_middleware_failure_is_counted_under_its_hook() {
    let p = pipeline(
        r#"
[[middleware]]
name = "raises"
component = "{probe}"
config = { name = "raises", process_view = "fail:permission-denied:no" }

[[middleware]]
name = "crashes"
component = "{probe}"
config = { name = "crashes", process_response = "trap" }

[views.hello]
component = "{hello}"

[[routes]]
path = "hello"
view = "hello"
"#,
    )
    .await;
    assert_eq!(p.handle(get("/hello")).await.status(), 500);
    let text = p.metrics_text();
    let failures = "shallot_hook_failures_total";
    let raised = [
        ("component", "raises"),
        ("hook", "process-view"),
        ("kind", "raised"),
    ];
    assert_sample(&text, failures, &raised, 1.0);
    let trapped = [
        ("component", "crashes"),
        ("hook", "process-response"),
        ("kind", "trap"),
    ];
    assert_sample(&text, failures, &trapped, 1.0);
    // process-view raised, so the view never ran.
    let view = [("component", "hello"), ("hook", "handle")];
    assert_sample(&text, "shallot_hook_calls_total", &view, 0.0);
}

fn probe_view(action: &str, limits: &str) -> String {
    format!(
        "{limits}\n[views.v]\ncomponent = \"{{probe-view}}\"\nconfig = {{ action = \"{action}\" }}\n\
         [[routes]]\npath = \"v\"\nview = \"v\"\n"
    )
}

#[tokio::test]
async fn each_chunk_of_a_streamed_body_is_a_next_chunk_call() {
    let p = pipeline(&probe_view("stream:3:10", "")).await;
    let resp = p.handle(get("/v")).await;
    assert_eq!((resp.status().as_u16(), resp.body().len()), (200, 30));
    let text = p.metrics_text();
    let calls = "shallot_hook_calls_total";
    assert_sample(&text, calls, &[("component", "v"), ("hook", "handle")], 1.0);
    // Three chunks, then the empty one that ends the body.
    assert_sample(
        &text,
        calls,
        &[("component", "v"), ("hook", "next-chunk")],
        4.0,
    );

    let p = pipeline(&probe_view("stream-trap:2", "")).await;
    assert_eq!(
        p.handle(get("/v")).await.status(),
        200,
        "sent before it broke"
    );
    let trapped = [("component", "v"), ("hook", "next-chunk"), ("kind", "trap")];
    assert_sample(
        &p.metrics_text(),
        "shallot_hook_failures_total",
        &trapped,
        1.0,
    );
}

#[tokio::test]
async fn a_call_cut_by_the_request_deadline_is_counted_as_cancelled() {
    let limits = "[limits]\nrequest_timeout_ms = 100\ncpu_ms = 10_000";
    let p = pipeline(&probe_view("sleep:3000", limits)).await;
    assert_eq!(p.handle(get("/v")).await.status(), 504);
    let text = p.metrics_text();
    let requests = [("route", "v"), ("status", "504")];
    assert_sample(&text, "shallot_http_requests_total", &requests, 1.0);
    let cancelled = [
        ("component", "v"),
        ("hook", "handle"),
        ("kind", "cancelled"),
    ];
    assert_sample(&text, "shallot_hook_failures_total", &cancelled, 1.0);
}

fn policy_app(policy: &str) -> String {
    format!(
        "[views.hello]\ncomponent = \"{{hello}}\"\n{policy}\n[[routes]]\npath = \"hello\"\nview = \"hello\"\n"
    )
}

#[tokio::test]
async fn reuse_counts_reused_instances_and_its_idle_pool() {
    let p = pipeline(&policy_app("instance_policy = \"reuse\"")).await;
    for _ in 0..4 {
        assert_eq!(p.handle(get("/hello")).await.status(), 200);
    }
    let text = p.metrics_text();
    let hello = [("component", "hello")];
    assert_sample(&text, "shallot_instances_created_total", &hello, 1.0);
    assert_sample(&text, "shallot_instances_reused_total", &hello, 3.0);
    assert_sample(&text, "shallot_pool_idle_instances", &hello, 1.0);

    let p = pipeline(&policy_app("")).await;
    for _ in 0..4 {
        assert_eq!(p.handle(get("/hello")).await.status(), 200);
    }
    let text = p.metrics_text();
    assert_sample(&text, "shallot_instances_created_total", &hello, 4.0);
    assert_sample(&text, "shallot_instances_reused_total", &hello, 0.0);
    // No pool, no gauge.
    assert_eq!(sample(&text, "shallot_pool_idle_instances", &hello), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reloads_are_counted_and_the_counters_survive_the_swap() {
    let dir = std::env::temp_dir().join(format!("shallot-metrics-reload-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("shallot.toml");
    std::fs::write(&path, with_guests(HELLO)).unwrap();
    let live = LivePipeline::load(&path).await.unwrap();
    for _ in 0..3 {
        assert_eq!(live.current().handle(get("/hello")).await.status(), 200);
    }
    let text = live.current().metrics_text();
    assert_sample(&text, "shallot_pipeline_version", &[], 1.0);
    assert_sample(&text, "shallot_reloads_total", &[("result", "ok")], 0.0);
    let loaded_at = sample(&text, "shallot_pipeline_loaded_timestamp_seconds", &[]).unwrap();
    assert!(loaded_at > 1.7e9, "{text}");

    let renamed = with_guests(HELLO).replace("name = \"greeting\"", "name = \"welcome\"");
    std::fs::write(&path, renamed).unwrap();
    assert!(live.reload().await.unwrap(), "swapped");
    assert_eq!(live.current().handle(get("/hello")).await.status(), 200);
    std::fs::write(&path, "[[middleware]]\nname = \"a\"\n").unwrap();
    assert!(live.reload().await.is_err());

    let text = live.current().metrics_text();
    assert_sample(&text, "shallot_reloads_total", &[("result", "ok")], 1.0);
    assert_sample(&text, "shallot_reloads_total", &[("result", "error")], 1.0);
    assert_sample(&text, "shallot_pipeline_version", &[], 2.0);
    let requests = "shallot_http_requests_total";
    // Counted by the first version, still there after the swap.
    assert_sample(
        &text,
        requests,
        &[("route", "greeting"), ("status", "200")],
        3.0,
    );
    assert_sample(
        &text,
        requests,
        &[("route", "welcome"), ("status", "200")],
        1.0,
    );
    assert_sample(
        &text,
        "shallot_hook_calls_total",
        &[("component", "hello"), ("hook", "handle")],
        4.0,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_listener_serves_metrics_with_its_token() {
    let live = Arc::new(LivePipeline::fixed(
        pipeline(HELLO).await,
        shallot_tests::runtime().clone(),
    ));
    let main = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let main_addr = main.local_addr().unwrap();
    let settings = ServerConfig {
        health_path: Some("/-/health".into()),
        ..ServerConfig::default()
    };
    let serving = live.clone();
    tokio::spawn(async move {
        shallot::server::serve(main, serving, &settings, std::future::pending()).await
    });
    let admin = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let admin_addr = admin.local_addr().unwrap();
    tokio::spawn(shallot::admin::serve(
        admin,
        live.clone(),
        ServerConfig::default(),
        Some(AdminToken::new("s3cret-token")),
    ));

    assert_eq!(ask(main_addr, "/hello", "").await.0, 200);
    assert_eq!(ask(main_addr, "/-/health", "").await.0, 200);
    for headers in ["", "Authorization: Bearer wrong-token!\r\n"] {
        let (status, _, body) = ask(admin_addr, "/metrics", headers).await;
        assert_eq!(status, 401, "{headers:?}");
        assert!(!body.contains("shallot_"), "{body}");
    }
    let token = "Authorization: Bearer s3cret-token\r\n";
    let (status, head, text) = ask(admin_addr, "/metrics", token).await;
    assert_eq!(status, 200);
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: application/openmetrics-text; version=1.0.0; charset=utf-8"),
        "{head}"
    );
    let requests = "shallot_http_requests_total";
    assert_sample(
        &text,
        requests,
        &[("route", "greeting"), ("status", "200")],
        1.0,
    );
    // The health check is answered by the server, before any route.
    assert_sample(
        &text,
        requests,
        &[("route", "none"), ("status", "200")],
        1.0,
    );
    assert_sample(&text, "shallot_pipeline_version", &[], 1.0);
    assert!(text.ends_with("# EOF\n"), "{text}");
}

/// The `Server-Timing` entries' names, in order, from every field.
fn timing_names(response: &http::Response<bytes::Bytes>) -> Vec<String> {
    response
        .headers()
        .get_all("server-timing")
        .iter()
        .flat_map(|v| v.to_str().unwrap().split(", "))
        .map(|entry| {
            let (name, dur) = entry.split_once(";dur=").expect("a duration");
            assert!(dur.parse::<f64>().is_ok_and(|ms| ms >= 0.0), "{entry}");
            name.to_owned()
        })
        .collect()
}

fn timed_app(server_timing: &str, probe: &str) -> String {
    format!(
        r#"
{server_timing}
[[middleware]]
name = "timing"
component = "{{timing}}"

[[middleware]]
name = "a"
component = "{{probe}}"
config = {{ name = "a"{probe} }}

[views.hello]
component = "{{hello}}"

[[routes]]
path = "hello"
view = "hello"
"#
    )
}

#[tokio::test]
async fn server_timing_names_each_layer_that_ran_when_turned_on() {
    let on = "[server]\nserver_timing = true\n";
    let p = pipeline(&timed_app(on, "")).await;
    let out = run(&p, get("/hello")).await;
    assert_eq!(out.response.status(), 200);
    // The `timing` middleware's own entry comes first: the host's field
    // was added after its process_response ran, which would have
    // replaced it otherwise.
    assert_eq!(
        timing_names(&out.response),
        [
            "app",
            "mw-timing-process-request",
            "mw-a-process-request",
            "mw-a-process-view",
            "view-hello",
            "mw-a-process-response",
            "mw-timing-process-response",
            "total",
        ]
    );

    // A layer answering early: only what ran.
    let p = pipeline(&timed_app(on, ", process_request = \"respond:403\"")).await;
    let resp = p.handle(get("/hello")).await;
    assert_eq!(resp.status(), 403);
    assert_eq!(
        timing_names(&resp),
        [
            "app",
            "mw-timing-process-request",
            "mw-a-process-request",
            "mw-a-process-response",
            "mw-timing-process-response",
            "total",
        ]
    );
}

#[tokio::test]
async fn server_timing_is_off_by_default() {
    let p = pipeline(&timed_app("", "")).await;
    let resp = p.handle(get("/hello")).await;
    assert_eq!(resp.status(), 200);
    // Only the `timing` middleware's own entry.
    assert_eq!(timing_names(&resp), ["app"]);
}
