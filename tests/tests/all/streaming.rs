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

// ===== streaming responses (Django's StreamingHttpResponse) =====

/// The probe view with `view_action` behind a probe middleware `a` whose
/// `process_response` does `response_action`; `extra` goes in the view's
/// table.
async fn streamed(view_action: &str, response_action: &str, extra: &str) -> shallot::Pipeline {
    pipeline(&format!(
        "[[middleware]]\nname = \"a\"\ncomponent = \"{{probe}}\"\nconfig = {{ name = \"a\", process_response = \"{response_action}\" }}\n\
         [views.v]\ncomponent = \"{{probe-view}}\"\nconfig = {{ action = \"{view_action}\" }}\n{extra}\n\
         [[routes]]\npath = \"v\"\nview = \"v\"\n"
    ))
    .await
}

fn stream_bytes(n: u32, size: usize) -> Vec<u8> {
    (0..n).flat_map(|k| vec![(k % 256) as u8; size]).collect()
}

#[tokio::test]
async fn a_view_streams_its_body_and_middleware_still_sees_the_response() {
    let p = streamed("stream:300:1000", "pass", "").await;
    let out = run(&p, shallot_tests::get("/v")).await;
    assert_eq!(out.response.status(), 200);
    assert_eq!(out.response.body().as_ref(), stream_bytes(300, 1000));
    assert_eq!(out.header("x-seen").as_deref(), Some("a"));
    assert_eq!(
        out.header("content-type").as_deref(),
        Some("application/octet-stream")
    );
}

#[tokio::test]
async fn a_streaming_view_under_reuse_serves_request_after_request() {
    let p = streamed("stream:3:10", "pass", "instance_policy = \"reuse\"").await;
    for _ in 0..3 {
        let out = run(&p, shallot_tests::get("/v")).await;
        assert_eq!(out.response.body().as_ref(), stream_bytes(3, 10));
    }
    assert_eq!(
        p.view("v").unwrap().idle_instances(),
        Some(1),
        "given back after each body"
    );
}

#[tokio::test]
async fn reading_a_streaming_responses_content_raises_like_django() {
    let p = streamed("stream:3:10", "content", "").await;
    let out = run(&p, shallot_tests::get("/v")).await;
    assert_eq!(out.response.status(), 500);
    assert!(
        out.log.iter().any(|l| l.contains(
            "This StreamingHttpResponse instance has no `content` attribute. Use `streaming_content` instead."
        )),
        "{:#?}",
        out.log
    );
    // A response held whole reads as before.
    let p = streamed("ok", "content", "").await;
    let out = run(&p, shallot_tests::get("/v")).await;
    assert_eq!(out.header("x-streaming").as_deref(), Some("no"));
    assert_eq!(
        out.header("x-content-length"),
        Some(out.response.body().len().to_string())
    );
}

#[tokio::test]
async fn only_a_views_own_response_streams() {
    let p = streamed("ok", "stream", "").await;
    let out = run(&p, shallot_tests::get("/v")).await;
    assert_eq!(out.response.status(), 500);
    assert!(
        out.log
            .iter()
            .any(|l| l.contains("a streaming response can only come from a view")),
        "{:#?}",
        out.log
    );
}

#[tokio::test]
async fn a_failure_mid_stream_cuts_the_body_and_is_logged() {
    let p = streamed("stream-fail:3", "pass", "").await;
    let out = run(&p, shallot_tests::get("/v")).await;
    // The status went out before the failure: the body is cut short.
    assert_eq!((out.response.status().as_u16(), out.body()), (200, "xxx"));
    assert!(
        out.log.iter().any(|l| l.contains("the stream broke")),
        "{:#?}",
        out.log
    );
    let p = streamed("stream-trap:2", "pass", "").await;
    let out = run(&p, shallot_tests::get("/v")).await;
    assert_eq!((out.response.status().as_u16(), out.body()), (200, "xx"));
    assert!(
        out.log
            .iter()
            .any(|l| l.contains("trapped: wasm trap") && l.contains("hook=next-chunk")),
        "{:#?}",
        out.log
    );
}

async fn check_csv_rows(guest: &str) {
    let toml = format!(
        "[views.x]\ncomponent = \"{{{guest}}}\"\n[[routes]]\npath = \"rows\"\nview = \"x\"\n"
    );
    let out = run(
        &pipeline(&toml).await,
        shallot_tests::get("/rows?rows=1000"),
    )
    .await;
    assert_eq!(out.response.status(), 200, "{}", out.body());
    let expected: String = (0..1000u64).map(|i| format!("{i},{}\n", i * i)).collect();
    assert_eq!(out.body(), expected);
    assert_eq!(out.header("content-type").as_deref(), Some("text/csv"));
}

#[tokio::test]
pub(crate) async fn py_csv_rows() {
    check_csv_rows("py-csv-rows").await;
}

#[tokio::test]
pub(crate) async fn js_csv_rows() {
    check_csv_rows("js-csv-rows").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_a_socket_a_streaming_response_is_sent_chunked_as_produced() {
    let app = "[views.s]\ncomponent = \"{probe-view}\"\nconfig = { action = \"stream:64:65536\" }\n\
               [[routes]]\npath = \"s\"\nview = \"s\"\n";
    let mut server = start_app(app, ServerConfig::default()).await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    stream
        .write_all(b"GET /s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut raw = Vec::new();
    tokio::io::AsyncReadExt::read_to_end(&mut stream, &mut raw)
        .await
        .unwrap();
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    let head = String::from_utf8_lossy(&raw[..split]).to_ascii_lowercase();
    assert!(head.starts_with("http/1.1 200"), "{head}");
    // No length known up front: HTTP/1.1 chunked framing.
    assert!(head.contains("transfer-encoding: chunked"), "{head}");
    assert!(!head.contains("content-length"), "{head}");
    let mut body = Vec::new();
    let mut rest = &raw[split..];
    loop {
        let line_end = rest.windows(2).position(|w| w == b"\r\n").unwrap();
        let size =
            usize::from_str_radix(std::str::from_utf8(&rest[..line_end]).unwrap(), 16).unwrap();
        rest = &rest[line_end + 2..];
        if size == 0 {
            break;
        }
        body.extend_from_slice(&rest[..size]);
        rest = &rest[size + 2..];
    }
    assert_eq!(body, stream_bytes(64, 65536));

    // HEAD: the head only; the body is never produced.
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    stream
        .write_all(b"HEAD /s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut raw = Vec::new();
    tokio::io::AsyncReadExt::read_to_end(&mut stream, &mut raw)
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&raw);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(
        text.ends_with("\r\n\r\n"),
        "no body after the head: {text:?}"
    );

    server.stop.take().unwrap().send(()).unwrap();
    server.task.await.unwrap().unwrap();
}
