//! `[server.tls] redirect_http`: a plain-HTTP listener that sends every
//! request to the same URL over HTTPS (nginx's `return 301 https://...`),
//! without running any component.

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use super::body::Body;
use crate::config::ServerConfig;

/// Answers every request on `listener` with a 301 to `https://HOST:PORT`
/// (the port left out when it is 443) and the same path and query, until
/// `shutdown` resolves.
pub async fn serve_redirect(
    listener: TcpListener,
    https_port: u16,
    settings: &ServerConfig,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let builder = Arc::new(super::http1(settings));
    let mut pause = Duration::ZERO;
    tokio::pin!(shutdown);
    loop {
        let (stream, _) = tokio::select! {
            conn = super::accept(&listener, &mut pause) => conn,
            () = &mut shutdown => return Ok(()),
        };
        let builder = builder.clone();
        let service = service_fn(
            move |req: http::Request<hyper::body::Incoming>| async move {
                Ok::<_, Infallible>(redirect(&req, https_port))
            },
        );
        tokio::spawn(async move {
            let _ = builder
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

fn redirect<B>(req: &http::Request<B>, https_port: u16) -> http::Response<Body> {
    // The host the client asked for, without its port; a request without
    // one (HTTP/1.0) cannot be redirected anywhere sensible.
    let host = req
        .headers()
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.parse::<http::uri::Authority>().ok());
    let Some(host) = host else {
        let mut resp = http::Response::new(Body::full("Bad Request (400)".into()));
        *resp.status_mut() = http::StatusCode::BAD_REQUEST;
        return resp;
    };
    let port = if https_port == 443 {
        String::new()
    } else {
        format!(":{https_port}")
    };
    let path = req.uri().path_and_query().map_or("/", |p| p.as_str());
    let location = format!("https://{}{port}{path}", host.host());
    let mut resp = http::Response::new(Body::empty());
    *resp.status_mut() = http::StatusCode::MOVED_PERMANENTLY;
    match http::HeaderValue::from_str(&location) {
        Ok(value) => {
            resp.headers_mut().insert(http::header::LOCATION, value);
        }
        Err(_) => *resp.status_mut() = http::StatusCode::BAD_REQUEST,
    }
    resp
}
