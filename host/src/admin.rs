//! The admin endpoint: `GET /status` on its own listener (configure
//! `[server] admin`, keep it on loopback), answering with the active
//! version, each component's hash, the load time and the last reload error.

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use crate::config::ServerConfig;
use crate::reload::LivePipeline;
use crate::server::{SendTimeout, accept, http1};

/// Serves the status of `live` on `listener` until the task is dropped,
/// with the main listener's accept loop and read and write timeouts: an
/// operator's endpoint must not be the easy way to pin a server.
pub async fn serve(listener: TcpListener, live: Arc<LivePipeline>, settings: ServerConfig) {
    let builder = Arc::new(http1(&settings));
    let send_timeout = settings.send_timeout;
    let mut pause = std::time::Duration::ZERO;
    loop {
        let (stream, _) = accept(&listener, &mut pause).await;
        let live = live.clone();
        let builder = builder.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req: http::Request<hyper::body::Incoming>| {
                let live = live.clone();
                async move { Ok::<_, Infallible>(answer(&live, req.uri().path())) }
            });
            let io = TokioIo::new(SendTimeout::new(stream, send_timeout));
            let _ = builder.serve_connection(io, service).await;
        });
    }
}

fn answer(live: &LivePipeline, path: &str) -> http::Response<Full<Bytes>> {
    let (status, body) = match path {
        "/status" => (200, live.status().to_json().to_string()),
        _ => (404, r#"{"error": "not found; try /status"}"#.to_owned()),
    };
    let mut resp = http::Response::new(Full::new(Bytes::from(body)));
    *resp.status_mut() = http::StatusCode::from_u16(status).expect("valid status");
    resp.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    resp
}
