//! One test per guest in `guests/` (enforced by `foreach_guest!` below, as
//! wasmtime's test-programs do): each guest alone, doing its one job.

use shallot_tests::{Outcome, get, pipeline, request, run};

/// A config with the given middleware (name = guest) in front of a probe view.
fn with_view(middleware: &[(&str, &str)], view_config: &str) -> String {
    let mut toml = String::new();
    for (guest, config) in middleware {
        toml.push_str(&format!("[[middleware]]\nname = \"{guest}\"\ncomponent = \"{{{guest}}}\"\nconfig = {{ {config} }}\n"));
    }
    toml.push_str(&format!(
        "[views.v]\ncomponent = \"{{probe-view}}\"\nconfig = {{ {view_config} }}\n[[routes]]\npath = \"v/<slug:s>/\"\nview = \"v\"\nname = \"v\"\n"
    ));
    toml
}

async fn one(
    middleware: &[(&str, &str)],
    view_config: &str,
    req: http::Request<bytes::Bytes>,
) -> Outcome {
    run(&pipeline(&with_view(middleware, view_config)).await, req).await
}

// The reference middleware also exist in Python and JavaScript
// (`guests/python`, `guests/js`); each version passes the same checks.

#[tokio::test]
async fn request_id() {
    check_request_id("request-id").await;
}

#[tokio::test]
async fn py_request_id() {
    check_request_id("py-request-id").await;
}

#[tokio::test]
async fn js_request_id() {
    check_request_id("js-request-id").await;
}

async fn check_request_id(guest: &str) {
    let out = one(&[(guest, "")], "", get("/v/x/")).await;
    let id = out.header("x-request-id").unwrap();
    assert_eq!(id.len(), 36, "{id}");
    assert!(
        out.body().contains(&format!("attrs=request_id={id}")),
        "the view sees request.request_id: {}",
        out.body()
    );
    let given = one(
        &[(guest, "")],
        "",
        request("GET", "/v/x/", &[("X-Request-Id", "abc")]),
    )
    .await;
    assert_eq!(given.header("x-request-id").as_deref(), Some("abc"));
}

#[tokio::test]
async fn timing() {
    let out = one(&[("timing", "")], "", get("/v/x/")).await;
    let v = out.header("server-timing").unwrap();
    let ms = v.strip_prefix("app;dur=").unwrap();
    assert_eq!(ms.split_once('.').unwrap().1.len(), 3, "{v}");
    let ms: f64 = ms.parse().unwrap();
    assert!(
        (0.0..10_000.0).contains(&ms),
        "{ms} ms for one in-process request"
    );
}

#[tokio::test]
async fn auth() {
    let mw = [("auth", "protected_views = \"v, other\", token = \"t0k\"")];
    let denied = one(&mw, "", get("/v/x/")).await;
    assert_eq!(denied.response.status(), 401);
    assert_eq!(denied.body(), r#"{"error": "unauthorized"}"#);
    assert_eq!(denied.header("www-authenticate").as_deref(), Some("Bearer"));
    let allowed = one(
        &mw,
        "",
        request("GET", "/v/x/", &[("Authorization", "Bearer t0k")]),
    )
    .await;
    assert_eq!(allowed.response.status(), 200);
    let unprotected = one(&[("auth", "protected_views = \"other\"")], "", get("/v/x/")).await;
    assert_eq!(unprotected.response.status(), 200);
}

#[tokio::test]
async fn cors() {
    check_cors("cors").await;
}

#[tokio::test]
async fn py_cors() {
    check_cors("py-cors").await;
}

#[tokio::test]
async fn js_cors() {
    check_cors("js-cors").await;
}

async fn check_cors(guest: &str) {
    let out = one(&[(guest, "")], "", get("/v/x/")).await;
    assert_eq!(
        out.header("access-control-allow-origin").as_deref(),
        Some("*")
    );
    assert_eq!(out.header("vary").as_deref(), Some("Origin"));
    let preflight = request(
        "OPTIONS",
        "/v/x/",
        &[("Access-Control-Request-Method", "GET")],
    );
    let out = one(&[(guest, "")], "", preflight).await;
    assert_eq!(out.response.status(), 204);
    assert_eq!(out.header("content-type"), None);
    assert!(
        out.calls.is_empty(),
        "no view for a preflight: {:?}",
        out.calls
    );
    assert_eq!(
        out.header("access-control-max-age").as_deref(),
        Some("86400")
    );
}

#[tokio::test]
async fn security_headers() {
    check_security_headers("security-headers").await;
}

#[tokio::test]
async fn c_security_headers() {
    check_security_headers("c-security-headers").await;
}

async fn check_security_headers(guest: &str) {
    let out = one(&[(guest, "")], "", get("/v/x/")).await;
    assert_eq!(
        out.header("x-content-type-options").as_deref(),
        Some("nosniff")
    );
    assert_eq!(out.header("x-frame-options").as_deref(), Some("DENY"));
    assert_eq!(
        out.header("referrer-policy").as_deref(),
        Some("same-origin")
    );
}

#[tokio::test]
async fn exception_json() {
    check_exception_json("exception-json").await;
}

#[tokio::test]
async fn py_exception_json() {
    check_exception_json("py-exception-json").await;
}

#[tokio::test]
async fn js_exception_json() {
    check_exception_json("js-exception-json").await;
}

async fn check_exception_json(guest: &str) {
    let out = one(
        &[(guest, "")],
        "action = 'fail:internal:bad \"quote\" é'",
        get("/v/x/"),
    )
    .await;
    assert_eq!(out.response.status(), 500);
    assert_eq!(
        out.header("content-type").as_deref(),
        Some("application/json")
    );
    assert_eq!(out.body(), r#"{"error": "bad \"quote\" \u00e9"}"#);
}

async fn view_only(guest: &str, route: &str, path: &str) -> Outcome {
    let toml = format!(
        "[views.x]\ncomponent = \"{{{guest}}}\"\n[[routes]]\npath = \"{route}\"\nview = \"x\"\n"
    );
    run(&pipeline(&toml).await, get(path)).await
}

#[tokio::test]
async fn hello() {
    let out = view_only("hello", "hello", "/hello").await;
    assert_eq!(
        (out.response.status().as_u16(), out.body()),
        (200, "hello world")
    );
    assert_eq!(
        out.header("content-type").as_deref(),
        Some("text/plain; charset=utf-8")
    );
}

#[tokio::test]
async fn items() {
    check_items("items").await;
}

#[tokio::test]
async fn py_items() {
    check_items("py-items").await;
}

async fn check_items(guest: &str) {
    let out = view_only(guest, "items/<int:item_id>/", "/items/007/").await;
    assert_eq!(out.body(), r#"{"id": 7, "name": "item-7"}"#);
    assert_eq!(
        out.header("content-type").as_deref(),
        Some("application/json")
    );
}

#[tokio::test]
async fn py_links() {
    check_links("py-links").await;
}

#[tokio::test]
async fn js_links() {
    check_links("js-links").await;
}

/// `reverse()` from a Python or JavaScript view, over a table with a
/// namespace: the path, or a 500 for `NoReverseMatch`.
async fn check_links(guest: &str) {
    let toml = format!(
        "[views.x]\ncomponent = \"{{{guest}}}\"\n\
         [[routes]]\npath = \"links/\"\nview = \"x\"\n\
         [[routes]]\npath = \"items/<int:item_id>/\"\nview = \"x\"\nname = \"item\"\n\
         [[routes]]\npath = \"api/\"\nnamespace = \"api\"\n\
         [[routes.include]]\npath = \"users/<slug:user>/\"\nview = \"x\"\nname = \"user\"\n"
    );
    let p = pipeline(&toml).await;
    let out = run(&p, get("/links/?name=item&item_id=42")).await;
    assert_eq!(
        (out.response.status().as_u16(), out.body()),
        (200, "/items/42/")
    );
    let out = run(&p, get("/links/?name=api:user&user=ann")).await;
    assert_eq!(
        (out.response.status().as_u16(), out.body()),
        (200, "/api/users/ann/")
    );
    // resolve(): the match, or Resolver404.
    let out = run(&p, get("/links/?resolve=/api/users/ann/")).await;
    assert_eq!(
        (out.response.status().as_u16(), out.body()),
        (200, "api:user ann")
    );
    let out = run(&p, get("/links/?resolve=/nowhere/")).await;
    assert_eq!(out.response.status(), 404);
    let out = run(&p, get("/links/?name=item&item_id=x")).await;
    assert_eq!(out.response.status(), 500, "{:#?}", out.log);
    assert!(
        out.log
            .iter()
            .any(|l| l.contains("Reverse for 'item' with keyword arguments")),
        "{:#?}",
        out.log
    );
}

// Django's TemplateResponse from Python, JavaScript and C views, and
// `process_template_response` in Python and JavaScript middleware; the
// host renders after the hooks.

const CATALOG_HTML: &str = "<h1>{{ title }}</h1><ul>{% for i in items %}<li>{{ i.name }}: {{ i.price }}</li>{% endfor %}</ul>";
const THEMED_HTML: &str = "<h1>{{ title }} ({{ layer }})</h1>{{ items | length }} items";
const CATALOG_BODY: &str =
    "<h1>Catalog</h1><ul><li>Tea: 3</li><li>Fish &amp; &lt;Chips&gt;: 7</li></ul>";

/// A pipeline serving `view` at `/catalog/` behind `middleware` (none or
/// one), with `catalog.html` and `themed/catalog.html` to render.
async fn catalog_pipeline(middleware: Option<&str>, view: &str) -> shallot::Pipeline {
    let dir = shallot_tests::template_dir(&[
        ("catalog.html", CATALOG_HTML),
        ("themed/catalog.html", THEMED_HTML),
    ]);
    let mut toml = format!("[templates]\ndirs = [\"{}\"]\n", dir.display());
    if let Some(guest) = middleware {
        toml.push_str(&format!(
            "[[middleware]]\nname = \"tc\"\ncomponent = \"{{{guest}}}\"\n"
        ));
    }
    toml.push_str(&format!(
        "[views.catalog]\ncomponent = \"{{{view}}}\"\n[[routes]]\npath = \"catalog/\"\nview = \"catalog\"\n"
    ));
    pipeline(&toml).await
}

#[tokio::test]
async fn py_catalog() {
    check_catalog(
        "py-catalog",
        Some("Object of type set is not JSON serializable"),
    )
    .await;
}

#[tokio::test]
async fn js_catalog() {
    check_catalog("js-catalog", Some("context.tags is a Map")).await;
}

#[tokio::test]
async fn c_catalog() {
    check_catalog("c-catalog", None).await;
}

/// The first candidate that exists (`missing.html` does not), autoescaped;
/// with `?broken`, the SDK refuses a context JSON cannot carry: a 500.
async fn check_catalog(guest: &str, broken: Option<&str>) {
    let p = catalog_pipeline(None, guest).await;
    let out = run(&p, get("/catalog/")).await;
    assert_eq!(
        (out.response.status().as_u16(), out.body()),
        (200, CATALOG_BODY),
        "{:#?}",
        out.log
    );
    assert_eq!(
        out.header("content-type").as_deref(),
        Some("text/html; charset=utf-8")
    );
    let Some(why) = broken else { return };
    let out = run(&p, get("/catalog/?broken")).await;
    assert_eq!(out.response.status(), 500, "{:#?}", out.log);
    let message = format!("the template context is not JSON-serializable: {why}");
    assert!(
        out.log.iter().any(|l| l.contains(&message)),
        "{message}: {:#?}",
        out.log
    );
    if guest.starts_with("py-") {
        // An exception that is not one of Django's HTTP ones is logged
        // with its traceback, as `django.request` does.
        assert!(
            out.log
                .iter()
                .any(|l| l.contains("Traceback (most recent call last)") && l.contains("TypeError")),
            "{:#?}",
            out.log
        );
    }
}

#[tokio::test]
async fn py_template_context() {
    check_template_context("py-template-context", "py-catalog", "python").await;
}

#[tokio::test]
async fn js_template_context() {
    check_template_context("js-template-context", "js-catalog", "javascript").await;
}

/// The middleware's `template_name` puts `themed/catalog.html` first and its
/// `context_data` change (in place) reaches the template; in front of the C
/// view, whose one candidate reads as a string.
async fn check_template_context(middleware: &str, view: &str, layer: &str) {
    let themed = format!("<h1>Catalog ({layer})</h1>2 items");
    for (view, seen) in [
        (view, "missing.html, catalog.html"),
        ("c-catalog", "catalog.html"),
    ] {
        let out = run(
            &catalog_pipeline(Some(middleware), view).await,
            get("/catalog/"),
        )
        .await;
        assert_eq!(
            (out.response.status().as_u16(), out.body()),
            (200, themed.as_str()),
            "{view}: {:#?}",
            out.log
        );
        assert_eq!(out.header("x-templates").as_deref(), Some(seen), "{view}");
    }
}

#[tokio::test]
async fn boom() {
    let out = view_only("boom", "boom", "/boom").await;
    assert_eq!(out.response.status(), 500);
    assert!(
        out.log
            .iter()
            .any(|l| l.starts_with("view `x`: raised: boom")),
        "{:#?}",
        out.log
    );
}

#[tokio::test]
async fn probe() {
    let toml = "[[middleware]]\nname = \"p\"\ncomponent = \"{probe}\"\nconfig = { name = \"p\", process_request = \"respond:299\" }\n";
    let out = run(&pipeline(toml).await, get("/anything")).await;
    assert_eq!(out.response.status(), 299);
    assert_eq!(out.calls, ["p.process-request", "p.process-response"]);
}

#[tokio::test]
async fn probe_view() {
    let out = one(&[], "", get("/v/some-slug/?q=1")).await;
    assert_eq!(
        out.body(),
        "view=v route=v args= kwargs=s=some-slug path=/v/some-slug/ query=q=1 attrs="
    );
    assert_eq!(out.calls, ["v.handle"]);
}

#[tokio::test]
async fn hostile_unknown_import() {
    let config = shallot::Config::parse(
        "test.toml",
        &shallot_tests::with_guests(
            "[[middleware]]\nname = \"f\"\ncomponent = \"{hostile-unknown-import}\"\n",
        ),
    )
    .unwrap();
    let err = shallot::Pipeline::load_with(shallot_tests::runtime(), &config)
        .await
        .err()
        .unwrap();
    assert!(err.to_string().contains("acme:frob/frob"), "{err}");
}

#[tokio::test]
async fn hostile_extra_export() {
    let config = shallot::Config::parse(
        "test.toml",
        &shallot_tests::with_guests("[views.both]\ncomponent = \"{hostile-extra-export}\"\n"),
    )
    .unwrap();
    let err = shallot::Pipeline::load_with(shallot_tests::runtime(), &config)
        .await
        .err()
        .unwrap();
    assert!(
        err.to_string()
            .contains("exports `shallot:http/process-response@0.1.0`"),
        "{err}"
    );
}

/// Each hostile action has its own test in `sandbox.rs`; here, that an
/// unknown action is the guest's own error.
#[tokio::test]
async fn hostile() {
    let toml = "[views.h]\ncomponent = \"{hostile}\"\nallowed_outbound_hosts = [\"http://127.0.0.1:1\"]\n\
                [[routes]]\npath = \"h\"\nview = \"h\"\n";
    let toml = toml.replace(
        "allowed_outbound_hosts",
        "key_value_stores = [\"k\"]\nallowed_outbound_hosts",
    );
    let out = run(&pipeline(&toml).await, get("/h")).await;
    assert_eq!(out.response.status(), 500);
    assert!(
        out.log
            .iter()
            .any(|l| l.contains("raised: unknown action \"\"")),
        "{:#?}",
        out.log
    );
}

/// The fuzzing view runs its body as a script of host calls (encoding in
/// `guests/fuzz-host/src/lib.rs`) and answers with a transcript of outcomes.
#[tokio::test]
async fn fuzz_host() {
    use shallot_tests::fuzz::{host_calls_config, host_calls_request};
    /// One op: its byte, then its arguments.
    fn op(code: u8, args: &[&[u8]]) -> Vec<u8> {
        [&[code][..], &args.concat()].concat()
    }
    /// A `str` argument: a length byte, then the text.
    fn s(text: &str) -> Vec<u8> {
        [&[u8::try_from(text.len()).unwrap()][..], text.as_bytes()].concat()
    }

    let p = pipeline(&host_calls_config()).await;
    let script = [
        op(1, &[&[0, 0]]),                                   // new 200
        op(3, &[&[0], &s("X-A"), &s("1")]),                  // set-header
        op(3, &[&[0], &s("bad name"), &s("x")]),             // set-header, refused
        op(2, &[&[0], &99u16.to_le_bytes()]),                // set-status, refused
        op(13, &[&s("fuzz")]),                               // kv-open
        op(13, &[&s("other")]),                              // kv-open, not granted
        op(16, &[&[0], &s("n"), &5i64.to_le_bytes(), &[0]]), // kv-increment
        op(11, &[&s("greeting")]),                           // config
        op(8, &[&s("x-multi")]),                             // the request
        op(9, &[&s("request_id")]),                          // an attribute request-id set
    ]
    .concat();
    let out = run(&p, host_calls_request(&script)).await;
    assert_eq!(out.response.status(), 200, "{}", out.body());
    let request = format!(
        "request POST /fuzz query=\"q=1&q=2\" header=Some(\"a, b\") values=2 headers=4 \
         body={} client=127.0.0.1 scheme=http",
        script.len()
    );
    let lines: Vec<&str> = out.body().lines().collect();
    assert_eq!(
        lines[..9],
        [
            "new 200",
            "set-header ok ()",
            "set-header err ErrorKind::Internal",
            "set-status 99 err ErrorKind::Internal",
            "kv-open ok",
            "kv-open err ErrorKind::PermissionDenied",
            "kv-increment ok 5",
            "config Some(\"hello\") of 4",
            &request,
        ]
    );
    assert!(lines[9].starts_with("attribute Some(\""), "{}", lines[9]);

    // A response of its own (201), a raised Http404, an invalid status.
    let own = [
        op(1, &[&[1, 0]]),
        op(3, &[&[0], &s("X-A"), &s("1")]),
        op(23, &[&[0]]),
    ]
    .concat();
    let out = run(&p, host_calls_request(&own)).await;
    assert_eq!(out.response.status(), 201);
    assert_eq!(out.header("x-a").as_deref(), Some("1"));
    assert!(out.header("x-request-id").is_some());
    let out = run(&p, host_calls_request(&op(24, &[&[0], &s("gone")]))).await;
    assert_eq!(out.response.status(), 404);
    let out = run(&p, host_calls_request(&op(0, &[&99u16.to_le_bytes()]))).await;
    assert_eq!(out.response.status(), 500, "Response::new(99) traps");
}

// The example app's views are tested with the example.
#[allow(unused_imports, reason = "only checks that the tests exist")]
use crate::templates::movies;

// The movie theater's views are tested with the example.
#[allow(unused_imports, reason = "only checks that the tests exist")]
use crate::theater::theater;

// The capability-using guests are tested together, as an app.
#[allow(unused_imports, reason = "only checks that the tests exist")]
use crate::apps::{account, login_required, rate_limit, sessions};

// The SQL middleware are tested together, as the auth example.
#[allow(unused_imports, reason = "only checks that the tests exist")]
use crate::auth::sqlite::{authentication, login, permissions, py_perm_view, sessions_sql};

// The SQL guest is tested with the capability.
#[allow(unused_imports, reason = "only checks that the tests exist")]
use crate::sql::sqlite::{js_notes, notes, py_notes};

// The upload and streaming views are tested with streaming.
#[allow(unused_imports, reason = "only checks that the tests exist")]
use crate::streaming::{js_csv_rows, js_upload, py_csv_rows, py_upload};

// Django's standard middleware are tested in `standard/`, one module each.
#[allow(unused_imports, reason = "only checks that the tests exist")]
use crate::standard::{
    common::common,
    conditional_get::{conditional_get, py_conditional_get},
    csp::csp,
    csrf::csrf,
    gzip::gzip,
    messages::{messages, messages_context, messages_probe, py_messages_view},
    security::security,
    x_frame_options::{py_x_frame_options, x_frame_options},
};

macro_rules! assert_test_exists {
    ($name:ident) => {
        #[allow(unused_imports, reason = "only checks that the test exists")]
        use self::$name as _;
    };
}
shallot_tests::foreach_guest!(assert_test_exists);

// ===== context processors and filters in Python and JavaScript =====
// The same checks as the Rust `site-context` and `text-filters` (tested in
// `templates.rs`), through the probe view's `template:page.html`, whose
// context is `{"who": "view", "markup": "<b>&</b>", ...}`.

/// The probe view at `/page/` rendering `page.html` from `files`, behind a
/// probe middleware `m` (its config in `probe`), with `[templates]` holding
/// `extra` (context processor and filter entries).
async fn rendering(files: &[(&str, &str)], probe: &str, extra: &str) -> shallot::Pipeline {
    let dir = shallot_tests::template_dir(files);
    pipeline(&format!(
        "[templates]\ndirs = [\"{}\"]\n{extra}\n\
         [[middleware]]\nname = \"m\"\ncomponent = \"{{probe}}\"\nconfig = {{ name = \"m\"{probe} }}\n\
         [views.v]\ncomponent = \"{{probe-view}}\"\nconfig = {{ action = \"template:page.html\" }}\n\
         [[routes]]\npath = \"page/\"\nview = \"v\"\n",
        dir.display()
    ))
    .await
}

fn processor(name: &str, guest: &str, config: &str) -> String {
    format!(
        "[[templates.context_processors]]\nname = \"{name}\"\ncomponent = \"{{{guest}}}\"\nconfig = {{ {config} }}\n"
    )
}

#[tokio::test]
async fn site_context() {
    check_site_context("site-context", None).await;
}

#[tokio::test]
async fn py_site_context() {
    check_site_context("py-site-context", Some("values['tags'] is a set")).await;
}

#[tokio::test]
async fn js_site_context() {
    check_site_context("js-site-context", Some("values.tags is a Map")).await;
}

/// `site` defaults to "Shallot" and `user` to "anonymous"; a later
/// processor's values win, `user` is the request attribute, the view's
/// `who` stays. `fail` raises: the rendering fails, offered to
/// `process-exception`, a 500. In Python and JavaScript, `broken` returns
/// a value JSON cannot carry: a `TypeError` naming it, a 500.
async fn check_site_context(guest: &str, broken: Option<&str>) {
    let files = [("page.html", "{{ site }} {{ user }} {{ who }}")];
    let p = rendering(&files, "", &processor("cp", guest, "")).await;
    let out = run(&p, get("/page/")).await;
    assert_eq!(
        (out.response.status().as_u16(), out.body()),
        (200, "Shallot anonymous view"),
        "{:#?}",
        out.log
    );

    let two = processor("first", guest, "") + &processor("second", guest, "site = \"Second\"");
    let p = rendering(&files, ", process_request = \"attribute:user=alice\"", &two).await;
    let out = run(&p, get("/page/")).await;
    assert_eq!(
        out.calls,
        [
            "m.process-request",
            "m.process-view",
            "v.handle",
            "m.process-template-response",
            "first.context",
            "second.context",
            "m.process-response"
        ]
    );
    assert_eq!(out.body(), "Second alice view");

    let p = rendering(&files, "", &processor("cp", guest, "fail = \"yes\"")).await;
    let out = run(&p, get("/page/")).await;
    assert_eq!(
        out.calls,
        [
            "m.process-request",
            "m.process-view",
            "v.handle",
            "m.process-template-response",
            "cp.context",
            "m.process-exception",
            "m.process-response"
        ]
    );
    assert_eq!(out.response.status(), 500);
    assert!(
        out.log
            .iter()
            .any(|l| l.contains("site-context was told to fail")),
        "{:#?}",
        out.log
    );

    let Some(broken) = broken else { return };
    let p = rendering(&files, "", &processor("cp", guest, "broken = \"yes\"")).await;
    let out = run(&p, get("/page/")).await;
    assert_eq!(out.response.status(), 500);
    let message = format!("returned a value JSON cannot carry: {broken}");
    assert!(
        out.log.iter().any(|l| l.contains(&message)),
        "{message}: {:#?}",
        out.log
    );
}

#[tokio::test]
async fn text_filters() {
    // The Rust `explode` panics: a trap, reported as one.
    check_text_filters(
        "text-filters",
        "filter explode failed: filter component `text` trapped",
    )
    .await;
}

#[tokio::test]
async fn py_text_filters() {
    check_text_filters("py-text-filters", EXPLODED).await;
}

#[tokio::test]
async fn js_text_filters() {
    check_text_filters("js-text-filters", EXPLODED).await;
}

const EXPLODED: &str = "filter explode failed: the explode filter always fails";

/// The Rust `text-filters`' outputs: a plain result is escaped like any
/// value, a `mark_safe` one is not. A raising filter fails its request
/// only, a 500 naming the filter and the exception (`exploded`).
async fn check_text_filters(guest: &str, exploded: &str) {
    let filters = format!("[[templates.filters]]\nname = \"text\"\ncomponent = \"{{{guest}}}\"\n");
    let page = "{{ 'hello'|shout }} {{ markup|emphasize }} {{ 'a b c d'|words(2) }} \
                {{ markup|shout }} {{ who|upper }} {{ 'a  b'|words(5) }} {{ 42|shout }}";
    let p = rendering(&[("page.html", page)], "", &filters).await;
    let out = run(&p, get("/page/")).await;
    assert_eq!(
        (out.response.status().as_u16(), out.body()),
        (
            200,
            "HELLO! <em>&lt;b&gt;&amp;&lt;/b&gt;</em> a b … &lt;B&gt;&amp;&lt;/B&gt;! VIEW a b 42!"
        ),
        "{:#?}",
        out.log
    );

    for (template, message) in [
        ("{{ who|explode }}", exploded),
        (
            "{{ who|words }}",
            "filter words failed: words needs the number of words, e.g. words(3)",
        ),
    ] {
        let p = rendering(&[("page.html", template)], "", &filters).await;
        let out = run(&p, get("/page/")).await;
        assert_eq!(out.response.status(), 500, "{template}");
        assert!(
            out.log.iter().any(|l| l.contains(message)),
            "{message}: {:#?}",
            out.log
        );
    }
    let p = rendering(&[("page.html", "{{ who|shout }}")], "", &filters).await;
    assert_eq!(run(&p, get("/page/")).await.body(), "VIEW!");
}
