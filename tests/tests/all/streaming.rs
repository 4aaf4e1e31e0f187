//! Request bodies read as they arrive (`read-body`): a body past
//! `max_body_bytes` is let in by `max_stream_bytes` and never held whole,
//! with Django's rules for `request.body` on it (`RequestDataTooBig`,
//! `RawPostDataException`). In process and over a real socket.

use std::convert::Infallible;

use bytes::Bytes;
use http_body_util::StreamBody;
use hyper::body::Frame;
use shallot::RequestBody;
use shallot::config::ServerConfig;
use shallot_tests::{Outcome, pipeline, request, run};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use crate::socket::{read_response, start_app};

/// `n` bytes that are not all alike, so a lost or repeated chunk shows.
fn pattern(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 31 + i / 251) as u8).collect()
}

/// What the probe view's body actions answer for `bytes` read in `chunks`.
fn digest(bytes: &[u8], chunks: usize) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        hash = (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    format!("bytes={} fnv={hash:016x} chunks={chunks}", bytes.len())
}

/// `bytes` arriving in frames of `frame` bytes, as a connection delivers
/// them, let in past `max_whole` up to `limit`.
fn arriving(bytes: &[u8], frame: usize, max_whole: usize, limit: u64) -> RequestBody {
    let frames: Vec<Result<Frame<Bytes>, Infallible>> = bytes
        .chunks(frame)
        .map(|c| Ok(Frame::data(Bytes::copy_from_slice(c))))
        .collect();
    RequestBody::streaming(
        Bytes::new(),
        StreamBody::new(futures::stream::iter(frames)),
        max_whole,
        limit,
    )
}

fn app(view: &str, config: &str) -> String {
    format!(
        "[views.up]\ncomponent = \"{{{view}}}\"\nconfig = {{ {config} }}\n[[routes]]\npath = \"up\"\nview = \"up\"\n"
    )
}

async fn post(view: &str, config: &str, body: impl Into<RequestBody>) -> Outcome {
    let req = request("POST", "/up", &[]).map(|_| body.into());
    run(&pipeline(&app(view, config)).await, req).await
}

#[tokio::test]
async fn a_view_reads_a_streamed_body_in_chunks_and_sees_every_byte() {
    let bytes = pattern(3 << 20);
    let body = arriving(&bytes, 100_000, 1 << 20, 8 << 20);
    let out = post("probe-view", r#"action = "count-body:65536""#, body).await;
    assert_eq!(out.response.status(), 200, "{}", out.body());
    // Each 100,000-byte frame split in two reads of at most 64 KiB; the
    // last, shorter frame (45,728 bytes) in one.
    assert_eq!(out.body(), digest(&bytes, 31 * 2 + 1));
}

#[tokio::test]
async fn a_body_held_whole_reads_in_chunks_too() {
    let bytes = pattern(1000);
    let out = post(
        "probe-view",
        r#"action = "count-body:300""#,
        Bytes::from(bytes.clone()),
    )
    .await;
    assert_eq!(out.body(), digest(&bytes, 4));
}

#[tokio::test]
async fn body_of_a_streamed_body_is_djangos_request_data_too_big() {
    let bytes = pattern(5000);
    let out = post(
        "probe-view",
        r#"action = "whole-body""#,
        arriving(&bytes, 1000, 1000, 10_000),
    )
    .await;
    assert_eq!(out.response.status(), 400, "{}", out.body());
    assert!(
        out.log.iter().any(|l| l.contains(
            "Request body exceeded max_body_bytes (1000 bytes); read it in chunks with read-body"
        )),
        "{:#?}",
        out.log
    );
}

#[tokio::test]
async fn body_after_reading_the_stream_is_djangos_raw_post_data_exception() {
    let out = post(
        "probe-view",
        r#"action = "read-then-body""#,
        Bytes::from_static(b"hello"),
    )
    .await;
    assert_eq!(out.response.status(), 500);
    assert!(
        out.log
            .iter()
            .any(|l| l.contains("You cannot access body after reading from request's data stream")),
        "{:#?}",
        out.log
    );
}

#[tokio::test]
async fn reading_past_max_stream_bytes_raises_suspicious_operation() {
    let bytes = pattern(20_000);
    let out = post(
        "probe-view",
        r#"action = "count-body:4096""#,
        arriving(&bytes, 4096, 1000, 10_000),
    )
    .await;
    assert_eq!(out.response.status(), 400, "{}", out.body());
    assert!(
        out.log
            .iter()
            .any(|l| l.contains("Request body exceeded max_stream_bytes (10000 bytes)")),
        "{:#?}",
        out.log
    );
}

#[tokio::test]
pub(crate) async fn py_upload() {
    use sha2::Digest;
    let bytes = pattern(3 << 20);
    let out = post("py-upload", "", arriving(&bytes, 40_000, 1 << 20, 8 << 20)).await;
    let sha = sha2::Sha256::digest(&bytes);
    let hex: String = sha.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(out.body(), format!("bytes={} sha256={hex}", bytes.len()));
}

#[tokio::test]
pub(crate) async fn js_upload() {
    let bytes = pattern(1 << 20);
    let out = post("js-upload", "", arriving(&bytes, 40_000, 1000, 8 << 20)).await;
    assert_eq!(
        out.body(),
        format!(
            "bytes={} chunks=16 first={} last={}",
            bytes.len(),
            bytes[0],
            bytes[bytes.len() - 1]
        )
    );
}

const SOCKET_APP: &str = r#"
[[middleware]]
name = "a"
component = "{probe}"
config = { name = "a" }

[views.count]
component = "{probe-view}"
config = { action = "count-body:65536" }

[views.whole]
component = "{probe-view}"
config = { action = "whole-body" }

[[routes]]
path = "count"
view = "count"

[[routes]]
path = "whole"
view = "whole"
"#;

/// Sends `head` then `body` and reads the response.
async fn exchange(addr: std::net::SocketAddr, head: &str, body: &[u8]) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body).await.unwrap();
    let (status, _, body) = read_response(&mut stream).await;
    (status, body)
}

/// A digest without its chunk count, which depends on how the bytes
/// crossed the socket.
fn unchunked(digest: &str) -> &str {
    digest.split(" chunks=").next().unwrap()
}

fn chunked(bytes: &[u8], size: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for c in bytes.chunks(size) {
        out.extend_from_slice(format!("{:x}\r\n", c.len()).as_bytes());
        out.extend_from_slice(c);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"0\r\n\r\n");
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_a_socket_max_stream_bytes_lets_large_bodies_in_unheld() {
    let mut server = start_app(
        SOCKET_APP,
        ServerConfig {
            max_body_bytes: 1000,
            max_stream_bytes: 1 << 20,
            ..ServerConfig::default()
        },
    )
    .await;
    let addr = server.addr;
    let big = pattern(300_000);

    // Declared past max_body_bytes: streamed to the view.
    let head = format!(
        "POST /count HTTP/1.1\r\nHost: t\r\nContent-Length: {}\r\n\r\n",
        big.len()
    );
    let (status, body) = exchange(addr, &head, &big).await;
    assert_eq!(
        (status, unchunked(&body)),
        (200, unchunked(&digest(&big, 0)))
    );

    // Chunked: received up to max_body_bytes, then streamed with the rest.
    let head = "POST /count HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n";
    let (status, body) = exchange(addr, head, &chunked(&big, 7000)).await;
    assert_eq!(
        (status, unchunked(&body)),
        (200, unchunked(&digest(&big, 0)))
    );

    // A small chunked body is still whole, and `body()` works on it.
    let small = pattern(900);
    let head = "POST /whole HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n";
    let (status, body) = exchange(addr, head, &chunked(&small, 100)).await;
    assert_eq!((status, body), (200, digest(&small, 1)));

    // `body()` on a streamed one: Django's RequestDataTooBig, 400.
    let head = format!(
        "POST /whole HTTP/1.1\r\nHost: t\r\nContent-Length: {}\r\n\r\n",
        big.len()
    );
    assert_eq!(exchange(addr, &head, &big).await.0, 400);

    // Declared past max_stream_bytes: 413 before any component runs.
    let head = "POST /count HTTP/1.1\r\nHost: t\r\nContent-Length: 2000000\r\n\r\n";
    assert_eq!(exchange(addr, head, b"").await.0, 413);

    // Chunked past max_stream_bytes: the view's read fails, 400.
    let huge = pattern((1 << 20) + 10_000);
    let head = "POST /count HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n";
    assert_eq!(exchange(addr, head, &chunked(&huge, 60_000)).await.0, 400);

    server.stop.take().unwrap().send(()).unwrap();
    server.task.await.unwrap().unwrap();
}
