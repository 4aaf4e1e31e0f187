//! Conformance: Django's template responses (`_get_response` in
//! `django/core/handlers/base.py`), one test per rule. Each asserts the
//! exact sequence of hook calls and the final response, like `cycle.rs`,
//! over the same three probes `a`, `b`, `c` and probe view `v`.

use shallot_tests::{Outcome, get, pipeline, run, template_dir};

use crate::cycle::{seq, stack};

/// `page.html` shows who made the template response and which template
/// hooks saw it; `other.html` is the same with another title.
fn templates() -> String {
    let dir = template_dir(&[
        (
            "page.html",
            "page: {{ who }} seen={{ seen|join(',') }} {{ markup }}",
        ),
        ("other.html", "other: {{ who }} seen={{ seen|join(',') }}"),
        ("broken-url.html", "{{ url('no-such-route') }}"),
    ]);
    format!("[templates]\ndirs = [\"{}\"]\n", dir.display())
}

async fn calls_for(overrides: &[(&str, &str, &str)], view_action: &str) -> Outcome {
    let toml = templates() + &stack(overrides, view_action);
    let p = pipeline(&toml).await;
    run(&p, get("/ok/")).await
}

const IN: &str = "a.process-request b.process-request c.process-request \
                  a.process-view b.process-view c.process-view";
const TEMPLATE_HOOKS: &str =
    "c.process-template-response b.process-template-response a.process-template-response";
const OUT: &str = "c.process-response b.process-response a.process-response";

fn status(out: &Outcome) -> u16 {
    out.response.status().as_u16()
}

// ===== 1. template hooks: only on template responses, bottom to top, all =====

#[tokio::test]
async fn a_views_template_response_gets_every_template_hook_bottom_to_top_then_renders() {
    let out = calls_for(&[], "template:page.html").await;
    assert_eq!(
        out.calls,
        seq(&format!("{IN} v.handle {TEMPLATE_HOOKS} {OUT}"))
    );
    assert_eq!(status(&out), 200);
    // Each hook's context edit reached the rendering, which happened once,
    // before process_response (which saw a rendered response: X-Seen).
    assert_eq!(out.body(), "page: view seen=c,b,a &lt;b&gt;&amp;&lt;/b&gt;");
    assert_eq!(
        out.header("content-type").as_deref(),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(out.header("x-seen").as_deref(), Some("c, b, a"));
}

#[tokio::test]
async fn a_plain_response_gets_no_template_hook() {
    let out = calls_for(&[], "ok").await;
    assert!(
        !out.calls
            .iter()
            .any(|c| c.ends_with("process-template-response")),
        "{:?}",
        out.calls
    );
}

#[tokio::test]
async fn a_process_view_template_response_gets_every_template_hook() {
    let out = calls_for(&[("b", "process_view", "template:page.html")], "ok").await;
    assert_eq!(
        out.calls,
        seq(&format!(
            "a.process-request b.process-request c.process-request \
             a.process-view b.process-view {TEMPLATE_HOOKS} {OUT}"
        ))
    );
    assert_eq!(out.body(), "page: process-view of b seen=c,b,a ");
}

#[tokio::test]
async fn a_process_exception_template_response_gets_every_template_hook() {
    let out = calls_for(
        &[("b", "process_exception", "template:page.html")],
        "fail:internal:boom",
    )
    .await;
    assert_eq!(
        out.calls,
        seq(&format!(
            "{IN} v.handle c.process-exception b.process-exception {TEMPLATE_HOOKS} {OUT}"
        ))
    );
    assert_eq!(status(&out), 200);
    assert_eq!(out.body(), "page: process-exception of b seen=c,b,a ");
}

#[tokio::test]
async fn a_template_hook_may_change_the_template_and_status() {
    let out = calls_for(
        &[
            ("c", "process_template_response", "template:other.html"),
            ("a", "process_template_response", "status:201"),
        ],
        "template:page.html",
    )
    .await;
    assert_eq!(status(&out), 201);
    // c changed the template (keeping its context); b still added itself.
    assert_eq!(out.body(), "other: view seen=b");
}

#[tokio::test]
async fn the_first_existing_candidate_is_rendered() {
    let out = calls_for(&[], "template:missing.html,other.html,page.html").await;
    assert_eq!(status(&out), 200);
    assert_eq!(out.body(), "other: view seen=c,b,a");
}

// ===== 2. a failing template hook: no process_exception, no rendering =====

#[tokio::test]
async fn a_template_hook_failure_skips_outer_template_hooks_and_process_exception() {
    let out = calls_for(
        &[(
            "b",
            "process_template_response",
            "fail:permission-denied:no",
        )],
        "template:page.html",
    )
    .await;
    assert_eq!(
        out.calls,
        seq(&format!(
            "{IN} v.handle c.process-template-response b.process-template-response {OUT}"
        ))
    );
    assert_eq!(status(&out), 403);
    assert!(
        out.body().contains("<h1>403 Forbidden</h1>"),
        "{}",
        out.body()
    );
    assert_eq!(out.header("x-seen").as_deref(), Some("c, b, a"));
}

#[tokio::test]
async fn a_template_hook_trap_is_500_and_every_process_response_runs() {
    let out = calls_for(
        &[("c", "process_template_response", "trap")],
        "template:page.html",
    )
    .await;
    assert_eq!(
        out.calls,
        seq(&format!("{IN} v.handle c.process-template-response {OUT}"))
    );
    assert_eq!(status(&out), 500);
}

// ===== 3. a failing rendering is offered to process_exception =====

#[tokio::test]
async fn a_missing_template_is_offered_to_process_exception_bottom_to_top() {
    let out = calls_for(&[], "template:missing.html").await;
    assert_eq!(
        out.calls,
        seq(&format!(
            "{IN} v.handle {TEMPLATE_HOOKS} \
             c.process-exception b.process-exception a.process-exception {OUT}"
        ))
    );
    assert_eq!(status(&out), 500);
    assert!(
        out.log
            .iter()
            .any(|l| l
                .ends_with("exception ErrorKind::Internal: TemplateDoesNotExist: missing.html")),
        "{:#?}",
        out.log
    );
}

#[tokio::test]
async fn a_render_error_names_its_template_and_reaches_process_exception() {
    let out = calls_for(
        &[("c", "process_exception", "respond:418")],
        "template:broken-url.html",
    )
    .await;
    assert_eq!(
        out.calls,
        seq(&format!(
            "{IN} v.handle {TEMPLATE_HOOKS} c.process-exception {OUT}"
        ))
    );
    // process_exception's response is returned as it is.
    assert_eq!(status(&out), 418);
    assert_eq!(out.body(), "process-exception of c");
    let offered = out
        .log
        .iter()
        .find(|l| l.contains("exception ErrorKind::Internal"))
        .expect("process_exception was told why");
    assert!(offered.contains("NoReverseMatch"), "{offered}");
    assert!(offered.contains("broken-url.html:1"), "{offered}");
}

#[tokio::test]
async fn a_template_response_from_process_exception_after_a_render_failure_is_never_rendered() {
    // Django returns it as it is, unrendered; serving it fails (500).
    let out = calls_for(
        &[("b", "process_exception", "template:page.html")],
        "template:missing.html",
    )
    .await;
    assert_eq!(
        out.calls,
        seq(&format!(
            "{IN} v.handle {TEMPLATE_HOOKS} c.process-exception b.process-exception {OUT}"
        ))
    );
    assert_eq!(status(&out), 500);
    assert!(out.body().contains("<h1>Server Error (500)</h1>"));
    assert!(
        out.log.iter().any(|l| l.contains("unrendered")),
        "{:#?}",
        out.log
    );
}

// ===== 4. template responses Django never renders =====

#[tokio::test]
async fn a_template_response_from_process_request_is_never_rendered() {
    let out = calls_for(&[("b", "process_request", "template:page.html")], "ok").await;
    assert_eq!(
        out.calls,
        seq("a.process-request b.process-request b.process-response a.process-response")
    );
    assert_eq!(status(&out), 500);
    assert!(
        out.log.iter().any(|l| l.contains("unrendered")),
        "{:#?}",
        out.log
    );
}

#[tokio::test]
async fn a_template_hook_returning_a_plain_response_fails_the_rendering() {
    let out = calls_for(
        &[("b", "process_template_response", "plain")],
        "template:page.html",
    )
    .await;
    // a's template hook still runs (on the plain response), then render()
    // fails and is offered to process_exception, as in Django.
    assert_eq!(
        out.calls,
        seq(&format!(
            "{IN} v.handle {TEMPLATE_HOOKS} \
             c.process-exception b.process-exception a.process-exception {OUT}"
        ))
    );
    assert_eq!(status(&out), 500);
    assert!(
        out.log
            .iter()
            .any(|l| l.contains("'HttpResponse' object has no attribute 'render'")),
        "{:#?}",
        out.log
    );
}
