//! The admin endpoint: `GET /status` on its own listener (configure
//! `[server] admin`, keep it on loopback), answering with the active
//! version, each component's hash, the load time and the last reload error.

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use crate::reload::LivePipeline;

/// Serves the status of `live` on `listener` until the task is dropped.
pub async fn serve(listener: TcpListener, live: Arc<LivePipeline>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let live = live.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req: http::Request<hyper::body::Incoming>| {
                let live = live.clone();
                async move { Ok::<_, Infallible>(answer(&live, req.uri().path())) }
            });
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
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
