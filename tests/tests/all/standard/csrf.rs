//! `csrf`: Django's `CsrfViewMiddleware` (masked tokens, the cookie, the
//! Origin and Referer checks, exempt views, Django's 403 page).

use bytes::Bytes;
use shallot_tests::{Outcome, pipeline, run};

const CHARS: &[u8; 62] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const SECRET: &str = "abcdefghijklmnopqrstuvwxyzABCDEF";

fn index(c: u8) -> usize {
    CHARS.iter().position(|&x| x == c).unwrap()
}

/// Django's `_mask_cipher_secret` with a given mask.
fn masked(secret: &str, mask: &str) -> String {
    let cipher: String = secret
        .bytes()
        .zip(mask.bytes())
        .map(|(s, m)| char::from(CHARS[(index(s) + index(m)) % 62]))
        .collect();
    format!("{mask}{cipher}")
}

fn unmasked(token: &str) -> String {
    let (mask, cipher) = token.as_bytes().split_at(32);
    cipher
        .iter()
        .zip(mask)
        .map(|(&c, &m)| char::from(CHARS[(index(c) + 62 - index(m)) % 62]))
        .collect()
}

/// `csrf` (with `config`) in front of the probe view at `form/` (named
/// `v`) rendering `page.html` = `{{ csrf_token }}`.
async fn send(config: &str, req: http::Request<Bytes>) -> Outcome {
    let dir = shallot_tests::template_dir(&[("page.html", "{{ csrf_token }}")]);
    let toml = format!(
        "[templates]\ndirs = [\"{}\"]\n\
         [[middleware]]\nname = \"csrf\"\ncomponent = \"{{csrf}}\"\nconfig = {{ {config} }}\n\
         [views.v]\ncomponent = \"{{probe-view}}\"\nconfig = {{ action = \"template:page.html\" }}\n\
         [[routes]]\npath = \"form/\"\nview = \"v\"\n",
        dir.display()
    );
    run(&pipeline(&toml).await, req).await
}

fn post(headers: &[(&str, &str)], body: &str) -> http::Request<Bytes> {
    let mut req = shallot_tests::request("POST", "/form/", headers);
    *req.body_mut() = Bytes::from(body.to_owned());
    req
}

fn https(mut req: http::Request<Bytes>) -> http::Request<Bytes> {
    req.extensions_mut().insert(shallot::Scheme::Https);
    req
}

const COOKIE: &str = "csrftoken=abcdefghijklmnopqrstuvwxyzABCDEF";
const FORM: &str = "application/x-www-form-urlencoded";

fn refused(out: &Outcome, reason: &str) {
    assert_eq!(out.response.status(), 403, "{}", out.body());
    assert!(
        out.log
            .iter()
            .any(|l| l.contains(&format!("Forbidden ({reason}): /form/"))),
        "{:#?}",
        out.log
    );
}

#[tokio::test]
pub(crate) async fn csrf() {
    // A first visit: a new secret in the cookie, a masked token in the page.
    let out = send("", shallot_tests::get("/form/")).await;
    assert_eq!(out.response.status(), 200);
    let cookie = out.header("set-cookie").unwrap();
    let secret = cookie
        .strip_prefix("csrftoken=")
        .and_then(|c| c.split(';').next())
        .unwrap();
    assert_eq!(secret.len(), 32, "{cookie}");
    assert!(
        cookie.contains("; Max-Age=31449600; Path=/; SameSite=Lax"),
        "{cookie}"
    );
    assert!(cookie.contains("; expires="), "{cookie}");
    assert_eq!(out.header("vary").as_deref(), Some("Cookie"));
    let token = out.body();
    assert_eq!(token.len(), 64);
    assert_eq!(unmasked(token), secret);

    // The token posted back passes.
    let body = format!("csrfmiddlewaretoken={token}&x=1");
    let cookie_header = format!("csrftoken={secret}");
    let out = send(
        "",
        post(&[("cookie", &cookie_header), ("content-type", FORM)], &body),
    )
    .await;
    assert_eq!(out.response.status(), 200, "{:#?}", out.log);
    assert_eq!(
        out.header("set-cookie"),
        None,
        "a valid cookie is not sent again"
    );
}

#[tokio::test]
async fn the_token_can_come_in_the_header_masked_or_raw() {
    let mask = "ZYXWVUTSRQPONMLKJIHGFEDCBAzyxwvu";
    for token in [masked(SECRET, mask), SECRET.to_owned()] {
        let out = send("", post(&[("cookie", COOKIE), ("x-csrftoken", &token)], "")).await;
        assert_eq!(out.response.status(), 200, "{token}: {:#?}", out.log);
    }
}

#[tokio::test]
async fn every_failure_has_djangos_reason() {
    let out = send("", post(&[("content-type", FORM)], "csrfmiddlewaretoken=x")).await;
    refused(&out, "CSRF cookie not set.");
    let out = send("", post(&[("cookie", COOKIE)], "")).await;
    refused(&out, "CSRF token missing.");
    let wrong = masked(
        "0000000000000000000000000000000A",
        "abababababababababababababababab",
    );
    let body = format!("csrfmiddlewaretoken={wrong}");
    let out = send(
        "",
        post(&[("cookie", COOKIE), ("content-type", FORM)], &body),
    )
    .await;
    refused(&out, "CSRF token from POST incorrect.");
    let out = send(
        "",
        post(
            &[("cookie", COOKIE), ("content-type", FORM)],
            "csrfmiddlewaretoken=short",
        ),
    )
    .await;
    refused(&out, "CSRF token from POST has incorrect length.");
    let bad = "!".repeat(32);
    let out = send("", post(&[("cookie", COOKIE), ("x-csrftoken", &bad)], "")).await;
    refused(
        &out,
        "CSRF token from the 'X-Csrftoken' HTTP header has invalid characters.",
    );
    let out = send(
        "",
        post(
            &[("cookie", "csrftoken=short"), ("x-csrftoken", SECRET)],
            "",
        ),
    )
    .await;
    refused(&out, "CSRF cookie has incorrect length.");
    // A malformed cookie is replaced, on the 403 too.
    assert!(
        out.header("set-cookie")
            .is_some_and(|c| c.starts_with("csrftoken="))
    );
}

#[tokio::test]
async fn djangos_403_page_byte_for_byte() {
    let out = send("", post(&[("cookie", COOKIE)], "")).await;
    assert_eq!(out.body().len(), 1057);
    assert!(
        out.body()
            .starts_with("<!DOCTYPE html>\n<html lang=\"en\">")
    );
    assert!(
        out.body()
            .contains("<p>CSRF verification failed. Request aborted.</p>")
    );
    assert_eq!(
        out.header("content-type").as_deref(),
        Some("text/html; charset=utf-8")
    );
    let out = send("", post(&[], "")).await;
    assert_eq!(out.body().len(), 1420, "the no-cookie help");
    let out = send(
        "",
        https(post(&[("cookie", COOKIE), ("host", "shop.example")], "")),
    )
    .await;
    assert_eq!(out.body().len(), 1905, "the no-Referer help");
}

#[tokio::test]
async fn the_origin_must_be_the_host_or_trusted() {
    let with = |origin: &'static str| {
        post(
            &[
                ("cookie", COOKIE),
                ("x-csrftoken", SECRET),
                ("host", "shop.example"),
                ("origin", origin),
            ],
            "",
        )
    };
    let out = send("", with("http://shop.example")).await;
    assert_eq!(out.response.status(), 200);
    let out = send("", with("https://evil.example")).await;
    refused(
        &out,
        "Origin checking failed - https://evil.example does not match any trusted origins.",
    );
    let trusted = r#"trusted_origins = ["https://*.example.org", "https://pay.example"]"#;
    for ok in [
        "https://a.example.org",
        "https://example.org",
        "https://pay.example",
    ] {
        let req = post(
            &[
                ("cookie", COOKIE),
                ("x-csrftoken", SECRET),
                ("host", "shop.example"),
                ("origin", ok),
            ],
            "",
        );
        assert_eq!(send(trusted, req).await.response.status(), 200, "{ok}");
    }
    let req = post(
        &[
            ("cookie", COOKIE),
            ("x-csrftoken", SECRET),
            ("host", "shop.example"),
            ("origin", "http://a.example.org"),
        ],
        "",
    );
    assert_eq!(
        send(trusted, req).await.response.status(),
        403,
        "the scheme must match"
    );
}

#[tokio::test]
async fn over_https_without_origin_the_referer_is_checked() {
    let with = |referer: Option<&'static str>| {
        let mut headers = vec![
            ("cookie", COOKIE),
            ("x-csrftoken", SECRET),
            ("host", "shop.example"),
        ];
        if let Some(r) = referer {
            headers.push(("referer", r));
        }
        https(post(&headers, ""))
    };
    refused(
        &send("", with(None)).await,
        "Referer checking failed - no Referer.",
    );
    refused(
        &send("", with(Some("http://shop.example/form/"))).await,
        "Referer checking failed - Referer is insecure while host is secure.",
    );
    refused(
        &send("", with(Some("//shop.example/form/"))).await,
        "Referer checking failed - Referer is malformed.",
    );
    refused(
        &send("", with(Some("https://evil.example/x"))).await,
        "Referer checking failed - https://evil.example/x does not match any trusted origins.",
    );
    assert_eq!(
        send("", with(Some("https://shop.example/form/")))
            .await
            .response
            .status(),
        200
    );
    // Plain HTTP never checks the Referer.
    let out = send("", post(&[("cookie", COOKIE), ("x-csrftoken", SECRET)], "")).await;
    assert_eq!(out.response.status(), 200);
}

#[tokio::test]
async fn exempt_views_and_safe_methods_pass_without_a_token() {
    let out = send(r#"exempt_views = ["v"]"#, post(&[], "")).await;
    assert_eq!(out.response.status(), 200);
    for method in ["GET", "HEAD", "OPTIONS", "TRACE"] {
        let out = send("", shallot_tests::request(method, "/form/", &[])).await;
        assert_ne!(out.response.status(), 403, "{method}");
    }
}

/// `sessions` (key-value), then `csrf` with `use_sessions`, in front of the
/// probe view at `form/` showing the token.
async fn in_sessions(with_sessions: bool) -> shallot::Pipeline {
    let dir = shallot_tests::template_dir(&[("page.html", "{{ csrf_token }}")]);
    let sessions = if with_sessions {
        "[[middleware]]\nname = \"sessions\"\ncomponent = \"{sessions}\"\n\
         key_value_stores = [\"sessions\"]\nenv = [\"PATH\"]\nconfig = { secret_env = \"PATH\" }\n"
    } else {
        ""
    };
    pipeline(&format!(
        "[key_value]\npath = {:?}\n[templates]\ndirs = [{:?}]\n{sessions}\
         [[middleware]]\nname = \"csrf\"\ncomponent = \"{{csrf}}\"\nconfig = {{ use_sessions = true }}\n\
         [views.v]\ncomponent = \"{{probe-view}}\"\nconfig = {{ action = \"template:page.html\" }}\n\
         [[routes]]\npath = \"form/\"\nview = \"v\"\n",
        shallot_tests::fresh_kv_path(),
        dir,
    ))
    .await
}

#[tokio::test]
async fn use_sessions_keeps_the_secret_in_the_session() {
    let p = in_sessions(true).await;
    // No CSRF cookie: the secret goes into the session, whose cookie is
    // the only one set.
    let out = run(&p, shallot_tests::get("/form/")).await;
    let cookie = out.header("set-cookie").unwrap();
    assert!(cookie.starts_with("sessionid="), "{cookie}");
    assert!(!cookie.contains("csrftoken"), "{cookie}");
    let session = cookie.split(';').next().unwrap().to_owned();
    let token = out.body().to_owned();
    assert_eq!(token.len(), 64);
    // The token posted with the session passes; the session is not saved
    // again (the secret did not change).
    let body = format!("csrfmiddlewaretoken={token}");
    let ok = run(
        &p,
        post(&[("cookie", &session), ("content-type", FORM)], &body),
    )
    .await;
    assert_eq!(ok.response.status(), 200, "{:#?}", ok.log);
    assert_eq!(ok.header("set-cookie"), None);
    // The same token without the session: no secret, Django's reason.
    let out = run(&p, post(&[("content-type", FORM)], &body)).await;
    refused(&out, "CSRF cookie not set.");
    // A `csrftoken` cookie is not looked at.
    let out = run(
        &p,
        post(&[("cookie", COOKIE), ("content-type", FORM)], &body),
    )
    .await;
    refused(&out, "CSRF cookie not set.");
}

#[tokio::test]
async fn use_sessions_without_a_session_middleware_is_a_500_saying_so() {
    let p = in_sessions(false).await;
    let out = run(&p, shallot_tests::get("/form/")).await;
    assert_eq!(out.response.status(), 500);
    assert!(
        out.log.iter().any(|l| l.contains(
            "CSRF_USE_SESSIONS is enabled, but request.session is not set. \
             SessionMiddleware must appear before CsrfViewMiddleware in MIDDLEWARE."
        )),
        "{:#?}",
        out.log
    );
}
