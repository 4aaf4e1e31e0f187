//! One accepted connection: plain HTTP/1.1; or, with `h2c`, HTTP/1.1 or
//! HTTP/2 by what the client sends first; or TLS, then whichever protocol
//! ALPN settled on. The same service (and so the same cycle) answers
//! every protocol, with the same limits.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper::body::Incoming;
use hyper::server::conn::{http1, http2};
use hyper::service::Service;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::Watcher;
use tokio::net::TcpStream;

use super::body::Body;
use super::send_timeout::SendTimeout;
use super::tls::Tls;
use crate::config::ServerConfig;

/// The protocol settings every connection of a listener shares.
pub(super) struct Protocols {
    http1: http1::Builder,
    http2: http2::Builder<TokioExecutor>,
    auto: Option<auto::Builder<TokioExecutor>>,
    http2_over_tls: bool,
    handshake_timeout: Duration,
}

impl Protocols {
    pub(super) fn new(settings: &ServerConfig) -> Protocols {
        let http1 = super::http1(settings);
        let mut http2 = http2::Builder::new(TokioExecutor::new());
        http2
            .timer(TokioTimer::new())
            .max_concurrent_streams(settings.max_concurrent_streams)
            .max_header_list_size(u32::try_from(settings.max_header_bytes).unwrap_or(u32::MAX))
            // A client that stops answering pings is gone.
            .keep_alive_interval(Some(Duration::from_secs(60)))
            .keep_alive_timeout(Duration::from_secs(20));
        let auto = settings.h2c.then(|| {
            let mut auto = auto::Builder::new(TokioExecutor::new());
            auto.http1()
                .timer(TokioTimer::new())
                .header_read_timeout(settings.header_read_timeout)
                .keep_alive(true)
                .max_buf_size(settings.max_header_bytes.max(8192));
            auto.http2()
                .timer(TokioTimer::new())
                .max_concurrent_streams(settings.max_concurrent_streams)
                .max_header_list_size(u32::try_from(settings.max_header_bytes).unwrap_or(u32::MAX));
            auto
        });
        Protocols {
            http1,
            http2,
            auto,
            http2_over_tls: settings.http2,
            handshake_timeout: settings.header_read_timeout,
        }
    }

    /// Serves one connection to its end (or until a graceful shutdown
    /// has let its in-flight requests finish).
    pub(super) async fn serve<S>(
        self: Arc<Self>,
        io: SendTimeout<TcpStream>,
        tls: Option<Arc<Tls>>,
        service: S,
        watcher: Watcher,
        peer: SocketAddr,
    ) where
        S: Service<http::Request<Incoming>, Response = http::Response<Body>>
            + Clone
            + Send
            + 'static,
        S::Future: Send + 'static,
        S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let result: Result<(), Box<dyn std::error::Error + Send + Sync>> = match tls {
            None => match &self.auto {
                Some(auto) => {
                    watcher
                        .watch(auto.serve_connection(TokioIo::new(io), service))
                        .await
                }
                None => watcher
                    .watch(self.http1.serve_connection(TokioIo::new(io), service))
                    .await
                    .map_err(Into::into),
            },
            Some(tls) => {
                let handshake =
                    tokio::time::timeout(self.handshake_timeout, tls.acceptor().accept(io)).await;
                let stream = match handshake {
                    Ok(Ok(stream)) => stream,
                    Ok(Err(e)) => {
                        tracing::debug!(%peer, "TLS handshake failed: {e}");
                        return;
                    }
                    Err(_) => {
                        tracing::debug!(%peer, "TLS handshake timed out");
                        return;
                    }
                };
                let h2 = self.http2_over_tls && stream.get_ref().1.alpn_protocol() == Some(b"h2");
                let io = TokioIo::new(stream);
                if h2 {
                    watcher
                        .watch(self.http2.serve_connection(io, service))
                        .await
                        .map_err(Into::into)
                } else {
                    watcher
                        .watch(self.http1.serve_connection(io, service))
                        .await
                        .map_err(Into::into)
                }
            }
        };
        if let Err(e) = result {
            tracing::debug!(%peer, "connection ended with an error: {e}");
        }
    }
}
