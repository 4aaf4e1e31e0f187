//! What Django gives a view author for free: typed errors, common responses,
//! `@require_http_methods`.

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
