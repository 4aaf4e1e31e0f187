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
use hyper_util::server::graceful::Watcher;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

use super::body::Body;
use super::send_timeout::SendTimeout;
use super::tls::Tls;
use crate::config::ServerConfig;

/// The protocol settings every connection of a listener shares: one
/// HTTP/1.1 and one HTTP/2 builder, whatever chose between them (h2c's
/// preface or TLS's ALPN), so the limits cannot drift apart.
pub(super) struct Protocols {
    http1: http1::Builder,
    http2: http2::Builder<TokioExecutor>,
    h2c: bool,
    http2_over_tls: bool,
    handshake_timeout: Duration,
}

type ConnError = Box<dyn std::error::Error + Send + Sync>;

impl Protocols {
    pub(super) fn new(settings: &ServerConfig) -> Protocols {
        let mut http2 = http2::Builder::new(TokioExecutor::new());
        http2
            .timer(TokioTimer::new())
            .max_concurrent_streams(settings.max_concurrent_streams)
            .max_header_list_size(u32::try_from(settings.max_header_bytes).unwrap_or(u32::MAX))
            // A client that stops answering pings is gone.
            .keep_alive_interval(Some(Duration::from_secs(60)))
            .keep_alive_timeout(Duration::from_secs(20));
        Protocols {
            http1: super::http1(settings),
            http2,
            h2c: settings.h2c,
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
        S::Error: Into<ConnError>,
    {
        let result = match tls {
            None => {
                let h2 = if self.h2c {
                    match opens_with_h2_preface(io.get_ref(), self.handshake_timeout).await {
                        Some(h2) => h2,
                        None => {
                            tracing::debug!(%peer, "nothing sent before the header timeout");
                            return;
                        }
                    }
                } else {
                    false
                };
                self.speak(h2, io, service, watcher).await
            }
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
                self.speak(h2, stream, service, watcher).await
            }
        };
        if let Err(e) = result {
            tracing::debug!(%peer, "connection ended with an error: {e}");
        }
    }

    /// HTTP/2 or HTTP/1.1 on `io`, watched for a graceful shutdown.
    async fn speak<I, S>(
        &self,
        h2: bool,
        io: I,
        service: S,
        watcher: Watcher,
    ) -> Result<(), ConnError>
    where
        I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
        S: Service<http::Request<Incoming>, Response = http::Response<Body>>
            + Clone
            + Send
            + 'static,
        S::Future: Send + 'static,
        S::Error: Into<ConnError>,
    {
        let io = TokioIo::new(io);
        let result = if h2 {
            watcher
                .watch(self.http2.serve_connection(io, service))
                .await
        } else {
            watcher
                .watch(self.http1.serve_connection(io, service))
                .await
        };
        result.map_err(Into::into)
    }
}

/// With h2c: whether the client opened with HTTP/2's connection preface
/// (RFC 9113 §3.4), looked at without consuming it; `None` when it sent
/// nothing within `within` (HTTP/1.1's header timeout, applied here too).
async fn opens_with_h2_preface(stream: &TcpStream, within: Duration) -> Option<bool> {
    const PREFACE: &[u8; 24] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
    let mut seen = [0u8; PREFACE.len()];
    let sniff = async {
        loop {
            let n = stream.peek(&mut seen).await.unwrap_or(0);
            if n == 0 || seen[..n] != PREFACE[..n] {
                return false;
            }
            if n == PREFACE.len() {
                return true;
            }
            // Only the start of the preface so far: peek again after more
            // can have arrived (peek returns at once while any byte waits).
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    };
    tokio::time::timeout(within, sniff).await.ok()
}
