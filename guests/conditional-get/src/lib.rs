//! Django's `ConditionalGetMiddleware` (`django/middleware/http.py`, with
//! `get_conditional_response` and its helpers from
//! `django/utils/cache.py`): on `GET` only, gives a response with a body
//! an `ETag` (the quoted MD5 of the body) unless it has one or says
//! `Cache-Control: no-store`, then answers the request's preconditions
//! (RFC 9110 13.2.2) against that `ETag` and the `Last-Modified` header:
//! 412 Precondition Failed or 304 Not Modified, on 2xx responses only.

mod http_date;

use md5::{Digest, Md5};
use shallot_guest::{Error, Middleware, Request, Response, log, middleware};

use http_date::parse_http_date_safe;

#[derive(Default)]
struct ConditionalGet;

#[middleware]
impl Middleware for ConditionalGet {
    fn process_response(&mut self, req: &Request, resp: Response) -> Result<Response, Error> {
        // Too late to stop an unsafe method with a 412; and a HEAD body is
        // empty, so no accurate ETag can be made for it.
        if req.method() != "GET" {
            return Ok(resp);
        }
        if needs_etag(&resp) && !resp.has_header("ETag") {
            set_response_etag(&resp)?;
        }
        // Python truthiness: an empty ETag and a Last-Modified of the epoch
        // (0) count as absent, in every comparison below.
        let etag = resp.header("ETag").filter(|e| !e.is_empty());
        let last_modified = resp
            .header("Last-Modified")
            .and_then(|v| parse_http_date_safe(&v))
            .filter(|&t| t != 0);
        if etag.is_none() && last_modified.is_none() {
            return Ok(resp);
        }
        get_conditional_response(req, etag.as_deref(), last_modified, resp)
    }
}

/// `needs_etag`: no `no-store` among the `Cache-Control` directive names.
fn needs_etag(resp: &Response) -> bool {
    let cache_control = resp.header("Cache-Control").unwrap_or_default();
    !split_header_value(&cache_control)
        .any(|d| d.split('=').next().unwrap_or("").trim().to_lowercase() == "no-store")
}

/// `django.utils.cache.set_response_etag`: only on a non-streaming
/// response with a non-empty body, whatever its status.
fn set_response_etag(resp: &Response) -> Result<(), Error> {
    if resp.is_streaming() {
        return Ok(());
    }
    let content = resp.body();
    if content.is_empty() {
        return Ok(());
    }
    let hex: String = Md5::digest(&content)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    resp.set_header("ETag", &format!("\"{hex}\""))
}

/// `django.utils.cache.get_conditional_response`, with the request's
/// preconditions in RFC 9110's order.
fn get_conditional_response(
    req: &Request,
    etag: Option<&str>,
    last_modified: Option<i64>,
    resp: Response,
) -> Result<Response, Error> {
    if !(200..300).contains(&resp.status()) {
        return Ok(resp);
    }
    let date = |name| {
        req.header(name)
            .and_then(|v| parse_http_date_safe(&v))
            .filter(|&t| t != 0)
    };
    let (if_match_value, if_none_match_value) =
        (header(req, "If-Match"), header(req, "If-None-Match"));
    let if_match = parse_etags(&if_match_value);
    let if_unmodified_since = date("If-Unmodified-Since");
    let if_none_match = parse_etags(&if_none_match_value);
    let if_modified_since = date("If-Modified-Since");
    let safe = matches!(req.method().as_str(), "GET" | "HEAD");

    if !if_match.is_empty() && !if_match_passes(etag, &if_match) {
        return Ok(precondition_failed(req));
    }
    if if_match.is_empty()
        && if_unmodified_since.is_some_and(|ius| !last_modified.is_some_and(|lm| lm <= ius))
    {
        return Ok(precondition_failed(req));
    }
    if !if_none_match.is_empty() && !if_none_match_passes(etag, &if_none_match) {
        return if safe {
            not_modified(&resp)
        } else {
            Ok(precondition_failed(req))
        };
    }
    if if_none_match.is_empty()
        && if_modified_since.is_some_and(|ims| last_modified.is_some_and(|lm| lm <= ims))
        && safe
    {
        return not_modified(&resp);
    }
    // If-Range is not supported, as in Django.
    Ok(resp)
}

/// A request header, `""` when absent (Django's `META.get(key, "")`).
fn header(req: &Request, name: &str) -> String {
    req.header(name).unwrap_or_default()
}

/// RFC 9110 13.1.1: strong comparison; `*` matches any current ETag.
fn if_match_passes(target: Option<&str>, etags: &[&str]) -> bool {
    match target {
        None => false,
        Some(_) if etags == ["*"] => true,
        Some(target) if target.starts_with("W/") => false,
        Some(target) => etags.contains(&target),
    }
}

/// RFC 9110 13.1.2: weak comparison, done as Django does it, with
/// `str.strip("W/")` (which strips those characters from both ends).
fn if_none_match_passes(target: Option<&str>, etags: &[&str]) -> bool {
    let strip = |e: &str| e.trim_matches(['W', '/']).to_owned();
    match target {
        None => true,
        Some(_) if etags == ["*"] => false,
        Some(target) => !etags.iter().any(|e| strip(e) == strip(target)),
    }
}

/// `django.utils.cache._precondition_failed`: Django's bare
/// `HttpResponse(status=412)`, logged as `django.request` does.
fn precondition_failed(req: &Request) -> Response {
    log::warn(&format!("Precondition Failed: {}", req.path()));
    let resp = Response::new(412);
    resp.set_header("Content-Type", "text/html; charset=utf-8")
        .expect("a constant header is valid");
    resp
}

/// The headers RFC 9110 15.4.5 keeps on a 304, plus `Last-Modified`.
const KEPT_ON_304: [&str; 7] = [
    "Cache-Control",
    "Content-Location",
    "Date",
    "ETag",
    "Expires",
    "Last-Modified",
    "Vary",
];

/// `django.utils.cache._not_modified`: a new 304 with no body and no
/// `Content-Type`, keeping only `KEPT_ON_304` and the cookies.
fn not_modified(resp: &Response) -> Result<Response, Error> {
    let new = Response::new(304);
    for name in KEPT_ON_304 {
        if let Some(value) = resp.header(name) {
            new.set_header(name, &value)?;
        }
    }
    // Django copies `response.cookies`; here cookies are `Set-Cookie`
    // headers, each kept.
    for cookie in resp.header_values("Set-Cookie") {
        new.append_header("Set-Cookie", &cookie)?;
    }
    Ok(new)
}

/// `django.utils.http.parse_etags`: `["*"]`, or the items of a
/// comma-separated list that are (weak or strong) quoted ETags.
fn parse_etags(value: &str) -> Vec<&str> {
    if value.trim() == "*" {
        return vec!["*"];
    }
    split_header_value(value).filter(|e| is_etag(e)).collect()
}

/// `ETAG_MATCH`: `\A((?:W/)?"[^"]*")\Z`.
fn is_etag(value: &str) -> bool {
    let quoted = value.strip_prefix("W/").unwrap_or(value);
    quoted.len() >= 2
        && quoted.starts_with('"')
        && quoted.ends_with('"')
        && !quoted[1..quoted.len() - 1].contains('"')
}

/// `django.utils.http.split_header_value`: items split on `,`, stripped,
/// empty ones dropped.
fn split_header_value(value: &str) -> impl Iterator<Item = &str> {
    value.split(',').map(str::trim).filter(|s| !s.is_empty())
}
