//! `conditional-get` and `py-conditional-get`, Django's
//! `ConditionalGetMiddleware`, each behaviour checked on both with the
//! same code. Probe middleware inside it (`inner`) set the response headers
//! the probe view does not; its `ok` body is the same on every request.

use md5::{Digest, Md5};
use shallot_tests::{Outcome, pipeline, request, run};

const GUESTS: [&str; 2] = ["conditional-get", "py-conditional-get"];

/// A real Wednesday, the day before and the day after.
const DATE: &str = "Wed, 21 Oct 2015 07:28:00 GMT";
const EARLIER: &str = "Tue, 20 Oct 2015 07:28:00 GMT";
const LATER: &str = "Thu, 22 Oct 2015 07:28:00 GMT";

/// `guest` outermost, then a probe per `inner` entry, its
/// `process_response` action (`header:N:V`, `status:NNN`, `new:NNN`), then
/// the probe view at `/v/` with `action`.
fn app(guest: &str, inner: &[&str], action: &str) -> String {
    let mut toml = format!("[[middleware]]\nname = \"cg\"\ncomponent = \"{{{guest}}}\"\n");
    for (i, hook) in inner.iter().enumerate() {
        toml.push_str(&format!(
            "[[middleware]]\nname = \"h{i}\"\ncomponent = \"{{probe}}\"\n\
             config = {{ process_response = '{hook}' }}\n"
        ));
    }
    toml.push_str(&format!(
        "[views.v]\ncomponent = \"{{probe-view}}\"\nconfig = {{ action = \"{action}\" }}\n\
         [[routes]]\npath = \"v/\"\nview = \"v\"\n"
    ));
    toml
}

async fn send(guest: &str, inner: &[&str], method: &str, headers: &[(&str, &str)]) -> Outcome {
    let p = pipeline(&app(guest, inner, "ok")).await;
    run(&p, request(method, "/v/", headers)).await
}

async fn get(guest: &str, inner: &[&str], headers: &[(&str, &str)]) -> Outcome {
    send(guest, inner, "GET", headers).await
}

/// The status of a GET with `headers` to a response carrying `inner`.
async fn status(guest: &str, inner: &[&str], headers: &[(&str, &str)]) -> u16 {
    get(guest, inner, headers).await.response.status().as_u16()
}

fn md5_etag(body: &[u8]) -> String {
    let hex: String = Md5::digest(body)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("\"{hex}\"")
}

/// Django's bare 304: no body, no `Content-Type`.
fn assert_not_modified(out: &Outcome, case: &str) {
    assert_eq!(out.response.status(), 304, "{case}: {:#?}", out.log);
    assert!(out.response.body().is_empty(), "{case}");
    assert_eq!(out.header("content-type"), None, "{case}");
}

/// Django's `HttpResponse(status=412)`: empty, with the default type.
fn assert_precondition_failed(out: &Outcome, case: &str) {
    assert_eq!(out.response.status(), 412, "{case}: {:#?}", out.log);
    assert!(out.response.body().is_empty(), "{case}");
    assert_eq!(
        out.header("content-type").as_deref(),
        Some("text/html; charset=utf-8"),
        "{case}"
    );
    assert!(
        out.log
            .iter()
            .any(|l| l.ends_with("Precondition Failed: /v/")),
        "{case}: logged as Django does: {:#?}",
        out.log
    );
}

#[tokio::test]
pub(crate) async fn conditional_get() {
    check_conditional_get("conditional-get").await;
}

#[tokio::test]
pub(crate) async fn py_conditional_get() {
    check_conditional_get("py-conditional-get").await;
}

/// The guest's job: a GET gets the quoted MD5 of its body as `ETag`, and
/// sending it back in `If-None-Match` gets a 304 keeping the `ETag`.
async fn check_conditional_get(guest: &str) {
    let out = get(guest, &[], &[]).await;
    assert_eq!(out.response.status(), 200);
    let etag = md5_etag(out.response.body());
    assert_eq!(out.header("etag"), Some(etag.clone()));
    assert!(out.body().starts_with("view=v"), "the body stays");
    let out = get(guest, &[], &[("If-None-Match", &etag)]).await;
    assert_not_modified(&out, guest);
    assert_eq!(out.header("etag"), Some(etag));
}

/// GET only: HEAD (whose body is empty, so no ETag could be right) and
/// unsafe methods pass untouched, preconditions unanswered.
#[tokio::test]
async fn only_get_is_handled() {
    for guest in GUESTS {
        for method in ["HEAD", "POST", "PUT", "DELETE"] {
            let out = send(guest, &[], method, &[]).await;
            assert_eq!(out.header("etag"), None, "{guest} {method}");
            let tagged = ["header:ETag:\"t\""];
            let out = send(guest, &tagged, method, &[("If-Match", "\"other\"")]).await;
            assert_eq!(out.response.status(), 200, "{guest} {method}");
            let out = send(guest, &tagged, method, &[("If-None-Match", "\"t\"")]).await;
            assert_eq!(out.response.status(), 200, "{guest} {method}");
        }
    }
}

/// No ETag is made under `Cache-Control: no-store` (directive names
/// compared lower-cased, values ignored), for an empty body, for a
/// streaming body, or over an ETag already there.
#[tokio::test]
async fn when_no_etag_is_made() {
    for guest in GUESTS {
        for cache_control in ["no-store", "private, No-Store", "no-store=\"x\""] {
            let inner = format!("header:Cache-Control:{cache_control}");
            let out = get(guest, &[inner.as_str()], &[]).await;
            assert_eq!(out.header("etag"), None, "{guest} {cache_control}");
        }
        let out = get(guest, &["header:Cache-Control:no-storage, max-age=0"], &[]).await;
        assert!(out.header("etag").is_some(), "{guest}: not no-store");

        let out = get(guest, &["new:200"], &[]).await;
        assert_eq!(out.header("etag"), None, "{guest}: an empty body");

        let p = pipeline(&app(guest, &[], "stream:2:10")).await;
        let out = run(&p, request("GET", "/v/", &[])).await;
        assert_eq!(out.header("etag"), None, "{guest}: streaming");
        assert_eq!(out.response.body().len(), 20);

        let out = get(guest, &["header:ETag:mine"], &[]).await;
        assert_eq!(out.header("etag").as_deref(), Some("mine"), "{guest}");
    }
}

/// An ETag is made whatever the status, but only a 2xx response is ever
/// replaced by a 304 or 412.
#[tokio::test]
async fn only_2xx_responses_are_answered() {
    for guest in GUESTS {
        let out = get(guest, &["status:404"], &[]).await;
        assert_eq!(out.response.status(), 404);
        let etag = md5_etag(out.response.body());
        assert_eq!(out.header("etag"), Some(etag.clone()), "{guest}");
        let out = get(guest, &["status:404"], &[("If-None-Match", &etag)]).await;
        assert_eq!(out.response.status(), 404, "{guest}");
        let out = get(guest, &["status:404"], &[("If-Match", "\"other\"")]).await;
        assert_eq!(out.response.status(), 404, "{guest}");
        let out = get(guest, &["status:204"], &[("If-Match", "\"other\"")]).await;
        assert_precondition_failed(&out, guest);
    }
}

/// If-None-Match compares weakly (`W/` stripped on both sides), `*`
/// matches any ETag, and items that are not quoted tags are dropped.
#[tokio::test]
async fn if_none_match_compares_weakly() {
    for guest in GUESTS {
        for (etag, if_none_match, modified) in [
            ("\"x\"", "\"x\"", false),
            ("\"x\"", "W/\"x\"", false),
            ("W/\"x\"", "\"x\"", false),
            ("\"x\"", "\"a\", W/\"x\"", false),
            ("\"x\"", "*", false),
            ("\"x\"", "\"y\"", true),
            ("\"x\"", "x", true),
            ("\"x\"", "\"x", true),
        ] {
            let inner = format!("header:ETag:{etag}");
            let out = get(
                guest,
                &[inner.as_str()],
                &[("If-None-Match", if_none_match)],
            )
            .await;
            let case = format!("{guest}: ETag {etag}, If-None-Match {if_none_match}");
            if modified {
                assert_eq!(out.response.status(), 200, "{case}");
                assert!(out.body().starts_with("view=v"), "{case}");
            } else {
                assert_not_modified(&out, &case);
            }
        }
    }
}

/// If-Match compares strongly: a weak ETag never matches, `*` matches
/// any ETag, and with no ETag at all (here `no-store`, with a
/// `Last-Modified` so the preconditions are looked at) nothing matches.
#[tokio::test]
async fn if_match_compares_strongly() {
    for guest in GUESTS {
        for (etag, if_match, passes) in [
            ("\"x\"", "\"x\"", true),
            ("\"x\"", "\"a\", \"x\"", true),
            ("\"x\"", "*", true),
            ("W/\"x\"", "*", true),
            ("\"x\"", "W/\"x\"", false),
            ("W/\"x\"", "W/\"x\"", false),
            ("\"x\"", "\"y\"", false),
        ] {
            let inner = format!("header:ETag:{etag}");
            let out = get(guest, &[inner.as_str()], &[("If-Match", if_match)]).await;
            let case = format!("{guest}: ETag {etag}, If-Match {if_match}");
            if passes {
                assert_eq!(out.response.status(), 200, "{case}");
            } else {
                assert_precondition_failed(&out, &case);
            }
        }
        let modified = format!("header:Last-Modified:{DATE}");
        let untagged = ["header:Cache-Control:no-store", modified.as_str()];
        let out = get(guest, &untagged, &[("If-Match", "*")]).await;
        assert_precondition_failed(&out, &format!("{guest}: If-Match without an ETag"));
    }
}

/// If-Unmodified-Since: 412 unless Last-Modified is at or before it (so
/// also without a Last-Modified); not looked at under If-Match; an invalid
/// date is ignored.
#[tokio::test]
async fn if_unmodified_since() {
    for guest in GUESTS {
        let modified = format!("header:Last-Modified:{DATE}");
        let m = [modified.as_str()];
        assert_eq!(
            status(guest, &m, &[("If-Unmodified-Since", DATE)]).await,
            200
        );
        assert_eq!(
            status(guest, &m, &[("If-Unmodified-Since", LATER)]).await,
            200
        );
        let out = get(guest, &m, &[("If-Unmodified-Since", EARLIER)]).await;
        assert_precondition_failed(&out, &format!("{guest}: modified since"));
        let out = get(guest, &[], &[("If-Unmodified-Since", LATER)]).await;
        assert_precondition_failed(&out, &format!("{guest}: no Last-Modified"));
        let etag = md5_etag(get(guest, &[], &[]).await.response.body());
        let headers = [
            ("If-Match", etag.as_str()),
            ("If-Unmodified-Since", EARLIER),
        ];
        assert_eq!(
            status(guest, &m, &headers).await,
            200,
            "{guest}: If-Match wins"
        );
        let invalid = [("If-Unmodified-Since", "yesterday")];
        assert_eq!(status(guest, &m, &invalid).await, 200, "{guest}");
    }
}

/// If-Modified-Since: 304 when Last-Modified is at or before it; not
/// looked at under If-None-Match, nor without a Last-Modified.
#[tokio::test]
async fn if_modified_since() {
    for guest in GUESTS {
        let modified = format!("header:Last-Modified:{DATE}");
        let m = [modified.as_str()];
        for since in [DATE, LATER] {
            let out = get(guest, &m, &[("If-Modified-Since", since)]).await;
            assert_not_modified(&out, &format!("{guest}: {since}"));
            assert_eq!(out.header("last-modified").as_deref(), Some(DATE));
        }
        assert_eq!(
            status(guest, &m, &[("If-Modified-Since", EARLIER)]).await,
            200
        );
        assert_eq!(
            status(guest, &[], &[("If-Modified-Since", LATER)]).await,
            200
        );
        let headers = [("If-None-Match", "\"other\""), ("If-Modified-Since", LATER)];
        assert_eq!(status(guest, &m, &headers).await, 200, "{guest}");
    }
}

/// Django's `parse_http_date`: RFC 1123, RFC 850 (a two-digit year within
/// 50 years of now) and asctime; the weekday is not checked, the month is
/// read in any case; impossible dates are ignored; a Last-Modified of the
/// epoch is 0, which Django's truthiness treats as absent.
#[tokio::test]
async fn http_dates_are_read_as_django_reads_them() {
    for guest in GUESTS {
        let modified = format!("header:Last-Modified:{DATE}");
        let m = [modified.as_str()];
        for since in [
            "Wednesday, 21-Oct-15 07:28:00 GMT",
            "Wed Oct 21 07:28:00 2015",
            "Mon, 21 Oct 2015 07:28:00 GMT",
            "Wed, 21 OCT 2015 07:28:00 GMT",
            "Wed, 21 oct 2015 07:28:00 GMT",
        ] {
            let out = get(guest, &m, &[("If-Modified-Since", since)]).await;
            assert_not_modified(&out, &format!("{guest}: {since}"));
        }
        let asctime = ["header:Last-Modified:Sun Nov  6 08:49:37 1994"];
        let since = [("If-Modified-Since", "Sun, 06 Nov 1994 08:49:37 GMT")];
        let out = get(guest, &asctime, &since).await;
        assert_not_modified(&out, &format!("{guest}: asctime with a space-padded day"));
        for invalid in [
            "Wed, 21 Oct 2015 07:28:00 UTC",
            "Wed, 21 Oct 2015 7:28:00 GMT",
            "Wed, 31 Sep 2015 07:28:00 GMT",
            "Wed, 21 Oct 2015 24:00:00 GMT",
            "Wed, 21 Foo 2015 07:28:00 GMT",
            "Wednesday, 21-Oct-2015 07:28:00 GMT",
        ] {
            let out = get(guest, &m, &[("If-Modified-Since", invalid)]).await;
            assert_eq!(out.response.status(), 200, "{guest}: {invalid:?}");
        }
        // A 2-digit year more than 50 years ahead of now is last century:
        // `99` is 1999, long before the Last-Modified.
        let since = [("If-Modified-Since", "Friday, 01-Jan-99 00:00:00 GMT")];
        assert_eq!(status(guest, &m, &since).await, 200, "{guest}");

        let epoch = [
            "header:Cache-Control:no-store",
            "header:Last-Modified:Thu, 01 Jan 1970 00:00:00 GMT",
        ];
        let out = get(guest, &epoch, &[("If-Modified-Since", LATER)]).await;
        assert_eq!(out.response.status(), 200, "{guest}: Last-Modified 0");
    }
}

/// RFC 9110 13.2.2's order: If-Match, then If-Unmodified-Since, before
/// If-None-Match.
#[tokio::test]
async fn a_failed_precondition_wins_over_not_modified() {
    for guest in GUESTS {
        let modified = format!("header:Last-Modified:{DATE}");
        let inner = ["header:ETag:\"x\"", modified.as_str()];
        let headers = [("If-Match", "\"y\""), ("If-None-Match", "\"x\"")];
        assert_precondition_failed(&get(guest, &inner, &headers).await, guest);
        let headers = [("If-Unmodified-Since", EARLIER), ("If-None-Match", "\"x\"")];
        assert_precondition_failed(&get(guest, &inner, &headers).await, guest);
        let headers = [("If-Match", "\"x\""), ("If-None-Match", "\"x\"")];
        assert_not_modified(&get(guest, &inner, &headers).await, guest);
    }
}

/// The 304 keeps Cache-Control, Content-Location, Date, ETag, Expires,
/// Last-Modified, Vary and the cookies; everything else goes.
#[tokio::test]
async fn a_304_keeps_only_django_s_headers() {
    for guest in GUESTS {
        let kept = [
            ("cache-control", "max-age=60"),
            ("content-location", "/v/en/"),
            ("date", LATER),
            ("etag", "\"x\""),
            ("expires", LATER),
            ("last-modified", DATE),
            ("vary", "Cookie"),
            ("set-cookie", "sessionid=abc; Path=/"),
        ];
        let mut inner: Vec<String> = kept
            .iter()
            .map(|(name, value)| format!("header:{name}:{value}"))
            .collect();
        inner.push("header:X-Custom:1".to_owned());
        let inner: Vec<&str> = inner.iter().map(String::as_str).collect();
        let out = get(guest, &inner, &[("If-None-Match", "\"x\"")]).await;
        assert_not_modified(&out, guest);
        let mut headers: Vec<(String, String)> = out
            .response
            .headers()
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap().to_owned()))
            .collect();
        headers.sort();
        let mut expected: Vec<(String, String)> = kept
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        expected.sort();
        assert_eq!(headers, expected, "{guest}");
    }
}

/// A streaming response gets no ETag, but one it carries is answered: the
/// 304 replaces it and its body is never pulled.
#[tokio::test]
async fn a_streaming_response_with_an_etag_is_answered() {
    for guest in GUESTS {
        let toml = app(guest, &["header:ETag:\"s\""], "stream:3:10");
        let out = run(
            &pipeline(&toml).await,
            request("GET", "/v/", &[("If-None-Match", "\"s\"")]),
        )
        .await;
        assert_not_modified(&out, guest);
        assert_eq!(out.header("etag").as_deref(), Some("\"s\""));
    }
}
