//! The quickstart (`examples/quickstart/shallot.toml`) answers exactly like
//! the Django reference app in `../shared/bench/django`: the same 11
//! requests its `run.sh verify` sends, compared the same way (status, every
//! middleware header with uuid and duration masked, body). So does
//! `examples/polyglot`, the same stack with middleware in Rust, Python and
//! JavaScript: every check runs against both.

use shallot::{Config, Pipeline};
use shallot_tests::{Outcome, request, run, runtime};

/// The examples that must answer like Django.
const EXAMPLES: [&str; 2] = ["quickstart", "polyglot"];

/// Loads a real example file, run on this build's guests.
async fn example(name: &str) -> Pipeline {
    let (path, text) = shallot_tests::example_config(name);
    let config = Config::parse(&path, &text).unwrap();
    Pipeline::load_with(runtime(), &config).await.unwrap()
}

/// `run.sh`'s normalize(): status, the relevant headers sorted, the body.
fn normalize(out: &Outcome) -> String {
    let relevant = [
        "content-type",
        "x-request-id",
        "server-timing",
        "vary",
        "x-content-type-options",
        "x-frame-options",
        "referrer-policy",
        "www-authenticate",
        "allow",
    ];
    let mut lines: Vec<String> = out
        .response
        .headers()
        .iter()
        .filter(|(n, _)| {
            relevant.contains(&n.as_str()) || n.as_str().starts_with("access-control-")
        })
        .map(|(n, v)| {
            let v = v.to_str().unwrap();
            let v = if n == "x-request-id" && is_uuid4(v) {
                "<uuid4>".to_owned()
            } else if n == "server-timing" && is_duration(v) {
                "app;dur=<ms>".to_owned()
            } else {
                v.to_owned()
            };
            format!("{n}: {v}")
        })
        .collect();
    lines.sort();
    format!(
        "status: {}\n{}\nbody| {}",
        out.response.status().as_u16(),
        lines.join("\n"),
        out.body()
    )
}

fn is_uuid4(v: &str) -> bool {
    let parts: Vec<&str> = v.split('-').collect();
    parts.iter().map(|p| p.len()).eq([8, 4, 4, 4, 12])
        && v.chars()
            .all(|c| c == '-' || c.is_ascii_digit() || ('a'..='f').contains(&c))
        && parts[2].starts_with('4')
        && matches!(parts[3].chars().next(), Some('8' | '9' | 'a' | 'b'))
}

fn is_duration(v: &str) -> bool {
    v.strip_prefix("app;dur=")
        .and_then(|ms| ms.split_once('.'))
        .is_some_and(|(int, frac)| {
            !int.is_empty() && int.chars().all(|c| c.is_ascii_digit()) && frac.len() == 3
        })
}

const SECURITY: &str =
    "referrer-policy: same-origin\nx-content-type-options: nosniff\nx-frame-options: DENY";
const NOT_FOUND: &str = "\n<!doctype html>\n<html lang=\"en\">\n<head>\n  <title>Not Found</title>\n</head>\n<body>\n  <h1>Not Found</h1><p>The requested resource was not found on this server.</p>\n</body>\n</html>\n";

fn expected(status: u16, headers: &[&str], body: &str) -> String {
    let mut lines: Vec<String> = headers
        .iter()
        .flat_map(|h| h.lines())
        .map(str::to_owned)
        .collect();
    lines.extend(
        [
            "access-control-allow-origin: *",
            "vary: Origin",
            "server-timing: app;dur=<ms>",
        ]
        .iter()
        .map(|s| s.to_string()),
    );
    lines.sort();
    format!("status: {status}\n{}\nbody| {body}", lines.join("\n"))
}

async fn check(method: &str, path: &str, headers: &[(&str, &str)], want: String) {
    for name in EXAMPLES {
        let p = example(name).await;
        let out = run(&p, request(method, path, headers)).await;
        assert_eq!(normalize(&out), want, "{name}: {method} {path}");
    }
}

const TOKEN: (&str, &str) = ("Authorization", "Bearer secret-token");

#[tokio::test]
async fn get_hello() {
    let want = expected(
        200,
        &[
            "content-type: text/plain; charset=utf-8",
            SECURITY,
            "x-request-id: <uuid4>",
        ],
        "hello world",
    );
    check("GET", "/hello", &[], want).await;
}

#[tokio::test]
async fn get_items_without_token_is_401() {
    let want = expected(
        401,
        &[
            "content-type: application/json",
            "www-authenticate: Bearer",
            SECURITY,
            "x-request-id: <uuid4>",
        ],
        r#"{"error": "unauthorized"}"#,
    );
    check("GET", "/items/42/", &[], want).await;
}

#[tokio::test]
async fn get_items_with_token() {
    let want = expected(
        200,
        &[
            "content-type: application/json",
            SECURITY,
            "x-request-id: <uuid4>",
        ],
        r#"{"id": 42, "name": "item-42"}"#,
    );
    check("GET", "/items/42/", &[TOKEN], want).await;
}

#[tokio::test]
async fn get_items_echoes_request_id_and_drops_leading_zeros() {
    let want = expected(
        200,
        &[
            "content-type: application/json",
            SECURITY,
            "x-request-id: abc-123",
        ],
        r#"{"id": 42, "name": "item-42"}"#,
    );
    check(
        "GET",
        "/items/0042/",
        &[TOKEN, ("X-Request-Id", "abc-123")],
        want,
    )
    .await;
}

#[tokio::test]
async fn get_items_with_a_bad_token_is_401() {
    let want = expected(
        401,
        &[
            "content-type: application/json",
            "www-authenticate: Bearer",
            SECURITY,
            "x-request-id: <uuid4>",
        ],
        r#"{"error": "unauthorized"}"#,
    );
    check(
        "GET",
        "/items/42/",
        &[("Authorization", "Bearer nope")],
        want,
    )
    .await;
}

#[tokio::test]
async fn get_boom_is_500_json() {
    let want = expected(
        500,
        &[
            "content-type: application/json",
            SECURITY,
            "x-request-id: <uuid4>",
        ],
        r#"{"error": "boom"}"#,
    );
    check("GET", "/boom", &[], want).await;
}

#[tokio::test]
async fn unknown_path_is_djangos_404() {
    let want = expected(
        404,
        &[
            "content-type: text/html; charset=utf-8",
            SECURITY,
            "x-request-id: <uuid4>",
        ],
        NOT_FOUND,
    );
    check("GET", "/nope", &[], want.clone()).await;
    check("GET", "/items/abc/", &[], want).await;
}

#[tokio::test]
async fn preflight_short_circuits_without_security_headers() {
    let want = expected(
        204,
        &[
            "access-control-allow-headers: Authorization, X-Request-Id",
            "access-control-allow-methods: GET, OPTIONS",
            "access-control-max-age: 86400",
            "x-request-id: <uuid4>",
        ],
        "",
    );
    let headers = [
        ("Origin", "http://example.com"),
        ("Access-Control-Request-Method", "GET"),
    ];
    check("OPTIONS", "/items/42/", &headers, want).await;
}

#[tokio::test]
async fn other_methods_are_405_with_allow() {
    let want = expected(
        405,
        &[
            "allow: GET",
            "content-type: text/html; charset=utf-8",
            SECURITY,
            "x-request-id: <uuid4>",
        ],
        "",
    );
    check("OPTIONS", "/hello", &[], want.clone()).await;
    check("POST", "/hello", &[], want).await;
}

#[tokio::test]
async fn huge_item_ids_do_not_overflow() {
    let id = "123456789012345678901234567890";
    let want = expected(
        200,
        &[
            "content-type: application/json",
            SECURITY,
            "x-request-id: <uuid4>",
        ],
        &format!(r#"{{"id": {id}, "name": "item-{id}"}}"#),
    );
    check("GET", &format!("/items/{id}/"), &[TOKEN], want).await;
}
