//! Conformance: Django's request/response cycle, one test per rule. Each
//! asserts the exact sequence of hook calls and the final response.

use shallot_tests::{get, pipeline, run};

/// Three probes around a probe view; `overrides` sets hook actions as
/// `probe-name.config_key = "value"` lines.
pub(crate) fn stack(overrides: &[(&str, &str, &str)], view_action: &str) -> String {
    let mut toml = String::new();
    for name in ["a", "b", "c"] {
        toml.push_str(&format!(
            "[[middleware]]\nname = \"{name}\"\ncomponent = \"{{probe}}\"\n[middleware.config]\nname = \"{name}\"\n"
        ));
        for (probe, key, value) in overrides {
            if *probe == name {
                toml.push_str(&format!("{key} = \"{value}\"\n"));
            }
        }
    }
    toml.push_str(&format!(
        "[views.v]\ncomponent = \"{{probe-view}}\"\nconfig = {{ action = \"{view_action}\" }}\n\n\
         [[routes]]\npath = \"ok/\"\nview = \"v\"\n"
    ));
    toml
}

async fn calls_for(
    overrides: &[(&str, &str, &str)],
    view_action: &str,
    path: &str,
) -> shallot_tests::Outcome {
    let p = pipeline(&stack(overrides, view_action)).await;
    run(&p, get(path)).await
}

pub(crate) fn seq(s: &str) -> Vec<String> {
    s.split_whitespace().map(str::to_owned).collect()
}

#[tokio::test]
async fn full_cycle_runs_every_hook_in_django_order() {
    let out = calls_for(&[], "ok", "/ok/").await;
    assert_eq!(
        out.calls,
        seq("a.process-request b.process-request c.process-request \
             a.process-view b.process-view c.process-view v.handle \
             c.process-response b.process-response a.process-response")
    );
    assert_eq!(out.response.status(), 200);
    assert_eq!(out.header("x-seen").as_deref(), Some("c, b, a"));
}

#[tokio::test]
async fn hooks_of_one_request_share_an_instance_and_nothing_carries_over() {
    let p = pipeline(&stack(&[], "ok")).await;
    for _ in 0..2 {
        let out = run(&p, get("/ok/")).await;
        // request + view + response hooks: three calls on each instance, on
        // the second request as on the first.
        assert_eq!(
            out.header("x-instance-calls").as_deref(),
            Some("c=3, b=3, a=3")
        );
    }
}

// ===== 1. process_request =====

#[tokio::test]
async fn process_request_response_short_circuits_to_its_own_and_outer_process_response() {
    let out = calls_for(&[("b", "process_request", "respond:418")], "ok", "/ok/").await;
    assert_eq!(
        out.calls,
        seq("a.process-request b.process-request b.process-response a.process-response")
    );
    assert_eq!(out.response.status(), 418);
    assert_eq!(out.body(), "process-request of b");
    assert_eq!(out.header("x-seen").as_deref(), Some("b, a"));
}

#[tokio::test]
async fn first_middleware_short_circuit_skips_everything_inside() {
    let out = calls_for(&[("a", "process_request", "respond:200")], "ok", "/nowhere").await;
    assert_eq!(out.calls, seq("a.process-request a.process-response"));
    assert_eq!(out.header("x-seen").as_deref(), Some("a"));
}

#[tokio::test]
async fn process_request_error_becomes_a_response_at_its_layer_without_its_own_process_response() {
    let out = calls_for(
        &[("b", "process_request", "fail:permission-denied:nope")],
        "ok",
        "/ok/",
    )
    .await;
    assert_eq!(
        out.calls,
        seq("a.process-request b.process-request a.process-response")
    );
    assert_eq!(out.response.status(), 403);
    assert!(
        out.body().contains("<h1>403 Forbidden</h1>"),
        "{}",
        out.body()
    );
    assert_eq!(out.header("x-seen").as_deref(), Some("a"));
}

#[tokio::test]
async fn process_request_trap_becomes_500_at_its_layer() {
    let out = calls_for(&[("b", "process_request", "trap")], "ok", "/ok/").await;
    assert_eq!(
        out.calls,
        seq("a.process-request b.process-request a.process-response")
    );
    assert_eq!(out.response.status(), 500);
    assert!(out.body().contains("<h1>Server Error (500)</h1>"));
    assert_eq!(out.header("x-seen").as_deref(), Some("a"));
    assert!(
        out.log
            .iter()
            .any(|l| l.starts_with("middleware `b`: trapped: wasm trap")
                && l.contains("hook=process-request")),
        "the log names the component and hook: {:#?}",
        out.log
    );
}

// ===== 2. URL resolution =====

#[tokio::test]
async fn unresolved_url_is_404_without_view_or_exception_hooks_and_every_process_response_runs() {
    let out = calls_for(&[], "ok", "/missing").await;
    assert_eq!(
        out.calls,
        seq("a.process-request b.process-request c.process-request \
             c.process-response b.process-response a.process-response")
    );
    assert_eq!(out.response.status(), 404);
    assert_eq!(
        out.header("content-type").as_deref(),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(
        out.body(),
        "\n<!doctype html>\n<html lang=\"en\">\n<head>\n  <title>Not Found</title>\n</head>\n<body>\n  \
         <h1>Not Found</h1><p>The requested resource was not found on this server.</p>\n</body>\n</html>\n"
    );
}

// ===== 3. process_view =====

#[tokio::test]
async fn process_view_response_skips_the_view_and_every_process_response_runs() {
    let out = calls_for(&[("b", "process_view", "respond:401")], "ok", "/ok/").await;
    assert_eq!(
        out.calls,
        seq(
            "a.process-request b.process-request c.process-request a.process-view b.process-view \
             c.process-response b.process-response a.process-response"
        )
    );
    assert_eq!(out.response.status(), 401);
    assert_eq!(out.header("x-seen").as_deref(), Some("c, b, a"));
}

#[tokio::test]
async fn process_view_error_becomes_the_innermost_response_and_skips_process_exception() {
    let out = calls_for(
        &[("b", "process_view", "fail:bad-request:bad")],
        "ok",
        "/ok/",
    )
    .await;
    assert_eq!(
        out.calls,
        seq(
            "a.process-request b.process-request c.process-request a.process-view b.process-view \
             c.process-response b.process-response a.process-response"
        )
    );
    assert_eq!(out.response.status(), 400);
    assert!(out.body().contains("<h1>Bad Request (400)</h1>"));
}

#[tokio::test]
async fn process_view_trap_is_500_and_the_trapped_middleware_answers_process_response_on_a_fresh_instance()
 {
    let out = calls_for(&[("b", "process_view", "trap")], "ok", "/ok/").await;
    assert_eq!(
        out.calls,
        seq(
            "a.process-request b.process-request c.process-request a.process-view b.process-view \
             c.process-response b.process-response a.process-response"
        )
    );
    assert_eq!(out.response.status(), 500);
    // b's process_response ran on a new instance (1 call); a and c kept theirs.
    assert_eq!(
        out.header("x-instance-calls").as_deref(),
        Some("c=2, b=1, a=3")
    );
}

// ===== 4. the view and process_exception =====

#[tokio::test]
async fn view_error_runs_process_exception_bottom_to_top_then_maps_the_kind() {
    let out = calls_for(&[], "fail:not-found:no such thing", "/ok/").await;
    assert_eq!(
        out.calls,
        seq("a.process-request b.process-request c.process-request \
             a.process-view b.process-view c.process-view v.handle \
             c.process-exception b.process-exception a.process-exception \
             c.process-response b.process-response a.process-response")
    );
    assert_eq!(out.response.status(), 404);
    assert!(out.body().contains("<h1>Not Found</h1>"));
    assert!(
        out.log
            .iter()
            .any(|l| l.contains("exception ErrorKind::NotFound: no such thing")),
        "{:#?}",
        out.log
    );
}

#[tokio::test]
async fn first_process_exception_response_wins() {
    let out = calls_for(
        &[("b", "process_exception", "respond:503")],
        "fail:internal:boom",
        "/ok/",
    )
    .await;
    assert_eq!(
        out.calls,
        seq("a.process-request b.process-request c.process-request \
             a.process-view b.process-view c.process-view v.handle \
             c.process-exception b.process-exception \
             c.process-response b.process-response a.process-response")
    );
    assert_eq!(out.response.status(), 503);
    assert_eq!(out.body(), "process-exception of b");
}

#[tokio::test]
async fn view_trap_reaches_process_exception_as_kind_trap_and_becomes_500() {
    let out = calls_for(&[], "trap", "/ok/").await;
    assert_eq!(out.response.status(), 500);
    assert!(
        out.log.iter().any(|l| l.contains("exception ErrorKind::Trap: view `v` trapped in handle: wasm trap")),
        "{:#?}",
        out.log
    );
    assert_eq!(out.header("x-seen").as_deref(), Some("c, b, a"));
}

#[tokio::test]
async fn process_exception_error_replaces_the_view_error_at_the_innermost_layer() {
    let out = calls_for(
        &[("c", "process_exception", "fail:permission-denied:x")],
        "fail:internal:boom",
        "/ok/",
    )
    .await;
    assert_eq!(
        out.calls,
        seq("a.process-request b.process-request c.process-request \
             a.process-view b.process-view c.process-view v.handle c.process-exception \
             c.process-response b.process-response a.process-response")
    );
    assert_eq!(out.response.status(), 403);
}

#[tokio::test]
async fn error_kinds_map_to_djangos_statuses_and_pages() {
    let page = |title: &str, details: &str| {
        format!(
            "\n<!doctype html>\n<html lang=\"en\">\n<head>\n  <title>{title}</title>\n</head>\n<body>\n  \
             <h1>{title}</h1><p>{details}</p>\n</body>\n</html>\n"
        )
    };
    let cases = [
        (
            "not-found",
            404,
            page(
                "Not Found",
                "The requested resource was not found on this server.",
            ),
        ),
        ("permission-denied", 403, page("403 Forbidden", "")),
        ("bad-request", 400, page("Bad Request (400)", "")),
        ("suspicious-operation", 400, page("Bad Request (400)", "")),
        ("internal", 500, page("Server Error (500)", "")),
    ];
    for (kind, status, body) in cases {
        let out = calls_for(&[], &format!("fail:{kind}:x"), "/ok/").await;
        assert_eq!(out.response.status(), status, "{kind}");
        assert_eq!(out.body(), body, "{kind}");
        assert_eq!(
            out.header("content-type").as_deref(),
            Some("text/html; charset=utf-8")
        );
    }
}

// ===== 5. process_response =====

#[tokio::test]
async fn process_response_error_becomes_a_response_at_its_layer_for_the_outer_ones() {
    let out = calls_for(
        &[("b", "process_response", "fail:internal:x")],
        "ok",
        "/ok/",
    )
    .await;
    assert_eq!(
        out.calls[out.calls.len() - 3..],
        seq("c.process-response b.process-response a.process-response")
    );
    assert_eq!(out.response.status(), 500);
    // c's mark was on the response b's failure replaced; a marks the new one.
    assert_eq!(out.header("x-seen").as_deref(), Some("a"));
}

#[tokio::test]
async fn process_response_trap_is_500_and_outer_layers_still_run() {
    let out = calls_for(&[("c", "process_response", "trap")], "ok", "/ok/").await;
    assert_eq!(out.response.status(), 500);
    assert_eq!(out.header("x-seen").as_deref(), Some("b, a"));
}

#[tokio::test]
async fn process_response_may_replace_the_response() {
    let out = calls_for(&[("b", "process_response", "respond:202")], "ok", "/ok/").await;
    assert_eq!(out.response.status(), 202);
    assert_eq!(out.body(), "process-response of b");
    assert_eq!(out.header("x-seen").as_deref(), Some("a"));
}

#[tokio::test]
async fn a_failing_request_never_disturbs_the_next_one() {
    let p = pipeline(&stack(&[("b", "process_view", "trap")], "trap")).await;
    for _ in 0..3 {
        assert_eq!(run(&p, get("/ok/")).await.response.status(), 500);
        assert_eq!(run(&p, get("/missing")).await.response.status(), 404);
    }
}
