//! The HTTP/1.1 server: hyper on tokio, keep-alive, size limits, graceful
//! shutdown. Everything Django-specific happens in [`Pipeline::handle`].

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;

use crate::config::ServerConfig;
use crate::pipeline::{ClientAddr, Pipeline};
use crate::reload::LivePipeline;

/// How long a client may take to send its request head (slowloris).
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a client may take to send its body once the head arrived.
const BODY_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// Serves `pipeline` on `listener` until `shutdown` resolves, then stops
/// accepting and lets in-flight requests finish (up to the configured
/// shutdown timeout).
pub async fn serve(
    listener: TcpListener,
    pipeline: Arc<LivePipeline>,
    settings: &ServerConfig,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let graceful = GracefulShutdown::new();
    let mut connections = tokio::task::JoinSet::new();
    let max_body = settings.max_body_bytes;
    tokio::pin!(shutdown);
    loop {
        while connections.try_join_next().is_some() {}
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(conn) => conn,
                Err(e) => {
                    // Out of file descriptors and the like: keep serving.
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let live = pipeline.clone();
        let service = service_fn(move |req| {
            // Each request runs entirely on the version current when it
            // arrived, even if a reload swaps in another meanwhile.
            let pipeline = live.current();
            async move { Ok::<_, Infallible>(respond(&pipeline, req, peer, max_body).await) }
        });
        let conn = http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(HEADER_READ_TIMEOUT)
            .keep_alive(true)
            .max_header_size(settings.max_header_bytes)
            .serve_connection(TokioIo::new(stream), service);
        let conn = graceful.watch(conn);
        connections.spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(%peer, "connection ended with an error: {e}");
            }
        });
    }
    drop(listener);
    tracing::info!("shutting down: waiting for in-flight requests");
    if tokio::time::timeout(settings.shutdown_timeout, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            "in-flight requests still running after {:?}; closing them",
            settings.shutdown_timeout
        );
        connections.abort_all();
    }
    while connections.join_next().await.is_some() {}
    Ok(())
}

async fn respond(
    pipeline: &Pipeline,
    req: http::Request<Incoming>,
    peer: SocketAddr,
    max_body: usize,
) -> http::Response<Full<Bytes>> {
    if req.method() == http::Method::CONNECT {
        // A 2xx to CONNECT would turn the connection into a tunnel.
        return plain(
            http::StatusCode::METHOD_NOT_ALLOWED,
            "CONNECT is not supported",
        );
    }
    let (mut parts, body) = req.into_parts();
    let declared = parts
        .headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max_body as u64) {
        return too_large(max_body);
    }
    let collect = Limited::new(body, max_body).collect();
    let body = match tokio::time::timeout(BODY_READ_TIMEOUT, collect).await {
        Err(_) => {
            return plain(
                http::StatusCode::REQUEST_TIMEOUT,
                "Request body not received in time",
            );
        }
        Ok(Ok(collected)) => collected.to_bytes(),
        Ok(Err(e))
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some() =>
        {
            return too_large(max_body);
        }
        Ok(Err(e)) => {
            tracing::debug!(%peer, "request body failed: {e}");
            return plain(http::StatusCode::BAD_REQUEST, "Bad Request (400)");
        }
    };

    parts.extensions.insert(ClientAddr(peer));
    let resp = pipeline
        .handle(http::Request::from_parts(parts, body))
        .await;
    resp.map(Full::new)
}

fn too_large(max_body: usize) -> http::Response<Full<Bytes>> {
    plain(
        http::StatusCode::PAYLOAD_TOO_LARGE,
        &format!("Request body larger than {max_body} bytes"),
    )
}

fn plain(status: http::StatusCode, text: &str) -> http::Response<Full<Bytes>> {
    let mut resp = http::Response::new(Full::new(Bytes::from(text.to_owned())));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    resp
}
