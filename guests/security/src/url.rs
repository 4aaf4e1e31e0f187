//! The pieces of Django's `HttpRequest` and `django.utils.encoding` the
//! redirect needs: `get_host()`, `get_full_path()`, `escape_uri_path()`
//! and `iri_to_uri()`.

use std::sync::OnceLock;

use regex::Regex;
use shallot_guest::{Error, Request};

/// Django's `request.get_host()` without `ALLOWED_HOSTS` (Shallot has no
/// such setting, so every well-formed host is allowed, as with
/// `ALLOWED_HOSTS = ["*"]`) and without `USE_X_FORWARDED_HOST`. A Host
/// that is not a valid domain or IP literal with an optional port is
/// Django's `DisallowedHost`, a `SuspiciousOperation`: 400. A request
/// without a Host (HTTP/1.0) counts as an empty one: Django would fall
/// back to `SERVER_NAME`, which a component does not know.
pub(crate) fn get_host(req: &Request) -> Result<String, Error> {
    let host = req.header("host").unwrap_or_default();
    if has_domain(&host) {
        return Ok(host);
    }
    Err(Error::suspicious_operation(format!(
        "Invalid HTTP_HOST header: {}. The domain name provided is not valid according to RFC 1034/1035.",
        py_repr(&host)
    )))
}

/// `split_domain_port(host)` gives a non-empty domain: the lower-cased
/// Host fully matches Django's `host_validation_re` and is more than a
/// trailing dot.
fn has_domain(host: &str) -> bool {
    static HOST: OnceLock<Regex> = OnceLock::new();
    let re = HOST.get_or_init(|| {
        Regex::new(r"\A([a-z0-9.-]+|\[[a-f0-9]*:[a-f0-9.:]+\])(?::([0-9]+))?\z")
            .expect("a valid pattern")
    });
    let host = host.to_lowercase();
    re.captures(&host)
        .is_some_and(|c| !c[1].strip_suffix('.').unwrap_or(&c[1]).is_empty())
}

/// Python's `repr()` of a str, as Django's message shows the Host.
fn py_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::from(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => out.push_str(&format!("\\x{:02x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// `request.get_full_path()`: the (decoded) path escaped again, then `?`
/// and the query string when there is one.
pub(crate) fn get_full_path(req: &Request) -> String {
    let path = escape_uri_path(&req.path());
    let query = req.query();
    if query.is_empty() {
        path
    } else {
        format!("{path}?{}", iri_to_uri(&query))
    }
}

/// `django.utils.encoding.escape_uri_path`: RFC 2396's reserved and
/// unreserved characters stay, except `;`, `=` and `?`.
fn escape_uri_path(path: &str) -> String {
    quote(path, b"/:@&+$,-_.!~*'()")
}

/// `django.utils.encoding.iri_to_uri`: escapes what may not appear in a
/// URI and leaves existing `%XX` escapes alone.
pub(crate) fn iri_to_uri(iri: &str) -> String {
    quote(iri, b"/#%[]=:;$&()+,!?*@'~")
}

/// Python's `urllib.parse.quote(s, safe)`: every UTF-8 byte that is not
/// alphanumeric, `_.-~` or in `safe` becomes `%XX` (upper-case hex).
fn quote(s: &str, safe: &[u8]) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric() || b"_.-~".contains(&b) || safe.contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
