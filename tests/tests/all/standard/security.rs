//! `security`: Django's `SecurityMiddleware` (HSTS, nosniff,
//! Referrer-Policy, Cross-Origin-Opener-Policy, the HTTPS redirect and
//! its exemptions), each behaviour through the real pipeline.

use bytes::Bytes;
use shallot::Scheme;
use shallot_tests::{Outcome, pipeline, request, run};

/// `security` (its `config` table holding `config`), then the middleware
/// in `inner` (TOML entries), in front of the probe view, which answers
/// every path.
async fn send(config: &str, inner: &str, req: http::Request<Bytes>) -> Outcome {
    let toml = format!(
        "[[middleware]]\nname = \"security\"\ncomponent = \"{{security}}\"\nconfig = {{ {config} }}\n\
         {inner}\
         [views.v]\ncomponent = \"{{probe-view}}\"\n\
         [[routes]]\nregex = \"^\"\nview = \"v\"\n"
    );
    run(&pipeline(&toml).await, req).await
}

/// A probe middleware inside `security` whose `process_response` sets
/// `name: value`, as a view setting its own header would.
fn sets(name: &str, value: &str) -> String {
    format!(
        "[[middleware]]\nname = \"inner-{}\"\ncomponent = \"{{probe}}\"\n\
         config = {{ process_response = \"header:{name}:{value}\" }}\n",
        name.to_lowercase()
    )
}

/// A plain-HTTP request for `uri` with `Host: example.com`.
fn plain(method: &str, uri: &str) -> http::Request<Bytes> {
    request(method, uri, &[("host", "example.com")])
}

/// The same over HTTPS (what the server records for a TLS connection or
/// a trusted proxy's `X-Forwarded-Proto: https`).
fn https(method: &str, uri: &str) -> http::Request<Bytes> {
    let mut req = plain(method, uri);
    req.extensions_mut().insert(Scheme::Https);
    req
}

fn status_and_location(out: &Outcome) -> (u16, Option<String>) {
    (out.response.status().as_u16(), out.header("location"))
}

fn view_ran(out: &Outcome) -> bool {
    out.calls.iter().any(|call| call == "v.handle")
}

#[tokio::test]
pub(crate) async fn security() {
    // Django's defaults on a plain-HTTP request: nosniff, same-origin
    // twice, no HSTS, no redirect.
    let out = send("", "", plain("GET", "/page/")).await;
    assert_eq!(out.response.status(), 200);
    assert!(view_ran(&out));
    assert_eq!(
        out.header("x-content-type-options").as_deref(),
        Some("nosniff")
    );
    assert_eq!(
        out.header("referrer-policy").as_deref(),
        Some("same-origin")
    );
    assert_eq!(
        out.header("cross-origin-opener-policy").as_deref(),
        Some("same-origin")
    );
    assert_eq!(out.header("strict-transport-security"), None);
    assert_eq!(out.header("location"), None);
}

#[tokio::test]
async fn hsts_is_off_by_default_even_over_https() {
    let out = send("", "", https("GET", "/")).await;
    assert_eq!(out.response.status(), 200);
    assert_eq!(out.header("strict-transport-security"), None);
    // The other headers do not depend on the scheme.
    assert_eq!(
        out.header("x-content-type-options").as_deref(),
        Some("nosniff")
    );
}

#[tokio::test]
async fn hsts_only_on_secure_requests() {
    let config = "hsts_seconds = 3600";
    let secure = send(config, "", https("GET", "/")).await;
    assert_eq!(
        secure.header("strict-transport-security").as_deref(),
        Some("max-age=3600")
    );
    let plain = send(config, "", plain("GET", "/")).await;
    assert_eq!(plain.header("strict-transport-security"), None);
}

#[tokio::test]
async fn hsts_include_subdomains_and_preload_in_that_order() {
    let both = "hsts_seconds = 31536000, hsts_include_subdomains = true, hsts_preload = true";
    let out = send(both, "", https("GET", "/")).await;
    assert_eq!(
        out.header("strict-transport-security").as_deref(),
        Some("max-age=31536000; includeSubDomains; preload")
    );
    let subdomains = "hsts_seconds = 60, hsts_include_subdomains = true";
    let out = send(subdomains, "", https("GET", "/")).await;
    assert_eq!(
        out.header("strict-transport-security").as_deref(),
        Some("max-age=60; includeSubDomains")
    );
    let preload = "hsts_seconds = 60, hsts_preload = true";
    let out = send(preload, "", https("GET", "/")).await;
    assert_eq!(
        out.header("strict-transport-security").as_deref(),
        Some("max-age=60; preload")
    );
}

#[tokio::test]
async fn hsts_never_replaces_a_header_already_set() {
    let inner = sets("Strict-Transport-Security", "max-age=1");
    let out = send("hsts_seconds = 3600", &inner, https("GET", "/")).await;
    assert_eq!(
        out.header("strict-transport-security").as_deref(),
        Some("max-age=1")
    );
}

#[tokio::test]
async fn nosniff_can_be_turned_off() {
    let out = send("content_type_nosniff = false", "", plain("GET", "/")).await;
    assert_eq!(out.response.status(), 200);
    assert_eq!(out.header("x-content-type-options"), None);
}

#[tokio::test]
async fn headers_already_set_are_kept() {
    let inner = [
        sets("X-Content-Type-Options", "other"),
        sets("Referrer-Policy", "no-referrer"),
        sets("Cross-Origin-Opener-Policy", "unsafe-none"),
    ]
    .concat();
    let out = send("", &inner, plain("GET", "/")).await;
    assert_eq!(
        out.header("x-content-type-options").as_deref(),
        Some("other")
    );
    assert_eq!(
        out.header("referrer-policy").as_deref(),
        Some("no-referrer")
    );
    assert_eq!(
        out.header("cross-origin-opener-policy").as_deref(),
        Some("unsafe-none")
    );
}

#[tokio::test]
async fn referrer_policy_string_is_split_stripped_and_joined_with_commas() {
    let config = r#"referrer_policy = " no-referrer , strict-origin-when-cross-origin""#;
    let out = send(config, "", plain("GET", "/")).await;
    assert_eq!(
        out.header("referrer-policy").as_deref(),
        Some("no-referrer,strict-origin-when-cross-origin")
    );
    // A single value passes through unchanged.
    let out = send(r#"referrer_policy = "origin""#, "", plain("GET", "/")).await;
    assert_eq!(out.header("referrer-policy").as_deref(), Some("origin"));
}

#[tokio::test]
async fn referrer_policy_list_is_joined_without_stripping() {
    let config = r#"referrer_policy = ["same-origin", " strict-origin "]"#;
    let out = send(config, "", plain("GET", "/")).await;
    assert_eq!(
        out.header("referrer-policy").as_deref(),
        Some("same-origin, strict-origin ")
    );
}

#[tokio::test]
async fn empty_referrer_policy_sends_no_header() {
    for config in [r#"referrer_policy = """#, "referrer_policy = []"] {
        let out = send(config, "", plain("GET", "/")).await;
        assert_eq!(out.response.status(), 200, "{config}");
        assert_eq!(out.header("referrer-policy"), None, "{config}");
    }
}

#[tokio::test]
async fn cross_origin_opener_policy_is_sent_verbatim_or_not_at_all() {
    let config = r#"cross_origin_opener_policy = "same-origin-allow-popups""#;
    let out = send(config, "", plain("GET", "/")).await;
    assert_eq!(
        out.header("cross-origin-opener-policy").as_deref(),
        Some("same-origin-allow-popups")
    );
    let out = send(r#"cross_origin_opener_policy = """#, "", plain("GET", "/")).await;
    assert_eq!(out.header("cross-origin-opener-policy"), None);
}

#[tokio::test]
async fn ssl_redirect_sends_plain_http_to_the_same_url_over_https() {
    let config = "ssl_redirect = true, hsts_seconds = 3600";
    let out = send(config, "", plain("GET", "/some/path/?a=1&b=two")).await;
    assert_eq!(
        status_and_location(&out),
        (301, Some("https://example.com/some/path/?a=1&b=two".into()))
    );
    assert!(
        !view_ran(&out),
        "the redirect short-circuits: {:?}",
        out.calls
    );
    assert_eq!(out.body(), "");
    assert_eq!(
        out.header("content-type").as_deref(),
        Some("text/html; charset=utf-8")
    );
    // process_response runs on the redirect too: everything but HSTS,
    // which a plain-HTTP response must not carry.
    assert_eq!(
        out.header("x-content-type-options").as_deref(),
        Some("nosniff")
    );
    assert_eq!(
        out.header("referrer-policy").as_deref(),
        Some("same-origin")
    );
    assert_eq!(
        out.header("cross-origin-opener-policy").as_deref(),
        Some("same-origin")
    );
    assert_eq!(out.header("strict-transport-security"), None);
}

#[tokio::test]
async fn ssl_redirect_applies_to_every_method() {
    for method in ["POST", "PUT", "DELETE", "HEAD"] {
        let out = send("ssl_redirect = true", "", plain(method, "/form/")).await;
        assert_eq!(
            status_and_location(&out),
            (301, Some("https://example.com/form/".into())),
            "{method}"
        );
    }
}

#[tokio::test]
async fn ssl_redirect_leaves_https_requests_alone() {
    let config = "ssl_redirect = true, hsts_seconds = 3600";
    let out = send(config, "", https("GET", "/some/path/")).await;
    assert_eq!(out.response.status(), 200);
    assert!(view_ran(&out));
    assert_eq!(
        out.header("strict-transport-security").as_deref(),
        Some("max-age=3600")
    );
}

#[tokio::test]
async fn ssl_redirect_is_off_by_default() {
    let out = send("", "", plain("POST", "/form/")).await;
    assert_eq!(out.response.status(), 200);
    assert!(view_ran(&out));
}

#[tokio::test]
async fn ssl_redirect_keeps_the_hosts_port() {
    let req = request("GET", "/x/", &[("host", "Example.com:8443")]);
    let out = send("ssl_redirect = true", "", req).await;
    assert_eq!(
        status_and_location(&out),
        (301, Some("https://Example.com:8443/x/".into()))
    );
}

#[tokio::test]
async fn ssl_redirect_escapes_the_path_as_get_full_path_does() {
    // The decoded path is escaped again (`;` and `=` too); the query
    // string keeps its escapes.
    let out = send(
        "ssl_redirect = true",
        "",
        plain("GET", "/caf%C3%A9/a%20b;c=d/?q=%20x&r=caf%C3%A9"),
    )
    .await;
    assert_eq!(
        status_and_location(&out),
        (
            301,
            Some("https://example.com/caf%C3%A9/a%20b%3Bc%3Dd/?q=%20x&r=caf%C3%A9".into())
        )
    );
}

#[tokio::test]
async fn ssl_host_replaces_the_requests_host() {
    let config = r#"ssl_redirect = true, ssl_host = "secure.example.org""#;
    let out = send(config, "", plain("GET", "/login/?next=/a/")).await;
    assert_eq!(
        status_and_location(&out),
        (
            301,
            Some("https://secure.example.org/login/?next=/a/".into())
        )
    );
    // The Host is not even read then: a malformed one still redirects.
    let req = request("GET", "/login/", &[("host", "bad host")]);
    let out = send(config, "", req).await;
    assert_eq!(
        status_and_location(&out),
        (301, Some("https://secure.example.org/login/".into()))
    );
    // An empty ssl_host is Django's None: the request's host.
    let config = r#"ssl_redirect = true, ssl_host = """#;
    let out = send(config, "", plain("GET", "/login/")).await;
    assert_eq!(
        status_and_location(&out),
        (301, Some("https://example.com/login/".into()))
    );
}

#[tokio::test]
async fn redirect_exempt_patterns_search_the_path_without_its_leading_slash() {
    let config = r#"ssl_redirect = true, redirect_exempt = ["^api/", "health$"]"#;
    // `^api/` matches because the leading '/' is stripped first.
    let out = send(config, "", plain("GET", "/api/items/")).await;
    assert_eq!(out.response.status(), 200, "{:?}", out.header("location"));
    assert!(view_ran(&out));
    // search(), not match(): `health$` matches at the end of a longer path.
    let out = send(config, "", plain("GET", "/status/health")).await;
    assert_eq!(out.response.status(), 200, "{:?}", out.header("location"));
    // Anything else still goes to https.
    let out = send(config, "", plain("GET", "/v1/api/items/")).await;
    assert_eq!(
        status_and_location(&out),
        (301, Some("https://example.com/v1/api/items/".into()))
    );
    // A pattern written with the leading slash never matches.
    let config = r#"ssl_redirect = true, redirect_exempt = ["^/api/"]"#;
    let out = send(config, "", plain("GET", "/api/items/")).await;
    assert_eq!(out.response.status(), 301);
}

#[tokio::test]
async fn redirect_exempt_requests_still_get_the_response_headers() {
    let config = r#"ssl_redirect = true, redirect_exempt = ["^api/"]"#;
    let out = send(config, "", plain("GET", "/api/")).await;
    assert_eq!(out.response.status(), 200);
    assert_eq!(
        out.header("x-content-type-options").as_deref(),
        Some("nosniff")
    );
    assert_eq!(
        out.header("referrer-policy").as_deref(),
        Some("same-origin")
    );
}

#[tokio::test]
async fn a_malformed_host_is_a_400_when_redirecting() {
    for host in ["bad host", "example.com/evil", "example.com:port", "."] {
        let req = request("GET", "/x/", &[("host", host)]);
        let out = send("ssl_redirect = true", "", req).await;
        assert_eq!(out.response.status(), 400, "{host}");
        assert_eq!(out.header("location"), None, "{host}");
    }
    // An IPv6 literal and a trailing dot are well-formed.
    for host in ["[::1]:8000", "example.com."] {
        let req = request("GET", "/x/", &[("host", host)]);
        let out = send("ssl_redirect = true", "", req).await;
        assert_eq!(
            status_and_location(&out),
            (301, Some(format!("https://{host}/x/"))),
        );
    }
    // Without a redirect the host is never checked.
    let req = request("GET", "/x/", &[("host", "bad host")]);
    let out = send("", "", req).await;
    assert_eq!(out.response.status(), 200);
}

#[tokio::test]
async fn an_invalid_setting_fails_loudly() {
    for config in [
        r#"hsts_seconds = "soon""#,
        r#"ssl_redirect = "yes""#,
        r#"redirect_exempt = ["("]"#,
    ] {
        let out = send(config, "", plain("GET", "/")).await;
        assert_eq!(out.response.status(), 500, "{config}");
        assert!(
            out.log.iter().any(|line| line.contains("security: config")),
            "{config}: {:?}",
            out.log
        );
    }
}
