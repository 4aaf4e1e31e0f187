//! `common`: Django's `CommonMiddleware` (disallowed user agents,
//! `PREPEND_WWW`, `APPEND_SLASH` through `urls.resolve`).

use shallot_tests::{Outcome, pipeline, request, run};

/// `common` (with `config`) in front of the probe view at `items/`, at
/// `exact` (no slash) and at `deep/<path:p>/`.
async fn with_common(config: &str, method: &str, uri: &str, headers: &[(&str, &str)]) -> Outcome {
    with_routes(config, "deep/<path:p>/", method, uri, headers).await
}

/// The same with `catch_all` as the third route.
async fn with_routes(
    config: &str,
    catch_all: &str,
    method: &str,
    uri: &str,
    headers: &[(&str, &str)],
) -> Outcome {
    let toml = format!(
        "[[middleware]]\nname = \"common\"\ncomponent = \"{{common}}\"\nconfig = {{ {config} }}\n\
         [views.v]\ncomponent = \"{{probe-view}}\"\n\
         [[routes]]\npath = \"items/\"\nview = \"v\"\n\
         [[routes]]\npath = \"exact\"\nview = \"v\"\n\
         [[routes]]\npath = \"{catch_all}\"\nview = \"v\"\n"
    );
    run(&pipeline(&toml).await, request(method, uri, headers)).await
}

fn redirect(out: &Outcome) -> (u16, Option<String>) {
    (out.response.status().as_u16(), out.header("location"))
}

#[tokio::test]
pub(crate) async fn common() {
    // A 404 whose slashed path resolves: 301 there, query kept, relative.
    let out = with_common("", "GET", "/items?page=2&q=a%20b", &[]).await;
    assert_eq!(redirect(&out), (301, Some("/items/?page=2&q=a%20b".into())));
    assert_eq!(
        out.header("content-type").as_deref(),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(out.body(), "");
    // The view itself runs only for the slashed path.
    let out = with_common("", "GET", "/items/", &[]).await;
    assert_eq!(out.response.status(), 200);
}

#[tokio::test]
async fn append_slash_needs_the_bare_path_to_fail_and_the_slashed_one_to_resolve() {
    // Resolves without the slash: served, never redirected.
    let out = with_common("", "GET", "/exact", &[]).await;
    assert_eq!(out.response.status(), 200);
    // Neither resolves: Django's 404 stays.
    let out = with_common("", "GET", "/nowhere.txt", &[]).await;
    assert_eq!(out.response.status(), 404);
    // Ends with a slash already: nothing to add.
    let out = with_common("", "GET", "/exact/", &[]).await;
    assert_eq!(out.response.status(), 404);
}

#[tokio::test]
async fn append_slash_redirects_any_method_with_debug_off() {
    let out = with_common("", "POST", "/items", &[]).await;
    assert_eq!(redirect(&out), (301, Some("/items/".into())));
}

#[tokio::test]
async fn append_slash_false_and_no_append_slash_views_keep_the_404() {
    let out = with_common("append_slash = false", "GET", "/items", &[]).await;
    assert_eq!(out.response.status(), 404);
    let out = with_common("no_append_slash = [\"v\"]", "GET", "/items", &[]).await;
    assert_eq!(out.response.status(), 404);
    let out = with_common("no_append_slash = [\"other\"]", "GET", "/items", &[]).await;
    assert_eq!(out.response.status(), 301);
}

#[tokio::test]
async fn a_leading_double_slash_cannot_redirect_to_another_host() {
    // `//evil.example` resolves with a slash (`<path:p>/`): the Location
    // must not be the scheme-relative `//evil.example/`.
    let out = with_routes("", "<path:p>/", "GET", "//evil.example", &[]).await;
    assert_eq!(redirect(&out), (301, Some("/%2Fevil.example/".into())));
}

#[tokio::test]
async fn the_redirect_escapes_the_path_as_django_does() {
    let out = with_common("", "GET", "/deep/caf%C3%A9%20x", &[]).await;
    assert_eq!(redirect(&out), (301, Some("/deep/caf%C3%A9%20x/".into())));
}

#[tokio::test]
async fn a_disallowed_user_agent_is_forbidden() {
    let config = r#"disallowed_user_agents = ["^BadBot", "crawler/[0-9]+"]"#;
    let out = with_common(config, "GET", "/items/", &[("user-agent", "BadBot/1.0")]).await;
    assert_eq!(out.response.status(), 403);
    let out = with_common(config, "GET", "/items/", &[("user-agent", "x crawler/7 y")]).await;
    assert_eq!(out.response.status(), 403);
    let out = with_common(
        config,
        "GET",
        "/items/",
        &[("user-agent", "GoodBot BadBot")],
    )
    .await;
    assert_eq!(
        out.response.status(),
        200,
        "anchored patterns match at the start only"
    );
    let out = with_common(config, "GET", "/items/", &[]).await;
    assert_eq!(
        out.response.status(),
        200,
        "no user agent, nothing to match"
    );
}

#[tokio::test]
async fn a_user_agent_pattern_that_is_not_a_regex_fails_closed() {
    let config = r#"disallowed_user_agents = ["(unclosed"]"#;
    let out = with_common(config, "GET", "/items/", &[("user-agent", "anyone")]).await;
    assert_eq!(out.response.status(), 500);
    assert!(
        out.log.iter().any(|l| l.contains("is not a regex")),
        "{:#?}",
        out.log
    );
}

#[tokio::test]
async fn prepend_www_redirects_to_the_www_host_with_the_slash_when_due() {
    let config = "prepend_www = true";
    let host = [("host", "example.com")];
    let out = with_common(config, "GET", "/items/?a=1", &host).await;
    assert_eq!(
        redirect(&out),
        (301, Some("http://www.example.com/items/?a=1".into()))
    );
    let out = with_common(config, "GET", "/items", &host).await;
    assert_eq!(
        redirect(&out),
        (301, Some("http://www.example.com/items/".into()))
    );
    let out = with_common(config, "GET", "/items/", &[("host", "www.example.com")]).await;
    assert_eq!(out.response.status(), 200);
}
