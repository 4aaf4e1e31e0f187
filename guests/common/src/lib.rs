//! Django's `CommonMiddleware` (`django/middleware/common.py`), with its
//! settings as config keys:
//!
//! - `disallowed_user_agents` (`DISALLOWED_USER_AGENTS`, default none): a
//!   list of regexes searched in `User-Agent`; a match raises
//!   `PermissionDenied("Forbidden user agent")` (403);
//! - `prepend_www` (`PREPEND_WWW`, default false): a request whose host
//!   does not start with `www.` is redirected (301) to `www.` + host, with
//!   the slash appended when `append_slash` would;
//! - `append_slash` (`APPEND_SLASH`, default true): a 404 for a path
//!   without a trailing slash that does not resolve, while the path with a
//!   slash does, becomes a 301 to the slashed path (query kept);
//! - `no_append_slash` (Django's `@no_append_slash` on a view): view names
//!   whose slashed path is never redirected to.
//!
//! Django's `Content-Length` is the server's business here (it frames
//! every body), and with `DEBUG` off a POST is redirected like a GET.

use std::sync::OnceLock;

use regex_lite::Regex;
use shallot_guest::{Error, Middleware, Request, Response, config, middleware, urls};

#[derive(Default)]
struct Common;

#[middleware]
impl Middleware for Common {
    fn process_request(&mut self, req: &Request) -> Result<Option<Response>, Error> {
        if let Some(agent) = req.header("user-agent")
            && disallowed_user_agents()?
                .iter()
                .any(|re| re.is_match(&agent))
        {
            return Err(Error::permission_denied("Forbidden user agent"));
        }
        let host = req.header("host").unwrap_or_default();
        if flag("prepend_www", false) && !host.is_empty() && !host.starts_with("www.") {
            let path = if should_redirect_with_slash(req) {
                full_path_with_slash(req)
            } else {
                full_path(req)
            };
            let to = format!("{}://www.{host}{path}", req.scheme());
            return Ok(Some(permanent_redirect(&to)?));
        }
        Ok(None)
    }

    fn process_response(&mut self, req: &Request, resp: Response) -> Result<Response, Error> {
        if resp.status() == 404 && should_redirect_with_slash(req) {
            return permanent_redirect(&full_path_with_slash(req));
        }
        Ok(resp)
    }
}

/// Django's `should_redirect_with_slash`: `append_slash` is on, the path
/// has no trailing slash and does not resolve, and the slashed one does
/// (to a view not marked `no_append_slash`).
fn should_redirect_with_slash(req: &Request) -> bool {
    let path = req.path();
    if !flag("append_slash", true) || path.ends_with('/') {
        return false;
    }
    let escaped = escape_uri_path(&path);
    if urls::is_valid_path(&escaped) {
        return false;
    }
    match urls::resolve(&format!("{escaped}/")) {
        Some(matched) => !config::get_list("no_append_slash").contains(&matched.view_name),
        None => false,
    }
}

/// Django's `request.get_full_path()`.
fn full_path(req: &Request) -> String {
    let query = req.query();
    let path = escape_uri_path(&req.path());
    if query.is_empty() {
        path
    } else {
        format!("{path}?{query}")
    }
}

/// Django's `get_full_path_with_slash`: the path with its slash, the
/// query kept, and a leading `//` escaped so the redirect cannot name
/// another host (`escape_leading_slashes`).
fn full_path_with_slash(req: &Request) -> String {
    let query = req.query();
    let mut path = escape_uri_path(&req.path());
    path.push('/');
    if !query.is_empty() {
        path.push('?');
        path.push_str(&query);
    }
    match path.strip_prefix("//") {
        Some(rest) => format!("/%2F{rest}"),
        None => path,
    }
}

/// Django's `escape_uri_path`: percent-encodes all but unreserved
/// characters and `/:@&+$,-_.!~*'()` (RFC 3986 section 3.3's path
/// characters).
fn escape_uri_path(path: &str) -> String {
    const SAFE: &[u8] = b"/:@&+$,-_.!~*'()";
    let mut out = String::with_capacity(path.len());
    for &b in path.as_bytes() {
        if b.is_ascii_alphanumeric() || SAFE.contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Django's `HttpResponsePermanentRedirect`: 301, `Location`, and
/// `HttpResponse`'s default content type on an empty body.
fn permanent_redirect(to: &str) -> Result<Response, Error> {
    let resp = Response::new(301);
    resp.set_header("Content-Type", "text/html; charset=utf-8")?;
    resp.set_header("Location", to)?;
    Ok(resp)
}

fn flag(key: &str, default: bool) -> bool {
    config::get(key).map_or(default, |v| v == "true")
}

/// The compiled `disallowed_user_agents`, once per instance. A pattern
/// that does not compile fails every request (500) with the reason:
/// Django refuses such a setting at start, and skipping it would let the
/// agents it was meant to stop through.
fn disallowed_user_agents() -> Result<&'static [Regex], Error> {
    static COMPILED: OnceLock<Result<Vec<Regex>, String>> = OnceLock::new();
    let compiled = COMPILED.get_or_init(|| {
        config::get_list("disallowed_user_agents")
            .iter()
            .map(|pattern| {
                Regex::new(pattern)
                    .map_err(|e| format!("disallowed_user_agents: {pattern:?} is not a regex: {e}"))
            })
            .collect()
    });
    compiled.as_deref().map_err(|e| Error::internal(e.clone()))
}
