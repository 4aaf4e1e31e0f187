//! The admin endpoint on its own listener (configure `[server] admin`):
//! `GET /` is the live status page (`admin/status.html`, read-only);
//! `GET /status` answers with the active version, each component's hash,
//! the load time, the last reload error and the chain with each layer's
//! totals (`chain`); `GET /health` is the health check (`server::health`);
//! `GET /metrics` serves the Prometheus metrics (`crate::metrics`). On
//! loopback it is open; anywhere else the config must name a token
//! (`admin_token_env`) and every request must send it as `Authorization:
//! Bearer <token>` or as HTTP Basic's password, else 401.

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

mod chain;

use crate::config::ServerConfig;
use crate::reload::LivePipeline;
use crate::server::{SendTimeout, accept, health, http1};

/// The token admin requests must send.
#[derive(Clone)]
pub struct AdminToken(Arc<str>);

/// Why the configured token cannot be used.
#[derive(Debug, thiserror::Error)]
#[error(
    "server.admin_token_env names {0}, which is not set or empty: export the admin token in it"
)]
pub struct TokenMissing(String);

impl AdminToken {
    /// The token from the variable `settings.admin_token_env` names, if the
    /// config names one; an unset or empty variable is an error, so a
    /// server never runs its admin endpoint open by mistake.
    pub fn from_env(settings: &ServerConfig) -> Result<Option<AdminToken>, TokenMissing> {
        let Some(var) = &settings.admin_token_env else {
            return Ok(None);
        };
        match std::env::var(var) {
            Ok(token) if !token.is_empty() => Ok(Some(AdminToken(token.into()))),
            _ => Err(TokenMissing(var.clone())),
        }
    }

    /// A token given directly (tests, embedders).
    pub fn new(token: &str) -> AdminToken {
        AdminToken(token.into())
    }

    /// Whether `Authorization` carries this token, compared in constant
    /// time (the length is public, the content is not): as a bearer token
    /// (`shallot status`, Prometheus), or as HTTP Basic's password with
    /// any user name, which is what a browser opening the status page can
    /// send after asking its user.
    fn admits(&self, authorization: Option<&http::HeaderValue>) -> bool {
        let Some(value) = authorization.map(http::HeaderValue::as_bytes) else {
            return false;
        };
        // The scheme's name is case-insensitive (RFC 9110 section 11.1).
        let (scheme, credentials) = match value.iter().position(|&b| b == b' ') {
            Some(space) => (&value[..space], &value[space + 1..]),
            None => return false,
        };
        if scheme.eq_ignore_ascii_case(b"Bearer") {
            return self.matches(credentials);
        }
        if !scheme.eq_ignore_ascii_case(b"Basic") {
            return false;
        }
        let encoded = credentials;
        use base64::Engine as _;
        let Ok(pair) = base64::engine::general_purpose::STANDARD.decode(encoded) else {
            return false;
        };
        pair.iter()
            .position(|&b| b == b':')
            .is_some_and(|colon| self.matches(&pair[colon + 1..]))
    }

    fn matches(&self, sent: &[u8]) -> bool {
        let expected = self.0.as_bytes();
        sent.len() == expected.len()
            && sent
                .iter()
                .zip(expected)
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
    }
}

/// Serves the admin endpoint of `live` on `listener` until the task is
/// dropped, with the main listener's accept loop and read and write
/// timeouts: an operator's endpoint must not be the easy way to pin a
/// server. With `token`, requests without it get 401.
pub async fn serve(
    listener: TcpListener,
    live: Arc<LivePipeline>,
    settings: ServerConfig,
    token: Option<AdminToken>,
) {
    let builder = Arc::new(http1(&settings));
    let send_timeout = settings.send_timeout;
    let mut pause = std::time::Duration::ZERO;
    loop {
        let (stream, _) = accept(&listener, &mut pause).await;
        let live = live.clone();
        let builder = builder.clone();
        let token = token.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req: http::Request<hyper::body::Incoming>| {
                let allowed = token
                    .as_ref()
                    .is_none_or(|t| t.admits(req.headers().get(http::header::AUTHORIZATION)));
                let resp = if allowed {
                    answer(&live, req.uri().path())
                } else {
                    unauthorized()
                };
                async move { Ok::<_, Infallible>(resp) }
            });
            let io = TokioIo::new(SendTimeout::new(stream, send_timeout));
            let _ = builder.serve_connection(io, service).await;
        });
    }
}

/// The live status page: read-only, it polls `/status` every second.
const STATUS_PAGE: &str = include_str!("admin/status.html");

fn answer(live: &LivePipeline, path: &str) -> http::Response<Full<Bytes>> {
    if path == "/health" {
        let (status, text) = health::check(live);
        let mut resp = http::Response::new(Full::new(Bytes::from_static(text.as_bytes())));
        *resp.status_mut() = status;
        health::headers(resp.headers_mut());
        return resp;
    }
    if path == "/metrics" {
        let text = live.current().metrics_text();
        let mut resp = http::Response::new(Full::new(Bytes::from(text)));
        resp.headers_mut().insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static(crate::metrics::CONTENT_TYPE),
        );
        return resp;
    }
    if path == "/" {
        let mut resp = http::Response::new(Full::new(Bytes::from_static(STATUS_PAGE.as_bytes())));
        let headers = resp.headers_mut();
        headers.insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("text/html; charset=utf-8"),
        );
        // Its script is inline and fetches `status` from this listener;
        // no page may frame it.
        headers.insert(
            http::header::CONTENT_SECURITY_POLICY,
            http::HeaderValue::from_static(
                "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'",
            ),
        );
        return resp;
    }
    let (status, body) = match path {
        "/status" => (200, chain::status(live).to_string()),
        _ => (
            404,
            r#"{"error": "not found; try /, /status, /health or /metrics"}"#.to_owned(),
        ),
    };
    json(status, body)
}

fn unauthorized() -> http::Response<Full<Bytes>> {
    let mut resp = json(
        401,
        r#"{"error": "send the admin token: Authorization: Bearer <token> (or as HTTP Basic's password)"}"#.to_owned(),
    );
    let headers = resp.headers_mut();
    headers.insert(
        http::header::WWW_AUTHENTICATE,
        http::HeaderValue::from_static("Bearer realm=\"shallot admin\""),
    );
    // A browser asks its user for Basic credentials: the token goes in
    // the password.
    headers.append(
        http::header::WWW_AUTHENTICATE,
        http::HeaderValue::from_static("Basic realm=\"shallot admin\", charset=\"UTF-8\""),
    );
    resp
}

fn json(status: u16, body: String) -> http::Response<Full<Bytes>> {
    let mut resp = http::Response::new(Full::new(Bytes::from(body)));
    *resp.status_mut() = http::StatusCode::from_u16(status).expect("valid status");
    resp.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    resp
}
