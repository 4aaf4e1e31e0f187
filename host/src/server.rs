//! The HTTP/1.1 server: hyper on tokio, keep-alive, size limits, timeouts
//! on reading and writing, graceful shutdown. Everything Django-specific
//! happens in [`Pipeline::handle`].

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioTimer;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::{TcpListener, TcpSocket, TcpStream};

use crate::config::ServerConfig;
use crate::pipeline::{ClientAddr, Pipeline, Scheme};
use crate::reload::LivePipeline;
use crate::request_body::RequestBody;
use receive::{BodyLimits, Refused};

mod body;
mod connection;
mod forwarded;
pub(crate) mod health;
mod receive;
mod redirect;
mod send_timeout;
mod tls;
mod workers;

pub use body::Body;
pub use redirect::serve_redirect;
pub(crate) use send_timeout::SendTimeout;
pub use tls::{Tls, TlsError, dev_certificate};
pub use workers::{Listeners, serve_workers};

/// Binds a listening socket with `backlog` pending connections. Tokio's
/// `TcpListener::bind` uses 1024, and the kernel's classic default of 128
/// drops SYNs in bursts of new connections (each costing the client a 1 s
/// retransmit).
pub fn bind(addr: SocketAddr, backlog: u32) -> std::io::Result<TcpListener> {
    let socket = new_socket(addr)?;
    socket.bind(addr)?;
    socket.listen(backlog)
}

/// A TCP socket of `addr`'s family with `SO_REUSEADDR` (a restarted server
/// can bind while the old one's connections linger in TIME_WAIT).
fn new_socket(addr: SocketAddr) -> std::io::Result<TcpSocket> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    Ok(socket)
}

/// Accepts the next connection. Errors (out of file descriptors, above
/// all) are retried with a growing pause, so a pending connection that
/// cannot be accepted never spins a core, and logged once per streak.
pub(crate) async fn accept(
    listener: &TcpListener,
    pause: &mut Duration,
) -> (TcpStream, SocketAddr) {
    const FIRST: Duration = Duration::from_millis(5);
    const MAX: Duration = Duration::from_secs(1);
    loop {
        match listener.accept().await {
            Ok(conn) => {
                *pause = Duration::ZERO;
                return conn;
            }
            Err(e) => {
                if pause.is_zero() {
                    tracing::warn!("accept failed (retrying with a growing pause): {e}");
                }
                *pause = (*pause * 2).clamp(FIRST, MAX);
                tokio::time::sleep(*pause).await;
            }
        }
    }
}

/// An HTTP/1.1 connection builder with the server's read timeout.
pub(crate) fn http1(settings: &ServerConfig) -> http1::Builder {
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(settings.header_read_timeout)
        .keep_alive(true)
        .max_header_size(settings.max_header_bytes);
    builder
}

/// Serves `pipeline` on `listener` until `shutdown` resolves, then stops
/// accepting and lets in-flight requests finish (up to the configured
/// shutdown timeout).
pub async fn serve(
    listener: TcpListener,
    pipeline: Arc<LivePipeline>,
    settings: &ServerConfig,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    serve_with(listener, pipeline, settings, None, shutdown).await
}

/// Like [`serve`], over TLS when `tls` is given (`request.scheme` is then
/// `https`).
pub async fn serve_with(
    listener: TcpListener,
    pipeline: Arc<LivePipeline>,
    settings: &ServerConfig,
    tls: Option<Arc<Tls>>,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let graceful = GracefulShutdown::new();
    let mut connections = tokio::task::JoinSet::new();
    let limits = BodyLimits {
        whole: settings.max_body_bytes,
        stream: settings.max_stream_bytes,
    };
    let trusted = Arc::new(settings.trusted_proxies.clone());
    let protocols = Arc::new(connection::Protocols::new(settings));
    let over_tls = tls.is_some();
    let health_path: Arc<Option<String>> = Arc::new(settings.health_path.clone());
    let mut pause = Duration::ZERO;
    tokio::pin!(shutdown);
    loop {
        while connections.try_join_next().is_some() {}
        let (stream, peer) = tokio::select! {
            conn = accept(&listener, &mut pause) => conn,
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let live = pipeline.clone();
        let trusted = trusted.clone();
        let health_path = health_path.clone();
        let service = service_fn(move |req: http::Request<Incoming>| {
            // The load balancer's check is answered before anything else.
            let health =
                (health_path.as_deref() == Some(req.uri().path())).then(|| health::check(&live));
            // Each request runs entirely on the version current when it
            // arrived, even if a reload swaps in another meanwhile.
            let pipeline = live.current();
            let trusted = trusted.clone();
            let origin = Origin {
                peer,
                tls: over_tls,
                trusted,
            };
            async move {
                if let Some((status, text)) = health {
                    let started = Instant::now();
                    let mut resp = plain(status, text);
                    health::headers(resp.headers_mut());
                    pipeline.count_unrouted(status, started);
                    return Ok::<_, Infallible>(resp);
                }
                Ok(respond(&pipeline, req, &origin, limits).await)
            }
        });
        let io = SendTimeout::new(stream, settings.send_timeout);
        let conn = protocols
            .clone()
            .serve(io, tls.clone(), service, graceful.watcher(), peer);
        connections.spawn(conn);
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

/// Where a request came from: the peer, whether its connection is TLS, and
/// the proxies whose forwarding headers are believed.
struct Origin {
    peer: SocketAddr,
    tls: bool,
    trusted: Arc<Vec<ipnet::IpNet>>,
}

/// A request's response: the chain's, or the server's own when it
/// answers first (counted here; the chain counts its own).
async fn respond(
    pipeline: &Pipeline,
    req: http::Request<Incoming>,
    origin: &Origin,
    limits: BodyLimits,
) -> http::Response<Body> {
    let started = Instant::now();
    let req = match admit(pipeline, req, origin, limits).await {
        Ok(req) => req,
        Err(answered) => {
            pipeline.count_unrouted(answered.status(), started);
            return answered;
        }
    };
    let head = req.method() == http::Method::HEAD;
    let mut resp = pipeline.respond_since(req, started).await;
    // A HEAD response sends no body: a streaming one is not produced at
    // all (hyper would only discard it).
    if head && matches!(resp.body(), Body::Stream(_)) {
        *resp.body_mut() = Body::empty();
    }
    resp
}

/// The request as the chain gets it (its body received or arriving, its
/// origin as extensions), or the server's own answer: to CONNECT, a
/// static file served before the chain, a body refused.
async fn admit(
    pipeline: &Pipeline,
    req: http::Request<Incoming>,
    origin: &Origin,
    limits: BodyLimits,
) -> Result<http::Request<RequestBody>, http::Response<Body>> {
    let peer = origin.peer;
    if req.method() == http::Method::CONNECT {
        // A 2xx to CONNECT would turn the connection into a tunnel.
        return Err(plain(
            http::StatusCode::METHOD_NOT_ALLOWED,
            "CONNECT is not supported",
        ));
    }
    // nginx's part: a static file is answered before any component runs,
    // and its body streamed from disk.
    if pipeline.static_files().before_chain(req.uri().path()) {
        return Err(pipeline
            .static_files()
            .respond(req.method(), req.uri().path(), req.headers()));
    }
    let (mut parts, body) = req.into_parts();
    let declared = parts
        .headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let body = match receive::receive(body, declared, limits).await {
        Ok(body) => body,
        Err(Refused::TooLarge(most)) => {
            return Err(plain(
                http::StatusCode::PAYLOAD_TOO_LARGE,
                &format!("Request body larger than {most} bytes"),
            ));
        }
        Err(Refused::Timeout) => {
            return Err(plain(
                http::StatusCode::REQUEST_TIMEOUT,
                "Request body not received in time",
            ));
        }
        Err(Refused::Broken(e)) => {
            tracing::debug!(%peer, "request body failed: {e}");
            return Err(plain(http::StatusCode::BAD_REQUEST, "Bad Request (400)"));
        }
    };

    // The scheme and client address come from the connection, or from a
    // proxy the config trusts; never from the request line or a header
    // any client can send.
    let (client, forwarded) = forwarded::origin(peer, &parts.headers, &origin.trusted);
    let scheme = if origin.tls { Scheme::Https } else { forwarded };
    parts.extensions.insert(ClientAddr(client));
    parts.extensions.insert(scheme);
    join_cookie_fields(&mut parts.headers);
    Ok(http::Request::from_parts(parts, body))
}

/// HTTP/2 clients may send each cookie in a `cookie` field of its own
/// (browsers do, for header compression); RFC 9113 section 8.2.3 says to
/// join them with "; " before an application sees them, so every layer
/// reads the one `Cookie` header it would get over HTTP/1.1 (a generic
/// join with ", " would run two cookies into one value).
fn join_cookie_fields(headers: &mut http::HeaderMap) {
    let mut fields = headers.get_all(http::header::COOKIE).iter();
    if fields.next().is_none() || fields.next().is_none() {
        return;
    }
    let joined: Vec<&[u8]> = headers
        .get_all(http::header::COOKIE)
        .iter()
        .map(http::HeaderValue::as_bytes)
        .collect();
    if let Ok(value) = http::HeaderValue::from_bytes(&joined.join(&b"; "[..])) {
        headers.insert(http::header::COOKIE, value);
    }
}

fn plain(status: http::StatusCode, text: &str) -> http::Response<Body> {
    let mut resp = http::Response::new(Body::full(Bytes::from(text.to_owned())));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    resp
}
