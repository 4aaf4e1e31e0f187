//! What Django gives a view author for free: typed errors, common responses,
//! `@require_http_methods`, `patch_vary_headers`, `request.COOKIES`.

use crate::{Error, ErrorKind, Request, Response};

impl Error {
    /// An error of any kind.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
        }
    }

    /// Django's `Http404` (404).
    pub fn not_found(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::NotFound, message)
    }

    /// Django's `PermissionDenied` (403).
    pub fn permission_denied(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::PermissionDenied, message)
    }

    /// Django's `BadRequest` (400).
    pub fn bad_request(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::BadRequest, message)
    }

    /// Django's `SuspiciousOperation` (400).
    pub fn suspicious_operation(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::SuspiciousOperation, message)
    }

    /// Any other exception (500), e.g. Python's `RuntimeError`.
    pub fn internal(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Internal, message)
    }
}

impl ErrorKind {
    /// The kind with this WIT name (`"permission-denied"`), if any.
    pub fn from_name(name: &str) -> Option<ErrorKind> {
        Some(match name {
            "not-found" => ErrorKind::NotFound,
            "permission-denied" => ErrorKind::PermissionDenied,
            "bad-request" => ErrorKind::BadRequest,
            "suspicious-operation" => ErrorKind::SuspiciousOperation,
            "internal" => ErrorKind::Internal,
            "trap" => ErrorKind::Trap,
            _ => return None,
        })
    }
}

impl Response {
    /// A response with a content type and body.
    pub fn with_body(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Response {
        let resp = Response::new(status);
        resp.set_header("Content-Type", content_type)
            .expect("content type is a valid header value");
        resp.set_body(&body.into());
        resp
    }

    /// `text/plain; charset=utf-8`.
    pub fn text(status: u16, body: &str) -> Response {
        Response::with_body(status, "text/plain; charset=utf-8", body)
    }

    /// `text/html; charset=utf-8`, Django's `HttpResponse` default.
    pub fn html(status: u16, body: &str) -> Response {
        Response::with_body(status, "text/html; charset=utf-8", body)
    }

    /// `application/json`, like Django's `JsonResponse`; `body` is JSON text.
    pub fn json(status: u16, body: &str) -> Response {
        Response::with_body(status, "application/json", body)
    }
}

/// Django's `@require_http_methods`: `Some(405)` with `Allow` when the
/// request's method is not one of `methods`.
pub fn require_method(req: &Request, methods: &[&str]) -> Option<Response> {
    let method = req.method();
    if methods.iter().any(|m| *m == method) {
        return None;
    }
    let resp = Response::html(405, "");
    resp.set_header("Allow", &methods.join(", "))
        .expect("method names are valid header values");
    Some(resp)
}

/// A JSON string literal as Python's `json.dumps` writes it (ASCII only),
/// so JSON bodies match Django's byte for byte.
pub fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || (c as u32) > 0x7e => {
                let mut buf = [0u16; 2];
                for unit in c.encode_utf16(&mut buf) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The value of `key` in form-encoded `form` (a query string, a POSTed
/// form, the `session` attribute), decoded: Django's `QueryDict.get`.
pub fn form_value(form: &str, key: &str) -> Option<String> {
    form.split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| unquote(k) == key)
        .map(|(_, v)| unquote(v))
}

/// `%XX` and `+` decoded as a form sends them (`urllib.parse.unquote_plus`);
/// a `%` not followed by two hex digits stays as it is.
pub fn unquote(s: &str) -> String {
    let bytes = s.as_bytes();
    let hex = |b: u8| char::from(b).to_digit(16);
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%' && i + 2 < bytes.len())
            .then(|| Some(hex(bytes[i + 1])? * 16 + hex(bytes[i + 2])?))
            .flatten();
        match (escaped, bytes[i]) {
            (Some(b), _) => {
                out.push(u8::try_from(b).unwrap_or(b'?'));
                i += 3;
                continue;
            }
            (None, b'+') => out.push(b' '),
            (None, b) => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Percent-encodes all but unreserved characters and `/`: Django's
/// `urlquote` of a path, as `login_required` puts it in `?next=`.
pub fn quote(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Django's `patch_vary_headers`: adds each of `new` to the response's
/// `Vary` unless it is there already (compared without case), keeping the
/// order; a `*` among them makes the whole header `*`.
pub fn patch_vary_headers(resp: &Response, new: &[&str]) -> Result<(), Error> {
    let mut vary: Vec<String> = resp
        .header("Vary")
        .map(|v| {
            v.split(',')
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default();
    for header in new {
        let header = header.trim();
        if !vary.iter().any(|v| v.eq_ignore_ascii_case(header)) {
            vary.push(header.to_owned());
        }
    }
    let value = if vary.iter().any(|v| v == "*") {
        "*".to_owned()
    } else {
        vary.join(", ")
    };
    resp.set_header("Vary", &value)
}

/// Django's `request.COOKIES.get(name)`, with `parse_cookie`'s rules: the
/// `Cookie` header split on `;` into `name=value` pairs, each stripped, a
/// chunk without `=` a value with an empty name, the last of a name
/// winning, a double-quoted value unquoted.
pub fn cookie(req: &Request, name: &str) -> Option<String> {
    let mut found = None;
    for header in req.header_values("Cookie") {
        for chunk in header.split(';') {
            let (key, value) = chunk.split_once('=').unwrap_or(("", chunk));
            if key.trim() == name {
                let value = value.trim();
                let value = value
                    .strip_prefix('"')
                    .and_then(|v| v.strip_suffix('"'))
                    .unwrap_or(value);
                found = Some(value.to_owned());
            }
        }
    }
    found
}

/// Django's `url_has_allowed_host_and_scheme(url, allowed_hosts=None)` for
/// the `next` of a login or logout: only a path on this site. A URL
/// browsers would read as another host is refused: `//host`, any
/// backslash (browsers read `/\\host` as `//host`), and any control
/// character or space (browsers strip tabs and newlines, so `/\t/host`
/// becomes `//host`).
pub fn is_safe_redirect(url: &str) -> bool {
    url.starts_with('/')
        && !url.starts_with("//")
        && !url.bytes().any(|b| b == b'\\' || b <= b' ' || b == 0x7f)
}
