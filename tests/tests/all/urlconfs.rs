//! Error views and named URLconfs: Django's `handler404` ... `handler500`,
//! the default handlers' `404.html`/`500.html`, and `request.urlconf`.

use shallot_tests::{Outcome, get, pipeline, run, template_dir};

/// Templates for the error pages, a probe middleware `m` (its
/// `process_request` set by `choose`) in front of probe views, and `extra`
/// config (error views, URLconfs).
async fn app(files: &[(&str, &str)], choose: &str, extra: &str, uri: &str) -> Outcome {
    let dir = template_dir(files);
    let toml = format!(
        "[templates]\ndirs = [\"{}\"]\n\
         [[templates.context_processors]]\nname = \"site\"\ncomponent = \"{{site-context}}\"\n\
         [[middleware]]\nname = \"m\"\ncomponent = \"{{probe}}\"\n\
         [middleware.config]\nname = \"m\"\nprocess_request = \"{choose}\"\n\
         [views.ok]\ncomponent = \"{{probe-view}}\"\nconfig = {{ action = \"template:url.html\" }}\n\
         [views.gone]\ncomponent = \"{{probe-view}}\"\nconfig = {{ action = \"fail:not-found:No movie here\" }}\n\
         [views.crash]\ncomponent = \"{{probe-view}}\"\nconfig = {{ action = \"trap\" }}\n\
         [views.nf]\ncomponent = \"{{probe-view}}\"\nconfig = {{ action = \"template:nf.html\" }}\n\
         [views.reverse]\ncomponent = \"{{probe-view}}\"\nconfig = {{ action = \"reverse\" }}\n\
         [[routes]]\npath = \"ok/\"\nview = \"ok\"\nname = \"home\"\n\
         [[routes]]\npath = \"gone/\"\nview = \"gone\"\n\
         [[routes]]\npath = \"crash/\"\nview = \"crash\"\n\
         [[routes]]\npath = \"reverse/\"\nview = \"reverse\"\n\
         {extra}",
        dir.display()
    );
    let p = pipeline(&toml).await;
    run(&p, get(uri)).await
}

const PAGES: [(&str, &str); 4] = [
    (
        "404.html",
        "{{ site }}: {{ request_path }} [{{ exception }}]",
    ),
    ("500.html", "{{ site }}|{{ request }}|oops"),
    ("nf.html", "nf: {{ who }} {{ kwargs.exception }}"),
    ("url.html", "{{ url('home') }}"),
];

fn answer(out: &Outcome) -> (u16, &str) {
    (out.response.status().as_u16(), out.body())
}

// ===== Django's default handlers =====

#[tokio::test]
async fn a_404_renders_404_html_with_the_request_and_context_processors() {
    let out = app(&PAGES, "pass", "", "/no%20such/").await;
    assert_eq!(answer(&out), (404, "Shallot: /no%20such/ [Resolver404]"));
    let out = app(&PAGES, "pass", "", "/gone/").await;
    assert_eq!(answer(&out), (404, "Shallot: /gone/ [No movie here]"));
    assert_eq!(
        out.header("content-type").as_deref(),
        Some("text/html; charset=utf-8")
    );
}

#[tokio::test]
async fn a_500_renders_500_html_without_the_request() {
    let out = app(&PAGES, "pass", "", "/crash/").await;
    assert_eq!(answer(&out), (500, "||oops"));
}

#[tokio::test]
async fn without_the_templates_the_built_in_pages_are_served() {
    let out = app(&[], "pass", "", "/nowhere/").await;
    assert_eq!(out.response.status(), 404);
    assert!(out.body().contains("<h1>Not Found</h1>"), "{}", out.body());
}

// ===== error views =====

#[tokio::test]
async fn an_error_view_answers_its_status_and_its_template_is_rendered_at_once() {
    let out = app(&PAGES, "pass", "[error_views]\n404 = \"nf\"\n", "/nowhere/").await;
    assert_eq!(answer(&out), (200, "nf: view Resolver404"));
    // The error view answered for a failure of process_request too.
    let out = app(
        &PAGES,
        "fail:not-found:from middleware",
        "[error_views]\n404 = \"nf\"\n",
        "/ok/",
    )
    .await;
    assert_eq!(answer(&out), (200, "nf: view from middleware"));
}

#[tokio::test]
async fn a_failing_error_view_gives_way_to_the_500_handling() {
    let out = app(
        &PAGES,
        "pass",
        "[error_views]\n404 = \"crash\"\n",
        "/nowhere/",
    )
    .await;
    assert_eq!(answer(&out), (500, "||oops"));
    let out = app(&[], "pass", "[error_views]\n500 = \"crash\"\n", "/crash/").await;
    assert_eq!(out.response.status(), 500);
    assert!(out.body().contains("<h1>Server Error (500)</h1>"));
}

// ===== named URLconfs =====

const TENANT: &str = "[[urlconfs.tenant.routes]]\npath = \"tenant-home/\"\nview = \"ok\"\nname = \"home\"\n\
                      [[urlconfs.tenant.routes]]\npath = \"r/\"\nview = \"reverse\"\n\
                      [urlconfs.tenant.error_views]\n404 = \"nf\"\n";

#[tokio::test]
async fn request_urlconf_replaces_the_root_urlconf_for_resolution_and_reverse() {
    let pick = "attribute:urlconf=tenant";
    let out = app(&PAGES, pick, TENANT, "/tenant-home/").await;
    // url() in the template reverses in the tenant's URLconf.
    assert_eq!(answer(&out), (200, "/tenant-home/"));
    let out = app(&PAGES, pick, TENANT, "/r/?name=home").await;
    assert_eq!(answer(&out), (200, "/tenant-home/"));
    // The root's routes are not in the tenant's URLconf: its 404 view answers.
    let out = app(&PAGES, pick, TENANT, "/ok/").await;
    assert_eq!(answer(&out), (200, "nf: view Resolver404"));
    // Without the attribute, the root URLconf and its default 404.
    let out = app(&PAGES, "pass", TENANT, "/ok/").await;
    assert_eq!(answer(&out), (200, "/ok/"));
    let out = app(&PAGES, "pass", TENANT, "/tenant-home/").await;
    assert_eq!(answer(&out), (404, "Shallot: /tenant-home/ [Resolver404]"));
}

#[tokio::test]
async fn an_unknown_urlconf_is_a_server_error() {
    let out = app(&[], "attribute:urlconf=nope", TENANT, "/ok/").await;
    assert_eq!(out.response.status(), 500);
    assert!(
        out.log
            .iter()
            .any(|l| l.contains("request.urlconf names no URLconf: \"nope\"")),
        "{:#?}",
        out.log
    );
}
